// render.go — plans printed in Terraform's human form: "# addr will be
// created", `+ ~ - -/+` markers, "(known after apply)", "# forces
// replacement", "# (N unchanged attributes hidden)" and the closing
// "Plan: N to add, N to change, N to destroy."
package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

type Action int

const (
	NoOp Action = iota
	Create
	Update
	Delete
	Replace   // delete, then create
	Read      // drift: changed outside
	Gone      // drift: deleted outside
	ReadNow   // data source read during plan (not shown)
	ReadLater // data source read during apply (config not yet known)
	Imported  // shown only: a no-op change that imports the object
)

func (a Action) String() string {
	return [...]string{"NoOp", "Create", "Update", "Delete", "DeleteThenCreate", "Read", "Delete", "Read", "Read", "NoOp"}[a]
}

func (a Action) symbol() string {
	return [...]string{" ", "+", "~", "-", "-/+", "~", "-", " ", "<=", " "}[a]
}

func (a Action) phrase() string {
	return [...]string{"has no changes", "will be created", "will be updated in-place", "will be destroyed",
		"must be replaced", "has changed", "has been deleted", "has been read",
		"will be read during apply", "will be imported"}[a]
}

// hclString quotes a string the way Terraform shows it.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else if r == '$' || r == '%' {
				b.WriteRune(r) // shown as is; the template escapes are a detail
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// renderValue prints v at the given indentation (for multi-line values).
func renderValue(v cty.Value, indent int) string { return renderValueSym(v, indent, " ") }

// renderValueSym prints v; elements of a collection carry sym ("+" inside
// a created object, "-" inside a destroyed one), as Terraform shows them.
func renderValueSym(v cty.Value, indent int, sym string) string {
	switch {
	case !v.IsKnown():
		return "(known after apply)"
	case v.IsNull():
		return "null"
	}
	ty := v.Type()
	pad := strings.Repeat(" ", indent)
	switch {
	case ty == cty.String:
		return hclString(v.AsString())
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		if v.True() {
			return "true"
		}
		return "false"
	case ty.IsMapType() || ty.IsObjectType():
		if v.LengthInt() == 0 {
			return "{}"
		}
		var keys []string
		vals := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if ty.IsObjectType() && e.IsNull() {
				continue // Terraform leaves null attributes out
			}
			keys = append(keys, k.AsString())
			vals[k.AsString()] = e
		}
		sort.Strings(keys)
		width := 0
		for _, k := range keys {
			w := len(hclString(k))
			if ty.IsObjectType() {
				w = len(k)
			}
			if w > width {
				width = w
			}
		}
		var b strings.Builder
		b.WriteString("{\n")
		for _, k := range keys {
			name := hclString(k)
			if ty.IsObjectType() {
				name = k
			}
			fmt.Fprintf(&b, "%s  %s %-*s = %s\n", pad, sym, width, name, renderValueSym(vals[k], indent+4, sym))
		}
		b.WriteString(pad + "}")
		return b.String()
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		if v.LengthInt() == 0 {
			return "[]"
		}
		var b strings.Builder
		b.WriteString("[\n")
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			fmt.Fprintf(&b, "%s  %s %s,\n", pad, sym, renderValueSym(e, indent+4, sym))
		}
		b.WriteString(pad + "]")
		return b.String()
	}
	return v.GoString()
}

// renderChange prints one resource instance change; before/after are whole
// objects (null for create/delete), replacePaths the attributes forcing
// replacement, notes extra "# (...)" lines under the heading.
func renderChange(w io.Writer, addr, typ, name string, act Action, b *Block, before, after cty.Value, replacePaths []cty.Path, notes ...string) {
	fmt.Fprintf(w, "  # %s %s\n", addr, act.phrase())
	for _, n := range notes {
		fmt.Fprintf(w, "  # (%s)\n", n)
	}
	kind := "resource"
	if act == ReadLater || act == ReadNow {
		kind = "data"
	}
	fmt.Fprintf(w, "%3s %s %q %q {\n", act.symbol(), kind, typ, name)
	forces := map[string]bool{}
	for _, p := range replacePaths {
		if len(p) > 0 {
			if s, ok := p[0].(cty.GetAttrStep); ok {
				forces[s.Name] = true
			}
		}
	}
	type line struct {
		sym, name, text, note string
	}
	var lines []line
	hidden := 0
	names := sortedKeys(b.Attributes)
	for n := range b.BlockTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	get := func(obj cty.Value, n string) cty.Value {
		if obj.IsNull() || !obj.IsKnown() {
			return cty.NullVal(cty.DynamicPseudoType)
		}
		return obj.GetAttr(n)
	}
	for _, n := range names {
		bv, av := get(before, n), get(after, n)
		sensitive := false
		if a, ok := b.Attributes[n]; ok {
			sensitive = a.Sensitive
		}
		show := func(v cty.Value, sym string) string {
			if sensitive && v.IsKnown() && !v.IsNull() {
				return "(sensitive value)"
			}
			return renderValueSym(v, 8, sym)
		}
		note := ""
		if forces[n] {
			note = " # forces replacement"
		}
		switch {
		case act == Create || act == ReadLater || (act == Replace && before.IsNull()):
			if av.IsNull() {
				continue
			}
			lines = append(lines, line{"+", n, show(av, "+"), note})
		case act == Delete || act == Gone:
			if bv.IsNull() {
				continue
			}
			lines = append(lines, line{"-", n, show(bv, "-") + " -> null", ""})
		default:
			switch {
			case av.RawEquals(bv):
				// An import shows every attribute (jsonformat/plan.go:
				// ShowUnchangedChildren = diff.Importing()).
				if act == Imported || n == "id" || n == "name" {
					if !av.IsNull() {
						lines = append(lines, line{" ", n, show(av, " "), ""})
					}
				} else if !av.IsNull() {
					hidden++
				}
			case bv.IsNull():
				lines = append(lines, line{"+", n, show(av, "+"), note})
			case av.IsNull():
				lines = append(lines, line{"-", n, show(bv, "-") + " -> null", note})
			case !sensitive && av.IsKnown() && bv.IsKnown() && av.Type().IsMapType() && bv.Type().IsMapType():
				lines = append(lines, line{"~", n, renderMapDiff(bv, av, 8), note})
			default:
				lines = append(lines, line{"~", n, show(bv, " ") + " -> " + show(av, " "), note})
			}
		}
	}
	// Names are padded to the longest attribute the diff holds, shown or
	// hidden: every attribute not null on both sides (jsonformat/computed/
	// renderers/block.go, maximumAttributeKeyLen).
	width := 0
	for _, n := range names {
		if _, isAttr := b.Attributes[n]; !isAttr {
			continue
		}
		if bv, av := get(before, n), get(after, n); (bv.IsNull() && av.IsNull()) || len(n) <= width {
			continue
		}
		width = len(n)
	}
	for _, l := range lines {
		if len(l.name) > width {
			width = len(l.name)
		}
	}
	for _, l := range lines {
		fmt.Fprintf(w, "      %s %-*s = %s%s\n", l.sym, width, l.name, l.text, l.note)
	}
	if hidden > 0 {
		noun := "attributes"
		if hidden == 1 {
			noun = "attribute"
		}
		fmt.Fprintf(w, "        # (%d unchanged %s hidden)\n", hidden, noun)
	}
	fmt.Fprintf(w, "    }\n\n")
}

// renderMapDiff shows a changed map element by element.
func renderMapDiff(before, after cty.Value, indent int) string {
	pad := strings.Repeat(" ", indent)
	keys := map[string]bool{}
	for _, m := range []cty.Value{before, after} {
		for it := m.ElementIterator(); it.Next(); {
			k, _ := it.Element()
			keys[k.AsString()] = true
		}
	}
	width := 0
	for k := range keys {
		if len(hclString(k)) > width {
			width = len(hclString(k))
		}
	}
	var b strings.Builder
	b.WriteString("{\n")
	unchanged := 0
	for _, k := range sortedKeys(keys) {
		kv := cty.StringVal(k)
		bh, ah := before.HasIndex(kv).True(), after.HasIndex(kv).True()
		switch {
		case bh && ah && before.Index(kv).RawEquals(after.Index(kv)):
			unchanged++
		case bh && ah && before.Index(kv).Type().IsObjectType() && before.Index(kv).IsKnown() && after.Index(kv).IsKnown() &&
			!before.Index(kv).IsNull() && !after.Index(kv).IsNull():
			fmt.Fprintf(&b, "%s  ~ %-*s = %s\n", pad, width, hclString(k), renderObjectDiff(before.Index(kv), after.Index(kv), indent+4))
		case bh && ah:
			fmt.Fprintf(&b, "%s  ~ %-*s = %s -> %s\n", pad, width, hclString(k),
				renderValue(before.Index(kv), indent+4), renderValue(after.Index(kv), indent+4))
		case ah:
			fmt.Fprintf(&b, "%s  + %-*s = %s\n", pad, width, hclString(k), renderValueSym(after.Index(kv), indent+4, "+"))
		default:
			fmt.Fprintf(&b, "%s  - %-*s = %s -> null\n", pad, width, hclString(k), renderValueSym(before.Index(kv), indent+4, "-"))
		}
	}
	if unchanged > 0 {
		noun := "elements"
		if unchanged == 1 {
			noun = "element"
		}
		fmt.Fprintf(&b, "%s    # (%d unchanged %s hidden)\n", pad, unchanged, noun)
	}
	b.WriteString(pad + "}")
	return b.String()
}

// renderObjectDiff shows a changed object attribute by attribute.
func renderObjectDiff(before, after cty.Value, indent int) string {
	pad := strings.Repeat(" ", indent)
	names := sortedKeys(after.Type().AttributeTypes())
	type line struct{ sym, name, text string }
	var lines []line
	hidden := 0
	for _, n := range names {
		bv, av := before.GetAttr(n), after.GetAttr(n)
		switch {
		case av.RawEquals(bv):
			if !av.IsNull() {
				hidden++
			}
		case bv.IsNull():
			lines = append(lines, line{"+", n, renderValueSym(av, indent+4, "+")})
		case av.IsNull():
			lines = append(lines, line{"-", n, renderValueSym(bv, indent+4, "-") + " -> null"})
		case av.IsKnown() && bv.IsKnown() && av.Type().IsMapType():
			lines = append(lines, line{"~", n, renderMapDiff(bv, av, indent+4)})
		default:
			lines = append(lines, line{"~", n, renderValue(bv, indent+4) + " -> " + renderValue(av, indent+4)})
		}
	}
	// As for a block: padded to every attribute not null on both sides.
	width := 0
	for _, n := range names {
		if bv, av := before.GetAttr(n), after.GetAttr(n); !(bv.IsNull() && av.IsNull()) && len(n) > width {
			width = len(n)
		}
	}
	for _, l := range lines {
		if len(l.name) > width {
			width = len(l.name)
		}
	}
	var b strings.Builder
	b.WriteString("{\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%s  %s %-*s = %s\n", pad, l.sym, width, l.name, l.text)
	}
	if hidden > 0 {
		noun := "attributes"
		if hidden == 1 {
			noun = "attribute"
		}
		fmt.Fprintf(&b, "%s    # (%d unchanged %s hidden)\n", pad, hidden, noun)
	}
	b.WriteString(pad + "}")
	return b.String()
}

const planLegend = `Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
`
