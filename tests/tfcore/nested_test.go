package main

import (
	"fmt"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// entryType is a nested object like cellrouter_tenants' elements: two
// required attributes, optional ones that may be left out.
func entryType() cty.Type {
	return cty.ObjectWithOptionalAttrs(map[string]cty.Type{
		"cell_id": cty.String, "endpoint": cty.String, "standby_cell_id": cty.String,
		"labels": cty.Map(cty.String), "version": cty.Number,
	}, []string{"standby_cell_id", "labels", "version"})
}

// convertNested must give exactly what convert.Convert gives, values and
// error messages alike.
func TestConvertNestedMatchesConvert(t *testing.T) {
	el := func(cell string, extra map[string]cty.Value) cty.Value {
		m := map[string]cty.Value{"cell_id": cty.StringVal(cell), "endpoint": cty.StringVal("https://" + cell)}
		for k, v := range extra {
			m[k] = v
		}
		return cty.ObjectVal(m)
	}
	cases := map[string]struct {
		v  cty.Value
		ty cty.Type
	}{
		"object to map": {cty.ObjectVal(map[string]cty.Value{
			"a": el("c1", nil),
			"b": el("c2", map[string]cty.Value{"labels": cty.ObjectVal(map[string]cty.Value{"tier": cty.StringVal("gold")})}),
		}), cty.Map(entryType())},
		"empty object": {cty.EmptyObjectVal, cty.Map(entryType())},
		"missing required": {cty.ObjectVal(map[string]cty.Value{
			"a": el("c1", nil),
			"b": cty.ObjectVal(map[string]cty.Value{"cell_id": cty.StringVal("c2")}),
		}), cty.Map(entryType())},
		"wrong attribute type": {cty.ObjectVal(map[string]cty.Value{
			"a": el("c1", map[string]cty.Value{"labels": cty.StringVal("x")}),
		}), cty.Map(entryType())},
		"map to map": {cty.MapVal(map[string]cty.Value{"a": el("c1", nil), "b": el("c2", nil)}), cty.Map(entryType())},
		"map missing required": {cty.MapVal(map[string]cty.Value{
			"a": cty.ObjectVal(map[string]cty.Value{"cell_id": cty.StringVal("c1")}),
			"b": cty.ObjectVal(map[string]cty.Value{"cell_id": cty.StringVal("c2")}),
		}), cty.Map(entryType())},
		"not a collection": {cty.StringVal("x"), cty.Map(entryType())},
		"unknown element":  {cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.DynamicPseudoType)}), cty.Map(entryType())},
		"unknown":          {cty.DynamicVal, cty.Map(entryType())},
		"null":             {cty.NullVal(cty.DynamicPseudoType), cty.Map(entryType())},
		"tuple to list":    {cty.TupleVal([]cty.Value{el("c1", nil), el("c2", nil)}), cty.List(entryType())},
		"tuple to set":     {cty.TupleVal([]cty.Value{el("c1", nil), el("c1", nil)}), cty.Set(entryType())},
		"bad list element": {cty.TupleVal([]cty.Value{el("c1", nil), cty.NumberIntVal(1)}), cty.List(entryType())},
		"single object":    {el("c1", nil), entryType()},
	}
	for name, c := range cases {
		want, werr := convert.Convert(c.v, c.ty)
		got, gerr := convertNested(c.v, c.ty)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: error %v, convert.Convert %v", name, gerr, werr)
			continue
		}
		if werr != nil {
			if gerr.Error() != werr.Error() {
				t.Errorf("%s: message %q, convert.Convert %q", name, gerr.Error(), werr.Error())
			}
			continue
		}
		if !got.RawEquals(want) {
			t.Errorf("%s: %#v, convert.Convert %#v", name, got, want)
		}
	}
}

// 100,000 elements convert in linear time; with go-cty's quadratic
// unification this test would not finish within go test's timeout.
func TestConvertNestedFleetSize(t *testing.T) {
	m := make(map[string]cty.Value, 100000)
	for i := 0; i < 100000; i++ {
		m[fmt.Sprintf("t%06d", i)] = cty.ObjectVal(map[string]cty.Value{
			"cell_id": cty.StringVal(fmt.Sprintf("cell-%d", i%3)), "endpoint": cty.StringVal("https://x")})
	}
	got, err := convertNested(cty.ObjectVal(m), cty.Map(entryType()))
	if err != nil {
		t.Fatal(err)
	}
	if got.LengthInt() != 100000 || !got.Type().Equals(cty.Map(entryType().WithoutOptionalAttributesDeep())) {
		t.Fatalf("got %d elements of %#v", got.LengthInt(), got.Type())
	}
	if v := got.Index(cty.StringVal("t000004")).GetAttr("cell_id").AsString(); v != "cell-1" {
		t.Fatalf("t000004 cell_id %q", v)
	}
}
