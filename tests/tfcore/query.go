// query.go — `tfcore query` (Terraform >= 1.14: internal/command/query.go).
//
// `list` blocks in *.tfquery.hcl files name a list resource type of the
// provider, the provider configuration and a `config` block of the list
// resource's own schema:
//
//	list "cellrouter_tenant" "gold" {
//	  provider         = cellrouter
//	  include_resource = true          (default false)
//	  limit            = 1000          (default 100)
//	  config {
//	    cell_id = "cell-1"
//	  }
//	}
//
// As Terraform, tfcore validates every block (ValidateResourceConfig for
// the resources of the *.tf files, ValidateListResourceConfig for the list
// blocks, unknowns allowed), configures the provider, then for each list
// block validates its config again and reads the streaming ListResource
// until the stream ends or the limit is reached
// (internal/terraform/node_resource_plan_instance_query.go). Results are
// printed as `list.TYPE.NAME   IDENTITY   DISPLAY NAME`
// (internal/command/views/hook_ui.go PostListQuery); list blocks that found
// nothing get one warning at the end (views/query_operation.go Plan).
// With -generate-config-out=FILE the results are written as resource and
// import blocks (genconfig.go), include_resource being implied.
package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"cellrouter/proto/tfplugin6"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// ListConfig is one `list` block.
type ListConfig struct {
	Type, Name      string
	Config          hcl.Body // the config block's body; nil when there is none
	ConfigSyntax    *hclsyntax.Body
	IncludeResource hcl.Expression
	Limit           hcl.Expression
	DeclRange       hcl.Range
	TypeRange       hcl.Range
}

func (l *ListConfig) Addr() string { return "list." + l.Type + "." + l.Name }

// queryFileSchema is internal/configs/query_file.go queryFileSchema.
var queryFileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "list", LabelNames: []string{"type", "name"}},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "variable", LabelNames: []string{"name"}},
	},
}

var listBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "count"}, {Name: "for_each"}, {Name: "provider"}, {Name: "include_resource"}, {Name: "limit"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "config"}},
}

// decodeListBlock follows query_file.go decodeQueryListBlock.
func decodeListBlock(blk *hcl.Block) (*ListConfig, Diags) {
	lc := &ListConfig{Type: blk.Labels[0], Name: blk.Labels[1], DeclRange: blk.DefRange, TypeRange: blk.LabelRanges[0]}
	content, hd := blk.Body.Content(listBlockSchema)
	diags := hclDiags(hd, "")
	if a, ok := content.Attributes["provider"]; ok {
		diags = append(diags, checkProviderRef(a)...)
	} else {
		diags = append(diags, &Diag{Severity: sevError, Summary: "Missing \"provider\" attribute",
			Detail: "You must specify a provider attribute when defining a list block.", Subject: blk.DefRange.Ptr()})
	}
	if !hclsyntax.ValidIdentifier(lc.Name) {
		diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid list block name",
			Detail:  "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
			Subject: blk.DefRange.Ptr()})
	}
	for _, n := range []string{"count", "for_each"} {
		if a, ok := content.Attributes[n]; ok {
			diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported argument",
				Detail: fmt.Sprintf("tfcore does not support %q in list blocks.", n), Subject: a.Range.Ptr()})
		}
	}
	if a, ok := content.Attributes["include_resource"]; ok {
		lc.IncludeResource = a.Expr
	}
	if a, ok := content.Attributes["limit"]; ok {
		lc.Limit = a.Expr
	}
	for _, b := range content.Blocks {
		if lc.Config != nil {
			diags = append(diags, &Diag{Severity: sevError, Summary: "Duplicate config block",
				Detail: "A list block must contain only one nested \"config\" block.", Subject: b.DefRange.Ptr()})
			continue
		}
		lc.Config = b.Body
		lc.ConfigSyntax, _ = b.Body.(*hclsyntax.Body)
	}
	return lc, diags
}

// listSchema is the list resource's own schema (the config block).
func (s *Session) listSchema(lc *ListConfig) (*Schema, Diags) {
	ls, ok := s.schema.ListResources[lc.Type]
	if !ok {
		// node_resource_validate.go validateResource, ListResourceMode.
		return nil, Diags{&Diag{Severity: sevError, Summary: "Invalid list resource",
			Detail:  fmt.Sprintf("The provider %s does not support list resource %q.", providerAddr, lc.Type),
			Subject: lc.TypeRange.Ptr()}}
	}
	return ls, nil
}

// listBlock is the block Terraform wraps a list resource schema in
// (internal/plugin6/convert/schema.go ProtoToListSchema): "data" and one
// "config" block, required when any of its attributes is.
func listBlock(inner *Block) *Block {
	items := int64(0)
	for _, a := range inner.Attributes {
		if a.Required {
			items = 1
		}
	}
	for _, nb := range inner.BlockTypes {
		if nb.MinItems > 0 {
			items = 1
		}
	}
	return &Block{
		Attributes: map[string]*Attribute{"data": {Type: cty.DynamicPseudoType, Computed: true}},
		BlockTypes: map[string]*NestedBlock{"config": {Block: inner, Nesting: nestingSingle, MinItems: items, MaxItems: items}},
	}
}

// listConfigValue decodes a list block's config (all null when there is
// no config block, as Terraform sends "a full object with all attributes
// being null").
func (s *Session) listConfigValue(lc *ListConfig, ls *Schema, ctx *hcl.EvalContext) (cty.Value, Diags) {
	if lc.Config == nil {
		if listBlock(ls.Block).BlockTypes["config"].MinItems > 0 {
			// hcldec's wording for a required single block.
			return cty.NilVal, Diags{&Diag{Severity: sevError, Summary: "Missing config block",
				Detail: "A block of type \"config\" is required here.", Subject: lc.DeclRange.Ptr(), Address: lc.Addr()}}
		}
		return allNull(ls.Block), nil
	}
	return decodeBody(lc.Config, lc.ConfigSyntax, ls.Block, ctx, lc.Addr())
}

// validateList is ValidateListResourceConfig for one list block; Terraform
// sends the config alone (grpc_provider.go ValidateListResourceConfig sets
// neither include_resource_object nor limit).
func (s *Session) validateList(ctx context.Context, lc *ListConfig, config cty.Value, ls *Schema) Diags {
	dv, err := toDV(config, impliedType(ls.Block))
	if err != nil {
		return Diags{errorDiag("Invalid list configuration", err.Error())}
	}
	resp, err := s.p.rpc.ValidateListResourceConfig(ctx, &tfplugin6.ValidateListResourceConfig_Request{TypeName: lc.Type, Config: dv})
	if err != nil {
		return Diags{rpcErrorDiag("ValidateListResourceConfig", err)}
	}
	return convertDiags(resp.Diagnostics, lc.Addr(), lc.Config)
}

// validateLists is the validate walk's part for list blocks: config with
// the values known at that point.
func (s *Session) validateLists(ctx context.Context) Diags {
	var diags Diags
	for _, lc := range s.cfg.Lists {
		ls, d := s.listSchema(lc)
		if diags = append(diags, d...); d.HasErrors() {
			continue
		}
		v, d := s.listConfigValue(lc, ls, s.cfg.ctx)
		if diags = append(diags, d...); d.HasErrors() {
			continue
		}
		diags = append(diags, s.validateList(ctx, lc, v, ls)...)
	}
	return diags
}

// ListResult is one object a list block found.
type ListResult struct {
	DisplayName string
	Identity    cty.Value
	Object      cty.Value // null unless include_resource (or config generation)
}

const defaultQueryLimit = 100 // internal/terraform/eval_query.go

// listArgs evaluates limit and include_resource (eval_query.go).
func (s *Session) listArgs(lc *ListConfig) (int64, bool, Diags) {
	limit := int64(defaultQueryLimit)
	include := false
	if lc.Limit != nil {
		v, hd := lc.Limit.Value(s.cfg.ctx)
		if hd.HasErrors() {
			return 0, false, hclDiags(hd, lc.Addr())
		}
		nv, err := convert.Convert(v, cty.Number)
		bad := func(detail string) Diags {
			return Diags{&Diag{Severity: sevError, Summary: "Invalid limit argument", Detail: detail, Subject: lc.Limit.Range().Ptr()}}
		}
		switch {
		case err != nil:
			return 0, false, bad(fmt.Sprintf("The given \"limit\" argument value is unsuitable: %v.", err))
		case nv.IsNull():
		case !nv.IsKnown():
			return 0, false, bad(`The given "limit" argument value is unknown.`)
		default:
			bf := nv.AsBigFloat()
			i, acc := bf.Int64()
			if acc != big.Exact {
				return 0, false, bad("The given \"limit\" argument value is unsuitable: must be a whole number.")
			}
			if i < 0 {
				return 0, false, bad(`The given "limit" argument value is unsuitable: must be greater than or equal to zero.`)
			}
			limit = i
		}
	}
	if lc.IncludeResource != nil {
		v, hd := lc.IncludeResource.Value(s.cfg.ctx)
		if hd.HasErrors() {
			return 0, false, hclDiags(hd, lc.Addr())
		}
		bv, err := convert.Convert(v, cty.Bool)
		if err != nil || !bv.IsKnown() {
			return 0, false, Diags{&Diag{Severity: sevError, Summary: "Invalid include_resource argument",
				Detail: "The given \"include_resource\" argument value is unsuitable: a known bool is required.", Subject: lc.IncludeResource.Range().Ptr()}}
		}
		include = !bv.IsNull() && bv.True()
	}
	return limit, include, nil
}

// list runs one list block: validation again with everything known, then
// the ListResource stream (grpc_provider.go ListResource): stop at the
// limit, at the end of the stream or at an error; each event needs an
// identity of the resource type's identity schema; a warning without an
// identity skips the event.
func (s *Session) list(ctx context.Context, lc *ListConfig, forceInclude bool) ([]ListResult, Diags) {
	ls, diags := s.listSchema(lc)
	if diags.HasErrors() {
		return nil, diags
	}
	config, d := s.listConfigValue(lc, ls, s.cfg.ctx)
	if diags = append(diags, d...); d.HasErrors() {
		return nil, diags
	}
	if !config.IsWhollyKnown() {
		return nil, append(diags, errorDiag("config is not known", ""))
	}
	limit, include, d := s.listArgs(lc)
	if diags = append(diags, d...); d.HasErrors() {
		return nil, diags
	}
	if forceInclude {
		include = true
	}
	if d := s.validateList(ctx, lc, config, ls); d != nil {
		if diags = append(diags, d...); d.HasErrors() {
			return nil, diags
		}
	}
	rs, ok := s.schema.Resources[lc.Type]
	is := s.schema.identityOf(lc.Type)
	if !ok || is == nil {
		return nil, append(diags, errorDiag(fmt.Sprintf("Identity schema not found for resource type %s; this is a bug in the provider - please report it there", lc.Type), ""))
	}
	dv, err := toDV(config, impliedType(ls.Block))
	if err != nil {
		return nil, append(diags, errorDiag(err.Error(), ""))
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.p.rpc.ListResource(sctx, &tfplugin6.ListResource_Request{TypeName: lc.Type, Config: dv,
		IncludeResourceObject: include, Limit: limit})
	if err != nil {
		return nil, append(diags, errorDiag(err.Error(), ""))
	}
	ty := impliedType(rs.Block)
	var out []ListResult
	for int64(len(out)) < limit {
		ev, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			diags = append(diags, errorDiag(err.Error(), ""))
			break
		}
		ed := convertDiags(ev.Diagnostic, lc.Addr(), lc.Config)
		diags = append(diags, ed...)
		if ed.HasErrors() {
			break
		}
		noID := ev.Identity == nil || ev.Identity.IdentityData == nil
		if len(ed) > 0 && noID {
			continue
		}
		if noID {
			diags = append(diags, errorDiag(fmt.Sprintf("missing identity data in ListResource event for %s", lc.Type), ""))
			break
		}
		r := ListResult{DisplayName: ev.DisplayName, Object: cty.NullVal(ty)}
		if r.Identity, err = fromDV(ev.Identity.IdentityData, is.impliedType()); err != nil {
			diags = append(diags, errorDiag(err.Error(), ""))
			break
		}
		// Terraform takes list identities as decoded; tfcore also holds
		// them to the identity rules (known, required attributes set).
		if d := checkIdentity(lc.Addr(), is, r.Identity, true); d.HasErrors() {
			diags = append(diags, d...)
			break
		}
		if ev.ResourceObject != nil && include {
			if r.Object, err = fromDV(ev.ResourceObject, ty); err != nil {
				diags = append(diags, errorDiag(err.Error(), ""))
				break
			}
		}
		out = append(out, r)
	}
	return out, diags
}

// printListResults is hook_ui.go PostListQuery.
func printListResults(w io.Writer, addr string, rs []ListResult) {
	if len(rs) == 0 {
		return
	}
	ids := make([]string, len(rs))
	width := 0
	for i, r := range rs {
		ids[i] = objectToString(r.Identity)
		if len(ids[i]) > width {
			width = len(ids[i])
		}
	}
	var b strings.Builder
	for i, r := range rs {
		fmt.Fprintf(&b, "%s   %-*s   %s\n", addr, width, ids[i], r.DisplayName)
	}
	fmt.Fprintln(w, b.String())
}

// generateConfigFor turns one list block's results into resource and
// import blocks (node_resource_plan_instance.go generateHCLListResourceDef
// and generateResourceConfig).
func (s *Session) generateConfigFor(ctx context.Context, lc *ListConfig, rs []ListResult) (string, Diags) {
	if len(rs) == 0 {
		return "", nil
	}
	res := s.schema.Resources[lc.Type]
	is := s.schema.identityOf(lc.Type)
	var diags Diags
	configs := make([]cty.Value, len(rs))
	ids := make([]cty.Value, len(rs))
	for i, r := range rs {
		ids[i] = r.Identity
		if s.schema.GenerateConfig && emu.GenerateConfigRPC {
			v, d := s.generateResourceConfig(ctx, lc.Type, r.Object)
			if diags = append(diags, d...); d.HasErrors() {
				return "", diags
			}
			configs[i] = v
			continue
		}
		configs[i] = extractLegacyConfig(res.Block, r.Object)
	}
	gs, d := generateListResults(lc.Name, lc.Type, res.Block, is, configs, ids)
	diags = append(diags, d...)
	return importGroupString(gs), diags
}

// generateResourceConfig asks the provider (grpc_provider.go
// GenerateResourceConfig): the answer is decoded as the resource's type.
func (s *Session) generateResourceConfig(ctx context.Context, typ string, state cty.Value) (cty.Value, Diags) {
	ty := impliedType(s.schema.Resources[typ].Block)
	dv, err := toDV(state, ty)
	if err != nil {
		return cty.NilVal, Diags{errorDiag(err.Error(), "")}
	}
	resp, err := s.p.rpc.GenerateResourceConfig(ctx, &tfplugin6.GenerateResourceConfig_Request{TypeName: typ, State: dv})
	if err != nil {
		return cty.NilVal, Diags{rpcErrorDiag("GenerateResourceConfig", err)}
	}
	diags := convertDiags(resp.Diagnostics, "", nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, err := fromDV(resp.Config, ty)
	if err != nil {
		return cty.NilVal, append(diags, errorDiag(err.Error(), ""))
	}
	return v, diags
}

func cmdQuery(ctx context.Context, o *options) int {
	if !emu.Query {
		fmt.Fprintf(os.Stderr, "Terraform has no command named \"query\".\n\n(tfcore is emulating Terraform %s; `query` came with 1.14.)\n", emu.Version)
		return 1
	}
	if len(o.args) > 0 {
		report(nil, Diags{errorDiag("Too many command line arguments",
			"To specify a working directory for the query, use the global -chdir flag.")})
		return 1
	}
	cfg, diags := loadQueryConfig(".", o.vars)
	if report(cfg, diags) {
		return 1
	}
	if len(cfg.Lists) == 0 {
		// internal/terraform/context_plan.go PlanAndEval.
		report(cfg, Diags{errorDiag("No resources to query", "The configuration does not contain any resources that can be queried.")})
		return 1
	}
	s, diags := openSession(ctx, cfg, o.parallelism, true)
	if report(cfg, diags) {
		return 1
	}
	defer s.Close()
	var all Diags
	var empty []string
	var groups []string
	gen := o.genConfigOut != ""
	for _, lc := range cfg.Lists {
		rs, d := s.list(ctx, lc, gen)
		all = append(all, d...)
		if d.HasErrors() {
			break
		}
		printListResults(os.Stdout, lc.Addr(), rs)
		if len(rs) == 0 {
			empty = append(empty, lc.Addr())
		}
		if gen {
			g, d := s.generateConfigFor(ctx, lc, rs)
			all = append(all, d...)
			if d.HasErrors() {
				break
			}
			groups = append(groups, g)
		}
	}
	// backend_plan.go: generated config is written before the plan is
	// shown; the empty-list warning is the query view's Plan.
	if !all.HasErrors() && gen {
		if d := targetFileExists(o.genConfigOut); d != nil {
			all = append(all, d)
		} else if d := writeGenerated(o.genConfigOut, groups); d != nil {
			all = append(all, d)
		}
	}
	if len(empty) > 0 && !all.HasErrors() {
		fmt.Printf("Warning: list block(s) [%s] returned 0 results.\n\n", strings.Join(empty, ", "))
	}
	if report(cfg, all) {
		return 1
	}
	return 0
}
