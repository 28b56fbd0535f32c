// planfile.go — saved plans (`plan -out FILE`, `apply FILE`).
//
// A plan file records what apply needs and nothing it would have to guess:
// the state it was made from (lineage and serial, to refuse a stale plan),
// the refreshed objects, the -var values, and each change with its prior
// and planned objects in the provider's wire form (cty msgpack) and the
// provider's private data. It is JSON for readability; it is tfcore's own
// format, not Terraform's zip.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/msgpack"
)

const planFormat = "tfcore-plan/1"

type planChangeJSON struct {
	Addr           string   `json:"addr"`
	Type           string   `json:"type"`
	Name           string   `json:"name"`
	Key            *string  `json:"index_key,omitempty"`
	Data           bool     `json:"data,omitempty"`
	Action         Action   `json:"action"`
	Prior          string   `json:"prior"`   // base64 cty msgpack
	Planned        string   `json:"planned"` // base64 cty msgpack
	PriorPrivate   []byte   `json:"prior_private,omitempty"`
	PlannedPrivate []byte   `json:"planned_private,omitempty"`
	ReplacePaths   []string `json:"replace_paths,omitempty"` // attribute names
}

type planFileJSON struct {
	Format    string               `json:"format"`
	Lineage   string               `json:"lineage"`
	Serial    int64                `json:"serial"`
	Vars      []string             `json:"vars"`
	Destroy   bool                 `json:"destroy"`
	Refreshed []*stateInstanceFull `json:"refreshed"`
	Changes   []*planChangeJSON    `json:"changes"`
}

// stateInstanceFull is a StateInstance with its address parts spelled out.
type stateInstanceFull struct {
	Type          string          `json:"type"`
	Name          string          `json:"name"`
	Key           *string         `json:"index_key,omitempty"`
	SchemaVersion int64           `json:"schema_version"`
	Attrs         json.RawMessage `json:"attributes"`
	Private       []byte          `json:"private,omitempty"`
}

func writePlanFile(path string, st *State, vars []string, destroy bool, changes []*Change) error {
	pf := planFileJSON{Format: planFormat, Lineage: st.Lineage, Serial: st.Serial, Vars: vars, Destroy: destroy,
		Refreshed: []*stateInstanceFull{}, Changes: []*planChangeJSON{}}
	if pf.Vars == nil {
		pf.Vars = []string{}
	}
	for _, addr := range sortedKeys(st.Instances) {
		si := st.Instances[addr]
		pf.Refreshed = append(pf.Refreshed, &stateInstanceFull{Type: si.Type, Name: si.Name, Key: si.Key,
			SchemaVersion: si.SchemaVersion, Attrs: si.Attrs, Private: si.Private})
	}
	for _, c := range changes {
		if c.Action == NoOp {
			continue
		}
		prior, err := msgpack.Marshal(c.Prior, c.Prior.Type())
		if err != nil {
			return fmt.Errorf("%s: %v", c.Addr, err)
		}
		planned, err := msgpack.Marshal(c.Planned, c.Planned.Type())
		if err != nil {
			return fmt.Errorf("%s: %v", c.Addr, err)
		}
		pc := &planChangeJSON{Addr: c.Addr, Type: c.Type, Name: c.Name, Key: c.Key, Data: c.Data, Action: c.Action,
			Prior: base64.StdEncoding.EncodeToString(prior), Planned: base64.StdEncoding.EncodeToString(planned),
			PriorPrivate: c.PriorPrivate, PlannedPrivate: c.PlannedPrivate}
		for _, p := range c.ReplacePaths {
			if len(p) > 0 {
				if s, ok := p[0].(cty.GetAttrStep); ok {
					pc.ReplacePaths = append(pc.ReplacePaths, s.Name)
				}
			}
		}
		pf.Changes = append(pf.Changes, pc)
	}
	raw, err := json.MarshalIndent(&pf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o600)
}

func readPlanFile(path string) (*planFileJSON, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pf planFileJSON
	if err := json.Unmarshal(raw, &pf); err != nil {
		return nil, fmt.Errorf("%s is not a plan file: %v", path, err)
	}
	if pf.Format != planFormat {
		return nil, fmt.Errorf("%s is not a %s plan file", path, planFormat)
	}
	for _, pc := range pf.Changes {
		if pc == nil {
			return nil, fmt.Errorf("%s: null change", path)
		}
		if pc.Data && pc.Action != ReadNow && pc.Action != ReadLater ||
			!pc.Data && (pc.Action < Create || pc.Action > Replace) {
			return nil, fmt.Errorf("%s: %s: invalid action %d", path, pc.Addr, pc.Action)
		}
	}
	return &pf, nil
}

// decode rebuilds the changes against the provider's schema and puts the
// refreshed objects in the state, as apply expects.
func (pf *planFileJSON) decode(st *State, ps *ProviderSchema) ([]*Change, error) {
	st.Instances = map[string]*StateInstance{}
	for _, r := range pf.Refreshed {
		if r == nil {
			return nil, fmt.Errorf("null refreshed instance")
		}
		addr := instanceAddr(r.Type, r.Name, r.Key)
		st.Instances[addr] = &StateInstance{Addr: addr, Type: r.Type, Name: r.Name, Key: r.Key,
			SchemaVersion: r.SchemaVersion, Attrs: r.Attrs, Private: r.Private}
	}
	var out []*Change
	for _, pc := range pf.Changes {
		if pc == nil {
			return nil, fmt.Errorf("null change")
		}
		rs, ok := ps.Resources[pc.Type]
		if pc.Data {
			rs, ok = ps.DataSources[pc.Type]
		}
		if !ok {
			return nil, fmt.Errorf("%s: the provider has no type %q", pc.Addr, pc.Type)
		}
		if pc.Data && pc.Action != ReadNow && pc.Action != ReadLater ||
			!pc.Data && (pc.Action < Create || pc.Action > Replace) {
			return nil, fmt.Errorf("%s: invalid action %d", pc.Addr, pc.Action)
		}
		ty := impliedType(rs.Block)
		vals := [2]cty.Value{}
		for i, enc := range []string{pc.Prior, pc.Planned} {
			b, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", pc.Addr, err)
			}
			if vals[i], err = msgpack.Unmarshal(b, ty); err != nil {
				return nil, fmt.Errorf("%s: %v", pc.Addr, err)
			}
		}
		c := &Change{Addr: pc.Addr, Type: pc.Type, Name: pc.Name, Key: pc.Key, Data: pc.Data, Action: pc.Action,
			Prior: vals[0], Planned: vals[1], PriorPrivate: pc.PriorPrivate, PlannedPrivate: pc.PlannedPrivate}
		for _, n := range pc.ReplacePaths {
			c.ReplacePaths = append(c.ReplacePaths, cty.GetAttrPath(n))
		}
		out = append(out, c)
	}
	return out, nil
}
