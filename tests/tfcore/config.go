// config.go — reading a directory of .tf files the way Terraform does, for
// the subset tfcore supports.
//
// Supported: `terraform` blocks (ignored), one `provider "cellrouter"`
// block, `resource` blocks of the provider's types with `for_each` over a
// map or a set of strings (each.key, each.value), `variable` blocks (type,
// default; values from -var and TF_VAR_*), `locals`, and a few of
// Terraform's functions. Resource bodies are decoded with an hcldec spec
// built from the provider's own schema, so type errors, missing required
// arguments and unknown arguments come out as Terraform reports them.
// References between resources are not supported and say so.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

type Variable struct {
	Name    string
	Type    cty.Type
	Default cty.Value // cty.NilVal when there is none
	Range   hcl.Range
}

type ResourceConfig struct {
	Type, Name string
	Data       bool           // a data block
	ForEach    hcl.Expression // nil without for_each
	Body       hcl.Body       // meta-arguments removed
	Syntax     *hclsyntax.Body
	DeclRange  hcl.Range
}

// Addr is "type.name", or "data.type.name" for a data source.
func (r *ResourceConfig) Addr() string {
	if r.Data {
		return "data." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

// schemaFor finds the schema of a resource or data source block.
func (ps *ProviderSchema) schemaFor(rc *ResourceConfig) (*Schema, bool) {
	if rc.Data {
		s, ok := ps.DataSources[rc.Type]
		return s, ok
	}
	s, ok := ps.Resources[rc.Type]
	return s, ok
}

func (rc *ResourceConfig) invalidType() *Diag {
	kind := "resource"
	if rc.Data {
		kind = "data source"
	}
	return &Diag{Severity: sevError, Summary: "Invalid " + kind + " type",
		Detail:  fmt.Sprintf("The provider %s does not support %s type %q.", providerAddr, kind, rc.Type),
		Subject: rc.DeclRange.Ptr()}
}

type OutputConfig struct {
	Name      string
	Expr      hcl.Expression
	Sensitive bool
	DeclRange hcl.Range
}

type Config struct {
	Dir       string
	Sources   map[string][]byte
	Variables map[string]*Variable
	Locals    map[string]*hclsyntax.Attribute
	Provider  *hclsyntax.Body // nil when there is no provider block
	Resources []*ResourceConfig
	Outputs   []*OutputConfig
	Imports   []*ImportConfig
	Lists     []*ListConfig // list blocks of *.tfquery.hcl (query only)

	ctx *hcl.EvalContext // var.* and local.*
}

// Instance is one resource instance wanted by the configuration.
type Instance struct {
	Addr     string
	Resource *ResourceConfig
	Key      *string // for_each key, nil without for_each
	Config   cty.Value
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "terraform"},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "import"},
	},
}

var resourceMetaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "for_each"}, {Name: "count"}, {Name: "depends_on"}, {Name: "provider"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "lifecycle"}, {Type: "provisioner", LabelNames: []string{"type"}}, {Type: "connection"}},
}

func functions() map[string]function.Function {
	return map[string]function.Function{
		"format": stdlib.FormatFunc, "lower": stdlib.LowerFunc, "upper": stdlib.UpperFunc,
		"join": stdlib.JoinFunc, "merge": stdlib.MergeFunc, "concat": stdlib.ConcatFunc,
		"length": stdlib.LengthFunc, "keys": stdlib.KeysFunc, "values": stdlib.ValuesFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tomap":   stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"toset":   stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"replace": stdlib.ReplaceFunc, "trimspace": stdlib.TrimSpaceFunc,
		"range": stdlib.RangeFunc, "lookup": stdlib.LookupFunc, "coalesce": stdlib.CoalesceFunc,
		"sort": stdlib.SortFunc,
		// Collection functions a failover written in Terraform needs.
		"contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc, "flatten": stdlib.FlattenFunc,
		"setunion": stdlib.SetUnionFunc, "setsubtract": stdlib.SetSubtractFunc,
		"setintersection": stdlib.SetIntersectionFunc, "zipmap": stdlib.ZipmapFunc,
		"element": stdlib.ElementFunc, "split": stdlib.SplitFunc, "substr": stdlib.SubstrFunc,
		"min": stdlib.MinFunc, "max": stdlib.MaxFunc, "slice": stdlib.SliceFunc,
	}
}

// loadConfig parses every *.tf file of dir (sorted by name) and evaluates
// variables and locals. vars are -var values ("name=value").
func loadConfig(dir string, vars []string) (*Config, Diags) { return loadConfigFiles(dir, vars, false) }

// loadQueryConfig also reads the *.tfquery.hcl files (`query`): their
// list, provider, variable and locals blocks join the configuration
// (internal/configs/query_file.go, parser_config_dir.go).
func loadQueryConfig(dir string, vars []string) (*Config, Diags) {
	return loadConfigFiles(dir, vars, true)
}

func loadConfigFiles(dir string, vars []string, query bool) (*Config, Diags) {
	cfg := &Config{Dir: dir, Sources: map[string][]byte{}, Variables: map[string]*Variable{},
		Locals: map[string]*hclsyntax.Attribute{}}
	var diags Diags
	names, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		names = nil
	}
	if query {
		qnames, _ := filepath.Glob(filepath.Join(dir, "*.tfquery.hcl"))
		names = append(names, qnames...)
	}
	if len(names) == 0 {
		return nil, Diags{errorDiag("No configuration files",
			fmt.Sprintf("The directory %s contains no Terraform configuration files (*.tf).", dir))}
	}
	sort.Strings(names)
	seen := map[string]hcl.Range{}
	seenList := map[string]hcl.Range{}
	for _, path := range names {
		src, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, errorDiag("Failed to read file", fmt.Sprintf("The file %q could not be read: %v.", path, err)))
			continue
		}
		rel := filepath.Base(path)
		cfg.Sources[rel] = src
		f, hd := hclsyntax.ParseConfig(src, rel, hcl.InitialPos)
		diags = append(diags, hclDiags(hd, "")...)
		if hd.HasErrors() {
			continue
		}
		schema := rootSchema
		isQuery := strings.HasSuffix(path, ".tfquery.hcl")
		if isQuery {
			schema = queryFileSchema
		}
		content, hd := f.Body.Content(schema)
		diags = append(diags, hclDiags(hd, "")...)
		for _, blk := range content.Blocks {
			body := blk.Body.(*hclsyntax.Body)
			switch blk.Type {
			case "list":
				lc, d := decodeListBlock(blk)
				diags = append(diags, d...)
				if lc == nil {
					continue
				}
				if r, dup := seenList[lc.Addr()]; dup {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate \"list\" block names",
						Detail:  fmt.Sprintf("This query file already has a list block named %s.%s defined at %s.", lc.Type, lc.Name, r),
						Subject: blk.DefRange.Ptr()})
					continue
				}
				seenList[lc.Addr()] = blk.DefRange
				if !d.HasErrors() {
					cfg.Lists = append(cfg.Lists, lc)
				}
			case "terraform":
			case "import":
				if !emu.ImportBlocks {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported block type",
						Detail:  fmt.Sprintf("Blocks of type \"import\" are not expected here (Terraform %s predates import blocks).", emu.Version),
						Subject: blk.DefRange.Ptr()})
					continue
				}
				imp, d := decodeImportBlock(blk)
				diags = append(diags, d...)
				if !d.HasErrors() {
					cfg.Imports = append(cfg.Imports, imp)
				}
			case "output":
				content, hd := blk.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
					{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"}, {Name: "depends_on"}}})
				diags = append(diags, hclDiags(hd, "")...)
				if hd.HasErrors() {
					continue
				}
				o := &OutputConfig{Name: blk.Labels[0], Expr: content.Attributes["value"].Expr, DeclRange: blk.DefRange}
				if a, ok := content.Attributes["sensitive"]; ok {
					v, hd := a.Expr.Value(nil)
					diags = append(diags, hclDiags(hd, "")...)
					o.Sensitive = !hd.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && v.True()
				}
				cfg.Outputs = append(cfg.Outputs, o)
			case "provider":
				if blk.Labels[0] != providerName {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported provider",
						Detail:  fmt.Sprintf("tfcore only drives the %q provider, not %q.", providerName, blk.Labels[0]),
						Subject: blk.DefRange.Ptr()})
					continue
				}
				if cfg.Provider != nil {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate provider configuration",
						Detail:  fmt.Sprintf("A default (non-aliased) provider configuration for %q was already given.", providerName),
						Subject: blk.DefRange.Ptr()})
					continue
				}
				cfg.Provider = body
			case "variable":
				v, vd := decodeVariable(blk)
				diags = append(diags, vd...)
				if v != nil {
					if _, dup := cfg.Variables[v.Name]; dup {
						diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate variable declaration",
							Detail: fmt.Sprintf("A variable named %q was already declared.", v.Name), Subject: blk.DefRange.Ptr()})
						continue
					}
					cfg.Variables[v.Name] = v
				}
			case "locals":
				for name, a := range body.Attributes {
					if _, dup := cfg.Locals[name]; dup {
						diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate local value definition",
							Detail: fmt.Sprintf("A local value named %q was already defined.", name), Subject: a.SrcRange.Ptr()})
						continue
					}
					cfg.Locals[name] = a
				}
			case "resource", "data":
				rc := &ResourceConfig{Type: blk.Labels[0], Name: blk.Labels[1], DeclRange: blk.DefRange, Data: blk.Type == "data"}
				if r, dup := seen[rc.Addr()]; dup {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate resource configuration",
						Detail:  fmt.Sprintf("A %s resource named %q was already declared at %s.", rc.Type, rc.Name, r),
						Subject: blk.DefRange.Ptr()})
					continue
				}
				seen[rc.Addr()] = blk.DefRange
				meta, remain, hd := blk.Body.PartialContent(resourceMetaSchema)
				diags = append(diags, hclDiags(hd, rc.Addr())...)
				if a, ok := meta.Attributes["count"]; ok {
					diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported argument",
						Detail: "tfcore does not support the \"count\" meta-argument.", Subject: a.Range.Ptr()})
				}
				// provider = cellrouter (as generated configuration writes
				// it) names the default configuration; aliases are refused.
				if a, ok := meta.Attributes["provider"]; ok {
					diags = append(diags, checkProviderRef(a)...)
				}
				if a, ok := meta.Attributes["for_each"]; ok {
					rc.ForEach = a.Expr
				}
				rc.Body = remain
				rc.Syntax = body
				cfg.Resources = append(cfg.Resources, rc)
			}
		}
	}
	// On errors the configuration comes back all the same, unusable but
	// with its sources, so diagnostics can quote the lines they point at.
	if diags.HasErrors() {
		return &Config{Sources: cfg.Sources}, diags
	}
	diags = append(diags, cfg.evalContext(vars)...)
	if diags.HasErrors() {
		return &Config{Sources: cfg.Sources}, diags
	}
	return cfg, diags
}

func decodeVariable(blk *hcl.Block) (*Variable, Diags) {
	v := &Variable{Name: blk.Labels[0], Type: cty.DynamicPseudoType, Range: blk.DefRange}
	content, hd := blk.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
	}, Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}}})
	diags := hclDiags(hd, "")
	if a, ok := content.Attributes["type"]; ok {
		ty, hd := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, hclDiags(hd, "")...)
		if !hd.HasErrors() {
			v.Type = ty
		}
	}
	if a, ok := content.Attributes["default"]; ok {
		val, hd := a.Expr.Value(nil)
		diags = append(diags, hclDiags(hd, "")...)
		if !hd.HasErrors() {
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid default value for variable",
					Detail: fmt.Sprintf("This default value is not compatible with the variable's type constraint: %v.", err), Subject: a.Expr.Range().Ptr()})
			} else {
				v.Default = cv
			}
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return v, diags
}

// evalContext resolves var.* (from -var, TF_VAR_*, defaults) and local.*.
func (cfg *Config) evalContext(vars []string) Diags {
	var diags Diags
	given := map[string]string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_VAR_") {
			if i := strings.IndexByte(kv, '='); i > 0 {
				given[kv[len("TF_VAR_"):i]] = kv[i+1:]
			}
		}
	}
	for _, kv := range vars {
		i := strings.IndexByte(kv, '=')
		if i <= 0 {
			diags = append(diags, errorDiag("Invalid -var option",
				fmt.Sprintf("The given -var option %q is not correctly specified. It must be a variable name and value separated by an equals sign, like -var=\"key=value\".", kv)))
			continue
		}
		given[kv[:i]] = kv[i+1:]
	}
	values := map[string]cty.Value{}
	for name, v := range cfg.Variables {
		raw, ok := given[name]
		switch {
		case ok && (v.Type == cty.String || v.Type == cty.DynamicPseudoType):
			values[name] = cty.StringVal(raw)
		case ok:
			expr, hd := hclsyntax.ParseExpression([]byte(raw), "<value for var."+name+">", hcl.InitialPos)
			diags = append(diags, hclDiags(hd, "")...)
			if hd.HasErrors() {
				continue
			}
			val, hd := expr.Value(nil)
			diags = append(diags, hclDiags(hd, "")...)
			if hd.HasErrors() {
				continue
			}
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, errorDiag("Invalid value for input variable",
					fmt.Sprintf("The given value is not suitable for var.%s declared at %s: %v.", name, v.Range, err)))
				continue
			}
			values[name] = cv
		case v.Default != cty.NilVal:
			values[name] = v.Default
		default:
			diags = append(diags, &Diag{Severity: sevError, Summary: "No value for required variable",
				Detail:  fmt.Sprintf("The root module input variable %q is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.", name),
				Subject: v.Range.Ptr()})
		}
	}
	for name := range given {
		if _, ok := cfg.Variables[name]; !ok && !strings.HasPrefix(name, "TF_VAR_") {
			found := false
			for _, kv := range vars {
				if strings.HasPrefix(kv, name+"=") {
					found = true
				}
			}
			if found {
				diags = append(diags, errorDiag("Value for undeclared variable",
					fmt.Sprintf("A variable named %q was assigned on the command line, but the root module does not declare a variable of that name.", name)))
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	cfg.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(values)}, Functions: functions()}
	// Locals may refer to each other: evaluate in rounds until every one
	// resolves; a round without progress means a cycle or a bad reference.
	locals := map[string]cty.Value{}
	pending := sortedKeys(cfg.Locals)
	for len(pending) > 0 {
		cfg.ctx.Variables["local"] = cty.ObjectVal(locals)
		var next []string
		var lastDiags hcl.Diagnostics
		for _, name := range pending {
			a := cfg.Locals[name]
			ready := true
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() == "local" && len(tr) > 1 {
					if s, ok := tr[1].(hcl.TraverseAttr); ok {
						if _, done := locals[s.Name]; !done {
							if _, exists := cfg.Locals[s.Name]; exists {
								ready = false
							}
						}
					}
				}
			}
			if !ready {
				next = append(next, name)
				continue
			}
			val, hd := a.Expr.Value(cfg.ctx)
			if hd.HasErrors() {
				lastDiags = append(lastDiags, hd...)
				continue
			}
			locals[name] = val
		}
		if lastDiags.HasErrors() {
			return append(diags, hclDiags(lastDiags, "")...)
		}
		if len(next) == len(pending) {
			return append(diags, &Diag{Severity: sevError, Summary: "Cycle in local values",
				Detail: fmt.Sprintf("The local values %s refer to each other.", strings.Join(next, ", ")), Subject: cfg.Locals[next[0]].SrcRange.Ptr()})
		}
		pending = next
	}
	cfg.ctx.Variables["local"] = cty.ObjectVal(locals)
	return diags
}

// decodeBody decodes a block body against a schema block.
//
// Like Terraform core it accepts an argument for a computed-only attribute
// (compared against 1.11.4: validate passes, and objchange.ProposedNew
// plans the attribute from the prior state); the refusal is the
// provider's, in ValidateResourceConfig, as terraform-plugin-framework does
// it ("Invalid Configuration for Read-Only Attribute").
func decodeBody(body hcl.Body, syntax *hclsyntax.Body, b *Block, ctx *hcl.EvalContext, addr string) (cty.Value, Diags) {
	var diags Diags
	// Nested attributes are converted by decodeNestedAttrs (nested.go):
	// go-cty's own conversion of a fleet-sized map is quadratic.
	// Decoding errors are configuration errors: Terraform shows them
	// without the resource address (the block is in the source range).
	val, hd := hcldec.Decode(body, topDecoderSpec(b), ctx)
	diags = append(diags, hclDiags(hd, "")...)
	if hd.HasErrors() {
		return cty.NilVal, diags
	}
	val, nd := decodeNestedAttrs(val, b, syntax, addr)
	if diags = append(diags, nd...); nd.HasErrors() {
		return cty.NilVal, diags
	}
	// hcldec gives exactly the implied type; check rather than trust.
	if !val.Type().Equals(impliedType(b)) {
		cv, err := convert.Convert(val, impliedType(b))
		if err != nil {
			return cty.NilVal, append(diags, errorDiag("Invalid configuration", fmt.Sprintf("%s: %v", addr, err)))
		}
		val = cv
	}
	return val, diags
}

// providerConfig decodes the provider block (an empty body when absent).
func (cfg *Config) providerConfig(ps *ProviderSchema) (cty.Value, Diags) {
	if cfg.Provider == nil {
		return decodeBody(hcl.EmptyBody(), nil, ps.Provider.Block, cfg.ctx, "provider[\""+providerAddr+"\"]")
	}
	return decodeBody(cfg.Provider, cfg.Provider, ps.Provider.Block, cfg.ctx, "provider[\""+providerAddr+"\"]")
}

// instanceAddr renders an instance of the block: addr or addr["key"].
func (rc *ResourceConfig) instanceAddr(key *string) string {
	if key == nil {
		return rc.Addr()
	}
	return fmt.Sprintf("%s[%q]", rc.Addr(), *key)
}

// instanceAddr renders type.name or type.name["key"].
func instanceAddr(typ, name string, key *string) string {
	if key == nil {
		return typ + "." + name
	}
	return fmt.Sprintf("%s.%s[%q]", typ, name, *key)
}

// ---- references between resources --------------------------------------

// refs lists the resource blocks ("type.name") rc refers to.
func (cfg *Config) refs(rc *ResourceConfig, ps *ProviderSchema) []string {
	out, _ := cfg.refsChecked(rc, ps)
	return out
}

// refsChecked also reports references to resources of the provider's
// types that the configuration does not declare, in Terraform's words.
func (cfg *Config) refsChecked(rc *ResourceConfig, ps *ProviderSchema) ([]string, Diags) {
	var diags Diags
	known := map[string]bool{}
	for _, r := range cfg.Resources {
		known[r.Addr()] = true
	}
	var trs []hcl.Traversal
	if rs, ok := ps.schemaFor(rc); ok {
		trs = hcldec.Variables(rc.Body, decoderSpec(rs.Block))
	}
	if rc.ForEach != nil {
		trs = append(trs, rc.ForEach.Variables()...)
	}
	seen := map[string]bool{}
	var out []string
	for _, tr := range trs {
		if len(tr) < 2 {
			continue
		}
		step, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		if tr.RootName() == "data" {
			name, ok := hcl.TraverseAttr{}, len(tr) > 2
			if ok {
				name, ok = tr[2].(hcl.TraverseAttr)
			}
			if !ok {
				continue
			}
			addr := "data." + step.Name + "." + name.Name
			if !known[addr] && !seen[addr] {
				seen[addr] = true
				diags = append(diags, &Diag{Severity: sevError, Summary: "Reference to undeclared resource", Address: rc.Addr(),
					Detail:  fmt.Sprintf("A data resource %q %q has not been declared in the root module.", step.Name, name.Name),
					Subject: tr.SourceRange().Ptr()})
			} else if !seen[addr] {
				seen[addr] = true
				out = append(out, addr)
			}
			continue
		}
		addr := tr.RootName() + "." + step.Name
		if _, isType := ps.Resources[tr.RootName()]; isType && !known[addr] && !seen[addr] {
			seen[addr] = true
			diags = append(diags, &Diag{Severity: sevError, Summary: "Reference to undeclared resource", Address: rc.Addr(),
				Detail:  fmt.Sprintf("A managed resource %q %q has not been declared in the root module.", tr.RootName(), step.Name),
				Subject: tr.SourceRange().Ptr()})
		}
		if known[addr] && !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	sort.Strings(out)
	return out, diags
}

// order sorts resource blocks so that every block comes after the blocks
// it refers to; a cycle is an error, as in Terraform.
func (cfg *Config) order(ps *ProviderSchema) ([]*ResourceConfig, Diags) {
	byAddr := map[string]*ResourceConfig{}
	for _, rc := range cfg.Resources {
		byAddr[rc.Addr()] = rc
	}
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var out []*ResourceConfig
	var diags Diags
	var visit func(rc *ResourceConfig, path []string) bool
	visit = func(rc *ResourceConfig, path []string) bool {
		switch state[rc.Addr()] {
		case 1:
			diags = append(diags, &Diag{Severity: sevError, Summary: "Cycle",
				Detail:  "Resources refer to each other: " + strings.Join(append(path, rc.Addr()), " -> ") + ".",
				Subject: rc.DeclRange.Ptr()})
			return false
		case 2:
			return true
		}
		state[rc.Addr()] = 1
		for _, dep := range cfg.refs(rc, ps) {
			if !visit(byAddr[dep], append(path, rc.Addr())) {
				return false
			}
		}
		state[rc.Addr()] = 2
		out = append(out, rc)
		return true
	}
	for _, rc := range cfg.Resources {
		if !visit(rc, nil) {
			return nil, diags
		}
	}
	return out, nil
}

// refContext is the evaluation context with resource values: vals maps
// "type.name" to the object (or, with for_each, the object of instances by
// key); resources without a value yet are unknown.
func (cfg *Config) refContext(vals map[string]cty.Value) *hcl.EvalContext {
	types := map[string]map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	for _, rc := range cfg.Resources {
		into := types
		if rc.Data {
			into = data
		}
		if into[rc.Type] == nil {
			into[rc.Type] = map[string]cty.Value{}
		}
		v, ok := vals[rc.Addr()]
		if !ok {
			v = cty.DynamicVal
		}
		into[rc.Type][rc.Name] = v
	}
	ctx := cfg.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{}
	for t, m := range types {
		ctx.Variables[t] = cty.ObjectVal(m)
	}
	if len(data) > 0 {
		d := map[string]cty.Value{}
		for t, m := range data {
			d[t] = cty.ObjectVal(m)
		}
		ctx.Variables["data"] = cty.ObjectVal(d)
	}
	return ctx
}

// outputs evaluates the output values against resource values.
func (cfg *Config) outputs(vals map[string]cty.Value) (map[string]cty.Value, Diags) {
	out := map[string]cty.Value{}
	var diags Diags
	ctx := cfg.refContext(vals)
	for _, o := range cfg.Outputs {
		v, hd := o.Expr.Value(ctx)
		diags = append(diags, hclDiags(hd, "output."+o.Name)...)
		if !hd.HasErrors() {
			out[o.Name] = v
		}
	}
	return out, diags
}

// blockConfigs decodes each resource block once for the validate walk:
// for_each blocks with each.key and each.value unknown, references to other
// resources unknown.
func (cfg *Config) blockConfigs(ps *ProviderSchema) ([]*Instance, Diags) {
	var out []*Instance
	var diags Diags
	base := cfg.refContext(nil)
	for _, rc := range cfg.Resources {
		rs, ok := ps.schemaFor(rc)
		if !ok {
			diags = append(diags, rc.invalidType())
			continue
		}
		if _, d := cfg.refsChecked(rc, ps); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		ctx := base
		if rc.ForEach != nil {
			ctx = base.NewChild()
			ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
				"key": cty.UnknownVal(cty.String), "value": cty.DynamicVal})}
		}
		val, d := decodeBody(rc.Body, rc.Syntax, rs.Block, ctx, rc.Addr())
		diags = append(diags, d...)
		if !d.HasErrors() {
			out = append(out, &Instance{Addr: rc.Addr(), Resource: rc, Config: val})
		}
	}
	return out, diags
}

// expand expands every block with references to other resources unknown
// (enough to know which instances exist).
func (cfg *Config) expand(ps *ProviderSchema) ([]*Instance, Diags) {
	var out []*Instance
	var diags Diags
	for _, rc := range cfg.Resources {
		insts, d := cfg.expandBlock(rc, ps, nil)
		out = append(out, insts...)
		diags = append(diags, d...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// expandBlock evaluates for_each and decodes every instance's configuration,
// with the given values of the resources it refers to.
func (cfg *Config) expandBlock(rc *ResourceConfig, ps *ProviderSchema, vals map[string]cty.Value) ([]*Instance, Diags) {
	var out []*Instance
	var diags Diags
	base := cfg.refContext(vals)
	for _, rc := range []*ResourceConfig{rc} {
		rs, ok := ps.schemaFor(rc)
		if !ok {
			diags = append(diags, rc.invalidType())
			continue
		}
		type kv struct {
			key string
			val cty.Value
		}
		var keys []kv
		if rc.ForEach != nil {
			fe, hd := rc.ForEach.Value(base)
			diags = append(diags, hclDiags(hd, rc.Addr())...)
			if hd.HasErrors() {
				continue
			}
			bad := func(detail string) {
				diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid for_each argument", Address: rc.Addr(),
					Detail: detail, Subject: rc.ForEach.Range().Ptr()})
			}
			switch {
			case fe.IsNull():
				bad("The given \"for_each\" argument value is unsuitable: the given \"for_each\" argument value is null. A map, or set of strings is allowed.")
				continue
			case !fe.IsWhollyKnown():
				bad("The \"for_each\" map includes keys derived from resource attributes that cannot be determined until apply.")
				continue
			case fe.Type().IsMapType() || fe.Type().IsObjectType():
				for it := fe.ElementIterator(); it.Next(); {
					k, v := it.Element()
					keys = append(keys, kv{k.AsString(), v})
				}
			case fe.Type().IsSetType() && fe.Type().ElementType() == cty.String:
				for it := fe.ElementIterator(); it.Next(); {
					_, v := it.Element()
					if v.IsNull() {
						bad("The given \"for_each\" argument value is unsuitable: \"for_each\" sets must not contain null values.")
						continue
					}
					keys = append(keys, kv{v.AsString(), v})
				}
			default:
				bad(fmt.Sprintf("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type %s.", fe.Type().FriendlyName()))
				continue
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
		}
		if rc.ForEach == nil {
			inst := &Instance{Addr: rc.Addr(), Resource: rc}
			val, d := decodeBody(rc.Body, rc.Syntax, rs.Block, base, inst.Addr)
			diags = append(diags, d...)
			inst.Config = val
			out = append(out, inst)
			continue
		}
		for _, k := range keys {
			key := k.key
			inst := &Instance{Addr: rc.instanceAddr(&key), Resource: rc, Key: &key}
			ctx := base.NewChild()
			ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
				"key": cty.StringVal(key), "value": k.val})}
			val, d := decodeBody(rc.Body, rc.Syntax, rs.Block, ctx, inst.Addr)
			diags = append(diags, d...)
			inst.Config = val
			out = append(out, inst)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}
