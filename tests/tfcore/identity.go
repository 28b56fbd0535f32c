// identity.go — resource identity (Terraform >= 1.12): the identity
// schemas, the checks on every identity a provider returns, and their
// place in state.
//
// Terraform asks GetResourceIdentitySchemas inside every GetProviderSchema
// and keeps each object's identity next to it in state ("identity",
// "identity_schema_version"). It sends the stored identity with
// ReadResource, PlanResourceChange and ApplyResourceChange, takes the one
// that comes back, and imports by identity when an import block says
// `identity = {...}`. The rules below cite where Terraform applies them.
//
// Two rules go beyond the released Terraform core and are the provider
// contract that terraform-plugin-framework enforces on the provider side
// (internal/fwserver server_readresource.go, server_planresourcechange.go,
// server_updateresource.go: "Unexpected Identity Change"): an existing
// object's identity never changes, and attributes marked
// required_for_import are never null in a returned identity. Terraform
// checked both itself while 1.12 was developed (hashicorp/terraform
// 62c84e33fd, "Provider produced different identity", removed again by
// c3b5b841cc before any release). A C provider has no framework to catch
// them, so tfcore does, with TFCORE_IDENTITY_STRICT=0 to fall back to the
// released core's rules alone.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"cellrouter/proto/tfplugin6"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IdentitySchema is one resource type's identity: an object of primitive
// (or list) attributes, each required or optional for import.
type IdentitySchema struct {
	Version    int64
	Attributes map[string]*IdentityAttribute
}

type IdentityAttribute struct {
	Type              cty.Type
	RequiredForImport bool
	OptionalForImport bool
	Description       string
}

// impliedType is the object type of an identity value
// (configschema.Object.ImpliedType with NestingSingle).
func (is *IdentitySchema) impliedType() cty.Type {
	attrs := map[string]cty.Type{}
	for n, a := range is.Attributes {
		attrs[n] = a.Type
	}
	return cty.Object(attrs)
}

// configType is the type an import block's identity expression is
// converted to: optional_for_import attributes may be left out
// (configschema.Object.ConfigType, used by internal/terraform/
// eval_import.go evaluateImportIdentityExpression).
func (is *IdentitySchema) configType() cty.Type {
	attrs := map[string]cty.Type{}
	var optional []string
	for n, a := range is.Attributes {
		attrs[n] = a.Type
		if a.OptionalForImport {
			optional = append(optional, n)
		}
	}
	if len(optional) == 0 {
		return cty.Object(attrs)
	}
	sort.Strings(optional)
	return cty.ObjectWithOptionalAttrs(attrs, optional)
}

// identityStrict: the framework's rules above are on unless
// TFCORE_IDENTITY_STRICT=0.
func identityStrict() bool { return os.Getenv("TFCORE_IDENTITY_STRICT") != "0" }

// getIdentitySchemas is the second half of Terraform's GetProviderSchema
// (internal/plugin6/grpc_provider.go): UNIMPLEMENTED means "no identities";
// any other failed call, or an error diagnostic, fails the whole schema and
// with it every command.
func getIdentitySchemas(ctx context.Context, p *Provider) (map[string]*IdentitySchema, Diags) {
	out := map[string]*IdentitySchema{}
	resp, err := p.rpc.GetResourceIdentitySchemas(ctx, &tfplugin6.GetResourceIdentitySchemas_Request{})
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			return out, nil
		}
		// grpcErr names its caller: the call is made inside
		// GetProviderSchema.
		return nil, Diags{p.transportDiag(schemaLoadError(Diags{rpcErrorDiag("GetProviderSchema", err)}), err)}
	}
	diags := convertDiags(resp.Diagnostics, "", nil)
	if diags.HasErrors() {
		return nil, Diags{schemaLoadError(diags)}
	}
	for name, s := range resp.IdentitySchemas {
		if s == nil {
			continue
		}
		is := &IdentitySchema{Version: s.Version, Attributes: map[string]*IdentityAttribute{}}
		for _, a := range s.IdentityAttributes {
			if a == nil {
				continue
			}
			ia := &IdentityAttribute{RequiredForImport: a.RequiredForImport, OptionalForImport: a.OptionalForImport,
				Description: a.Description}
			if len(a.Type) > 0 {
				// Terraform panics on a type that is not JSON
				// (convert/schema.go ProtoToIdentitySchema); tfcore says why.
				ty, err := ctyjson.UnmarshalType(a.Type)
				if err != nil {
					return nil, Diags{errorDiag("Failed to load plugin schemas", fmt.Sprintf(
						"Error while loading schemas for plugin components: the identity schema of %s: attribute %q: type %q is not a valid cty type: %v (Terraform crashes on this).",
						name, a.Name, string(a.Type), err))}
				}
				ia.Type = ty
			}
			is.Attributes[a.Name] = ia
		}
		out[name] = is
	}
	return out, diags
}

// validateIdentitySchemas applies internal/schemarepo/loadschemas/
// plugins.go ProviderSchema to each identity schema: the attributes pass
// configschema's Object.InternalValidate (an attribute is Required or
// Optional, that is required_for_import or optional_for_import, never both,
// and has a type), the version is not negative, and no attribute is a map,
// a set or an object.
func validateIdentitySchemas(ps *ProviderSchema) *Diag {
	for _, t := range sortedKeys(ps.Identities) {
		is := ps.Identities[t]
		var errs []string
		for _, n := range sortedKeys(is.Attributes) {
			a := is.Attributes[n]
			if !a.RequiredForImport && !a.OptionalForImport {
				errs = append(errs, fmt.Sprintf("%s: must set Optional, Required or Computed", n))
			}
			if a.RequiredForImport && a.OptionalForImport {
				errs = append(errs, fmt.Sprintf("%s: cannot set both Optional and Required", n))
			}
			if a.Type == cty.NilType {
				errs = append(errs, fmt.Sprintf("%s: either Type or NestedType must be defined", n))
			}
		}
		if len(errs) > 0 {
			return schemaLoadFailed(fmt.Errorf("provider %s has invalid identity schema for managed resource type %q, which is a bug in the provider: %q",
				providerAddr, t, strings.Join(errs, "\n")))
		}
		if is.Version < 0 {
			return schemaLoadFailed(fmt.Errorf("provider %s has invalid negative identity schema version for managed resource type %q, which is a bug in the provider", providerAddr, t))
		}
		for _, n := range sortedKeys(is.Attributes) {
			ty := is.Attributes[n].Type
			kind := ""
			switch {
			case ty.IsMapType():
				kind = "a map"
			case ty.IsSetType():
				kind = "a set"
			case ty.IsObjectType():
				kind = "an object"
			}
			if kind != "" {
				return schemaLoadFailed(fmt.Errorf("provider %s has invalid schema for managed resource type %q, attribute %q is %s, which is not allowed in identity schemas",
					providerAddr, t, n, kind))
			}
		}
	}
	return nil
}

// schemaLoadFailed is how an error from loadschemas' ProviderSchema reaches
// the user (load.go, context.go).
func schemaLoadFailed(err error) *Diag {
	return errorDiag("Failed to load plugin schemas", fmt.Sprintf(
		"Error while loading schemas for plugin components: Failed to obtain provider schema: Could not load the schema for provider %s: %v..",
		providerAddr, err))
}

// identitySchemasJSON is "resource_identity_schemas" of `terraform
// providers schema -json` (internal/command/jsonprovider/schema.go,
// attribute.go).
func identitySchemasJSON(ids map[string]*IdentitySchema) map[string]interface{} {
	out := map[string]interface{}{}
	for t, is := range ids {
		attrs := map[string]interface{}{}
		for n, a := range is.Attributes {
			m := map[string]interface{}{}
			if a.Type != cty.NilType {
				tj, _ := ctyjson.MarshalType(a.Type)
				m["type"] = json.RawMessage(tj)
			}
			if a.Description != "" {
				m["description"] = a.Description
			}
			if a.RequiredForImport {
				m["required_for_import"] = true
			}
			if a.OptionalForImport {
				m["optional_for_import"] = true
			}
			attrs[n] = m
		}
		x := map[string]interface{}{"version": is.Version}
		if len(attrs) > 0 {
			x["attributes"] = attrs
		}
		out[t] = x
	}
	return out
}

// ---- identity values on the wire ---------------------------------------------

// identityOf is the schema of a resource type's identity (nil: none, or an
// emulated Terraform that predates identities).
func (ps *ProviderSchema) identityOf(typ string) *IdentitySchema {
	if !emu.Identity || ps == nil {
		return nil
	}
	return ps.Identities[typ]
}

// noIdentity is the "no identity" value: tfcore keeps cty.NilVal for it
// so that a type without an identity schema never needs a type.
var noIdentity = cty.NilVal

func identNull(v cty.Value) bool { return v == cty.NilVal || v.IsNull() }

// identityToProto encodes an identity for a request; nil when there is
// none (Terraform sends the field only for a non-null identity). A
// non-null identity for a type without an identity schema is Terraform's
// "identity type not found for resource type" error
// (grpc_provider.go ReadResource, PlanResourceChange, ApplyResourceChange).
func identityToProto(is *IdentitySchema, typ string, v cty.Value) (*tfplugin6.ResourceIdentityData, *Diag) {
	if identNull(v) {
		return nil, nil
	}
	if is == nil {
		return nil, errorDiag(fmt.Sprintf("identity type not found for resource type %s", typ), "")
	}
	dv, err := toDV(v, is.impliedType())
	if err != nil {
		return nil, errorDiag(err.Error(), "")
	}
	return &tfplugin6.ResourceIdentityData{IdentityData: dv}, nil
}

// identityFromProto decodes a returned identity: absent means none. One
// for a type without an identity schema is Terraform's "unknown identity
// type" error (grpc_provider.go ReadResource; Terraform then crashes on
// the nil schema). A value that does not decode against the identity type
// is the decoder's error, as Terraform's decodeDynamicValue reports it.
func identityFromProto(is *IdentitySchema, typ string, d *tfplugin6.ResourceIdentityData) (cty.Value, *Diag) {
	if d == nil || d.IdentityData == nil {
		return noIdentity, nil
	}
	if is == nil {
		return noIdentity, errorDiag(fmt.Sprintf("unknown identity type %q", typ), "")
	}
	v, err := fromDV(d.IdentityData, is.impliedType())
	if err != nil {
		return noIdentity, errorDiag(err.Error(), "")
	}
	return v, nil
}

// checkIdentity is node_resource_abstract_instance.go validateIdentityKnown
// (when mustBeKnown) and validateIdentity (type conformance), then, in
// strict mode, the required_for_import rule.
func checkIdentity(addr string, is *IdentitySchema, v cty.Value, mustBeKnown bool) Diags {
	if identNull(v) || is == nil {
		return nil
	}
	var diags Diags
	if mustBeKnown && !v.IsWhollyKnown() {
		diags = append(diags, errorDiag("Provider produced invalid identity",
			fmt.Sprintf("Provider %q returned an identity with unknown values for %s. %s", providerAddr, addr, bugTail)))
	}
	if errs := v.Type().TestConformance(is.impliedType()); len(errs) > 0 {
		for _, err := range errs {
			diags = append(diags, errorDiag("Provider produced an identity that doesn't match the schema",
				fmt.Sprintf("Provider %q returned an identity for %s that doesn't match the identity schema: %v. %s", providerAddr, addr, err, bugTail)))
		}
		return diags
	}
	if identityStrict() {
		var missing []string
		for _, n := range sortedKeys(is.Attributes) {
			if is.Attributes[n].RequiredForImport && v.GetAttr(n).IsNull() {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			// hashicorp/terraform 62c84e33fd validateIdentity.
			diags = append(diags, errorDiag("Provider produced an identity that doesn't match the schema",
				fmt.Sprintf("Provider %q returned an identity for %s that doesn't match the identity schema: attributes %q are required and must not be null. %s",
					providerAddr, addr, strings.Join(missing, ", "), bugTail)))
		}
	}
	return diags
}

// checkIdentityUnchanged is the strict rule that an existing object keeps
// its identity: the stored one (prior) against the one returned by a read,
// an update or no-op plan, or an update (terraform-plugin-framework
// fwserver; hashicorp/terraform 62c84e33fd validateIdentityDidNotChange).
func checkIdentityUnchanged(addr, op string, prior, now cty.Value) Diags {
	if !identityStrict() || identNull(prior) || identNull(now) || !now.IsWhollyKnown() {
		return nil
	}
	if prior.Equals(now).True() {
		return nil
	}
	return Diags{errorDiag("Provider produced different identity",
		fmt.Sprintf("Provider %q returned a different identity for %s than the previously stored one during %s: %s became %s. %s",
			providerAddr, addr, op, objectToString(prior), objectToString(now), bugTail))}
}

// objectToString renders an identity as Terraform's UI does
// (internal/tfdiags/object.go ObjectToString): sorted key=value pairs.
func objectToString(v cty.Value) string {
	switch {
	case v == cty.NilVal || v.IsNull():
		return "<null>"
	case !v.IsWhollyKnown():
		return "<unknown>"
	case !v.Type().IsObjectType():
		return "<not an object>"
	case len(v.Type().AttributeTypes()) == 0:
		return "<empty>"
	}
	var parts []string
	for _, k := range sortedKeys(v.Type().AttributeTypes()) {
		parts = append(parts, k+"="+valueToString(v.GetAttr(k)))
	}
	return strings.Join(parts, ",")
}

// valueToString is tfdiags.ValueToString: primitives and lists of them.
func valueToString(v cty.Value) string {
	if v.IsNull() {
		return "<null>"
	}
	switch ty := v.Type(); {
	case ty == cty.Bool:
		return fmt.Sprintf("%t", v.True())
	case ty == cty.Number:
		return v.AsBigFloat().String()
	case ty == cty.String:
		return v.AsString()
	case ty.IsListType() && (ty.ElementType() == cty.Bool || ty.ElementType() == cty.Number || ty.ElementType() == cty.String):
		var parts []string
		for _, e := range v.AsValueSlice() {
			parts = append(parts, valueToString(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return "<unknown type>"
}

// ---- identities in state ----------------------------------------------------------

// decodeStateIdentity reads an instance's stored identity, after
// UpgradeResourceIdentity when the stored identity_schema_version differs
// from the provider's (internal/terraform/upgrade_resource_state.go
// upgradeResourceIdentity; Terraform calls it on any version difference,
// even when no identity is stored). Without an identity schema a stored
// identity is ignored (internal/states/instance_object_src.go Decode).
func (s *Session) decodeStateIdentity(ctx context.Context, si *StateInstance) (cty.Value, Diags) {
	is := s.schema.identityOf(si.Type)
	if is == nil {
		return noIdentity, nil
	}
	if si.IdentityVersion > is.Version {
		return noIdentity, Diags{errorDiag("Resource instance managed by newer provider version",
			fmt.Sprintf("The current state of %s was created by a newer provider version than is currently selected. Upgrade the %s provider to work with this state.", si.Addr, providerName))}
	}
	ty := is.impliedType()
	if si.IdentityVersion != is.Version {
		resp, err := s.p.rpc.UpgradeResourceIdentity(ctx, &tfplugin6.UpgradeResourceIdentity_Request{
			TypeName: si.Type, Version: si.IdentityVersion, RawIdentity: &tfplugin6.RawState{Json: si.Identity}})
		if err != nil {
			return noIdentity, Diags{rpcErrorDiag("UpgradeResourceIdentity", err)}
		}
		diags := convertDiags(resp.Diagnostics, si.Addr, nil)
		if diags.HasErrors() {
			return noIdentity, diags
		}
		v := cty.NullVal(ty)
		if resp.UpgradedIdentity != nil {
			if v, err = fromDV(resp.UpgradedIdentity.IdentityData, ty); err != nil {
				return noIdentity, append(diags, errorDiag(err.Error(), ""))
			}
		}
		if !v.IsWhollyKnown() {
			return noIdentity, append(diags, errorDiag("Invalid resource identity upgrade",
				fmt.Sprintf("The %s provider upgraded the identity for %s from a previous version, but produced an invalid result: The returned state contains unknown values.", providerName, si.Addr)))
		}
		return v, diags
	}
	if len(si.Identity) == 0 {
		return cty.NullVal(ty), nil
	}
	v, err := ctyjson.Unmarshal(si.Identity, ty)
	if err != nil {
		return noIdentity, Diags{errorDiag(fmt.Sprintf("failed to decode identity: %s. This is most likely a bug in the Provider, providers must not change the identity schema without updating the identity schema version", err), "")}
	}
	return v, nil
}

// encodeStateIdentity is what the state file records for an identity:
// its JSON and the provider's identity schema version.
func encodeStateIdentity(is *IdentitySchema, v cty.Value) (json.RawMessage, int64, error) {
	if is == nil {
		return nil, 0, nil
	}
	if identNull(v) {
		return nil, is.Version, nil
	}
	raw, err := ctyjson.Marshal(v, is.impliedType())
	return raw, is.Version, err
}
