// nested.go — decoding nested attribute values of fleet size.
//
// A `cellrouter_tenants` configuration holds a map nested attribute of up
// to 100,000 objects, usually written as an object literal or built by a
// for expression (both give an object type with one attribute per key).
// go-cty 1.12 converts such an object to map(object) by converting each
// element and then unifying the element types with an all-pairs
// comparison (convert.sortTypes): quadratic, minutes at 100,000 keys,
// even though every converted element already has the one element type.
// Terraform's decoder gives the same values; tfcore must not be the
// bottleneck of a fleet plan, so nested attribute values are decoded here
// element by element: hcldec evaluates the expression (its spec type is
// left dynamic) and decodeNestedAttrs converts each element to the
// element type on its own. The result is the value convert.Convert would
// give; an element that does not convert is reported with the message
// convert.Convert gives for it, in hcldec's words.
package main

import (
	"fmt"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// topDecoderSpec is decoderSpec(b) with the nested attributes of b itself
// (not those of nested blocks) decoded as dynamic values, for
// decodeNestedAttrs to convert afterwards.
func topDecoderSpec(b *Block) hcldec.ObjectSpec {
	spec := decoderSpec(b)
	for n, a := range b.Attributes {
		if a.NestedType != nil {
			spec[n] = &hcldec.AttrSpec{Name: n, Type: cty.DynamicPseudoType, Required: a.Required}
		}
	}
	return spec
}

// decodeNestedAttrs converts the nested attributes of val (decoded with
// topDecoderSpec(b)) to their spec types. Errors carry hcldec's summary and
// detail, and the attribute's expression as subject when syntax is known.
func decodeNestedAttrs(val cty.Value, b *Block, syntax *hclsyntax.Body, addr string) (cty.Value, Diags) {
	if val.IsNull() || !val.IsKnown() || !val.Type().IsObjectType() {
		return val, nil
	}
	var diags Diags
	attrs := val.AsValueMap()
	for _, n := range sortedKeys(b.Attributes) {
		a := b.Attributes[n]
		if a.NestedType == nil {
			continue
		}
		cv, err := convertNested(attrs[n], a.specType())
		if err != nil {
			d := &Diag{Severity: sevError, Summary: "Incorrect attribute value type", Address: addr,
				Detail: fmt.Sprintf("Inappropriate value for attribute %q: %s.", n, err.Error())}
			if syntax != nil {
				if sa, ok := syntax.Attributes[n]; ok {
					d.Subject = sa.Expr.Range().Ptr()
				}
			}
			diags = append(diags, d)
			cv = cty.UnknownVal(a.specType().WithoutOptionalAttributesDeep())
		}
		attrs[n] = cv
	}
	return cty.ObjectVal(attrs), diags
}

// convertNested converts v to ty (a nested attribute's spec type). Known,
// non-null collections and structural values headed for a map, list or set
// of a type without dynamic parts are converted element by element; the
// rest, and every failure (so that the message is convert's own), go
// through convert.Convert. A failing element is converted alone, which
// gives the error convert.Convert would give for the whole value without
// the whole value's quadratic cost.
func convertNested(v cty.Value, ty cty.Type) (cty.Value, error) {
	if v == cty.NilVal {
		return cty.NullVal(ty.WithoutOptionalAttributesDeep()), nil
	}
	vt := v.Type()
	fast := v.IsKnown() && !v.IsNull() && !ty.HasDynamicTypes() && !v.IsMarked() &&
		(ty.IsMapType() || ty.IsListType() || ty.IsSetType())
	if !fast {
		return convert.Convert(v, ty)
	}
	ety := ty.ElementType()
	out := ety.WithoutOptionalAttributesDeep()
	switch {
	case ty.IsMapType() && (vt.IsObjectType() || vt.IsMapType()):
		if v.LengthInt() == 0 {
			return cty.MapValEmpty(out), nil
		}
		elems := make(map[string]cty.Value, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			ce, err := convert.Convert(e, ety)
			if err != nil {
				one := map[string]cty.Value{k.AsString(): e}
				if vt.IsObjectType() {
					return convert.Convert(cty.ObjectVal(one), ty)
				}
				return convert.Convert(cty.MapVal(one), ty)
			}
			elems[k.AsString()] = ce
		}
		return cty.MapVal(elems), nil
	case (ty.IsListType() || ty.IsSetType()) && (vt.IsTupleType() || vt.IsListType() || vt.IsSetType()):
		if v.LengthInt() == 0 {
			if ty.IsListType() {
				return cty.ListValEmpty(out), nil
			}
			return cty.SetValEmpty(out), nil
		}
		elems := make([]cty.Value, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			ce, err := convert.Convert(e, ety)
			if err != nil {
				// Alone, the element keeps its index only for lists and
				// tuples; convert the whole value for the exact message.
				return convert.Convert(v, ty)
			}
			elems = append(elems, ce)
		}
		if ty.IsListType() {
			return cty.ListVal(elems), nil
		}
		return cty.SetVal(elems), nil
	}
	return convert.Convert(v, ty)
}
