// tfschema.go — reading a provider schema in the format of `terraform
// providers schema -json` (format 1.0), for providers that have no cdktf
// fixture: the project's own cellrouter provider, whose schema tfcore
// prints from the real provider binary (`tfcore schema`). Each provider in
// the document joins the schema set under its local name (the last part of
// its address), so its resources get the same argument, block and reference
// checks as aws, azurerm and cloudflare.
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"strings"
)

type tfSchemaDoc struct {
	FormatVersion   string                      `json:"format_version"`
	ProviderSchemas map[string]*tfProviderEntry `json:"provider_schemas"`
}

type tfProviderEntry struct {
	Provider    *tfSchema            `json:"provider"`
	Resources   map[string]*tfSchema `json:"resource_schemas"`
	DataSources map[string]*tfSchema `json:"data_source_schemas"`
}

type tfSchema struct {
	Block *tfBlock `json:"block"`
}

type tfBlock struct {
	Attributes map[string]*tfAttribute `json:"attributes"`
	BlockTypes map[string]*tfBlockType `json:"block_types"`
}

type tfAttribute struct {
	Type       json.RawMessage `json:"type"`
	NestedType *struct {
		Attributes  map[string]*tfAttribute `json:"attributes"`
		NestingMode string                  `json:"nesting_mode"`
	} `json:"nested_type"`
	Required bool `json:"required"`
	Optional bool `json:"optional"`
	Computed bool `json:"computed"`
}

type tfBlockType struct {
	NestingMode string   `json:"nesting_mode"`
	Block       *tfBlock `json:"block"`
	MinItems    int      `json:"min_items"`
	MaxItems    int      `json:"max_items"`
}

// addTerraformSchema merges the providers of one document into the set;
// a provider already covered by a fixture keeps its fixture.
func (s schemaSet) addTerraformSchema(path string) error {
	raw, err := ioutil.ReadFile(path)
	if err != nil {
		return fmt.Errorf("provider schema: %v", err)
	}
	var doc tfSchemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("provider schema %s: %v", path, err)
	}
	if !strings.HasPrefix(doc.FormatVersion, "1.") || len(doc.ProviderSchemas) == 0 {
		return fmt.Errorf("provider schema %s: want format_version 1.x with provider_schemas", path)
	}
	for addr, p := range doc.ProviderSchemas {
		name := addr[strings.LastIndexByte(addr, '/')+1:]
		if s[name] != nil || p == nil {
			continue
		}
		ps := &providerSchema{
			Provider:        name,
			ProviderVersion: "as built",
			Source:          addr,
			Resources:       map[string]*schemaNode{},
			DataSources:     map[string]*schemaNode{},
			file:            path,
			live:            true,
		}
		if p.Provider != nil && p.Provider.Block != nil {
			ps.ProviderConfig = fromTfBlock(p.Provider.Block, 0)
		}
		for n, r := range p.Resources {
			if r != nil && r.Block != nil {
				ps.Resources[n] = fromTfBlock(r.Block, 0)
			}
		}
		for n, d := range p.DataSources {
			if d != nil && d.Block != nil {
				ps.DataSources[n] = fromTfBlock(d.Block, 0)
			}
		}
		s[name] = ps
	}
	return nil
}

// maxDepth bounds recursion on a hostile document.
const maxDepth = 32

func fromTfBlock(b *tfBlock, depth int) *schemaNode {
	n := &schemaNode{Arguments: map[string]*argSchema{}, Blocks: map[string]*blockSchema{}, Attributes: map[string]*attrSchema{}}
	if depth > maxDepth {
		return n
	}
	for name, a := range b.Attributes {
		if a == nil {
			continue
		}
		kind := tfTypeKind(a.Type)
		var nested *schemaNode
		if a.NestedType != nil {
			nested = fromTfBlock(&tfBlock{Attributes: a.NestedType.Attributes}, depth+1)
			kind = "object"
			if a.NestedType.NestingMode != "single" {
				kind = "list"
			}
		}
		if a.Required || a.Optional {
			n.Arguments[name] = &argSchema{Required: a.Required, Type: kind, Nested: nested}
		}
		attr := &attrSchema{Type: kind}
		if nested != nil {
			attr.Attributes = nested.Attributes
		}
		n.Attributes[name] = attr
	}
	for name, bt := range b.BlockTypes {
		if bt == nil || bt.Block == nil {
			continue
		}
		inner := fromTfBlock(bt.Block, depth+1)
		bs := &blockSchema{schemaNode: *inner, Min: bt.MinItems}
		if bt.NestingMode == "single" || bt.NestingMode == "group" {
			one := 1
			bs.Max = &one
		} else if bt.MaxItems > 0 {
			max := bt.MaxItems
			bs.Max = &max
		}
		n.Blocks[name] = bs
		kind := "list"
		if bt.NestingMode == "single" || bt.NestingMode == "group" {
			kind = "object"
		} else if bt.NestingMode == "map" {
			kind = "map"
		}
		n.Attributes[name] = &attrSchema{Type: kind, Attributes: inner.Attributes}
	}
	return n
}

// tfTypeKind maps a cty type in its JSON form ("string", ["list","string"],
// ["object",{...}]) to the coarse kinds the checks use.
func tfTypeKind(raw json.RawMessage) string {
	var prim string
	if json.Unmarshal(raw, &prim) == nil {
		switch prim {
		case "string", "number", "bool":
			return prim
		}
		return "any"
	}
	var pair []json.RawMessage
	if json.Unmarshal(raw, &pair) == nil && len(pair) >= 1 {
		var k string
		if json.Unmarshal(pair[0], &k) == nil {
			switch k {
			case "list", "set", "tuple":
				return "list"
			case "map":
				return "map"
			case "object":
				return "object"
			}
		}
	}
	return "any"
}

// addPendingSchema reads a document in the same format describing what a
// provider built from another branch will have (a resource, an attribute
// that is being added to it in parallel), so the configuration that uses
// it can be checked before the provider here has it. It only fills gaps:
// a resource or data source the live schema lacks is added, and one whose
// live definition lacks an attribute the pending one names is replaced by
// the pending definition as a whole (its required arguments may differ,
// as when a new attribute becomes the alternative to a required one). A
// live definition that has everything wins, so a provider that has caught
// up is always checked as it is built. Returns the types taken from the
// document, in order.
func (s schemaSet) addPendingSchema(path string) ([]string, error) {
	raw, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pending schema: %v", err)
	}
	var doc tfSchemaDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("pending schema %s: %v", path, err)
	}
	if !strings.HasPrefix(doc.FormatVersion, "1.") || len(doc.ProviderSchemas) == 0 {
		return nil, fmt.Errorf("pending schema %s: want format_version 1.x with provider_schemas", path)
	}
	var used []string
	for addr, p := range doc.ProviderSchemas {
		name := addr[strings.LastIndexByte(addr, '/')+1:]
		ps := s[name]
		if p == nil {
			continue
		}
		if ps == nil || !ps.live {
			return nil, fmt.Errorf("pending schema %s: provider %q has no live schema (-providers-schema) to add to", path, name)
		}
		merge := func(kind string, live map[string]*schemaNode, pending map[string]*tfSchema) {
			for _, n := range sortedKeys(pending) {
				r := pending[n]
				if r == nil || r.Block == nil {
					continue
				}
				cur := live[n]
				take := cur == nil
				for a := range r.Block.Attributes {
					if cur != nil && cur.Attributes[a] == nil {
						take = true
					}
				}
				if take {
					live[n] = fromTfBlock(r.Block, 0)
					used = append(used, kind+n)
				}
			}
		}
		merge("", ps.Resources, p.Resources)
		merge("data.", ps.DataSources, p.DataSources)
	}
	return used, nil
}
