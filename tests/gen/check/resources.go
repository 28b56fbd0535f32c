// resources.go — check (c): every aws_*, azurerm_* and cloudflare_*
// resource and data source uses only arguments and nested blocks its
// provider schema has, in the right form (argument `x = ...` versus block
// `x { ... }`), within the block counts the schema allows, and sets every
// required argument and block. A `dynamic` block stands for its block type,
// with an unknown count.
package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Terraform's own meta-arguments and meta-blocks, valid in every resource
// (and, for alias and version, in provider blocks).
var resourceMeta = map[string]bool{"count": true, "for_each": true, "provider": true, "depends_on": true}
var metaArgs = map[string]map[string]bool{
	"resource": resourceMeta,
	"data":     resourceMeta,
	"provider": {"alias": true, "version": true},
}
var metaBlocks = map[string]map[string]bool{
	"resource": {"lifecycle": true, "provisioner": true, "connection": true},
	"data":     {"lifecycle": true},
}

func checkResources(r *report, m *module, schemas schemaSet) {
	for _, f := range m.live() {
		for _, b := range f.body.Blocks {
			if (b.Type != "resource" && b.Type != "data") || len(b.Labels) != 2 {
				continue
			}
			typ := b.Labels[0]
			node, p := schemas.lookup(b.Type, typ)
			if p == nil {
				continue // a provider these checks do not cover
			}
			kind := map[string]string{"resource": "resource", "data": "data source"}[b.Type]
			if node == nil {
				r.at(b.LabelRanges[0], "%s type %q does not exist in %s", kind, typ, p.describe())
				continue
			}
			where := typ + "." + b.Labels[1]
			if b.Type == "data" {
				where = "data." + where
			}
			c := bodyCheck{r: r, top: b.Type}
			c.body(b.Body, node, where, b.DefRange())
		}
	}
}

type bodyCheck struct {
	r   *report
	top string // "resource", "data" or "provider" while checking a top-level body
}

func (c *bodyCheck) body(body *hclsyntax.Body, node *schemaNode, where string, def hcl.Range) {
	top := c.top
	c.top = ""
	defer func() { c.top = top }()

	set := map[string]bool{}
	for _, a := range sortedAttrs(body) {
		if metaArgs[top][a.Name] {
			continue
		}
		set[a.Name] = true
		if arg, ok := node.Arguments[a.Name]; ok {
			if why := typeMismatch(a.Expr, arg.Type); why != "" {
				c.r.at(a.Expr.Range(), "%s: argument %q must be %s", where, a.Name, why)
			}
			continue
		}
		if _, ok := node.Blocks[a.Name]; ok {
			c.r.at(a.NameRange, "%s: %q is a block, not an argument: write `%s { ... }`", where, a.Name, a.Name)
			continue
		}
		if _, ok := node.Attributes[a.Name]; ok {
			c.r.at(a.NameRange, "%s: %q is computed by the provider (read-only) and cannot be set", where, a.Name)
			continue
		}
		c.r.at(a.NameRange, "%s: unsupported argument %q%s", where, a.Name, suggest(a.Name, node.Arguments))
	}

	counts := map[string]int{}
	dynamic := map[string]bool{}
	for _, nb := range body.Blocks {
		if metaBlocks[top][nb.Type] {
			continue
		}
		name, content := nb.Type, nb.Body
		if nb.Type == "dynamic" {
			if len(nb.Labels) != 1 {
				c.r.at(nb.TypeRange, "%s: dynamic block needs one label (the block type)", where)
				continue
			}
			name = nb.Labels[0]
			content = c.dynamicContent(nb, where)
			if content == nil {
				continue
			}
			dynamic[name] = true
		} else if len(nb.Labels) > 0 {
			c.r.at(nb.LabelRanges[0], "%s: block %q takes no labels", where, nb.Type)
		}
		set[name] = true
		rng := nb.TypeRange
		if nb.Type == "dynamic" {
			rng = nb.LabelRanges[0]
		}
		if bs, ok := node.Blocks[name]; ok {
			counts[name]++
			c.body(content, &bs.schemaNode, where+"."+name, nb.DefRange())
			continue
		}
		if arg, ok := node.Arguments[name]; ok {
			if arg.Nested != nil {
				// An object-typed argument written as a block: the
				// provider SDK's attributes-as-blocks mode accepts it.
				c.body(content, arg.Nested, where+"."+name, nb.DefRange())
				continue
			}
			c.r.at(rng, "%s: %q is an argument, not a block: write `%s = ...`", where, name, name)
			continue
		}
		c.r.at(rng, "%s: unsupported block type %q%s", where, name, suggestBlock(name, node.Blocks))
	}

	for _, name := range sortedKeys(node.Arguments) {
		if node.Arguments[name].Required && !set[name] {
			c.r.at(def, "%s: missing required argument %q", where, name)
		}
	}
	for _, name := range sortedKeys(node.Blocks) {
		bs := node.Blocks[name]
		if dynamic[name] {
			continue // its count is only known at plan time
		}
		n := counts[name]
		if n < bs.Min {
			c.r.at(def, "%s: missing required block %q (needs at least %d, has %d)", where, name, bs.Min, n)
		}
		if bs.Max != nil && n > *bs.Max {
			c.r.at(def, "%s: too many %q blocks (at most %d, has %d)", where, name, *bs.Max, n)
		}
	}
}

// dynamicContent checks a dynamic block's own arguments and returns its
// content body (nil when there is none).
func (c *bodyCheck) dynamicContent(nb *hclsyntax.Block, where string) *hclsyntax.Body {
	label := nb.Labels[0]
	if _, ok := nb.Body.Attributes["for_each"]; !ok {
		c.r.at(nb.DefRange(), "%s: dynamic %q: missing required argument \"for_each\"", where, label)
	}
	for _, a := range sortedAttrs(nb.Body) {
		switch a.Name {
		case "for_each", "iterator", "labels":
		default:
			c.r.at(a.NameRange, "%s: dynamic %q: unsupported argument %q (only for_each, iterator, labels)", where, label, a.Name)
		}
	}
	var content *hclsyntax.Body
	for _, b := range nb.Body.Blocks {
		if b.Type == "content" && content == nil {
			content = b.Body
			continue
		}
		c.r.at(b.TypeRange, "%s: dynamic %q: unexpected block %q (only one content block)", where, label, b.Type)
	}
	if content == nil {
		c.r.at(nb.DefRange(), "%s: dynamic %q: missing content block", where, label)
	}
	return content
}

// sortedKeys: the keys of a map, sorted (findings in a stable order).
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// nearest returns the closest candidate within a small edit distance, or
// failing that one the name is a prefix of (visibility_timeout for
// visibility_timeout_seconds).
func nearest(name string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestD := "", 4
	for _, c := range sorted {
		if d := levenshtein.Distance(name, c, nil); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" && len(name) >= 4 {
		for _, c := range sorted {
			if strings.HasPrefix(c, name) {
				return c
			}
		}
	}
	return best
}

func suggest(name string, args map[string]*argSchema) string {
	if s := nearest(name, sortedKeys(args)); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func suggestBlock(name string, blocks map[string]*blockSchema) string {
	if s := nearest(name, sortedKeys(blocks)); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
