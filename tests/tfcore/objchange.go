// objchange.go — Terraform core's rules about planned and applied objects.
//
// proposedNew builds the proposed new state Terraform sends with
// PlanResourceChange; assertPlanValid, assertObjectCompatible and
// assertKnown are the checks behind "Provider produced invalid plan",
// "Provider produced inconsistent final plan", "Provider produced
// inconsistent result after apply" and "Provider produced invalid object".
// They follow Terraform's internal/plans/objchange package in substance,
// including its use of Go syntax (cty.StringVal("x")) in the messages,
// which are meant to be passed verbatim to the provider's developers.
package main

import (
	"fmt"

	"cellrouter/proto/tfplugin6"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"github.com/zclconf/go-cty/cty/msgpack"
)

// ---- wire values -----------------------------------------------------------

func toDV(v cty.Value, ty cty.Type) (*tfplugin6.DynamicValue, error) {
	b, err := msgpack.Marshal(v, ty)
	if err != nil {
		return nil, err
	}
	return &tfplugin6.DynamicValue{Msgpack: b}, nil
}

// fromDV decodes a DynamicValue against ty: absent or empty means null.
func fromDV(d *tfplugin6.DynamicValue, ty cty.Type) (cty.Value, error) {
	switch {
	case d == nil || (len(d.Msgpack) == 0 && len(d.Json) == 0):
		return cty.NullVal(ty), nil
	case len(d.Msgpack) > 0:
		return msgpack.Unmarshal(d.Msgpack, ty)
	default:
		return ctyjson.Unmarshal(d.Json, ty)
	}
}

// allNull is the object of a block with every attribute null (and empty
// collections for list/set/map blocks), as Terraform builds for "no prior".
func allNull(b *Block) cty.Value {
	attrs := map[string]cty.Value{}
	for n, a := range b.Attributes {
		attrs[n] = cty.NullVal(a.impliedType())
	}
	for n, nb := range b.BlockTypes {
		ty := impliedType(nb.Block)
		switch nb.Nesting {
		case nestingSingle:
			attrs[n] = cty.NullVal(ty)
		case nestingGroup:
			attrs[n] = allNull(nb.Block)
		case nestingList:
			attrs[n] = cty.ListValEmpty(ty)
		case nestingSet:
			attrs[n] = cty.SetValEmpty(ty)
		case nestingMap:
			attrs[n] = cty.MapValEmpty(ty)
		}
	}
	return cty.ObjectVal(attrs)
}

// ---- ProposedNew -----------------------------------------------------------

// proposedNew: the configuration, except that attributes computed by the
// provider and left null in configuration take their prior value.
func proposedNew(b *Block, prior, config cty.Value) cty.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	if prior.IsNull() || !prior.IsKnown() {
		prior = allNull(b)
	}
	attrs := proposedNewAttrs(b.Attributes, prior, config)
	for n, nb := range b.BlockTypes {
		pv, cv := prior.GetAttr(n), config.GetAttr(n)
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			attrs[n] = proposedNew(nb.Block, pv, cv)
		case nestingList:
			if !cv.IsKnown() || cv.IsNull() || !cv.Type().IsListType() || cv.LengthInt() == 0 {
				attrs[n] = cv
				continue
			}
			var elems []cty.Value
			i := 0
			for it := cv.ElementIterator(); it.Next(); i++ {
				_, ce := it.Element()
				pe := cty.NullVal(ce.Type())
				if pv.IsKnown() && !pv.IsNull() && pv.LengthInt() > i {
					pe = pv.Index(cty.NumberIntVal(int64(i)))
				}
				elems = append(elems, proposedNew(nb.Block, pe, ce))
			}
			attrs[n] = cty.ListVal(elems)
		default:
			// Sets and maps of blocks: the configuration as it is. The
			// provider layer served here has none; a fuller correlation
			// (as Terraform does) would go here.
			attrs[n] = cv
		}
	}
	return cty.ObjectVal(attrs)
}

// proposedNewAttrs applies the rule to attributes, recursing into nested
// attribute types (their computed attributes take the prior element's).
func proposedNewAttrs(as map[string]*Attribute, prior, config cty.Value) map[string]cty.Value {
	attrs := map[string]cty.Value{}
	for n, a := range as {
		cv := config.GetAttr(n)
		pv := cty.NullVal(a.impliedType())
		if !prior.IsNull() && prior.IsKnown() {
			pv = prior.GetAttr(n)
		}
		switch {
		case a.Computed && cv.IsNull():
			attrs[n] = pv
		case a.NestedType != nil:
			attrs[n] = proposedNewNested(a.NestedType, pv, cv)
		default:
			attrs[n] = cv
		}
	}
	return attrs
}

func proposedNewNested(o *Object, prior, config cty.Value) cty.Value {
	if config.IsNull() || !config.IsKnown() {
		return config
	}
	elem := func(p, c cty.Value) cty.Value {
		if c.IsNull() || !c.IsKnown() {
			return c
		}
		return cty.ObjectVal(proposedNewAttrs(o.Attributes, p, c))
	}
	priorOK := !prior.IsNull() && prior.IsKnown()
	switch o.Nesting {
	case nestingSingle:
		return elem(prior, config)
	case nestingList:
		if config.LengthInt() == 0 {
			return config
		}
		var out []cty.Value
		for i := 0; i < config.LengthInt(); i++ {
			k := cty.NumberIntVal(int64(i))
			p := cty.NullVal(config.Type().ElementType())
			if priorOK && prior.LengthInt() > i {
				p = prior.Index(k)
			}
			out = append(out, elem(p, config.Index(k)))
		}
		return cty.ListVal(out)
	case nestingMap:
		if config.LengthInt() == 0 {
			return config
		}
		out := map[string]cty.Value{}
		for it := config.ElementIterator(); it.Next(); {
			k, c := it.Element()
			p := cty.NullVal(config.Type().ElementType())
			if priorOK && prior.HasIndex(k).True() {
				p = prior.Index(k)
			}
			out[k.AsString()] = elem(p, c)
		}
		return cty.MapVal(out)
	}
	return config // sets: Terraform correlates elements; kept as configured
}

// ---- invalid plan ------------------------------------------------------------

func perr(path cty.Path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(path) > 0 {
		return fmt.Errorf("%s: %s", pathString(path), msg)
	}
	return fmt.Errorf("%s", msg)
}

// assertPlanValid checks a planned object against prior and config.
func assertPlanValid(b *Block, prior, config, planned cty.Value) []error {
	return assertPlannedObjectValid(b, prior, config, planned, nil)
}

func assertPlannedObjectValid(b *Block, prior, config, planned cty.Value, path cty.Path) []error {
	ty := impliedType(b)
	if errs := planned.Type().TestConformance(ty); len(errs) > 0 {
		return []error{perr(path, "planned value has the wrong type")}
	}
	if config.IsNull() {
		if !planned.IsNull() {
			return []error{perr(path, "planned for existence but config wants absence")}
		}
		return nil
	}
	if planned.IsNull() {
		return []error{perr(path, "planned for absence but config wants existence")}
	}
	if !planned.IsKnown() {
		return []error{perr(path, "attribute representing nested block must not be unknown itself; set nested attribute values to unknown instead")}
	}
	if prior.IsNull() || !prior.IsKnown() {
		prior = cty.NullVal(ty)
	}
	var errs []error
	for _, n := range sortedKeys(b.Attributes) {
		a := b.Attributes[n]
		p := append(path.Copy(), cty.GetAttrStep{Name: n})
		pv := cty.NullVal(a.impliedType())
		if !prior.IsNull() {
			pv = prior.GetAttr(n)
		}
		errs = append(errs, assertPlannedValueValid(a, pv, config.GetAttr(n), planned.GetAttr(n), p)...)
	}
	for _, n := range sortedKeys(b.BlockTypes) {
		nb := b.BlockTypes[n]
		p := append(path.Copy(), cty.GetAttrStep{Name: n})
		cv, plv := config.GetAttr(n), planned.GetAttr(n)
		pv := cty.NullVal(cv.Type())
		if !prior.IsNull() {
			pv = prior.GetAttr(n)
		}
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			errs = append(errs, assertPlannedObjectValid(nb.Block, pv, cv, plv, p)...)
		default:
			if plv.IsNull() {
				errs = append(errs, perr(p, "attribute representing a list of nested blocks must be empty to indicate no blocks, not null"))
				continue
			}
			if !plv.IsKnown() {
				errs = append(errs, perr(p, "attribute representing nested block must not be unknown itself; set nested attribute values to unknown instead"))
				continue
			}
			if cv.IsKnown() && !cv.IsNull() && cv.LengthInt() != plv.LengthInt() {
				errs = append(errs, perr(p, "block count in plan (%d) disagrees with count in config (%d)", plv.LengthInt(), cv.LengthInt()))
				continue
			}
			if nb.Nesting == nestingList && cv.IsKnown() && !cv.IsNull() {
				for i := 0; i < cv.LengthInt(); i++ {
					k := cty.NumberIntVal(int64(i))
					pe := cty.NullVal(impliedType(nb.Block))
					if pv.IsKnown() && !pv.IsNull() && pv.LengthInt() > i {
						pe = pv.Index(k)
					}
					errs = append(errs, assertPlannedObjectValid(nb.Block, pe, cv.Index(k), plv.Index(k), append(p.Copy(), cty.IndexStep{Key: k}))...)
				}
			}
		}
	}
	return errs
}

func assertPlannedValueValid(a *Attribute, prior, config, planned cty.Value, path cty.Path) []error {
	if planned.RawEquals(config) {
		return nil
	}
	if !prior.IsNull() && !config.IsNull() && planned.RawEquals(prior) {
		// The provider kept the prior value as equivalent to config.
		return nil
	}
	switch {
	case a.Computed && !a.Optional:
		return nil
	case config.IsNull() && a.Computed:
		return nil
	case config.IsNull() && !planned.IsNull():
		if a.Sensitive {
			return []error{perr(path, "planned value for a non-computed attribute")}
		}
		return []error{perr(path, "planned value %#v for a non-computed attribute", planned)}
	}
	if a.NestedType != nil {
		return assertPlannedNestedValid(a.NestedType, prior, config, planned, path)
	}
	if a.Sensitive {
		if prior.IsNull() {
			return []error{perr(path, "sensitive planned value does not match config value")}
		}
		return []error{perr(path, "sensitive planned value does not match config value nor prior value")}
	}
	if prior.IsNull() {
		return []error{perr(path, "planned value %#v does not match config value %#v", planned, config)}
	}
	return []error{perr(path, "planned value %#v does not match config value %#v nor prior value %#v", planned, config, prior)}
}

// assertPlannedNestedValid checks a nested attribute type element by
// element: the same elements as configuration, each valid against its
// configuration and prior element.
func assertPlannedNestedValid(o *Object, prior, config, planned cty.Value, path cty.Path) []error {
	switch {
	case config.IsNull() && !planned.IsNull():
		return []error{perr(path, "planned for existence but config wants absence")}
	case !config.IsNull() && planned.IsNull():
		return []error{perr(path, "planned for absence but config wants existence")}
	case config.IsNull():
		return nil
	case !config.IsKnown():
		return nil
	case !planned.IsKnown():
		return []error{perr(path, "planned value is unknown, but the configuration is known")}
	}
	priorOK := !prior.IsNull() && prior.IsKnown()
	attrs := func(p, c, pl cty.Value, ep cty.Path) []error {
		if c.IsNull() || pl.IsNull() {
			if c.IsNull() != pl.IsNull() {
				return []error{perr(ep, "planned for a different existence than the config")}
			}
			return nil
		}
		if !pl.IsKnown() {
			return []error{perr(ep, "planned value is unknown, but the configuration is known")}
		}
		var errs []error
		for _, n := range sortedKeys(o.Attributes) {
			a := o.Attributes[n]
			pv := cty.NullVal(a.impliedType())
			if !p.IsNull() && p.IsKnown() {
				pv = p.GetAttr(n)
			}
			errs = append(errs, assertPlannedValueValid(a, pv, c.GetAttr(n), pl.GetAttr(n), append(ep.Copy(), cty.GetAttrStep{Name: n}))...)
		}
		return errs
	}
	switch o.Nesting {
	case nestingSingle:
		return attrs(prior, config, planned, path)
	case nestingList:
		if planned.LengthInt() != config.LengthInt() {
			return []error{perr(path, "count in plan (%d) disagrees with count in config (%d)", planned.LengthInt(), config.LengthInt())}
		}
		var errs []error
		for i := 0; i < config.LengthInt(); i++ {
			k := cty.NumberIntVal(int64(i))
			p := cty.NullVal(config.Type().ElementType())
			if priorOK && prior.LengthInt() > i {
				p = prior.Index(k)
			}
			errs = append(errs, attrs(p, config.Index(k), planned.Index(k), append(path.Copy(), cty.IndexStep{Key: k}))...)
		}
		return errs
	case nestingMap:
		var errs []error
		for it := config.ElementIterator(); it.Next(); {
			k, c := it.Element()
			ep := append(path.Copy(), cty.IndexStep{Key: k})
			if !planned.HasIndex(k).True() {
				errs = append(errs, perr(ep, "element key %q from config is not present in plan", k.AsString()))
				continue
			}
			p := cty.NullVal(config.Type().ElementType())
			if priorOK && prior.HasIndex(k).True() {
				p = prior.Index(k)
			}
			errs = append(errs, attrs(p, c, planned.Index(k), ep)...)
		}
		for it := planned.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			if !config.HasIndex(k).True() {
				errs = append(errs, perr(append(path.Copy(), cty.IndexStep{Key: k}), "element key %q from plan is not present in config", k.AsString()))
			}
		}
		return errs
	case nestingSet:
		if planned.LengthInt() != config.LengthInt() && config.IsWhollyKnown() {
			return []error{perr(path, "count in plan (%d) disagrees with count in config (%d)", planned.LengthInt(), config.LengthInt())}
		}
	}
	return nil
}

// ---- compatible objects (final plan, apply result) ---------------------------

// assertObjectCompatible: every value known in planned is equal in actual;
// unknowns in planned may be anything known of the right type.
func assertObjectCompatible(b *Block, planned, actual cty.Value) []error {
	return assertValueCompatible(planned, actual, nil)
}

func assertValueCompatible(planned, actual cty.Value, path cty.Path) []error {
	if planned.Type() == cty.DynamicPseudoType {
		return nil
	}
	if errs := actual.Type().TestConformance(planned.Type()); len(errs) > 0 {
		return []error{perr(path, "wrong final value type: %v", errs[0])}
	}
	if !planned.IsKnown() {
		return nil
	}
	if actual.IsNull() {
		if planned.IsNull() {
			return nil
		}
		return []error{perr(path, "was %#v, but now null", planned)}
	}
	if planned.IsNull() {
		return []error{perr(path, "was null, but now %#v", actual)}
	}
	if !actual.IsKnown() {
		return []error{perr(path, "was known, but now unknown")}
	}
	ty := planned.Type()
	switch {
	case ty.IsPrimitiveType():
		if !actual.Equals(planned).True() {
			return []error{perr(path, "was %#v, but now %#v", planned, actual)}
		}
	case ty.IsObjectType():
		var errs []error
		for _, n := range sortedKeys(ty.AttributeTypes()) {
			errs = append(errs, assertValueCompatible(planned.GetAttr(n), actual.GetAttr(n), append(path.Copy(), cty.GetAttrStep{Name: n}))...)
		}
		return errs
	case ty.IsMapType():
		var errs []error
		for it := planned.ElementIterator(); it.Next(); {
			k, pv := it.Element()
			if !actual.HasIndex(k).True() {
				errs = append(errs, perr(append(path.Copy(), cty.IndexStep{Key: k}), "element has vanished"))
				continue
			}
			errs = append(errs, assertValueCompatible(pv, actual.Index(k), append(path.Copy(), cty.IndexStep{Key: k}))...)
		}
		for it := actual.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			if !planned.HasIndex(k).True() {
				errs = append(errs, perr(append(path.Copy(), cty.IndexStep{Key: k}), "new element %q has appeared", k.AsString()))
			}
		}
		return errs
	case ty.IsListType() || ty.IsTupleType():
		if planned.LengthInt() != actual.LengthInt() {
			return []error{perr(path, "length changed from %d to %d", planned.LengthInt(), actual.LengthInt())}
		}
		var errs []error
		for i := 0; i < planned.LengthInt(); i++ {
			k := cty.NumberIntVal(int64(i))
			errs = append(errs, assertValueCompatible(planned.Index(k), actual.Index(k), append(path.Copy(), cty.IndexStep{Key: k}))...)
		}
		return errs
	case ty.IsSetType():
		if planned.IsWhollyKnown() && !actual.RawEquals(planned) {
			return []error{perr(path, "planned set element %#v does not correlate with any element in actual", planned)}
		}
	}
	return nil
}

// assertKnown finds the first unknown in a value that must be wholly known.
func assertKnown(v cty.Value) (cty.Path, bool) {
	var bad cty.Path
	_ = cty.Walk(v, func(p cty.Path, x cty.Value) (bool, error) {
		if bad == nil && !x.IsKnown() {
			bad = p.Copy()
			if bad == nil {
				bad = cty.Path{}
			}
			return false, nil
		}
		return bad == nil, nil
	})
	return bad, bad == nil
}

// ctyjsonMarshal writes an object as state attributes JSON.
func ctyjsonMarshal(v cty.Value) ([]byte, error) {
	return ctyjson.Marshal(v, v.Type())
}
