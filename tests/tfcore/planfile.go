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
	// Identities (Terraform >= 1.12): base64 cty msgpack of the identity
	// type, "" for none.
	PriorIdentity   string          `json:"prior_identity,omitempty"`
	PlannedIdentity string          `json:"planned_identity,omitempty"`
	Import          *planImportJSON `json:"import,omitempty"`
}

// planImportJSON is a change's import: how, and the object it brought.
type planImportJSON struct {
	ID       string `json:"id,omitempty"`
	Identity string `json:"identity,omitempty"`
	Object   string `json:"object"`
	Private  []byte `json:"private,omitempty"`
	ObjectID string `json:"object_identity,omitempty"`
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
	Type            string          `json:"type"`
	Name            string          `json:"name"`
	Key             *string         `json:"index_key,omitempty"`
	SchemaVersion   int64           `json:"schema_version"`
	Attrs           json.RawMessage `json:"attributes"`
	Private         []byte          `json:"private,omitempty"`
	IdentityVersion int64           `json:"identity_schema_version,omitempty"`
	Identity        json.RawMessage `json:"identity,omitempty"`
}

// encodeValue is the plan file's form of a value: base64 cty msgpack, ""
// for "none" (cty.NilVal).
func encodeValue(v cty.Value) (string, error) {
	if v == cty.NilVal {
		return "", nil
	}
	b, err := msgpack.Marshal(v, v.Type())
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func decodeValue(enc string, ty cty.Type) (cty.Value, error) {
	if enc == "" {
		return cty.NilVal, nil
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return cty.NilVal, err
	}
	return msgpack.Unmarshal(b, ty)
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
			SchemaVersion: si.SchemaVersion, Attrs: si.Attrs, Private: si.Private,
			IdentityVersion: si.IdentityVersion, Identity: si.Identity})
	}
	for _, c := range changes {
		if c.Action == NoOp && c.Importing == nil {
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
		var errs [6]error
		pc.PriorIdentity, errs[0] = encodeValue(c.PriorIdentity)
		pc.PlannedIdentity, errs[1] = encodeValue(c.PlannedIdentity)
		if im := c.Importing; im != nil {
			pc.Import = &planImportJSON{ID: im.ID, Private: im.Object.Private}
			pc.Import.Identity, errs[2] = encodeValue(im.Identity)
			pc.Import.Object, errs[3] = encodeValue(im.Object.Value)
			pc.Import.ObjectID, errs[4] = encodeValue(im.Object.Identity)
		}
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("%s: %v", c.Addr, err)
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
		if !validPlanAction(pc) {
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
			SchemaVersion: r.SchemaVersion, Attrs: r.Attrs, Private: r.Private,
			IdentityVersion: r.IdentityVersion, Identity: r.Identity}
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
		if !validPlanAction(pc) {
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
		if err := pc.decodeIdentities(c, ps); err != nil {
			return nil, fmt.Errorf("%s: %v", pc.Addr, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// validPlanAction: data sources are reads; resources create, update,
// delete or replace, or are no-ops that import.
func validPlanAction(pc *planChangeJSON) bool {
	if pc.Data {
		return pc.Action == ReadNow || pc.Action == ReadLater
	}
	if pc.Action == NoOp {
		return pc.Import != nil
	}
	return pc.Action >= Create && pc.Action <= Replace
}

// decodeIdentities restores a change's identities and import against the
// identity schema in effect now.
func (pc *planChangeJSON) decodeIdentities(c *Change, ps *ProviderSchema) error {
	c.PriorIdentity, c.PlannedIdentity = noIdentity, noIdentity
	is := ps.identityOf(pc.Type)
	idTy := cty.DynamicPseudoType
	if is != nil {
		idTy = is.impliedType()
	} else if pc.PriorIdentity != "" || pc.PlannedIdentity != "" || pc.Import != nil && (pc.Import.Identity != "" || pc.Import.ObjectID != "") {
		return fmt.Errorf("the plan holds an identity, but the provider has no identity schema for %s", pc.Type)
	}
	var err error
	if c.PriorIdentity, err = decodeValue(pc.PriorIdentity, idTy); err != nil {
		return err
	}
	if c.PlannedIdentity, err = decodeValue(pc.PlannedIdentity, idTy); err != nil {
		return err
	}
	if pc.Import == nil {
		return nil
	}
	im := &Importing{ID: pc.Import.ID, Object: RemoteObject{Private: pc.Import.Private}}
	if im.Identity, err = decodeValue(pc.Import.Identity, idTy); err != nil {
		return err
	}
	if im.Object.Identity, err = decodeValue(pc.Import.ObjectID, idTy); err != nil {
		return err
	}
	if pc.Import.Object == "" {
		return fmt.Errorf("an import without its object")
	}
	if im.Object.Value, err = decodeValue(pc.Import.Object, c.Prior.Type()); err != nil {
		return err
	}
	c.Importing = im
	return nil
}
