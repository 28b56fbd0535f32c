// genconfig.go — writing configuration for objects found by `query
// -generate-config-out`, by the rules of Terraform's internal/genconfig
// package (generate_config.go, generate_config_write.go).
//
// The configuration value comes from the provider's GenerateResourceConfig
// when it announces the capability (Terraform >= 1.14), else from the
// object itself with what cannot be configured taken out
// (extractLegacyConfig). It is written as a resource block with
// `provider = ...`, followed by an import block by identity, one pair per
// object, named after the list block: list "cellrouter_tenant" "all" gives
// cellrouter_tenant.all_0, all_1, ...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// extractLegacyConfig is genconfig.ExtractLegacyConfigFromState: the
// object with deprecated and computed-only attributes nulled, an
// optional+computed "id" dropped, and "" in optional strings taken as null
// (the legacy SDK's habit).
func extractLegacyConfig(b *Block, state cty.Value) cty.Value {
	if state.IsNull() {
		return state
	}
	out, _ := cty.Transform(state, func(path cty.Path, v cty.Value) (cty.Value, error) {
		if v.IsNull() || len(path) == 0 {
			return v, nil
		}
		null := cty.NullVal(v.Type())
		if a := attributeByPath(b, path); a != nil {
			switch {
			case a.Deprecated:
				return null, nil
			case a.Computed && !a.Optional:
				return null, nil
			case len(path) == 1 && path[0].(cty.GetAttrStep).Name == "id" && a.Computed && a.Optional:
				return null, nil
			case v.Type() == cty.String && a.Optional && v.IsKnown() && v.AsString() == "":
				return null, nil
			}
			return v, nil
		}
		if nb := blockByPath(b, path); nb != nil && nb.Deprecated {
			return null, nil
		}
		return v, nil
	})
	return out
}

// attributeByPath is configschema's Block.AttributeByPath: the attribute a
// path ends at, descending through nested attribute types and blocks
// (index steps are passed over); nil when the path goes past an attribute
// or names none.
func attributeByPath(b *Block, path cty.Path) *Attribute {
	block := b
	for i, step := range path {
		s, ok := step.(cty.GetAttrStep)
		if !ok {
			continue
		}
		if a := block.Attributes[s.Name]; a != nil {
			if a.NestedType != nil && i < len(path)-1 {
				return nestedAttributeByPath(a.NestedType, path[i+1:])
			}
			if i < len(path)-1 {
				return nil
			}
			return a
		}
		if nb := block.BlockTypes[s.Name]; nb != nil {
			block = nb.Block
			continue
		}
		return nil
	}
	return nil
}

func nestedAttributeByPath(o *Object, path cty.Path) *Attribute {
	for i, step := range path {
		s, ok := step.(cty.GetAttrStep)
		if !ok {
			continue
		}
		if a := o.Attributes[s.Name]; a != nil {
			if a.NestedType != nil && i < len(path)-1 {
				return nestedAttributeByPath(a.NestedType, path[i+1:])
			}
			if i < len(path)-1 {
				return nil
			}
			return a
		}
	}
	return nil
}

// blockByPath is configschema's Block.BlockByPath.
func blockByPath(b *Block, path cty.Path) *Block {
	for i, step := range path {
		s, ok := step.(cty.GetAttrStep)
		if !ok {
			continue
		}
		if nb := b.BlockTypes[s.Name]; nb != nil {
			if len(nb.Block.BlockTypes) > 0 && i < len(path)-1 {
				return blockByPath(nb.Block, path[i+1:])
			}
			if i < len(path)-1 {
				return nil
			}
			return nb.Block
		}
	}
	return nil
}

// generated is one object's resource block and import block.
type generated struct {
	Resource string // `resource "t" "n" { ... }`, formatted
	Import   string // `import { ... }`, formatted, trimmed
}

// generateListResults writes the blocks for one list block's results
// (genconfig.GenerateListResourceContents): resource names are the list
// block's name and the result's index.
func generateListResults(listName, typ string, b *Block, is *IdentitySchema, configs, identities []cty.Value) ([]generated, Diags) {
	var out []generated
	var diags Diags
	for i := range configs {
		name := fmt.Sprintf("%s_%d", listName, i)
		addr := typ + "." + name
		var body strings.Builder
		// The list form always names the provider (forceProviderAddr).
		body.WriteString("  provider = " + providerName + "\n")
		diags = append(diags, writeAttrsFromValue(addr, &body, configs[i], b.Attributes, 2)...)
		diags = append(diags, writeBlocksFromValue(addr, &body, configs[i], b.BlockTypes, 2)...)
		res := fmt.Sprintf("resource %q %q {\n%s}", typ, name, string(hclwrite.Format([]byte(body.String()))))
		var imp strings.Builder
		imp.WriteString("\nimport {\n")
		fmt.Fprintf(&imp, "  to = %s\n", addr)
		fmt.Fprintf(&imp, "  provider = %s\n", providerName)
		imp.WriteString("  identity = {\n")
		diags = append(diags, writeIdentityFromValue(addr, &imp, identities[i], is, 2)...)
		imp.WriteString("  }\n}\n")
		out = append(out, generated{
			Resource: string(hclwrite.Format([]byte(res))),
			Import:   strings.TrimSpace(string(hclwrite.Format([]byte(imp.String())))),
		})
	}
	return out, diags
}

// importGroupString is genconfig.ImportGroup.String: each resource, a
// blank line, its import block, a blank line; then formatted.
func importGroupString(gs []generated) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString(g.Resource)
		b.WriteString("\n\n")
		b.WriteString(g.Import)
		b.WriteString("\n\n")
	}
	return string(hclwrite.Format([]byte(b.String())))
}

func skipped(addr, name string, err error) *Diag {
	return &Diag{Severity: sevWarning, Summary: "Skipped part of config generation",
		Detail: fmt.Sprintf("Could not create attribute %s in %s when generating import configuration. The plan will likely report the missing attribute as being deleted. (%v)", name, addr, err)}
}

func writeTokens(buf *strings.Builder, v cty.Value) error {
	_, err := hclwrite.TokensForValue(v).WriteTo(buf)
	return err
}

// writeAttrsFromValue is genconfig's writeConfigAttributesFromExisting:
// attributes in name order; computed ones left out when null; deprecated
// ones left out; sensitive ones written as null with a comment; a string
// holding a JSON object or array written as jsonencode(...).
func writeAttrsFromValue(addr string, buf *strings.Builder, obj cty.Value, attrs map[string]*Attribute, indent int) Diags {
	var diags Diags
	pad := strings.Repeat(" ", indent)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		val := cty.NullVal(a.impliedType())
		if !obj.IsNull() && obj.Type().IsObjectType() && obj.Type().HasAttribute(name) {
			val = obj.GetAttr(name)
		}
		if a.Computed && val.IsNull() || a.Deprecated {
			continue
		}
		if a.NestedType != nil {
			diags = append(diags, writeNestedFromValue(addr, buf, name, a, val, indent)...)
			continue
		}
		buf.WriteString(pad + name + " = ")
		switch {
		case a.Sensitive:
			buf.WriteString("null # sensitive")
		case !val.IsNull() && val.IsKnown() && val.Type() == cty.String && json.Valid([]byte(val.AsString())):
			var sj ctyjson.SimpleJSONValue
			if err := sj.UnmarshalJSON([]byte(val.AsString())); err != nil {
				diags = append(diags, &Diag{Severity: sevWarning, Summary: "Failed to parse JSON",
					Detail: fmt.Sprintf("Could not parse JSON value of attribute %s in %s when generating import configuration. The plan will likely report the missing attribute as being deleted. This is most likely a bug in Terraform, please report it.", name, addr)})
				continue
			}
			if sj.Type().IsPrimitiveType() {
				if err := writeTokens(buf, val); err != nil {
					diags = append(diags, skipped(addr, name, err))
					continue
				}
			} else {
				buf.WriteString("jsonencode(")
				if err := writeTokens(buf, sj.Value); err != nil {
					diags = append(diags, skipped(addr, name, err))
					continue
				}
				buf.WriteString(")")
			}
		default:
			if err := writeTokens(buf, val); err != nil {
				diags = append(diags, skipped(addr, name, err))
				continue
			}
		}
		buf.WriteString("\n")
	}
	return diags
}

// writeNestedFromValue is writeConfigNestedTypeAttributeFromExisting.
func writeNestedFromValue(addr string, buf *strings.Builder, name string, a *Attribute, val cty.Value, indent int) Diags {
	var diags Diags
	pad := strings.Repeat(" ", indent)
	o := a.NestedType
	empty := map[string]string{nestingSingle: "{}", nestingMap: "{}", nestingList: "[]", nestingSet: "[]"}[o.Nesting]
	if a.Sensitive {
		fmt.Fprintf(buf, "%s%s = %s # sensitive\n", pad, name, empty)
		return nil
	}
	if val.IsNull() {
		fmt.Fprintf(buf, "%s%s = null\n", pad, name)
		return nil
	}
	switch o.Nesting {
	case nestingSingle:
		fmt.Fprintf(buf, "%s%s = {\n", pad, name)
		diags = append(diags, writeAttrsFromValue(addr, buf, val, o.Attributes, indent+2)...)
		buf.WriteString("}\n")
	case nestingList, nestingSet:
		fmt.Fprintf(buf, "%s%s = [\n", pad, name)
		for _, e := range val.AsValueSlice() {
			buf.WriteString(pad + "  {\n")
			diags = append(diags, writeAttrsFromValue(addr, buf, e, o.Attributes, indent+4)...)
			buf.WriteString(pad + "  },\n")
		}
		buf.WriteString(pad + "]\n")
	case nestingMap:
		fmt.Fprintf(buf, "%s%s = {\n", pad, name)
		m := val.AsValueMap()
		for _, k := range sortedKeys(m) {
			fmt.Fprintf(buf, "%s  %s = {\n", pad, hclKey(k))
			diags = append(diags, writeAttrsFromValue(addr, buf, m[k], o.Attributes, indent+4)...)
			buf.WriteString(pad + "  }\n")
		}
		buf.WriteString(pad + "}\n")
	}
	return diags
}

// hclKey is genconfig's hclEscapeString: an identifier as is, anything
// else quoted.
func hclKey(k string) string {
	if hclsyntax.ValidIdentifier(k) {
		return k
	}
	return fmt.Sprintf("%q", k)
}

// writeBlocksFromValue is writeConfigBlocksFromExisting.
func writeBlocksFromValue(addr string, buf *strings.Builder, obj cty.Value, blocks map[string]*NestedBlock, indent int) Diags {
	var diags Diags
	pad := strings.Repeat(" ", indent)
	for _, name := range sortedKeys(blocks) {
		nb := blocks[name]
		if obj.IsNull() || !obj.Type().HasAttribute(name) {
			continue
		}
		v := obj.GetAttr(name)
		if v.IsNull() {
			continue
		}
		one := func(e cty.Value, label string) {
			fmt.Fprintf(buf, "%s%s%s {\n", pad, name, label)
			diags = append(diags, writeAttrsFromValue(addr, buf, e, nb.Block.Attributes, indent+2)...)
			diags = append(diags, writeBlocksFromValue(addr, buf, e, nb.Block.BlockTypes, indent+2)...)
			buf.WriteString(pad + "}\n")
		}
		switch nb.Nesting {
		case nestingSingle, nestingGroup:
			one(v, "")
		case nestingList, nestingSet:
			for _, e := range v.AsValueSlice() {
				one(e, "")
			}
		case nestingMap:
			m := v.AsValueMap()
			for _, k := range sortedKeys(m) {
				one(m[k], fmt.Sprintf(" %q", k))
			}
		}
	}
	return diags
}

// writeIdentityFromValue writes an identity's attributes inside
// `identity = { ... }` (GenerateImportBlock, which reuses the attribute
// writer with the identity schema's attributes).
func writeIdentityFromValue(addr string, buf *strings.Builder, v cty.Value, is *IdentitySchema, indent int) Diags {
	attrs := map[string]*Attribute{}
	for n, a := range is.Attributes {
		attrs[n] = &Attribute{Type: a.Type, Required: a.RequiredForImport, Optional: a.OptionalForImport}
	}
	return writeAttrsFromValue(addr, buf, v, attrs, indent)
}

// generatedHeader and writeGenerated are generate_config_write.go: the
// file is created only when there is something to write, and only if it
// does not exist yet.
const generatedHeader = "# __generated__ by Terraform\n# Please review these resources and move them into your main configuration files.\n"

func targetFileExists(path string) *Diag {
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		return errorDiag("Target generated file already exists",
			"Terraform can only write generated config into a new file. Either choose a different target location or move all existing configuration out of the target file, delete it and try again.")
	}
	return nil
}

func writeGenerated(path string, groups []string) *Diag {
	var b strings.Builder
	n := 0
	for _, g := range groups {
		if g == "" {
			continue
		}
		if n == 0 {
			b.WriteString(generatedHeader)
		}
		n++
		b.WriteString("\n# __generated__ by Terraform\n")
		b.WriteString(g)
		b.WriteString("\n")
	}
	if n == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsPermission(err) {
			return errorDiag("Failed to create target generated file",
				fmt.Sprintf("Terraform did not have permission to create the generated file (%s) in the target directory. Please modify permissions over the target directory, and try again.", path))
		}
		return errorDiag("Failed to create target generated file",
			fmt.Sprintf("Terraform could not create the generated file (%s) in the target directory: %v. Depending on the error message, this may be a bug in Terraform itself. If so, please report it!", path, err))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return errorDiag("Failed to save generated config", err.Error())
	}
	if err := f.Close(); err != nil {
		return errorDiag("Failed to save generated config", err.Error())
	}
	return nil
}
