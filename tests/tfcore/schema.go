// schema.go — the provider's schema as Terraform core sees it.
//
// GetProviderSchema's protobuf answer is converted into a small model of
// Terraform's configschema (blocks, attributes, nested types), checked with
// the rules of Terraform's configschema InternalValidate (a schema that
// breaks them makes Terraform refuse the provider), and from it we derive
// the implied cty object type of a block, the hcldec spec that decodes a
// configuration body, and the JSON of `terraform providers schema -json`.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"cellrouter/proto/tfplugin6"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

const (
	nestingSingle = "single"
	nestingGroup  = "group"
	nestingList   = "list"
	nestingSet    = "set"
	nestingMap    = "map"
)

type Attribute struct {
	Type            cty.Type
	NestedType      *Object
	Description     string
	DescriptionKind string
	Required        bool
	Optional        bool
	Computed        bool
	Sensitive       bool
	Deprecated      bool
}

type Object struct {
	Attributes map[string]*Attribute
	Nesting    string
	MinItems   int64
	MaxItems   int64
}

type Block struct {
	Attributes      map[string]*Attribute
	BlockTypes      map[string]*NestedBlock
	Description     string
	DescriptionKind string
	Deprecated      bool
}

type NestedBlock struct {
	Block    *Block
	Nesting  string
	MinItems int64
	MaxItems int64
}

type Schema struct {
	Version int64
	Block   *Block
}

type ProviderSchema struct {
	Provider       *Schema
	Resources      map[string]*Schema
	DataSources    map[string]*Schema
	ListResources  map[string]*Schema         // the provider's own schema of each list block's config
	Identities     map[string]*IdentitySchema // by resource type (Terraform >= 1.12)
	ProviderMeta   *Schema
	PlanDestroy    bool
	SchemaOptional bool
	GenerateConfig bool // server capability generate_resource_config
}

func kindName(k tfplugin6.StringKind) string {
	if k == tfplugin6.StringKind_MARKDOWN {
		return "markdown"
	}
	return "plain"
}

// convertSchema turns one protobuf Schema into the model. Errors name the
// offending path ("resource cellrouter_tenant: attribute x: ...").
func convertSchema(s *tfplugin6.Schema, where string) (*Schema, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: schema is missing", where)
	}
	if s.Block == nil {
		return nil, fmt.Errorf("%s: schema has no block", where)
	}
	if s.Version < 0 {
		return nil, fmt.Errorf("%s: negative schema version %d", where, s.Version)
	}
	b, err := convertBlock(s.Block, where)
	if err != nil {
		return nil, err
	}
	return &Schema{Version: s.Version, Block: b}, nil
}

func convertAttr(a *tfplugin6.Schema_Attribute, where string) (*Attribute, error) {
	out := &Attribute{
		Description:     a.Description,
		DescriptionKind: kindName(a.DescriptionKind),
		Required:        a.Required,
		Optional:        a.Optional,
		Computed:        a.Computed,
		Sensitive:       a.Sensitive,
		Deprecated:      a.Deprecated,
	}
	if len(a.Type) > 0 && a.NestedType != nil {
		return nil, fmt.Errorf("%s: both type and nested_type are set", where)
	}
	if len(a.Type) > 0 {
		ty, err := ctyjson.UnmarshalType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: type %q is not a valid cty type: %v", where, string(a.Type), err)
		}
		out.Type = ty
	} else if a.NestedType != nil {
		o := &Object{Attributes: map[string]*Attribute{}, MinItems: a.NestedType.MinItems, MaxItems: a.NestedType.MaxItems}
		switch a.NestedType.Nesting {
		case tfplugin6.Schema_Object_SINGLE:
			o.Nesting = nestingSingle
		case tfplugin6.Schema_Object_LIST:
			o.Nesting = nestingList
		case tfplugin6.Schema_Object_SET:
			o.Nesting = nestingSet
		case tfplugin6.Schema_Object_MAP:
			o.Nesting = nestingMap
		default:
			return nil, fmt.Errorf("%s: invalid nested_type nesting mode %v", where, a.NestedType.Nesting)
		}
		for _, na := range a.NestedType.Attributes {
			if _, dup := o.Attributes[na.Name]; dup {
				return nil, fmt.Errorf("%s: duplicate nested attribute %q", where, na.Name)
			}
			c, err := convertAttr(na, where+"."+na.Name)
			if err != nil {
				return nil, err
			}
			o.Attributes[na.Name] = c
		}
		out.NestedType = o
	} else {
		return nil, fmt.Errorf("%s: neither type nor nested_type is set", where)
	}
	return out, nil
}

func convertBlock(b *tfplugin6.Schema_Block, where string) (*Block, error) {
	out := &Block{
		Attributes:      map[string]*Attribute{},
		BlockTypes:      map[string]*NestedBlock{},
		Description:     b.Description,
		DescriptionKind: kindName(b.DescriptionKind),
		Deprecated:      b.Deprecated,
	}
	for _, a := range b.Attributes {
		if _, dup := out.Attributes[a.Name]; dup {
			return nil, fmt.Errorf("%s: duplicate attribute %q", where, a.Name)
		}
		c, err := convertAttr(a, fmt.Sprintf("%s: attribute %q", where, a.Name))
		if err != nil {
			return nil, err
		}
		out.Attributes[a.Name] = c
	}
	for _, nb := range b.BlockTypes {
		w := fmt.Sprintf("%s: block type %q", where, nb.TypeName)
		if _, dup := out.BlockTypes[nb.TypeName]; dup {
			return nil, fmt.Errorf("%s: duplicate block type", w)
		}
		if nb.Block == nil {
			return nil, fmt.Errorf("%s: nested block has no block", w)
		}
		inner, err := convertBlock(nb.Block, w)
		if err != nil {
			return nil, err
		}
		n := &NestedBlock{Block: inner, MinItems: nb.MinItems, MaxItems: nb.MaxItems}
		switch nb.Nesting {
		case tfplugin6.Schema_NestedBlock_SINGLE:
			n.Nesting = nestingSingle
		case tfplugin6.Schema_NestedBlock_GROUP:
			n.Nesting = nestingGroup
		case tfplugin6.Schema_NestedBlock_LIST:
			n.Nesting = nestingList
		case tfplugin6.Schema_NestedBlock_SET:
			n.Nesting = nestingSet
		case tfplugin6.Schema_NestedBlock_MAP:
			n.Nesting = nestingMap
		default:
			return nil, fmt.Errorf("%s: invalid nesting mode %v", w, nb.Nesting)
		}
		out.BlockTypes[nb.TypeName] = n
	}
	return out, nil
}

// ---- InternalValidate ------------------------------------------------------

var validName = regexp.MustCompile(`^[a-z0-9_]+$`)

func validateAttr(name string, a *Attribute, where string) []error {
	var errs []error
	w := fmt.Sprintf("%s.%s", where, name)
	if !validName.MatchString(name) {
		errs = append(errs, fmt.Errorf("%s: name may contain only lowercase letters, digits and underscores", w))
	}
	if !a.Optional && !a.Required && !a.Computed {
		errs = append(errs, fmt.Errorf("%s: must set Optional, Required or Computed", w))
	}
	if a.Optional && a.Required {
		errs = append(errs, fmt.Errorf("%s: cannot set both Optional and Required", w))
	}
	if a.Computed && a.Required {
		errs = append(errs, fmt.Errorf("%s: cannot set both Computed and Required", w))
	}
	if a.Type == cty.NilType && a.NestedType == nil {
		errs = append(errs, fmt.Errorf("%s: either Type or NestedType must be defined", w))
	}
	if a.NestedType != nil {
		o := a.NestedType
		switch o.Nesting {
		case nestingSingle, nestingMap:
			if o.MinItems != 0 || o.MaxItems != 0 {
				errs = append(errs, fmt.Errorf("%s: MinItems and MaxItems must be zero in %s nesting mode", w, o.Nesting))
			}
		case nestingList, nestingSet:
			if o.MinItems < 0 || o.MaxItems < 0 || (o.MaxItems != 0 && o.MinItems > o.MaxItems) {
				errs = append(errs, fmt.Errorf("%s: MinItems must be non-negative and not above MaxItems", w))
			}
		}
		for _, n := range sortedKeys(o.Attributes) {
			errs = append(errs, validateAttr(n, o.Attributes[n], w)...)
		}
	}
	return errs
}

// validateBlock follows configschema's InternalValidate.
func validateBlock(b *Block, where string) []error {
	var errs []error
	for _, name := range sortedKeys(b.Attributes) {
		errs = append(errs, validateAttr(name, b.Attributes[name], where)...)
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		nb := b.BlockTypes[name]
		w := fmt.Sprintf("%s.%s", where, name)
		if !validName.MatchString(name) {
			errs = append(errs, fmt.Errorf("%s: name may contain only lowercase letters, digits and underscores", w))
		}
		if _, clash := b.Attributes[name]; clash {
			errs = append(errs, fmt.Errorf("%s: name defined as both attribute and child block type", w))
		}
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			if !(nb.MinItems == 0 || nb.MinItems == 1) || !(nb.MaxItems == 0 || nb.MaxItems == 1) || nb.MinItems > nb.MaxItems && nb.MaxItems != 0 {
				errs = append(errs, fmt.Errorf("%s: MinItems and MaxItems must be set to either 0 or 1 in NestingSingle mode", w))
			}
			if nb.Nesting == nestingGroup && (nb.MinItems != 0 || nb.MaxItems != 0) {
				errs = append(errs, fmt.Errorf("%s: MinItems and MaxItems cannot be used in NestingGroup mode", w))
			}
		case nestingList, nestingSet:
			if nb.MinItems > nb.MaxItems && nb.MaxItems != 0 {
				errs = append(errs, fmt.Errorf("%s: MinItems must be less than or equal to MaxItems in %s mode", w, nb.Nesting))
			}
			if nb.MinItems < 0 || nb.MaxItems < 0 {
				errs = append(errs, fmt.Errorf("%s: MinItems and MaxItems must be non-negative", w))
			}
			if nb.Nesting == nestingSet && impliedType(nb.Block).HasDynamicTypes() {
				errs = append(errs, fmt.Errorf("%s: NestingSet blocks may not contain attributes of cty.DynamicPseudoType", w))
			}
		case nestingMap:
			if nb.MinItems != 0 || nb.MaxItems != 0 {
				errs = append(errs, fmt.Errorf("%s: MinItems and MaxItems must both be 0 in NestingMap mode", w))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: invalid nesting mode %q", w, nb.Nesting))
		}
		errs = append(errs, validateBlock(nb.Block, w)...)
	}
	return errs
}

// ---- implied types and decoder specs ---------------------------------------

func (a *Attribute) impliedType() cty.Type {
	if a.NestedType == nil {
		return a.Type
	}
	attrs := map[string]cty.Type{}
	for n, na := range a.NestedType.Attributes {
		attrs[n] = na.impliedType()
	}
	obj := cty.Object(attrs)
	switch a.NestedType.Nesting {
	case nestingList:
		return cty.List(obj)
	case nestingSet:
		return cty.Set(obj)
	case nestingMap:
		return cty.Map(obj)
	}
	return obj
}

func impliedType(b *Block) cty.Type {
	attrs := map[string]cty.Type{}
	for n, a := range b.Attributes {
		attrs[n] = a.impliedType()
	}
	for n, nb := range b.BlockTypes {
		inner := impliedType(nb.Block)
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			attrs[n] = inner
		case nestingList:
			if inner.HasDynamicTypes() {
				attrs[n] = cty.DynamicPseudoType
			} else {
				attrs[n] = cty.List(inner)
			}
		case nestingSet:
			attrs[n] = cty.Set(inner)
		case nestingMap:
			if inner.HasDynamicTypes() {
				attrs[n] = cty.DynamicPseudoType
			} else {
				attrs[n] = cty.Map(inner)
			}
		}
	}
	return cty.Object(attrs)
}

// specType is the type configuration is converted to: as impliedType, but
// in nested attribute types the optional and computed attributes may be
// left out (they become null), as Terraform's decoder spec allows.
func (a *Attribute) specType() cty.Type {
	if a.NestedType == nil {
		return a.Type
	}
	attrs := map[string]cty.Type{}
	var optional []string
	for n, na := range a.NestedType.Attributes {
		attrs[n] = na.specType()
		if na.Optional || na.Computed {
			optional = append(optional, n)
		}
	}
	obj := cty.ObjectWithOptionalAttrs(attrs, optional)
	switch a.NestedType.Nesting {
	case nestingList:
		return cty.List(obj)
	case nestingSet:
		return cty.Set(obj)
	case nestingMap:
		return cty.Map(obj)
	}
	return obj
}

// decoderSpec mirrors configschema's DecoderSpec: every attribute is an
// argument (computed-only ones too: core accepts them and the provider
// refuses them), every block type a block spec.
func decoderSpec(b *Block) hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for n, a := range b.Attributes {
		spec[n] = &hcldec.AttrSpec{Name: n, Type: a.specType(), Required: a.Required}
	}
	for n, nb := range b.BlockTypes {
		inner := decoderSpec(nb.Block)
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			spec[n] = &hcldec.BlockSpec{TypeName: n, Nested: inner, Required: nb.MinItems == 1}
		case nestingList:
			spec[n] = &hcldec.BlockListSpec{TypeName: n, Nested: inner, MinItems: int(nb.MinItems), MaxItems: int(nb.MaxItems)}
		case nestingSet:
			spec[n] = &hcldec.BlockSetSpec{TypeName: n, Nested: inner, MinItems: int(nb.MinItems), MaxItems: int(nb.MaxItems)}
		case nestingMap:
			spec[n] = &hcldec.BlockMapSpec{TypeName: n, Nested: inner, LabelNames: []string{"key"}}
		}
	}
	return spec
}

// ---- fetching ----------------------------------------------------------------

// getSchema calls GetProviderSchema (and, emulating Terraform >= 1.12,
// GetResourceIdentitySchemas right after it), converts and validates the
// result. Any problem is fatal, as it is for Terraform; problems that
// Terraform reports while loading schemas come out in its words
// (schemaLoadError).
func getSchema(ctx context.Context, p *Provider) (*ProviderSchema, Diags) {
	resp, err := p.rpc.GetProviderSchema(ctx, &tfplugin6.GetProviderSchema_Request{})
	if err != nil {
		return nil, Diags{p.transportDiag(schemaLoadError(Diags{rpcErrorDiag("GetProviderSchema", err)}), err)}
	}
	diags := convertDiags(resp.Diagnostics, "", nil)
	if diags.HasErrors() {
		return nil, Diags{schemaLoadError(diags)}
	}
	out := &ProviderSchema{Resources: map[string]*Schema{}, DataSources: map[string]*Schema{},
		ListResources: map[string]*Schema{}, Identities: map[string]*IdentitySchema{}}
	if c := resp.ServerCapabilities; c != nil {
		out.PlanDestroy = c.PlanDestroy
		out.SchemaOptional = c.GetProviderSchemaOptional
		out.GenerateConfig = c.GenerateResourceConfig
	}
	fail := func(err error) (*ProviderSchema, Diags) {
		return nil, append(diags, errorDiag("Failed to load plugin schemas",
			fmt.Sprintf("Error while loading schemas for plugin components: Failed to obtain provider schema: %v.", err)))
	}
	if resp.Provider == nil {
		// internal/plugin6/grpc_provider.go GetProviderSchema.
		return nil, append(diags, schemaLoadError(Diags{errorDiag("missing provider schema", "")}))
	}
	if emu.Identity {
		ids, d := getIdentitySchemas(ctx, p)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		diags = append(diags, d...)
		out.Identities = ids
	}
	var err2 error
	if out.Provider, err2 = convertSchema(resp.Provider, "provider"); err2 != nil {
		return fail(err2)
	}
	for name, s := range resp.ResourceSchemas {
		if !validName.MatchString(name) {
			return fail(fmt.Errorf("invalid resource type name %q", name))
		}
		if out.Resources[name], err2 = convertSchema(s, "resource "+name); err2 != nil {
			return fail(err2)
		}
	}
	for name, s := range resp.DataSourceSchemas {
		if out.DataSources[name], err2 = convertSchema(s, "data source "+name); err2 != nil {
			return fail(err2)
		}
	}
	// List resource schemas arrive with Terraform >= 1.14 only; older
	// clients never look at field 9.
	if emu.Query {
		for name, s := range resp.ListResourceSchemas {
			if out.ListResources[name], err2 = convertSchema(s, "list resource "+name); err2 != nil {
				return fail(err2)
			}
		}
	}
	if resp.ProviderMeta != nil && resp.ProviderMeta.Block != nil {
		if out.ProviderMeta, err2 = convertSchema(resp.ProviderMeta, "provider_meta"); err2 != nil {
			return fail(err2)
		}
	}
	// Identity schemas of types that do not exist are ignored, as
	// Terraform looks them up by resource type (GetProviderSchema).
	for name := range out.Identities {
		if _, ok := out.Resources[name]; !ok {
			delete(out.Identities, name)
		}
	}
	// InternalValidate, as Terraform runs on every schema it loads.
	var errs []error
	errs = append(errs, validateBlock(out.Provider.Block, "provider")...)
	for _, n := range sortedKeys(out.Resources) {
		errs = append(errs, validateBlock(out.Resources[n].Block, n)...)
	}
	for _, n := range sortedKeys(out.DataSources) {
		errs = append(errs, validateBlock(out.DataSources[n].Block, "data."+n)...)
	}
	for _, n := range sortedKeys(out.ListResources) {
		errs = append(errs, validateBlock(out.ListResources[n].Block, "list."+n)...)
	}
	for _, e := range errs {
		diags = append(diags, errorDiag("Invalid provider schema",
			fmt.Sprintf("The provider %s returned a schema Terraform rejects: %v.", providerAddr, e)))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	// The identity schema rules of internal/schemarepo/loadschemas/
	// plugins.go ProviderSchema, with its wording.
	if d := validateIdentitySchemas(out); d != nil {
		return nil, append(diags, d)
	}
	return out, diags
}

// schemaLoadError wraps what went wrong while fetching a provider's schema
// the way Terraform reports it: loadschemas/plugins.go ProviderSchema
// ("failed to retrieve schema from provider"), loadschemas/load.go
// ("Failed to obtain provider schema"), terraform/context.go Schemas
// ("Failed to load plugin schemas"). The diagnostics become one error
// string as tfdiags' DiagnosticsAsError.Error writes it.
func schemaLoadError(ds Diags) *Diag {
	return errorDiag("Failed to load plugin schemas", fmt.Sprintf(
		"Error while loading schemas for plugin components: Failed to obtain provider schema: Could not load the schema for provider %s: failed to retrieve schema from provider %q: %s..",
		providerAddr, providerAddr, diagsAsError(ds)))
}

// diagsAsError renders diagnostics as one error string, as tfdiags'
// DiagnosticsAsError.Error does.
func diagsAsError(ds Diags) string {
	var errs Diags
	for _, d := range ds {
		if d.Severity == sevError {
			errs = append(errs, d)
		}
	}
	one := func(d *Diag) string {
		if d.Detail == "" {
			return d.Summary
		}
		return d.Summary + ": " + d.Detail
	}
	if len(errs) == 1 {
		return one(errs[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:\n", len(errs))
	for _, d := range errs {
		b.WriteString("\n- " + one(d))
	}
	return b.String()
}

// ---- `terraform providers schema -json` -------------------------------------

func attrJSON(a *Attribute) map[string]interface{} {
	m := map[string]interface{}{}
	if a.NestedType != nil {
		nt := map[string]interface{}{"nesting_mode": a.NestedType.Nesting}
		attrs := map[string]interface{}{}
		for n, na := range a.NestedType.Attributes {
			attrs[n] = attrJSON(na)
		}
		nt["attributes"] = attrs
		if a.NestedType.MinItems > 0 {
			nt["min_items"] = a.NestedType.MinItems
		}
		if a.NestedType.MaxItems > 0 {
			nt["max_items"] = a.NestedType.MaxItems
		}
		m["nested_type"] = nt
	} else {
		tj, _ := ctyjson.MarshalType(a.Type)
		m["type"] = json.RawMessage(tj)
	}
	if a.Description != "" {
		m["description"] = a.Description
	}
	m["description_kind"] = a.DescriptionKind
	for k, v := range map[string]bool{"required": a.Required, "optional": a.Optional, "computed": a.Computed,
		"sensitive": a.Sensitive, "deprecated": a.Deprecated} {
		if v {
			m[k] = true
		}
	}
	return m
}

func blockJSON(b *Block) map[string]interface{} {
	m := map[string]interface{}{}
	if len(b.Attributes) > 0 {
		attrs := map[string]interface{}{}
		for n, a := range b.Attributes {
			attrs[n] = attrJSON(a)
		}
		m["attributes"] = attrs
	}
	if len(b.BlockTypes) > 0 {
		bts := map[string]interface{}{}
		for n, nb := range b.BlockTypes {
			x := map[string]interface{}{"nesting_mode": nb.Nesting, "block": blockJSON(nb.Block)}
			if nb.MinItems > 0 {
				x["min_items"] = nb.MinItems
			}
			if nb.MaxItems > 0 {
				x["max_items"] = nb.MaxItems
			}
			bts[n] = x
		}
		m["block_types"] = bts
	}
	if b.Description != "" {
		m["description"] = b.Description
	}
	m["description_kind"] = b.DescriptionKind
	if b.Deprecated {
		m["deprecated"] = true
	}
	return m
}

func schemaJSON(s *Schema) map[string]interface{} {
	return map[string]interface{}{"version": s.Version, "block": blockJSON(s.Block)}
}

// providersSchemaJSON is the document `terraform providers schema -json`
// prints (format 1.0).
func providersSchemaJSON(ps *ProviderSchema) ([]byte, error) {
	prov := map[string]interface{}{"provider": schemaJSON(ps.Provider)}
	if len(ps.Resources) > 0 {
		rs := map[string]interface{}{}
		for n, s := range ps.Resources {
			rs[n] = schemaJSON(s)
		}
		prov["resource_schemas"] = rs
	}
	if len(ps.DataSources) > 0 {
		ds := map[string]interface{}{}
		for n, s := range ps.DataSources {
			ds[n] = schemaJSON(s)
		}
		prov["data_source_schemas"] = ds
	}
	if len(ps.ListResources) > 0 {
		ls := map[string]interface{}{}
		for n, s := range ps.ListResources {
			ls[n] = schemaJSON(&Schema{Version: s.Version, Block: listBlock(s.Block)})
		}
		prov["list_resource_schemas"] = ls
	}
	if len(ps.Identities) > 0 {
		prov["resource_identity_schemas"] = identitySchemasJSON(ps.Identities)
	}
	doc := map[string]interface{}{
		"format_version":   "1.0",
		"provider_schemas": map[string]interface{}{providerAddr: prov},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
