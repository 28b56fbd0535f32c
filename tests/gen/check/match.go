// match.go — check (e): two modules meant to be interchangeable (the AWS and
// the Azure event cell) declare the same interface: the same variables, each
// with the same type expression, default, nullability, sensitivity and
// validation blocks, and the same outputs (with the same sensitivity).
// Descriptions are free to differ, since they may name the cloud.
// Expressions are compared by their source text with whitespace collapsed.
package main

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func checkMatch(r *report, a, b *module) {
	for _, name := range union(a.varOrder, b.varOrder) {
		va, vb := a.variables[name], b.variables[name]
		switch {
		case va == nil:
			r.at(vb.DefRange(), "variable %q is declared here but not in %s", name, a.dir)
		case vb == nil:
			r.at(va.DefRange(), "variable %q is declared here but not in %s", name, b.dir)
		default:
			for _, attr := range []string{"type", "default", "nullable", "sensitive", "ephemeral"} {
				compareAttr(r, "variable", name, attr, a, va, b, vb)
			}
			compareValidations(r, name, a, va, b, vb)
		}
	}
	for _, name := range union(a.outOrder, b.outOrder) {
		oa, ob := a.outputs[name], b.outputs[name]
		switch {
		case oa == nil:
			r.at(ob.DefRange(), "output %q is declared here but not in %s", name, a.dir)
		case ob == nil:
			r.at(oa.DefRange(), "output %q is declared here but not in %s", name, b.dir)
		default:
			compareAttr(r, "output", name, "sensitive", a, oa, b, ob)
		}
	}
}

func union(x, y []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string(nil), x...), y...) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// exprText is an attribute's expression source with whitespace collapsed,
// or "" when the attribute is absent.
func exprText(m *module, body *hclsyntax.Body, attr string) (string, *hclsyntax.Attribute) {
	a := body.Attributes[attr]
	if a == nil {
		return "", nil
	}
	return strings.Join(strings.Fields(text(m, a.Expr.Range())), " "), a
}

func compareAttr(r *report, kind, name, attr string, a *module, ba *hclsyntax.Block, b *module, bb *hclsyntax.Block) {
	ta, aa := exprText(a, ba.Body, attr)
	tb, ab := exprText(b, bb.Body, attr)
	if ta == tb {
		return
	}
	at := bb.DefRange()
	if ab != nil {
		at = ab.SrcRange
	}
	other := short(ba.DefRange())
	if aa != nil {
		other = short(aa.SrcRange)
	}
	r.at(at, "%s %q: %s %s here but %s at %s", kind, name, attr, show(tb), show(ta), other)
}

func show(t string) string {
	if t == "" {
		return "is unset"
	}
	return "is `" + t + "`"
}

func compareValidations(r *report, name string, a *module, va *hclsyntax.Block, b *module, vb *hclsyntax.Block) {
	la, lb := validations(va), validations(vb)
	n := len(la)
	if len(lb) > n {
		n = len(lb)
	}
	for i := 0; i < n; i++ {
		switch {
		case i >= len(la):
			r.at(lb[i].DefRange(), "variable %q: validation block %d has no counterpart in %s", name, i+1, a.dir)
		case i >= len(lb):
			r.at(la[i].DefRange(), "variable %q: validation block %d has no counterpart in %s", name, i+1, b.dir)
		default:
			for _, attr := range []string{"condition", "error_message"} {
				ta, aa := exprText(a, la[i].Body, attr)
				tb, ab := exprText(b, lb[i].Body, attr)
				if ta == tb {
					continue
				}
				at := lb[i].DefRange()
				if ab != nil {
					at = ab.SrcRange
				}
				other := short(la[i].DefRange())
				if aa != nil {
					other = short(aa.SrcRange)
				}
				r.at(at, "variable %q: validation %d %s %s here but %s at %s", name, i+1, attr, show(tb), show(ta), other)
			}
		}
	}
}

func validations(v *hclsyntax.Block) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range v.Body.Blocks {
		if b.Type == "validation" {
			out = append(out, b)
		}
	}
	return out
}
