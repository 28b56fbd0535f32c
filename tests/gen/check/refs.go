// refs.go — check (d): every reference names something that exists.
//
//   - aws_x.name.attr and data.aws_x.name.attr: the resource is declared in
//     the same module, the instance key is there exactly when the resource
//     has count/for_each, and attr (and any nested attribute after it) is an
//     argument or computed attribute of the type in the schema fixture;
//   - module.m.out: the module call exists and its source module declares
//     the output; each module call sets only variables the module declares
//     and every variable without a default;
//   - var.x and local.x: declared in the module;
//   - count.index and each.* only inside a block that sets count/for_each;
//   - provider = aws.x and providers = { aws = aws.x }: the aliased
//     configuration is declared in the module or passed in to it.
//
// References are read from the syntax tree, not from Expression.Variables(),
// so that the attribute after a computed index (aws_x.y[each.key].arn) or a
// splat (aws_x.y[*].arn) is still checked.
package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

type stepKind int

const (
	stepAttr stepKind = iota
	stepIndex
	stepSplat
)

type step struct {
	kind stepKind
	name string
}

// Roots that are Terraform's own and carry nothing to check here.
var builtinRoots = map[string]bool{"count": true, "each": true, "self": true, "path": true, "terraform": true}

type refCheck struct {
	r       *report
	m       *module
	schemas schemaSet
	loader  *loader
	// called maps a module call's name to its loaded source module (nil
	// when the source is not a local folder that could be loaded).
	called map[string]*module
	// iterators are the names bound by for expressions and dynamic blocks.
	iterators map[string]bool
	// repetition is "count" or "for_each" while walking a top-level block
	// that sets it: only there may count.index or each.* appear.
	repetition string
	// configs are the provider configurations the module can name:
	// "aws.us_east_1" from provider blocks with an alias, or from
	// required_providers' configuration_aliases (passed in by the caller).
	configs map[string]bool
}

func checkRefs(r *report, m *module, schemas schemaSet, l *loader) {
	c := &refCheck{r: r, m: m, schemas: schemas, loader: l, called: map[string]*module{}, iterators: map[string]bool{}}
	c.configs = providerConfigs(m)
	c.checkCalls()
	for _, f := range m.live() {
		c.collectIterators(f.body)
		c.walkBody(f.body, "")
	}
}

// providerConfigs lists the aliased provider configurations a module has.
func providerConfigs(m *module) map[string]bool {
	out := map[string]bool{}
	for _, f := range m.live() {
		for _, b := range f.body.Blocks {
			if b.Type == "provider" && len(b.Labels) == 1 {
				if a := b.Body.Attributes["alias"]; a != nil {
					if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
						out[b.Labels[0]+"."+v.AsString()] = true
					}
				}
			}
			if b.Type != "terraform" {
				continue
			}
			for _, rp := range b.Body.Blocks {
				if rp.Type != "required_providers" {
					continue
				}
				for _, a := range rp.Body.Attributes {
					obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
					if !ok {
						continue
					}
					for _, item := range obj.Items {
						if key := hcl.ExprAsKeyword(item.KeyExpr); key != "configuration_aliases" {
							continue
						}
						if tup, ok := item.ValueExpr.(*hclsyntax.TupleConsExpr); ok {
							for _, e := range tup.Exprs {
								if t, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 2 {
									if attr, ok := t.Traversal[1].(hcl.TraverseAttr); ok {
										out[t.Traversal.RootName()+"."+attr.Name] = true
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// providerRef checks a `provider = aws.x` or a `providers = { aws = aws.x }`
// value: an aliased configuration must exist in this module.
func (c *refCheck) providerRef(e hclsyntax.Expression) {
	t, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		c.r.at(e.Range(), "a provider reference must be NAME or NAME.ALIAS")
		return
	}
	if len(t.Traversal) == 1 {
		return // the default configuration always exists
	}
	attr, ok := t.Traversal[1].(hcl.TraverseAttr)
	if !ok || len(t.Traversal) != 2 {
		c.r.at(t.SrcRange, "a provider reference must be NAME or NAME.ALIAS")
		return
	}
	ref := t.Traversal.RootName() + "." + attr.Name
	if !c.configs[ref] {
		c.r.at(t.SrcRange, "provider configuration %s is not declared in %s (no provider block with alias %q, no configuration_aliases entry)", ref, c.m.dir, attr.Name)
	}
}

// notExpressions are attributes whose values are not value expressions:
// type constraints, provider configuration addresses, ignore_changes'
// attribute paths. Blocks in skippedBlocks hold only addresses or settings.
var notExpressions = map[string]map[string]bool{
	"variable":  {"type": true},
	"resource":  {"provider": true},
	"data":      {"provider": true},
	"module":    {"providers": true},
	"lifecycle": {"ignore_changes": true},
}
var skippedBlocks = map[string]bool{"terraform": true, "moved": true, "import": true, "removed": true}

// walkBody checks the references in every expression of a body; parent is
// the enclosing block's type.
func (c *refCheck) walkBody(body *hclsyntax.Body, parent string) {
	for _, a := range sortedAttrs(body) {
		switch {
		case a.Name == "provider" && (parent == "resource" || parent == "data"):
			c.providerRef(a.Expr)
		case a.Name == "providers" && parent == "module":
			if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
				for _, item := range obj.Items {
					c.providerRef(item.ValueExpr)
				}
			} else {
				c.r.at(a.Expr.Range(), "providers must be an object { name = NAME.ALIAS, ... }")
			}
		case notExpressions[parent][a.Name]:
		default:
			c.walkExpr(a.Expr)
		}
	}
	for _, b := range body.Blocks {
		if parent == "" && skippedBlocks[b.Type] {
			continue
		}
		if parent == "" {
			c.repetition = ""
			if b.Body.Attributes["count"] != nil {
				c.repetition = "count"
			} else if b.Body.Attributes["for_each"] != nil {
				c.repetition = "for_each"
			}
		}
		c.walkBody(b.Body, b.Type)
	}
}

func (c *refCheck) walkExpr(expr hclsyntax.Expression) {
	consumed := map[hclsyntax.Node]bool{}
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		// Only expressions (pointers) may be map keys: some nodes, like
		// Attributes, are maps themselves.
		e, ok := n.(hclsyntax.Expression)
		if !ok || consumed[e] {
			return nil
		}
		root, steps, chain := flatten(e)
		if root == nil {
			return nil
		}
		for _, x := range chain {
			consumed[x] = true
		}
		c.ref(root, steps)
		return nil
	})
}

// collectIterators records names that for expressions and dynamic blocks bind.
func (c *refCheck) collectIterators(body *hclsyntax.Body) {
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch x := n.(type) {
		case *hclsyntax.ForExpr:
			if x.KeyVar != "" {
				c.iterators[x.KeyVar] = true
			}
			c.iterators[x.ValVar] = true
		case *hclsyntax.Block:
			if x.Type == "dynamic" && len(x.Labels) == 1 {
				name := x.Labels[0]
				if it, ok := x.Body.Attributes["iterator"]; ok {
					if t, ok := it.Expr.(*hclsyntax.ScopeTraversalExpr); ok {
						name = t.Traversal.RootName()
					}
				}
				c.iterators[name] = true
			}
		}
		return nil
	})
}

// flatten reads a reference chain (traversal, then any index, attribute or
// splat steps) and returns its root, its steps and the nodes it spans; root
// is nil when e is not a reference chain.
func flatten(e hclsyntax.Expression) (*hclsyntax.ScopeTraversalExpr, []step, []hclsyntax.Node) {
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return x, traversalSteps(x.Traversal[1:]), []hclsyntax.Node{x}
	case *hclsyntax.RelativeTraversalExpr:
		root, steps, chain := flatten(x.Source)
		if root == nil {
			return nil, nil, nil
		}
		return root, append(steps, traversalSteps(x.Traversal)...), append(chain, x)
	case *hclsyntax.IndexExpr:
		root, steps, chain := flatten(x.Collection)
		if root == nil {
			return nil, nil, nil
		}
		name := "…"
		if lit, ok := x.Key.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.Number {
			name = lit.Val.AsBigFloat().String()
		}
		return root, append(steps, step{stepIndex, name}), append(chain, x)
	case *hclsyntax.SplatExpr:
		root, steps, chain := flatten(x.Source)
		if root == nil {
			return nil, nil, nil
		}
		steps = append(steps, step{stepSplat, "*"})
		chain = append(chain, x)
		each, eachChain, ok := relativeToItem(x.Each)
		if !ok {
			return root, steps, chain
		}
		return root, append(steps, each...), append(chain, eachChain...)
	}
	return nil, nil, nil
}

// relativeToItem reads the per-item part of a splat (…[*].a.b).
func relativeToItem(e hclsyntax.Expression) ([]step, []hclsyntax.Node, bool) {
	switch x := e.(type) {
	case *hclsyntax.AnonSymbolExpr:
		return nil, []hclsyntax.Node{x}, true
	case *hclsyntax.RelativeTraversalExpr:
		s, chain, ok := relativeToItem(x.Source)
		if !ok {
			return nil, nil, false
		}
		return append(s, traversalSteps(x.Traversal)...), append(chain, x), true
	case *hclsyntax.IndexExpr:
		s, chain, ok := relativeToItem(x.Collection)
		if !ok {
			return nil, nil, false
		}
		return append(s, step{stepIndex, "…"}), append(chain, x), true
	}
	return nil, nil, false
}

func traversalSteps(t hcl.Traversal) []step {
	var out []step
	for _, tr := range t {
		switch x := tr.(type) {
		case hcl.TraverseAttr:
			out = append(out, step{stepAttr, x.Name})
		case hcl.TraverseIndex:
			name := "…"
			if x.Key.Type() == cty.Number {
				name = x.Key.AsBigFloat().String()
			} else if x.Key.Type() == cty.String {
				name = fmt.Sprintf("%q", x.Key.AsString())
			}
			out = append(out, step{stepIndex, name})
		case hcl.TraverseSplat:
			out = append(out, step{stepSplat, "*"})
		}
	}
	return out
}

func render(root string, steps []step) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range steps {
		if s.kind == stepAttr {
			b.WriteString("." + s.name)
		} else {
			b.WriteString("[" + s.name + "]")
		}
	}
	return b.String()
}

func (c *refCheck) ref(root *hclsyntax.ScopeTraversalExpr, steps []step) {
	name := root.Traversal.RootName()
	rng := root.SrcRange
	ref := render(name, steps)
	attrAt := func(i int) (string, bool) {
		if i < len(steps) && steps[i].kind == stepAttr {
			return steps[i].name, true
		}
		return "", false
	}
	switch {
	case name == "each" && c.repetition != "for_each" && !c.iterators[name]:
		c.r.at(rng, "%s is only valid in a resource, data source or module block that sets for_each", ref)
	case name == "count" && c.repetition != "count" && !c.iterators[name]:
		c.r.at(rng, "%s is only valid in a resource, data source or module block that sets count", ref)
	case builtinRoots[name] || c.iterators[name]:
	case name == "var" || name == "local":
		n, ok := attrAt(0)
		if !ok {
			c.r.at(rng, "invalid reference %s: %s needs an attribute name", ref, name)
			return
		}
		if name == "var" && c.m.variables[n] == nil {
			c.r.at(rng, "reference to undeclared input variable %q (%s)", n, ref)
		}
		if name == "local" && c.m.locals[n] == nil {
			c.r.at(rng, "reference to undeclared local value %q (%s)", n, ref)
		}
	case name == "module":
		c.moduleRef(rng, ref, steps)
	case name == "data":
		typ, ok1 := attrAt(0)
		n, ok2 := attrAt(1)
		if !ok1 || !ok2 {
			c.r.at(rng, "invalid reference %s: want data.TYPE.NAME", ref)
			return
		}
		d := c.m.data[typ+"."+n]
		if d == nil {
			c.r.at(rng, "reference to undeclared data source data.%s.%s (%s)", typ, n, ref)
			return
		}
		c.instanceRef(rng, ref, "data", d, steps[2:])
	case strings.Contains(name, "_"):
		n, ok := attrAt(0)
		if !ok {
			c.r.at(rng, "invalid reference %s: want TYPE.NAME", ref)
			return
		}
		d := c.m.resources[name+"."+n]
		if d == nil {
			c.r.at(rng, "reference to undeclared resource %s.%s (%s)", name, n, ref)
			return
		}
		c.instanceRef(rng, ref, "resource", d, steps[1:])
	default:
		c.r.at(rng, "invalid reference %s: %q is not a variable, local, module, data source or resource", ref, name)
	}
}

// instanceRef checks the instance key and the attribute path after
// TYPE.NAME of a resource or data source.
func (c *refCheck) instanceRef(rng hcl.Range, ref, kind string, d *declared, rest []step) {
	what := d.typ + "." + d.name
	if kind == "data" {
		what = "data." + what
	}
	if len(rest) == 0 {
		return // the whole object, as in depends_on
	}
	switch {
	case d.repetition != "" && rest[0].kind == stepAttr:
		c.r.at(rng, "%s: %s uses %s, so the reference needs an instance key before .%s (for example [0] or [each.key])", ref, what, d.repetition, rest[0].name)
		return
	case d.repetition != "":
		rest = rest[1:]
	case rest[0].kind == stepIndex:
		c.r.at(rng, "%s: %s has no count or for_each, so it cannot be indexed", ref, what)
		return
	case rest[0].kind == stepSplat:
		rest = rest[1:]
	}
	node, p := c.schemas.lookup(kind, d.typ)
	if node == nil || p == nil {
		return // unknown type (reported by the resource check) or provider not covered
	}
	attrs := node.Attributes
	path := ""
	for _, s := range rest {
		if s.kind != stepAttr {
			continue // list elements and map keys
		}
		if attrs == nil {
			return // past what the schema describes (a map, a list of strings)
		}
		a, ok := attrs[s.name]
		if !ok {
			hint := ""
			if near := nearest(s.name, attrKeys(attrs)); near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			if path == "" {
				c.r.at(rng, "%s: %s %q has no attribute %q%s", ref, kind, d.typ, s.name, hint)
			} else {
				c.r.at(rng, "%s: %s %q: %s has no attribute %q%s", ref, kind, d.typ, path, s.name, hint)
			}
			return
		}
		path = strings.TrimPrefix(path+"."+s.name, ".")
		if a.Type == "map" || a.Type == "any" {
			return
		}
		attrs = a.Attributes
	}
}

func attrKeys(m map[string]*attrSchema) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func (c *refCheck) moduleRef(rng hcl.Range, ref string, steps []step) {
	if len(steps) == 0 || steps[0].kind != stepAttr {
		c.r.at(rng, "invalid reference %s: want module.NAME.OUTPUT", ref)
		return
	}
	name := steps[0].name
	call := c.m.calls[name]
	if call == nil {
		c.r.at(rng, "reference to undeclared module %q (%s)", name, ref)
		return
	}
	rest := steps[1:]
	repeated := call.Body.Attributes["count"] != nil || call.Body.Attributes["for_each"] != nil
	if len(rest) == 0 {
		return
	}
	switch {
	case repeated && rest[0].kind == stepAttr:
		c.r.at(rng, "%s: module %q uses count or for_each, so the reference needs an instance key before .%s", ref, name, rest[0].name)
		return
	case repeated || rest[0].kind == stepSplat:
		rest = rest[1:]
	case rest[0].kind == stepIndex:
		c.r.at(rng, "%s: module %q has no count or for_each, so it cannot be indexed", ref, name)
		return
	}
	if len(rest) == 0 || rest[0].kind != stepAttr {
		return
	}
	mod := c.called[name]
	if mod == nil {
		return
	}
	if mod.outputs[rest[0].name] == nil {
		hint := ""
		if near := nearest(rest[0].name, mod.outOrder); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		c.r.at(rng, "%s: module %q (%s) has no output %q%s", ref, name, mod.dir, rest[0].name, hint)
	}
}

// Module call arguments that are Terraform's own, not module variables.
var moduleMeta = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}

// checkCalls loads each module call's local source and checks its arguments
// against the variables that module declares.
func (c *refCheck) checkCalls() {
	for _, name := range sortedBlockNames(c.m.calls) {
		call := c.m.calls[name]
		src, ok := call.Body.Attributes["source"]
		if !ok {
			c.r.at(call.DefRange(), "module %q: missing required argument \"source\"", name)
			continue
		}
		v, diags := src.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
			c.r.at(src.Expr.Range(), "module %q: source must be a literal string", name)
			continue
		}
		s := v.AsString()
		if !strings.HasPrefix(s, "./") && !strings.HasPrefix(s, "../") {
			continue // a registry or remote module: nothing local to compare
		}
		mod := c.loader.find(filepath.Join(c.m.dir, s))
		if mod == nil {
			c.r.at(src.Expr.Range(), "module %q: source %q is not a module folder with .tf files", name, s)
			continue
		}
		c.called[name] = mod
		for _, a := range sortedAttrs(call.Body) {
			if moduleMeta[a.Name] || mod.variables[a.Name] != nil {
				continue
			}
			hint := ""
			if near := nearest(a.Name, mod.varOrder); near != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", near)
			}
			c.r.at(a.NameRange, "module %q: %s declares no variable %q%s", name, mod.dir, a.Name, hint)
		}
		for _, vn := range mod.varOrder {
			vb := mod.variables[vn]
			if vb.Body.Attributes["default"] != nil || call.Body.Attributes[vn] != nil {
				continue
			}
			c.r.at(call.DefRange(), "module %q: missing required variable %q (declared without default at %s)", name, vn, short(vb.DefRange()))
		}
	}
}

func sortedBlockNames(m map[string]*hclsyntax.Block) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
