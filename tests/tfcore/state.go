// state.go — the state file, in the shape of Terraform's state format 4.
//
// Instances keep their attributes as raw JSON exactly as written, since
// that raw JSON (with its schema_version) is what UpgradeResourceState
// receives; decoded values only exist after the provider has upgraded them.
// Writes go to a temporary file renamed into place, so an interrupted run
// never leaves a torn state.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/zclconf/go-cty/cty"
)

type stateFileJSON struct {
	Version          int                     `json:"version"`
	TerraformVersion string                  `json:"terraform_version"`
	Serial           int64                   `json:"serial"`
	Lineage          string                  `json:"lineage"`
	Outputs          map[string]*OutputState `json:"outputs"`
	Resources        []*stateResourceJSON    `json:"resources"`
	CheckResults     any                     `json:"check_results"`
}

type stateResourceJSON struct {
	Mode      string               `json:"mode"`
	Type      string               `json:"type"`
	Name      string               `json:"name"`
	Provider  string               `json:"provider"`
	Instances []*stateInstanceJSON `json:"instances"`
}

// stateInstanceJSON is instanceObjectStateV4 (internal/states/statefile/
// version4.go). Terraform >= 1.12 writes identity_schema_version on every
// instance (no omitempty) and identity when there is one; older releases
// know neither, so tfcore writes them only when emulating >= 1.12.
type stateInstanceJSON struct {
	IndexKey              any             `json:"index_key,omitempty"`
	SchemaVersion         int64           `json:"schema_version"`
	Attributes            json.RawMessage `json:"attributes"`
	SensitiveAttributes   []any           `json:"sensitive_attributes"`
	IdentitySchemaVersion *int64          `json:"identity_schema_version,omitempty"`
	Identity              json.RawMessage `json:"identity,omitempty"`
	Private               string          `json:"private,omitempty"`
}

// StateInstance is one resource instance as stored.
type StateInstance struct {
	Addr            string
	Type, Name      string
	Key             *string
	SchemaVersion   int64
	Attrs           json.RawMessage
	Private         []byte
	IdentityVersion int64           // identity_schema_version
	Identity        json.RawMessage // nil: none stored
}

// OutputState is one root output value as stored.
type OutputState struct {
	Value     json.RawMessage `json:"value"`
	Type      json.RawMessage `json:"type"`
	Sensitive bool            `json:"sensitive,omitempty"`
}

type State struct {
	// Data holds data source values by block for outputs; tfcore does not
	// persist data sources (they are read again by every plan).
	Data      map[string]cty.Value
	Path      string
	Outputs   map[string]*OutputState
	Serial    int64
	Lineage   string
	Instances map[string]*StateInstance
	Fresh     bool // no state file yet: the lineage is only proposed
}

func providerRef() string { return fmt.Sprintf("provider[%q]", providerAddr) }

func newLineage() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// readState loads path; a missing file is an empty state.
func readState(path string) (*State, error) {
	st := &State{Path: path, Instances: map[string]*StateInstance{}, Outputs: map[string]*OutputState{}}
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		st.Lineage, st.Fresh = newLineage(), true
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	var f stateFileJSON
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: not a valid state file: %v", path, err)
	}
	if f.Outputs == nil {
		f.Outputs = map[string]*OutputState{}
	}
	if f.Version != 4 {
		return nil, fmt.Errorf("%s: unsupported state format version %d (want 4)", path, f.Version)
	}
	st.Serial, st.Lineage, st.Outputs = f.Serial, f.Lineage, f.Outputs
	for _, r := range f.Resources {
		if r == nil || r.Mode != "managed" {
			continue
		}
		for _, in := range r.Instances {
			if in == nil {
				continue
			}
			si := &StateInstance{Type: r.Type, Name: r.Name, SchemaVersion: in.SchemaVersion, Attrs: in.Attributes}
			if in.IdentitySchemaVersion != nil {
				if *in.IdentitySchemaVersion < 0 {
					return nil, fmt.Errorf("%s: %s.%s: negative identity_schema_version", path, r.Type, r.Name)
				}
				si.IdentityVersion = *in.IdentitySchemaVersion
			}
			if len(in.Identity) > 0 && string(in.Identity) != "null" {
				si.Identity = in.Identity
			}
			switch k := in.IndexKey.(type) {
			case nil:
			case string:
				si.Key = &k
			default:
				return nil, fmt.Errorf("%s: %s.%s: unsupported index_key %v (tfcore only knows for_each keys)", path, r.Type, r.Name, k)
			}
			if in.Private != "" {
				p, err := base64.StdEncoding.DecodeString(in.Private)
				if err != nil {
					return nil, fmt.Errorf("%s: %s.%s: invalid private data: %v", path, r.Type, r.Name, err)
				}
				si.Private = p
			}
			si.Addr = instanceAddr(si.Type, si.Name, si.Key)
			if _, dup := st.Instances[si.Addr]; dup {
				return nil, fmt.Errorf("%s: duplicate instance %s", path, si.Addr)
			}
			st.Instances[si.Addr] = si
		}
	}
	return st, nil
}

// write saves the state with serial+1, atomically.
func (st *State) write() error {
	f := stateFileJSON{Version: 4, TerraformVersion: terraformVersion(), Serial: st.Serial + 1,
		Lineage: st.Lineage, Outputs: st.Outputs, Resources: []*stateResourceJSON{}}
	byRes := map[string]*stateResourceJSON{}
	addrs := sortedKeys(st.Instances)
	for _, a := range addrs {
		si := st.Instances[a]
		rk := si.Type + "." + si.Name
		r := byRes[rk]
		if r == nil {
			r = &stateResourceJSON{Mode: "managed", Type: si.Type, Name: si.Name, Provider: providerRef()}
			byRes[rk] = r
			f.Resources = append(f.Resources, r)
		}
		in := &stateInstanceJSON{SchemaVersion: si.SchemaVersion, Attributes: si.Attrs, SensitiveAttributes: []any{}}
		if emu.Identity {
			v := si.IdentityVersion
			in.IdentitySchemaVersion = &v
			in.Identity = si.Identity
		}
		if si.Key != nil {
			in.IndexKey = *si.Key
		}
		if len(si.Private) > 0 {
			in.Private = base64.StdEncoding.EncodeToString(si.Private)
		}
		r.Instances = append(r.Instances, in)
	}
	sort.SliceStable(f.Resources, func(i, j int) bool {
		if f.Resources[i].Type != f.Resources[j].Type {
			return f.Resources[i].Type < f.Resources[j].Type
		}
		return f.Resources[i].Name < f.Resources[j].Name
	})
	raw, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(st.Path), ".tfstate-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), st.Path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	st.Serial++
	return nil
}
