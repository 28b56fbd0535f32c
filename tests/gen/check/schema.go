// schema.go — the provider schema fixtures (tests/gen/schemas/*.json) that
// tests/gen/cdktf/extract.js writes from the CDK for Terraform packages, and
// the lookup of a resource or data source type in them.
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"path/filepath"
	"strings"
)

// schemaNode is a resource, a data source or a nested block: what may be
// set in it (arguments, blocks) and, at the top, what may be read from it.
type schemaNode struct {
	Arguments  map[string]*argSchema   `json:"arguments"`
	Blocks     map[string]*blockSchema `json:"blocks"`
	Attributes map[string]*attrSchema  `json:"attributes"`
}

type argSchema struct {
	Required bool   `json:"required"`
	Type     string `json:"type"`
	// Nested is set for object-typed arguments; the provider SDK's
	// attributes-as-blocks mode lets those be written as blocks too.
	Nested *schemaNode `json:"nested"`
}

type blockSchema struct {
	schemaNode
	Min int  `json:"min"`
	Max *int `json:"max"` // nil: no upper bound known
}

// attrSchema is something an expression can read; Attributes lists the
// nested names of an object or of a list's elements when they are known.
type attrSchema struct {
	Type       string                 `json:"type"`
	Attributes map[string]*attrSchema `json:"attributes"`
}

type providerSchema struct {
	Provider        string                 `json:"provider"`
	ProviderVersion string                 `json:"provider_version"`
	ProviderSource  string                 `json:"provider_source"` // registry source: hashicorp/aws
	Source          string                 `json:"source"`
	ProviderConfig  *schemaNode            `json:"provider_config"`
	Resources       map[string]*schemaNode `json:"resources"`
	DataSources     map[string]*schemaNode `json:"data_sources"`
	file            string
	// live is set for schemas read from a provider binary's own output
	// (-providers-schema) rather than from a checked-in cdktf fixture.
	live bool
}

// describe names the schema's origin for messages.
func (p *providerSchema) describe() string {
	if p.live {
		return fmt.Sprintf("the %s provider's own schema (%s)", p.Provider, p.file)
	}
	return fmt.Sprintf("%s %s (%s; if the modules now use it, regenerate with `make gen-schemas`)", p.Provider, p.ProviderVersion, p.file)
}

// schemaSet maps a provider's local name (the type prefix before the first
// underscore: aws, azurerm, cloudflare) to its fixture.
type schemaSet map[string]*providerSchema

// checkedProviders are the providers whose resources must be in a fixture:
// the two clouds of the cell modules and Cloudflare for the edge.
var checkedProviders = []string{"aws", "azurerm", "cloudflare"}

func loadSchemas(dir string) (schemaSet, error) {
	set := schemaSet{}
	for _, p := range checkedProviders {
		path := filepath.Join(dir, p+".json")
		raw, err := ioutil.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("schema fixture: %v", err)
		}
		var ps providerSchema
		if err := json.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("schema fixture %s: %v", path, err)
		}
		if ps.Provider != p || len(ps.Resources) == 0 {
			return nil, fmt.Errorf("schema fixture %s: provider %q with %d resources, want provider %q with some", path, ps.Provider, len(ps.Resources), p)
		}
		if !strings.HasSuffix(ps.ProviderSource, "/"+p) || ps.ProviderVersion == "" {
			return nil, fmt.Errorf("schema fixture %s: provider_source %q, provider_version %q: regenerate with `make gen-schemas`", path, ps.ProviderSource, ps.ProviderVersion)
		}
		ps.file = path
		set[p] = &ps
	}
	return set, nil
}

// provider returns the fixture covering a type name, or nil when the type
// belongs to a provider these checks do not cover (cellrouter_*, ...).
func (s schemaSet) provider(typ string) *providerSchema {
	i := strings.IndexByte(typ, '_')
	if i < 0 {
		return s[typ]
	}
	return s[typ[:i]]
}

// lookup finds a resource ("resource") or data source ("data") type.
func (s schemaSet) lookup(kind, typ string) (*schemaNode, *providerSchema) {
	p := s.provider(typ)
	if p == nil {
		return nil, nil
	}
	if kind == "data" {
		return p.DataSources[typ], p
	}
	return p.Resources[typ], p
}
