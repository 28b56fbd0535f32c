// importblock.go — importing existing objects: `import` blocks in the
// configuration (Terraform >= 1.5; with `identity` instead of `id` from
// 1.12) and the ImportResourceState call both they and `tfcore import`
// make.
//
//	import {
//	  to       = cellrouter_tenant.acme          (or ...t["acme"])
//	  id       = "acme"                          (one of id / identity)
//	  identity = { tenant_id = "acme" }
//	  provider = cellrouter                      (optional; the default config)
//	}
//
// Terraform imports during plan: ImportResourceState, then ReadResource on
// what came back, then the ordinary plan against that object; the plan shows
// "will be imported" and counts "N to import". Apply only records the
// imported object (context_apply.go: "Import is a no-op change during an
// apply") and carries out whatever change was planned on top of it.
package main

import (
	"context"
	"fmt"
	"strings"

	"cellrouter/proto/tfplugin6"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// ImportConfig is one `import` block as written.
type ImportConfig struct {
	To        hcl.Expression
	ID        hcl.Expression // nil unless id =
	Identity  hcl.Expression // nil unless identity =
	DeclRange hcl.Range
}

// ImportTarget is an import block evaluated: the instance address and the
// ID or identity to import it by.
type ImportTarget struct {
	Addr     string
	Type     string
	ID       string    // "" for an import by identity
	Identity cty.Value // noIdentity for an import by ID
	Range    hcl.Range
}

// Importing is what a planned change remembers of its import: how it was
// imported and the object that came back (read once already).
type Importing struct {
	ID       string
	Identity cty.Value
	Object   RemoteObject
}

// label is how Terraform's UI names an import target: [id=...] or
// [identity=k=v,...] (internal/command/views/hook_ui.go).
func (im *Importing) label() string { return importLabel(im.ID, im.Identity) }

func importLabel(id string, identity cty.Value) string {
	if !identNull(identity) {
		return "identity=" + objectToString(identity)
	}
	return "id=" + id
}

var importBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "to", Required: true}, {Name: "id"}, {Name: "identity"}, {Name: "provider"}, {Name: "for_each"},
	},
}

// decodeImportBlock follows internal/configs/import.go decodeImportBlock.
func decodeImportBlock(blk *hcl.Block) (*ImportConfig, Diags) {
	content, hd := blk.Body.Content(importBlockSchema)
	diags := hclDiags(hd, "")
	imp := &ImportConfig{DeclRange: blk.DefRange}
	if a, ok := content.Attributes["to"]; ok {
		imp.To = a.Expr
	}
	if a, ok := content.Attributes["id"]; ok {
		imp.ID = a.Expr
	}
	if a, ok := content.Attributes["identity"]; ok {
		imp.Identity = a.Expr
	}
	if a, ok := content.Attributes["for_each"]; ok {
		diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported argument",
			Detail: "tfcore does not support for_each in import blocks.", Subject: a.Range.Ptr()})
	}
	if a, ok := content.Attributes["provider"]; ok {
		diags = append(diags, checkProviderRef(a)...)
	}
	if imp.ID == nil && imp.Identity == nil {
		diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid import block",
			Detail: "At least one of 'id' or 'identity' must be specified.", Subject: blk.DefRange.Ptr()})
	}
	if imp.ID != nil && imp.Identity != nil {
		diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid import block",
			Detail: "Only one of 'id' or 'identity' can be specified.", Subject: blk.DefRange.Ptr()})
	}
	if imp.Identity != nil && !emu.Identity {
		// Before 1.12 "identity" is not an argument of the import block.
		diags = append(diags, &Diag{Severity: sevError, Summary: "Unsupported argument",
			Detail:  fmt.Sprintf("An argument named \"identity\" is not expected here (Terraform %s predates import by identity).", emu.Version),
			Subject: imp.Identity.Range().Ptr()})
	}
	return imp, diags
}

// checkProviderRef accepts `provider = cellrouter`, the default
// configuration of the only provider tfcore drives; aliases are not
// supported.
func checkProviderRef(a *hcl.Attribute) Diags {
	tr, hd := hcl.AbsTraversalForExpr(a.Expr)
	if hd.HasErrors() || len(tr) != 1 || tr.RootName() != providerName {
		return Diags{&Diag{Severity: sevError, Summary: "Unsupported argument",
			Detail:  fmt.Sprintf("tfcore only supports provider = %s (the default configuration), not provider aliases.", providerName),
			Subject: a.Range.Ptr()}}
	}
	return nil
}

// parseImportTo turns `to` into an instance address: type.name or
// type.name["key"] (Terraform's addrs.ParseTarget on a static traversal).
func parseImportTo(expr hcl.Expression) (addr, typ, name string, key *string, diags Diags) {
	bad := func(detail string) Diags {
		return Diags{&Diag{Severity: sevError, Summary: "Invalid import address", Detail: detail, Subject: expr.Range().Ptr()}}
	}
	tr, hd := hcl.AbsTraversalForExpr(expr)
	if hd.HasErrors() {
		return "", "", "", nil, bad("A single static resource instance address is required (tfcore supports no expressions in `to`).")
	}
	if tr.RootName() == "data" || tr.RootName() == "module" {
		return "", "", "", nil, bad("Only managed resources can be imported.")
	}
	if len(tr) < 2 || len(tr) > 3 {
		return "", "", "", nil, bad("A resource instance address such as cellrouter_tenant.name or cellrouter_tenant.name[\"key\"] is required.")
	}
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return "", "", "", nil, bad("A resource instance address is required.")
	}
	typ, name = tr.RootName(), step.Name
	if len(tr) == 3 {
		idx, ok := tr[2].(hcl.TraverseIndex)
		if !ok || idx.Key.Type() != cty.String {
			return "", "", "", nil, bad("tfcore only supports for_each keys (strings) as instance keys.")
		}
		k := idx.Key.AsString()
		key = &k
	}
	return instanceAddr(typ, name, key), typ, name, key, nil
}

// importTargets evaluates the import blocks of the configuration against
// the provider's schema (internal/terraform/node_resource_plan.go and
// eval_import.go): each target must be configured, each ID a non-empty
// string, each identity an object of the identity schema's type. Targets
// that are in the state already are left to the ordinary plan by the
// caller.
func (cfg *Config) importTargets(ps *ProviderSchema, configured map[string]bool) (map[string]*ImportTarget, Diags) {
	out := map[string]*ImportTarget{}
	var diags Diags
	seen := map[string]hcl.Range{}
	for _, ic := range cfg.Imports {
		addr, typ, _, _, d := parseImportTo(ic.To)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if r, dup := seen[addr]; dup {
			// internal/configs/module.go appendFile.
			diags = append(diags, &Diag{Severity: sevError, Summary: fmt.Sprintf("Duplicate import configuration for %q", addr),
				Detail:  fmt.Sprintf("An import block for the resource %q was already declared at %s. A resource can have only one import block.", addr, r),
				Subject: ic.To.Range().Ptr()})
			continue
		}
		seen[addr] = ic.DeclRange
		if _, ok := ps.Resources[typ]; !ok {
			diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid resource type",
				Detail:  fmt.Sprintf("The provider %s does not support resource type %q.", providerAddr, typ),
				Subject: ic.To.Range().Ptr()})
			continue
		}
		if !configured[addr] {
			// node_resource_plan.go, without -generate-config-out.
			diags = append(diags, &Diag{Severity: sevError, Summary: "Configuration for import target does not exist",
				Detail:  fmt.Sprintf("The configuration for the given import %s does not exist. All target instances must have an associated configuration to be imported.", addr),
				Subject: ic.To.Range().Ptr()})
			continue
		}
		t := &ImportTarget{Addr: addr, Type: typ, Identity: noIdentity, Range: ic.DeclRange}
		if ic.ID != nil {
			v, d := evalImportID(ic.ID, cfg.ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			t.ID = v
		} else {
			is := ps.identityOf(typ)
			if is == nil {
				diags = append(diags, &Diag{Severity: sevError, Summary: "Invalid import identity argument",
					Detail:  fmt.Sprintf("The provider %s has no identity schema for %s, so it cannot be imported by identity.", providerAddr, typ),
					Subject: ic.Identity.Range().Ptr()})
				continue
			}
			v, d := evalImportIdentity(ic.Identity, is, cfg.ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			t.Identity = v
		}
		out[addr] = t
	}
	return out, diags
}

// evalImportID is eval_import.go evaluateImportIdExpression.
func evalImportID(expr hcl.Expression, ctx *hcl.EvalContext) (string, Diags) {
	bad := func(detail string) Diags {
		return Diags{&Diag{Severity: sevError, Summary: "Invalid import id argument", Detail: detail, Subject: expr.Range().Ptr()}}
	}
	v, hd := expr.Value(ctx)
	if hd.HasErrors() {
		return "", hclDiags(hd, "")
	}
	if v.IsNull() {
		return "", bad("The import ID cannot be null.")
	}
	if !v.IsKnown() {
		return "", bad(`The import block "id" argument depends on resource attributes that cannot be determined until apply, so Terraform cannot plan to import this resource.`)
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", bad("The import ID value is unsuitable: not a string.")
	}
	if v.AsString() == "" {
		return "", bad("The import ID value evaluates to an empty string, please provide a non-empty value.")
	}
	return v.AsString(), nil
}

// evalImportIdentity is eval_import.go evaluateImportIdentityExpression:
// the value converted to the identity's config type (optional_for_import
// attributes may be left out), known and not null.
func evalImportIdentity(expr hcl.Expression, is *IdentitySchema, ctx *hcl.EvalContext) (cty.Value, Diags) {
	bad := func(detail string) Diags {
		return Diags{&Diag{Severity: sevError, Summary: "Invalid import identity argument", Detail: detail, Subject: expr.Range().Ptr()}}
	}
	v, hd := expr.Value(ctx)
	if hd.HasErrors() {
		return noIdentity, hclDiags(hd, "")
	}
	cv, err := convert.Convert(v, is.configType())
	if err != nil {
		// Terraform's scope.EvalExpr reports the conversion this way.
		return noIdentity, Diags{&Diag{Severity: sevError, Summary: "Incorrect value type",
			Detail: fmt.Sprintf("Invalid expression value: %s.", err), Subject: expr.Range().Ptr()}}
	}
	if cv.IsNull() {
		return noIdentity, bad("The import identity cannot be null.")
	}
	if !cv.IsWhollyKnown() {
		return noIdentity, bad(`The import block "identity" argument depends on resource attributes that cannot be determined until apply, so Terraform cannot plan to import this resource.`)
	}
	// The wire form is the identity's full object type.
	full, err := convert.Convert(cv, is.impliedType())
	if err != nil {
		return noIdentity, bad(err.Error())
	}
	return full, nil
}

// importObject imports one object by ID or by identity and reads it, with
// Terraform's checks (node_resource_plan_instance.go importState, and
// import.go for the CLI command): exactly one object of the right type, an
// identity back when importing by identity, a state that is not null when
// importing by ID, then a ReadResource that finds it.
func (s *Session) importObject(ctx context.Context, addr, typ, id string, identity cty.Value, body hcl.Body) (RemoteObject, Diags) {
	fmt.Printf("%s: Preparing import... [%s]\n", addr, importLabel(id, identity))
	obj, diags := s.importCall(ctx, addr, typ, id, identity, body)
	if diags.HasErrors() {
		return RemoteObject{}, diags
	}
	got, d := s.readImported(ctx, addr, typ, obj)
	return got, append(diags, d...)
}

// importCall is ImportResourceState and the checks on its answer.
func (s *Session) importCall(ctx context.Context, addr, typ, id string, identity cty.Value, body hcl.Body) (RemoteObject, Diags) {
	rs := s.schema.Resources[typ]
	ty := impliedType(rs.Block)
	is := s.schema.identityOf(typ)
	byIdentity := !identNull(identity)
	kind, value := "ID", id
	if byIdentity {
		kind, value = "Identity", objectToString(identity)
	}
	req := &tfplugin6.ImportResourceState_Request{TypeName: typ, Id: id, ClientCapabilities: clientCaps()}
	if byIdentity {
		d, derr := identityToProto(is, typ, identity)
		if derr != nil {
			return RemoteObject{}, Diags{derr}
		}
		req.Identity = d
	}
	resp, err := s.p.rpc.ImportResourceState(ctx, req)
	if err != nil {
		return RemoteObject{}, Diags{rpcErrorDiag("ImportResourceState", err)}
	}
	diags := convertDiags(resp.Diagnostics, addr, body)
	if diags.HasErrors() {
		return RemoteObject{}, diags
	}
	switch {
	case len(resp.ImportedResources) == 0:
		// (sic: Terraform's message lacks the space before "returned")
		return RemoteObject{}, append(diags, errorDiag("Import returned no resources",
			fmt.Sprintf("While attempting to import with %s %s, the provider"+"returned no instance states.", kind, value)))
	case len(resp.ImportedResources) > 1:
		return RemoteObject{}, append(diags, errorDiag("Multiple import states not supported",
			fmt.Sprintf("While attempting to import with %s %s, the provider returned multiple resource instance states. This is not currently supported.", kind, value)))
	}
	ir := resp.ImportedResources[0]
	if ir.TypeName == "" {
		return RemoteObject{}, append(diags, errorDiag(fmt.Sprintf("import of %s didn't set type", addr), ""))
	}
	if ir.TypeName != typ {
		// grpc_provider.go decodes the state with the requested type's
		// schema whatever the name says; a different type is a bug tfcore
		// names.
		return RemoteObject{}, append(diags, errorDiag("Import returned wrong resource type",
			fmt.Sprintf("The provider returned an object of type %q while importing %s.%s", ir.TypeName, addr, bugTail)))
	}
	v, err := fromDV(ir.State, ty)
	if err != nil {
		return RemoteObject{}, append(diags, errorDiag(err.Error(), ""))
	}
	gotID := noIdentity
	if emu.Identity {
		var d *Diag
		if gotID, d = identityFromProto(is, typ, ir.Identity); d != nil {
			return RemoteObject{}, append(diags, d)
		}
	}
	// "Providers are supposed to return an identity when importing by
	// identity" (importState).
	if byIdentity && identNull(gotID) {
		return RemoteObject{}, append(diags, errorDiag(fmt.Sprintf("import of %s didn't return an identity", addr), ""))
	}
	if !byIdentity && v.IsNull() {
		return RemoteObject{}, append(diags, errorDiag("Import returned null resource",
			fmt.Sprintf("While attempting to import with %s %s, the provider"+"returned an instance with no state.", kind, value)))
	}
	if p, ok := assertKnown(v); !ok {
		// Terraform would send the unknowns on to ReadResource, which
		// cannot take them; tfcore stops here and says where.
		return RemoteObject{}, append(diags, errorDiag("Provider produced invalid object",
			fmt.Sprintf("Provider %q returned an invalid object while importing %s: %s: value is unknown.%s", providerAddr, addr, pathString(p), bugTail)))
	}
	return RemoteObject{Value: v, Private: ir.Private, Identity: gotID}, diags
}

// readImported reads an imported object back (importState's refresh) and
// refuses one the provider cannot find.
func (s *Session) readImported(ctx context.Context, addr, typ string, obj RemoteObject) (RemoteObject, Diags) {
	refreshingLine(addr, obj.Value)
	cur, priv, newID, diags := s.read(ctx, addr, typ, obj.Value, obj.Private, obj.Identity, true)
	if diags.HasErrors() {
		return RemoteObject{}, diags
	}
	if cur.IsNull() {
		return RemoteObject{}, append(diags, errorDiag("Cannot import non-existent remote object",
			fmt.Sprintf("While attempting to import an existing object to %q, the provider detected that no object exists with the given id. Only pre-existing objects can be imported; check that the id is correct and that it is associated with the provider's configured region or endpoint, or use \"terraform apply\" to create a new remote object for this resource.", addr)))
	}
	return RemoteObject{Value: cur, Private: priv, Identity: newID}, diags
}

// saveObject records an object in the state (or drops the instance when
// the object is null), with its identity as Terraform >= 1.12 stores it.
func saveObject(st *State, ps *ProviderSchema, addr, typ, name string, key *string, o RemoteObject) error {
	if o.Value == cty.NilVal || o.Value.IsNull() {
		delete(st.Instances, addr)
		return nil
	}
	rs := ps.Resources[typ]
	raw, err := ctyjsonMarshal(o.Value)
	if err != nil {
		return err
	}
	idRaw, idVer, err := encodeStateIdentity(ps.identityOf(typ), o.Identity)
	if err != nil {
		return fmt.Errorf("%s: identity: %v", addr, err)
	}
	st.Instances[addr] = &StateInstance{Addr: addr, Type: typ, Name: name, Key: key, SchemaVersion: rs.Version,
		Attrs: raw, Private: o.Private, IdentityVersion: idVer, Identity: idRaw}
	return nil
}

func (s *Session) saveObject(st *State, addr, typ, name string, key *string, o RemoteObject) error {
	return saveObject(st, s.schema, addr, typ, name, key, o)
}

// importSummary says what an apply imported, as the UI hook does for each
// importing change before the apply walk (context_apply.go Apply,
// hook_ui.go PreApplyImport/PostApplyImport).
func importSummary(addr string, im *Importing) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: Importing... [%s]\n", addr, im.label())
	fmt.Fprintf(&b, "%s: Import complete [%s]\n", addr, im.label())
	return b.String()
}
