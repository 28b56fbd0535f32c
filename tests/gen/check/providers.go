// providers.go — the provider side of check (c): `provider "aws"`,
// `provider "azurerm"` and `provider "cloudflare"` blocks use only the
// provider's own arguments and blocks and set the required ones (azurerm
// needs `features {}`), and every required_providers entry for a provider
// with a fixture names the fixture's registry source (hashicorp/aws,
// cloudflare/cloudflare) with a version constraint that admits the provider
// version the fixture was taken from; without that, a clean run would prove
// nothing about the provider Terraform actually installs.
package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func checkProviders(r *report, m *module, schemas schemaSet) {
	for _, f := range m.live() {
		for _, b := range f.body.Blocks {
			switch {
			case b.Type == "provider" && len(b.Labels) == 1:
				p := schemas[b.Labels[0]]
				if p == nil || p.ProviderConfig == nil {
					continue
				}
				c := bodyCheck{r: r, top: "provider"}
				c.body(b.Body, p.ProviderConfig, "provider "+strconv.Quote(b.Labels[0]), b.DefRange())
			case b.Type == "terraform":
				for _, rp := range b.Body.Blocks {
					if rp.Type == "required_providers" {
						checkRequired(r, rp, schemas)
					}
				}
			}
		}
	}
}

func checkRequired(r *report, rp *hclsyntax.Block, schemas schemaSet) {
	for _, a := range sortedAttrs(rp.Body) {
		p := schemas[a.Name]
		if p == nil || p.live {
			continue // only the fixtures pin a provider version
		}
		fields, ok := literalFields(a.Expr)
		if !ok {
			r.at(a.Expr.Range(), "required_providers.%s: want an object { source = \"...\", version = \"...\" }", a.Name)
			continue
		}
		want := p.ProviderSource
		src := fields["source"]
		if src != want && src != "registry.terraform.io/"+want {
			r.at(a.Expr.Range(), "required_providers.%s: source is %q, the schema fixtures are for %q", a.Name, src, want)
		}
		constraint := fields["version"]
		if constraint == "" {
			r.at(a.Expr.Range(), "required_providers.%s: no version constraint; the schema checks only hold for %s %s", a.Name, a.Name, p.ProviderVersion)
			continue
		}
		ok, err := admits(constraint, p.ProviderVersion)
		if err != nil {
			r.at(a.Expr.Range(), "required_providers.%s: version %q: %v", a.Name, constraint, err)
		} else if !ok {
			r.at(a.Expr.Range(), "required_providers.%s: version %q excludes %s, the version the schema fixtures (%s) describe", a.Name, constraint, p.ProviderVersion, p.file)
		}
	}
}

// literalFields reads the string-valued fields of an object constructor
// (source, version); other fields, like configuration_aliases, hold
// references and are skipped.
func literalFields(e hclsyntax.Expression) (map[string]string, bool) {
	obj, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, item := range obj.Items {
		key := hcl.ExprAsKeyword(item.KeyExpr)
		if key == "" {
			if v, d := item.KeyExpr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				key = v.AsString()
			}
		}
		if v, d := item.ValueExpr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			out[key] = v.AsString()
		}
	}
	return out, true
}

// admits evaluates a Terraform version constraint ("~> 5.0", ">= 3.0,
// < 4.0") against a version. Pre-release suffixes are not supported.
func admits(constraint, version string) (bool, error) {
	v, err := parseVersion(version)
	if err != nil {
		return false, err
	}
	for _, part := range strings.Split(constraint, ",") {
		part = strings.TrimSpace(part)
		op := ""
		for _, o := range []string{"~>", ">=", "<=", "!=", "=", ">", "<"} {
			if strings.HasPrefix(part, o) {
				op = o
				break
			}
		}
		c, err := parseVersion(strings.TrimSpace(part[len(op):]))
		if err != nil {
			return false, err
		}
		cmp := compareVersions(v, c.nums)
		var ok bool
		switch op {
		case "", "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case "~>":
			// ~> 5.0 is >= 5.0, < 6; ~> 5.0.1 is >= 5.0.1, < 5.1;
			// ~> 5 is >= 5, < 6.
			upper := append([]int(nil), c.nums[:max(1, c.given-1)]...)
			upper[len(upper)-1]++
			ok = cmp >= 0 && compareVersions(v, upper) < 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

type version struct {
	nums  []int // always 3 numbers, zero padded
	given int   // how many were written
}

func parseVersion(s string) (version, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if s == "" || len(parts) > 3 {
		return version{}, fmt.Errorf("malformed version %q", s)
	}
	v := version{nums: make([]int, 3), given: len(parts)}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return version{}, fmt.Errorf("malformed version %q", s)
		}
		v.nums[i] = n
	}
	return v, nil
}

func compareVersions(v version, c []int) int {
	for i := 0; i < 3; i++ {
		x := 0
		if i < len(c) {
			x = c[i]
		}
		if v.nums[i] != x {
			if v.nums[i] < x {
				return -1
			}
			return 1
		}
	}
	return 0
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
