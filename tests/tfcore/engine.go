// engine.go — the walks of Terraform core: validate, refresh, plan, apply,
// import, in Terraform's order of provider calls and with its checks.
//
// One provider process per phase, as Terraform does (it kills the plan's
// provider and starts another for apply), so a provider that keeps state in
// memory between phases fails here as it would under Terraform. Within a
// phase, per-instance work runs on up to -parallelism goroutines.
package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cellrouter/proto/tfplugin6"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

const bugTail = "\n\nThis is a bug in the provider, which should be reported in the provider's own issue tracker."

// Session is one provider process with its schema and (once configured)
// the decoded configuration's instances.
type Session struct {
	p         *Provider
	schema    *ProviderSchema
	cfg       *Config
	instances []*Instance
	order     []*ResourceConfig    // resource blocks, dependencies first
	dataVals  map[string]cty.Value // data source values by block, for outputs
	byAddr    map[string]*Instance
	imports   map[string]*ImportTarget // import blocks by target address
	par       int
}

func (s *Session) Close() { s.p.Close() }

// instanceDiags converts diagnostics about one instance, resolving
// attribute paths against its resource block when it is in configuration.
func (s *Session) instanceDiags(ds []*tfplugin6.Diagnostic, addr string) Diags {
	if in := s.byAddr[addr]; in != nil {
		return convertDiags(ds, addr, in.Resource.Syntax)
	}
	return convertDiags(ds, addr, nil)
}

// parallel runs fn(0..n-1) on at most par goroutines.
func parallel(par, n int, fn func(i int)) {
	if par < 1 {
		par = 1
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}(i)
	}
	wg.Wait()
}

func flatten(ds []Diags) Diags {
	var out Diags
	for _, d := range ds {
		out = append(out, d...)
	}
	return out
}

// openSession launches the provider, loads and checks its schema, validates
// the configuration (ValidateProviderConfig, ValidateResourceConfig) and,
// when configure is set, configures the provider.
func openSession(ctx context.Context, cfg *Config, par int, configure bool) (*Session, Diags) {
	p, err := launchProvider(nil)
	if err != nil {
		return nil, Diags{errorDiag("Failed to load plugin schemas", err.Error())}
	}
	s := &Session{p: p, cfg: cfg, par: par, byAddr: map[string]*Instance{}, dataVals: map[string]cty.Value{}}
	stopOnInterrupt(p)
	ps, diags := getSchema(ctx, p)
	if diags.HasErrors() {
		p.Close()
		return nil, diags
	}
	s.schema = ps
	pcfg, d := cfg.providerConfig(ps)
	diags = append(diags, d...)
	if d.HasErrors() {
		p.Close()
		return nil, diags
	}
	pty := impliedType(ps.Provider.Block)
	pdv, err := toDV(pcfg, pty)
	if err != nil {
		p.Close()
		return nil, append(diags, errorDiag("Invalid provider configuration", err.Error()))
	}
	vresp, err := p.rpc.ValidateProviderConfig(ctx, &tfplugin6.ValidateProviderConfig_Request{Config: pdv})
	if err != nil {
		p.Close()
		return nil, append(diags, rpcErrorDiag("ValidateProviderConfig", err))
	}
	diags = append(diags, convertDiags(vresp.Diagnostics, fmt.Sprintf("provider[%q]", providerAddr), cfg.Provider)...)
	insts, d := cfg.expand(ps)
	diags = append(diags, d...)
	if diags.HasErrors() {
		p.Close()
		return nil, diags
	}
	s.instances = insts
	if s.order, d = cfg.order(ps); d.HasErrors() {
		p.Close()
		return nil, append(diags, d...)
	}
	// The validate walk: one call per resource block, for_each blocks with
	// each.key and each.value unknown, as Terraform validates them.
	blocks, d := cfg.blockConfigs(ps)
	diags = append(diags, d...)
	if d.HasErrors() {
		p.Close()
		return nil, diags
	}
	per := make([]Diags, len(blocks))
	parallel(par, len(blocks), func(i int) {
		per[i] = s.validateResource(ctx, blocks[i])
	})
	diags = append(diags, flatten(per)...)
	if len(cfg.Lists) > 0 {
		diags = append(diags, s.validateLists(ctx)...)
	}
	configured := map[string]bool{}
	for _, in := range insts {
		s.byAddr[in.Addr] = in
		configured[in.Addr] = true
	}
	if !diags.HasErrors() {
		s.imports, d = cfg.importTargets(ps, configured)
		diags = append(diags, d...)
	}
	if diags.HasErrors() || !configure {
		if diags.HasErrors() {
			p.Close()
			return nil, diags
		}
		return s, diags
	}
	cresp, err := p.rpc.ConfigureProvider(ctx, &tfplugin6.ConfigureProvider_Request{
		TerraformVersion: terraformVersion(), Config: pdv, ClientCapabilities: clientCaps()})
	if err != nil {
		p.Close()
		return nil, append(diags, rpcErrorDiag("ConfigureProvider", err))
	}
	diags = append(diags, convertDiags(cresp.Diagnostics, fmt.Sprintf("provider[%q]", providerAddr), cfg.Provider)...)
	if diags.HasErrors() {
		p.Close()
		return nil, diags
	}
	return s, diags
}

// validateResource calls ValidateResourceConfig for one configuration (a
// resource block in the validate walk, an instance before its plan).
func (s *Session) validateResource(ctx context.Context, in *Instance) Diags {
	if in.Resource.Data {
		ds := s.schema.DataSources[in.Resource.Type]
		dv, err := toDV(in.Config, impliedType(ds.Block))
		if err != nil {
			return Diags{errorDiag("Invalid data source configuration", err.Error())}
		}
		r, err := s.p.rpc.ValidateDataResourceConfig(ctx, &tfplugin6.ValidateDataResourceConfig_Request{
			TypeName: in.Resource.Type, Config: dv})
		if err != nil {
			return Diags{rpcErrorDiag("ValidateDataResourceConfig", err)}
		}
		return convertDiags(r.Diagnostics, in.Addr, in.Resource.Syntax)
	}
	rs := s.schema.Resources[in.Resource.Type]
	dv, err := toDV(in.Config, impliedType(rs.Block))
	if err != nil {
		return Diags{errorDiag("Invalid resource configuration", err.Error())}
	}
	r, err := s.p.rpc.ValidateResourceConfig(ctx, &tfplugin6.ValidateResourceConfig_Request{TypeName: in.Resource.Type, Config: dv,
		ClientCapabilities: clientCaps()})
	if err != nil {
		return Diags{rpcErrorDiag("ValidateResourceConfig", err)}
	}
	return convertDiags(r.Diagnostics, in.Addr, in.Resource.Syntax)
}

// ---- refresh -----------------------------------------------------------------

type Refreshed struct {
	SI            *StateInstance
	Prior         cty.Value // as upgraded from the state file
	Current       cty.Value // as ReadResource returned it (null: gone)
	Private       []byte
	PriorIdentity cty.Value // as stored (noIdentity: none)
	Identity      cty.Value // as ReadResource returned it
}

func (s *Session) upgrade(ctx context.Context, si *StateInstance) (cty.Value, Diags) {
	rs, ok := s.schema.Resources[si.Type]
	if !ok {
		return cty.NilVal, Diags{errorDiag("Invalid resource type in state",
			fmt.Sprintf("The state holds %s, but the provider has no resource type %q.", si.Addr, si.Type))}
	}
	if si.SchemaVersion > rs.Version {
		return cty.NilVal, Diags{errorDiag("Resource instance managed by newer provider version",
			fmt.Sprintf("The current state of %s was created by a newer provider version than is currently selected. Upgrade the %s provider to work with this state.", si.Addr, providerName))}
	}
	ty := impliedType(rs.Block)
	resp, err := s.p.rpc.UpgradeResourceState(ctx, &tfplugin6.UpgradeResourceState_Request{
		TypeName: si.Type, Version: si.SchemaVersion, RawState: &tfplugin6.RawState{Json: si.Attrs}})
	if err != nil {
		return cty.NilVal, Diags{rpcErrorDiag("UpgradeResourceState", err)}
	}
	diags := convertDiags(resp.Diagnostics, si.Addr, nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, err := fromDV(resp.UpgradedState, ty)
	if err == nil && v.IsNull() {
		err = fmt.Errorf("the upgraded state is null")
	}
	if err == nil {
		if p, ok := assertKnown(v); !ok {
			err = fmt.Errorf("%s: the upgraded state holds an unknown value", pathString(p))
		}
	}
	if err != nil {
		return cty.NilVal, append(diags, errorDiag("Invalid resource state upgrade",
			fmt.Sprintf("The %s provider upgraded the state for %s from a previous version, but produced an invalid result: %v.", providerName, si.Addr, err)))
	}
	return v, diags
}

// read is ReadResource with Terraform's checks (node_resource_abstract_
// instance.go refresh): the new state wholly known and of the schema's
// type; the returned identity known and of the identity type. The identity
// Terraform keeps is whatever came back (none if none did). afterImport
// marks the read that follows an import, where the identity may still be
// settled (the framework skips its change check there too).
func (s *Session) read(ctx context.Context, addr, typ string, cur cty.Value, private []byte, identity cty.Value, afterImport bool) (cty.Value, []byte, cty.Value, Diags) {
	ty := impliedType(s.schema.Resources[typ].Block)
	is := s.schema.identityOf(typ)
	dv, err := toDV(cur, ty)
	if err != nil {
		return cty.NilVal, nil, noIdentity, Diags{errorDiag("Invalid state", err.Error())}
	}
	req := &tfplugin6.ReadResource_Request{TypeName: typ, CurrentState: dv, Private: private,
		ClientCapabilities: clientCaps()}
	if emu.Identity {
		var d *Diag
		if req.CurrentIdentity, d = identityToProto(is, typ, identity); d != nil {
			return cty.NilVal, nil, noIdentity, Diags{d}
		}
	}
	resp, err := s.p.rpc.ReadResource(ctx, req)
	if err != nil {
		return cty.NilVal, nil, noIdentity, Diags{rpcErrorDiag("ReadResource", err)}
	}
	diags := s.instanceDiags(resp.Diagnostics, addr)
	newIdentity := noIdentity
	if emu.Identity {
		v, d := identityFromProto(is, typ, resp.NewIdentity)
		if d != nil {
			return cty.NilVal, nil, noIdentity, append(diags, d)
		}
		newIdentity = v
		diags = append(diags, checkIdentity(addr, is, newIdentity, true)...)
	}
	if diags.HasErrors() {
		return cty.NilVal, nil, noIdentity, diags
	}
	v, err := fromDV(resp.NewState, ty)
	if err == nil {
		if _, ok := assertKnown(v); !ok {
			// Terraform's words; it names no path.
			err = fmt.Errorf("The returned state contains unknown values")
		}
	}
	if err != nil {
		return cty.NilVal, nil, noIdentity, append(diags, errorDiag("Provider produced invalid object",
			fmt.Sprintf("Provider %q planned an invalid value for %s during refresh: %v.%s", providerAddr, addr, err, bugTail)))
	}
	if !afterImport && !v.IsNull() {
		if d := checkIdentityUnchanged(addr, "refresh", identity, newIdentity); d.HasErrors() {
			return cty.NilVal, nil, noIdentity, append(diags, d...)
		}
	}
	return v, resp.Private, newIdentity, diags
}

// refreshingLine is the UI hook's PreRefresh line
// (internal/command/views/hook_ui.go; format/object_id.go ObjectValueID
// picks "id", else "name").
func refreshingLine(addr string, v cty.Value) {
	suffix := ""
	if !v.IsNull() && v.IsKnown() && v.Type().IsObjectType() {
		for _, k := range []string{"id", "name"} {
			if v.Type().HasAttribute(k) && v.Type().AttributeType(k) == cty.String {
				if x := v.GetAttr(k); x.IsKnown() && !x.IsNull() {
					suffix = fmt.Sprintf(" [%s=%s]", k, x.AsString())
				}
				break
			}
		}
	}
	fmt.Printf("%s: Refreshing state...%s\n", addr, suffix)
}

// refresh upgrades and reads every instance in state.
func (s *Session) refresh(ctx context.Context, st *State) (map[string]*Refreshed, Diags) {
	addrs := sortedKeys(st.Instances)
	res := make([]*Refreshed, len(addrs))
	per := make([]Diags, len(addrs))
	parallel(s.par, len(addrs), func(i int) {
		si := st.Instances[addrs[i]]
		prior, d := s.upgrade(ctx, si)
		if !d.HasErrors() {
			refreshingLine(si.Addr, prior)
		}
		per[i] = d
		if d.HasErrors() {
			return
		}
		priorID, d := s.decodeStateIdentity(ctx, si)
		per[i] = append(per[i], d...)
		if d.HasErrors() {
			return
		}
		cur, priv, id, d := s.read(ctx, si.Addr, si.Type, prior, si.Private, priorID, false)
		per[i] = append(per[i], d...)
		if d.HasErrors() {
			return
		}
		res[i] = &Refreshed{SI: si, Prior: prior, Current: cur, Private: priv, PriorIdentity: priorID, Identity: id}
	})
	out := map[string]*Refreshed{}
	for i, r := range res {
		if r != nil {
			out[addrs[i]] = r
		}
	}
	return out, flatten(per)
}

// ---- plan ----------------------------------------------------------------------

type Change struct {
	Addr, Type, Name string
	Data             bool   // a data source read (ReadNow, ReadLater)
	Reason           string // why a read waits for apply
	Key              *string
	Action           Action
	Prior            cty.Value
	Planned          cty.Value
	PriorPrivate     []byte
	PlannedPrivate   []byte
	ReplacePaths     []cty.Path
	PriorIdentity    cty.Value  // BeforeIdentity (noIdentity: none)
	PlannedIdentity  cty.Value  // AfterIdentity
	Importing        *Importing // the object comes from an import block
}

// invalidPlan: node_resource_abstract_instance.go plan, with the path
// right after the address (tfdiags.FormatErrorPrefixed):
// "for cellrouter_tenant.a.cell_id: planned value ...".
func invalidPlan(addr string, errs []error) Diags {
	var out Diags
	for _, e := range errs {
		out = append(out, errorDiag("Provider produced invalid plan",
			fmt.Sprintf("Provider %q planned an invalid value for %s.%s", providerAddr, errorPrefixed(e, addr), bugTail)))
	}
	return out
}

// errorPrefixed is tfdiags.FormatErrorPrefixed: a path error follows the
// prefix directly (addr.path: message), any other after ": ".
func errorPrefixed(e error, prefix string) string {
	msg := e.Error()
	if strings.HasPrefix(msg, ".") || strings.HasPrefix(msg, "[") {
		return prefix + msg
	}
	return prefix + ": " + msg
}

// planned is what one PlanResourceChange produced.
type planResult struct {
	Value    cty.Value
	Private  []byte
	Replace  []cty.Path
	Identity cty.Value
}

// planOne asks the provider for a plan and checks it. The identity checks
// that depend on the action are the caller's (checkPlannedIdentity).
func (s *Session) planOne(ctx context.Context, addr, typ string, prior, config cty.Value, priorPrivate []byte, priorIdentity cty.Value) (planResult, Diags) {
	rs := s.schema.Resources[typ]
	ty := impliedType(rs.Block)
	proposed := proposedNew(rs.Block, prior, config)
	var dvs [3]*tfplugin6.DynamicValue
	for i, v := range []cty.Value{prior, proposed, config} {
		dv, err := toDV(v, ty)
		if err != nil {
			return planResult{}, Diags{errorDiag("Invalid value", err.Error())}
		}
		dvs[i] = dv
	}
	req := &tfplugin6.PlanResourceChange_Request{
		TypeName: typ, PriorState: dvs[0], ProposedNewState: dvs[1], Config: dvs[2], PriorPrivate: priorPrivate,
		ClientCapabilities: clientCaps()}
	is := s.schema.identityOf(typ)
	if emu.Identity {
		var d *Diag
		if req.PriorIdentity, d = identityToProto(is, typ, priorIdentity); d != nil {
			return planResult{}, Diags{d}
		}
	}
	resp, err := s.p.rpc.PlanResourceChange(ctx, req)
	if err != nil {
		return planResult{}, Diags{rpcErrorDiag("PlanResourceChange", err)}
	}
	diags := s.instanceDiags(resp.Diagnostics, addr)
	out := planResult{Private: resp.PlannedPrivate, Identity: noIdentity}
	if emu.Identity {
		v, d := identityFromProto(is, typ, resp.PlannedIdentity)
		if d != nil {
			return planResult{}, append(diags, d)
		}
		out.Identity = v
	}
	if diags.HasErrors() {
		return planResult{}, diags
	}
	pv, err := fromDV(resp.PlannedState, ty)
	if err != nil {
		return planResult{}, append(diags, errorDiag("Provider produced invalid plan",
			fmt.Sprintf("Provider %q planned an invalid value for %s: %v.%s", providerAddr, addr, err, bugTail)))
	}
	if errs := assertPlanValid(rs.Block, prior, config, pv); len(errs) > 0 {
		return planResult{}, append(diags, invalidPlan(addr, errs)...)
	}
	out.Value = pv
	for _, ap := range resp.RequiresReplace {
		out.Replace = append(out.Replace, convertPath(ap))
	}
	return out, diags
}

// checkPlannedIdentity: node_resource_abstract_instance.go plan — an
// identity planned for an update or no-op must be wholly known, any
// planned identity must be of the identity type; strict mode adds that an
// existing object's planned identity is the stored one.
func (s *Session) checkPlannedIdentity(addr, typ string, act Action, prior, planned cty.Value) Diags {
	is := s.schema.identityOf(typ)
	diags := checkIdentity(addr, is, planned, act != Create && act != Replace)
	if !diags.HasErrors() && (act == Update || act == NoOp) {
		diags = append(diags, checkIdentityUnchanged(addr, "planning", prior, planned)...)
	}
	return diags
}

// valueAt applies a path, reporting whether it exists.
func valueAt(v cty.Value, p cty.Path) (cty.Value, bool) {
	if v.IsNull() {
		return cty.NilVal, false
	}
	x, err := p.Apply(v)
	return x, err == nil
}

// decideAction derives the action the way Terraform does from prior,
// planned and requires_replace; it returns the surviving replace paths.
func decideAction(addr string, prior, planned cty.Value, reqRep []cty.Path) (Action, []cty.Path, Diags) {
	if prior.IsNull() {
		return Create, nil, nil
	}
	if planned.IsNull() {
		return Delete, nil, nil
	}
	var keep []cty.Path
	for _, p := range reqRep {
		pv, pok := valueAt(prior, p)
		nv, nok := valueAt(planned, p)
		if !pok && !nok {
			return NoOp, nil, Diags{errorDiag("Provider produced invalid plan",
				fmt.Sprintf("Provider %q has indicated \"requires replacement\" on %s for a non-existent attribute path %s.%s",
					providerAddr, addr, pathString(p), bugTail))}
		}
		if !pok || !nok || !nv.IsWhollyKnown() || !pv.RawEquals(nv) {
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		return Replace, keep, nil
	}
	if planned.RawEquals(prior) {
		return NoOp, nil, nil
	}
	return Update, nil, nil
}

// plan computes every change: instances in configuration (create, update,
// replace, no-op) and instances only in state (delete). destroy plans a
// delete for everything in state.
func (s *Session) plan(ctx context.Context, refreshed map[string]*Refreshed, destroy bool) ([]*Change, Diags) {
	var changes []*Change
	var per []Diags
	var mu sync.Mutex
	add := func(c *Change, d Diags) {
		mu.Lock()
		defer mu.Unlock()
		if c != nil {
			changes = append(changes, c)
		}
		per = append(per, d)
	}
	inConfig := map[string]bool{}
	if !destroy {
		// Blocks in dependency order: a block is expanded and planned with
		// the planned values of the blocks it refers to (unknown where the
		// provider said "known after apply").
		vals := map[string]cty.Value{}
		pendingBlocks := map[string]bool{}
		failed := false
		for _, rc := range s.order {
			insts, d := s.cfg.expandBlock(rc, s.schema, vals)
			if d.HasErrors() {
				add(nil, d)
				failed = true
				break
			}
			results := make([]*Change, len(insts))
			for _, in := range insts {
				s.byAddr[in.Addr] = in
				inConfig[in.Addr] = true
			}
			// As Terraform: a data source that depends on a resource with
			// changes pending is read during apply, after them.
			deferRead := false
			for _, dep := range s.cfg.refs(rc, s.schema) {
				deferRead = deferRead || pendingBlocks[dep]
			}
			levelDiags := make([]Diags, len(insts))
			parallel(s.par, len(insts), func(i int) {
				if rc.Data {
					results[i], levelDiags[i] = s.planData(ctx, insts[i], deferRead)
				} else {
					results[i], levelDiags[i] = s.planInstance(ctx, insts[i], refreshed)
				}
			})
			for i := range insts {
				add(results[i], levelDiags[i])
				if levelDiags[i].HasErrors() {
					failed = true
				} else if a := results[i].Action; a != NoOp && a != ReadNow {
					pendingBlocks[rc.Addr()] = true
				}
			}
			if failed {
				break
			}
			vals[rc.Addr()] = blockValue(rc, insts, func(i int) cty.Value { return results[i].Planned })
			if rc.Data {
				s.dataVals[rc.Addr()] = vals[rc.Addr()]
			}
		}
		if failed {
			return nil, flatten(per)
		}
	}
	var orphans []*Refreshed
	for _, addr := range sortedKeys(refreshed) {
		r := refreshed[addr]
		if r.Current.IsNull() {
			continue // already gone: nothing to destroy
		}
		if inConfig[addr] {
			continue
		}
		orphans = append(orphans, r)
	}
	parallel(s.par, len(orphans), func(i int) {
		r := orphans[i]
		c := &Change{Addr: r.SI.Addr, Type: r.SI.Type, Name: r.SI.Name, Key: r.SI.Key, Action: Delete,
			Prior: r.Current, Planned: cty.NullVal(r.Current.Type()), PriorPrivate: r.Private, PlannedPrivate: r.Private}
		c.PriorIdentity, c.PlannedIdentity = r.Identity, noIdentity
		var d Diags
		if s.schema.PlanDestroy {
			rs := s.schema.Resources[r.SI.Type]
			null := cty.NullVal(impliedType(rs.Block))
			// planOne's checks require a null plan for a null config.
			pr, d2 := s.planOne(ctx, c.Addr, c.Type, r.Current, null, r.Private, r.Identity)
			d = d2
			if !d2.HasErrors() {
				// A destroy may change the identity, not leave it unknown
				// (node_resource_abstract_instance.go planDestroy).
				d = append(d, checkIdentity(c.Addr, s.schema.identityOf(c.Type), pr.Identity, true)...)
			}
			if d.HasErrors() {
				add(nil, d)
				return
			}
			c.PlannedPrivate, c.PlannedIdentity = pr.Private, pr.Identity
		}
		add(c, d)
	})
	sort.Slice(changes, func(i, j int) bool { return changes[i].Addr < changes[j].Addr })
	return changes, flatten(per)
}

// planInstance: the import an import block asks for (when the object is
// not in state yet), validation with known values, PlanResourceChange, the
// action, and for a replacement the second plan as a create.
func (s *Session) planInstance(ctx context.Context, in *Instance, refreshed map[string]*Refreshed) (*Change, Diags) {
	rs := s.schema.Resources[in.Resource.Type]
	prior := cty.NullVal(impliedType(rs.Block))
	priorID := noIdentity
	var priv []byte
	var importing *Importing
	var diags Diags
	if r, ok := refreshed[in.Addr]; ok && !r.Current.IsNull() {
		prior, priv, priorID = r.Current, r.Private, r.Identity
	} else if imp := s.imports[in.Addr]; imp != nil {
		// node_resource_plan_instance.go managedResourceExecute: import
		// first, then plan against the imported object.
		obj, d := s.importObject(ctx, in.Addr, in.Resource.Type, imp.ID, imp.Identity, in.Resource.Syntax)
		diags = append(diags, d...)
		if d.HasErrors() {
			return nil, diags
		}
		prior, priv, priorID = obj.Value, obj.Private, obj.Identity
		importing = &Importing{ID: imp.ID, Identity: imp.Identity, Object: obj}
	}
	// With the values known now, the provider validates again.
	if d := s.validateResource(ctx, in); d.HasErrors() {
		return nil, append(diags, d...)
	}
	pr, d := s.planOne(ctx, in.Addr, in.Resource.Type, prior, in.Config, priv, priorID)
	diags = append(diags, d...)
	if d.HasErrors() {
		return nil, diags
	}
	act, keep, d := decideAction(in.Addr, prior, pr.Value, pr.Replace)
	diags = append(diags, d...)
	if d.HasErrors() {
		return nil, diags
	}
	if d := s.checkPlannedIdentity(in.Addr, in.Resource.Type, act, priorID, pr.Identity); d.HasErrors() {
		return nil, append(diags, d...)
	}
	c := &Change{Addr: in.Addr, Type: in.Resource.Type, Name: in.Resource.Name, Key: in.Key, Action: act,
		Prior: prior, Planned: pr.Value, PriorPrivate: priv, PlannedPrivate: pr.Private, ReplacePaths: keep,
		PriorIdentity: priorID, PlannedIdentity: pr.Identity, Importing: importing}
	if act == Replace {
		// The replacement is planned again as a create, with the first
		// plan's private data and identity (plan, action.IsReplace()).
		cp, d := s.planOne(ctx, in.Addr, in.Resource.Type, cty.NullVal(prior.Type()), in.Config, pr.Private, pr.Identity)
		diags = append(diags, d...)
		if d.HasErrors() {
			return nil, diags
		}
		// "On replace the identity is allowed to change and be unknown."
		if d := checkIdentity(in.Addr, s.schema.identityOf(in.Resource.Type), cp.Identity, false); d.HasErrors() {
			return nil, append(diags, d...)
		}
		c.Planned, c.PlannedPrivate, c.PlannedIdentity = cp.Value, cp.Private, cp.Identity
	}
	return c, diags
}

// planData reads a data source whose configuration is known, or plans the
// read for apply (computed attributes unknown) when it is not or when it
// depends on pending changes.
func (s *Session) planData(ctx context.Context, in *Instance, deferRead bool) (*Change, Diags) {
	ds := s.schema.DataSources[in.Resource.Type]
	c := &Change{Addr: in.Addr, Type: in.Resource.Type, Name: in.Resource.Name, Key: in.Key, Data: true,
		Prior: cty.NullVal(impliedType(ds.Block))}
	if deferRead || !in.Config.IsWhollyKnown() {
		c.Action = ReadLater
		c.Reason = "config refers to values not yet known"
		if deferRead {
			c.Reason = "depends on a resource or a module with changes pending"
		}
		attrs := map[string]cty.Value{}
		for n, a := range ds.Block.Attributes {
			v := in.Config.GetAttr(n)
			if a.Computed && v.IsNull() {
				v = cty.UnknownVal(a.impliedType())
			}
			attrs[n] = v
		}
		for n := range ds.Block.BlockTypes {
			attrs[n] = in.Config.GetAttr(n)
		}
		c.Planned = cty.ObjectVal(attrs)
		return c, nil
	}
	v, d := s.readData(ctx, in)
	if d.HasErrors() {
		return nil, d
	}
	c.Action, c.Planned = ReadNow, v
	return c, d
}

// readData: ValidateDataResourceConfig with the known configuration, then
// ReadDataSource, with Terraform's checks on the result.
func (s *Session) readData(ctx context.Context, in *Instance) (cty.Value, Diags) {
	diags := s.validateResource(ctx, in)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	ds := s.schema.DataSources[in.Resource.Type]
	ty := impliedType(ds.Block)
	dv, err := toDV(in.Config, ty)
	if err != nil {
		return cty.NilVal, append(diags, errorDiag("Invalid data source configuration", err.Error()))
	}
	resp, err := s.p.rpc.ReadDataSource(ctx, &tfplugin6.ReadDataSource_Request{TypeName: in.Resource.Type, Config: dv,
		ClientCapabilities: clientCaps()})
	if err != nil {
		return cty.NilVal, append(diags, rpcErrorDiag("ReadDataSource", err))
	}
	diags = append(diags, s.instanceDiags(resp.Diagnostics, in.Addr)...)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, err := fromDV(resp.State, ty)
	switch {
	case err != nil:
		return cty.NilVal, append(diags, errorDiag("Provider produced invalid object",
			fmt.Sprintf("Provider %q produced an invalid value for %s: %v.%s", providerAddr, in.Addr, err, bugTail)))
	case v.IsNull():
		return cty.NilVal, append(diags, errorDiag("Provider produced null object",
			fmt.Sprintf("Provider %q produced a null value for %s.%s", providerAddr, in.Addr, bugTail)))
	case !v.IsWhollyKnown():
		return cty.NilVal, append(diags, errorDiag("Provider produced invalid object",
			fmt.Sprintf("Provider %q produced a value for %s that is not wholly known.%s", providerAddr, in.Addr, bugTail)))
	}
	if errs := assertPlanValid(ds.Block, cty.NullVal(ty), in.Config, v); len(errs) > 0 {
		for _, e := range errs {
			diags = append(diags, errorDiag("Provider produced invalid object",
				fmt.Sprintf("Provider %q produced an invalid value for %s: %v.%s", providerAddr, in.Addr, e, bugTail)))
		}
		return cty.NilVal, diags
	}
	return v, diags
}

// blockValue is what other resources see of a block: its object, or with
// for_each an object of its instances by key.
func blockValue(rc *ResourceConfig, insts []*Instance, val func(i int) cty.Value) cty.Value {
	if rc.ForEach == nil {
		if len(insts) == 1 {
			return val(0)
		}
		return cty.DynamicVal
	}
	m := map[string]cty.Value{}
	for i, in := range insts {
		m[*in.Key] = val(i)
	}
	return cty.ObjectVal(m)
}

// ---- printing plans ------------------------------------------------------------

type Counts struct{ Import, Add, Change, Destroy int }

// Pending: something to apply (an import alone is a change to apply).
func (c Counts) Pending() bool { return c.Import+c.Add+c.Change+c.Destroy > 0 }

func countChanges(changes []*Change) (c Counts) {
	for _, ch := range changes {
		if ch.Importing != nil {
			c.Import++
		}
		switch ch.Action {
		case Create:
			c.Add++
		case Update:
			c.Change++
		case Delete:
			c.Destroy++
		case Replace:
			c.Add++
			c.Destroy++
		}
	}
	return c
}

// horizontalRule is the UI's rule at Terraform's default width when the
// output is not a terminal.
const horizontalRule = "─────────────────────────────────────────────────────────────────────────────"

// printDrift shows what refresh found changed outside of Terraform.
func (s *Session) printDrift(w io.Writer, refreshed map[string]*Refreshed) {
	var drifted []*Refreshed
	for _, addr := range sortedKeys(refreshed) {
		r := refreshed[addr]
		if !r.Current.RawEquals(r.Prior) {
			drifted = append(drifted, r)
		}
	}
	if len(drifted) == 0 {
		return
	}
	fmt.Fprintf(w, "\nNote: Objects have changed outside of Terraform\n\n")
	fmt.Fprintf(w, "Terraform detected the following changes made outside of Terraform since the\nlast \"terraform apply\" which may have affected this plan:\n\n")
	for _, r := range drifted {
		act := Read
		if r.Current.IsNull() {
			act = Gone
		}
		renderChange(w, r.SI.Addr, r.SI.Type, r.SI.Name, act, s.schema.Resources[r.SI.Type].Block, r.Prior, r.Current, nil)
	}
	fmt.Fprintf(w, "Unless you have made equivalent changes to your configuration, or ignored the\nrelevant attributes using ignore_changes, the following plan may include\nactions to undo or respond to these changes.\n\n")
	fmt.Fprintln(w, horizontalRule)
}

func (s *Session) printPlan(w io.Writer, changes []*Change) Counts {
	c := countChanges(changes)
	if !c.Pending() {
		fmt.Fprintf(w, "\nNo changes. Your infrastructure matches the configuration.\n\n")
		fmt.Fprintf(w, "Terraform has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n")
		return c
	}
	used := map[Action]bool{}
	for _, ch := range changes {
		used[ch.Action] = true
	}
	// The legend lists actions; an import-only plan has none to list
	// (jsonformat/plan.go renderHuman: willPrintResourceChanges).
	if c.Add+c.Change+c.Destroy > 0 || used[ReadLater] {
		fmt.Fprintf(w, "\n%s", planLegend)
		for _, a := range []Action{Create, Update, Delete, Replace} {
			if used[a] {
				label := map[Action]string{Create: "create", Update: "update in-place", Delete: "destroy",
					Replace: "destroy and then create replacement"}[a]
				fmt.Fprintf(w, "%3s %s\n", a.symbol(), label)
			}
		}
	}
	fmt.Fprintf(w, "\nTerraform will perform the following actions:\n\n")
	for _, ch := range changes {
		if ch.Action == NoOp && ch.Importing != nil {
			renderChange(w, ch.Addr, ch.Type, ch.Name, Imported, s.schema.Resources[ch.Type].Block, ch.Prior, ch.Planned, nil)
			continue
		}
		if ch.Action == NoOp || ch.Action == ReadNow {
			continue
		}
		if ch.Action == ReadLater {
			renderChange(w, ch.Addr, ch.Type, ch.Name, ch.Action, s.schema.DataSources[ch.Type].Block, ch.Prior, ch.Planned, nil, ch.Reason)
			continue
		}
		b := s.schema.Resources[ch.Type].Block
		before, after := ch.Prior, ch.Planned
		var notes []string
		if ch.Importing != nil {
			// jsonformat/plan.go resourceChangeComment.
			if ch.Importing.ID != "" {
				notes = append(notes, fmt.Sprintf("imported from %q", ch.Importing.ID))
			} else {
				notes = append(notes, "will be imported first")
			}
		}
		renderChange(w, ch.Addr, ch.Type, ch.Name, ch.Action, b, before, after, ch.ReplacePaths, notes...)
	}
	fmt.Fprint(w, "Plan: ")
	if c.Import > 0 {
		fmt.Fprintf(w, "%d to import, ", c.Import)
	}
	fmt.Fprintf(w, "%d to add, %d to change, %d to destroy.\n", c.Add, c.Change, c.Destroy)
	return c
}

// ---- apply ----------------------------------------------------------------------

func inconsistentResult(addr string, errs []error) Diags {
	var out Diags
	for _, e := range errs {
		out = append(out, errorDiag("Provider produced inconsistent result after apply",
			fmt.Sprintf("When applying changes to %s, provider %q produced an unexpected new value: %v.%s", addr, providerRef(), e, bugTail)))
	}
	return out
}

// Object is one remote object as Terraform holds it: the value, the
// provider's private data and the identity.
type RemoteObject struct {
	Value    cty.Value
	Private  []byte
	Identity cty.Value
}

// applyCall runs ApplyResourceChange and the checks on its result
// (node_resource_abstract_instance.go apply). act is the change's action:
// an update must keep the object's identity (strict mode).
func (s *Session) applyCall(ctx context.Context, addr, typ string, act Action, prior RemoteObject, planned, plannedIdentity, config cty.Value, private []byte) (RemoteObject, Diags) {
	rs := s.schema.Resources[typ]
	ty := impliedType(rs.Block)
	var dvs [3]*tfplugin6.DynamicValue
	for i, v := range []cty.Value{prior.Value, planned, config} {
		dv, err := toDV(v, ty)
		if err != nil {
			return prior, Diags{errorDiag("Invalid value", err.Error())}
		}
		dvs[i] = dv
	}
	req := &tfplugin6.ApplyResourceChange_Request{
		TypeName: typ, PriorState: dvs[0], PlannedState: dvs[1], Config: dvs[2], PlannedPrivate: private}
	is := s.schema.identityOf(typ)
	if emu.Identity {
		var d *Diag
		if req.PlannedIdentity, d = identityToProto(is, typ, plannedIdentity); d != nil {
			return prior, Diags{d}
		}
	}
	resp, err := s.p.rpc.ApplyResourceChange(ctx, req)
	if err != nil {
		return prior, Diags{rpcErrorDiag("ApplyResourceChange", err)}
	}
	diags := s.instanceDiags(resp.Diagnostics, addr)
	newID := noIdentity
	if emu.Identity {
		v, d := identityFromProto(is, typ, resp.NewIdentity)
		if d != nil {
			return prior, append(diags, d)
		}
		newID = v
		diags = append(diags, checkIdentity(addr, is, newID, true)...)
	}
	nv, err := fromDV(resp.NewState, ty)
	if err != nil {
		return prior, append(diags, errorDiag("Provider produced invalid object",
			fmt.Sprintf("Provider %q produced an invalid value after apply for %s. The result cannot not be saved in the Terraform state.%s", providerAddr, addr, bugTail)))
	}
	got := RemoteObject{Value: nv, Private: resp.Private, Identity: newID}
	if diags.HasErrors() {
		// Keep what the provider says exists; a null answer to a failed
		// create or update means the prior object is still there.
		if nv.IsNull() && !planned.IsNull() {
			return prior, diags
		}
		if _, ok := assertKnown(nv); !ok {
			return prior, diags
		}
		return got, diags
	}
	if p, ok := assertKnown(nv); !ok {
		return prior, append(diags, errorDiag("Provider returned invalid result object after apply",
			fmt.Sprintf("After the apply operation, the provider still indicated an unknown value for %s%s. All values must be known after apply, so this is always a bug in the provider and should be reported in the provider's own repository. Terraform will still save the other known object values in the state.", addr, pathString(p))))
	}
	switch {
	case planned.IsNull() && !nv.IsNull():
		return got, append(diags, inconsistentResult(addr, []error{fmt.Errorf("Root object was absent, but now present")})...)
	case !planned.IsNull() && nv.IsNull():
		return prior, append(diags, inconsistentResult(addr, []error{fmt.Errorf("Root object was present, but now absent")})...)
	}
	if errs := assertObjectCompatible(rs.Block, planned, nv); len(errs) > 0 {
		return got, append(diags, inconsistentResult(addr, errs)...)
	}
	if act == Update {
		diags = append(diags, checkIdentityUnchanged(addr, "apply", prior.Identity, newID)...)
	}
	return got, diags
}

type applyStats struct {
	mu     sync.Mutex
	counts Counts
}

// apply carries out changes (planned by an earlier session) in this
// session: a final plan per instance, checked against the first, then
// ApplyResourceChange. State is updated under a lock as results come in.
func (s *Session) apply(ctx context.Context, out io.Writer, st *State, changes []*Change) (Counts, Diags) {
	var todo []*Change
	dataChanges := map[string]*Change{}
	for _, c := range changes {
		switch {
		case c.Data:
			dataChanges[c.Addr] = c
		case c.Action != NoOp:
			todo = append(todo, c)
		}
	}
	var mu sync.Mutex // guards st and output
	stats := &applyStats{}
	var per []Diags
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(out, format, args...)
		mu.Unlock()
	}
	save := func(c *Change, o RemoteObject) error {
		mu.Lock()
		defer mu.Unlock()
		return s.saveObject(st, c.Addr, c.Type, c.Name, c.Key, o)
	}
	idOf := func(v cty.Value) string {
		if !v.IsNull() && v.Type().IsObjectType() && v.Type().HasAttribute("id") {
			if id := v.GetAttr("id"); id.IsKnown() && !id.IsNull() && id.Type() == cty.String {
				return fmt.Sprintf(" [id=%s]", id.AsString())
			}
		}
		return ""
	}
	var cancelled atomic.Int64
	applyOne := func(c *Change) (diags Diags) {
		if interrupted.Load() {
			cancelled.Add(1)
			return nil
		}
		started := time.Now()
		elapsed := func() string { return fmt.Sprintf("%ds", int(time.Since(started).Seconds())) }
		priorObj := RemoteObject{Value: c.Prior, Private: c.PriorPrivate, Identity: c.PriorIdentity}
		if c.Action == Delete || c.Action == Replace {
			say("%s: Destroying...%s\n", c.Addr, idOf(c.Prior))
			null := cty.NullVal(c.Prior.Type())
			plannedID := c.PlannedIdentity
			if c.Action == Replace {
				plannedID = noIdentity // the destroy half plans nothing of its own
			}
			nv, d := s.applyCall(ctx, c.Addr, c.Type, Delete, priorObj, null, plannedID, null, c.PriorPrivate)
			diags = append(diags, d...)
			if err := save(c, nv); err != nil {
				diags = append(diags, errorDiag("Failed to save state", err.Error()))
			}
			if diags.HasErrors() {
				return
			}
			say("%s: Destruction complete after %s\n", c.Addr, elapsed())
			if c.Action == Delete {
				stats.mu.Lock()
				stats.counts.Destroy++
				stats.mu.Unlock()
				return
			}
		}
		in := s.byAddr[c.Addr]
		if in == nil {
			diags = append(diags, errorDiag("Configuration changed",
				fmt.Sprintf("%s was planned for %s but is no longer in the configuration.", c.Addr, c.Action)))
			return
		}
		prior := c.Prior
		wantAction := c.Action
		if c.Action == Replace {
			prior = cty.NullVal(c.Prior.Type())
			wantAction = Create
			priorObj = RemoteObject{Value: prior, Identity: noIdentity}
		}
		// The final plan: same configuration, now with everything known.
		if d := s.validateResource(ctx, in); d.HasErrors() {
			diags = append(diags, d...)
			return
		}
		pr, d := s.planOne(ctx, c.Addr, c.Type, prior, in.Config, c.PriorPrivate, priorObj.Identity)
		diags = append(diags, d...)
		if d.HasErrors() {
			return
		}
		planned := pr.Value
		act, _, d := decideAction(c.Addr, prior, planned, pr.Replace)
		diags = append(diags, d...)
		if d.HasErrors() {
			return
		}
		if d := s.checkPlannedIdentity(c.Addr, c.Type, act, priorObj.Identity, pr.Identity); d.HasErrors() {
			diags = append(diags, d...)
			return
		}
		if act != wantAction && !(wantAction == Update && act == NoOp) {
			diags = append(diags, errorDiag("Provider produced inconsistent final plan",
				fmt.Sprintf("When expanding the plan for %s to include new values learned so far during apply, provider %q changed the planned action from %s to %s.%s",
					c.Addr, providerAddr, wantAction, act, bugTail)))
			return
		}
		if errs := assertObjectCompatible(s.schema.Resources[c.Type].Block, c.Planned, planned); len(errs) > 0 {
			for _, e := range errs {
				diags = append(diags, errorDiag("Provider produced inconsistent final plan",
					fmt.Sprintf("When expanding the plan for %s to include new values learned so far during apply, provider %q produced an invalid new value for %v.%s",
						c.Addr, providerAddr, e, bugTail)))
			}
			return
		}
		if wantAction == Create {
			say("%s: Creating...\n", c.Addr)
		} else {
			say("%s: Modifying...%s\n", c.Addr, idOf(prior))
		}
		nv, d := s.applyCall(ctx, c.Addr, c.Type, wantAction, priorObj, planned, pr.Identity, in.Config, pr.Private)
		diags = append(diags, d...)
		if err := save(c, nv); err != nil {
			diags = append(diags, errorDiag("Failed to save state", err.Error()))
		}
		if diags.HasErrors() {
			return
		}
		stats.mu.Lock()
		if wantAction == Create {
			stats.counts.Add++
			if c.Action == Replace {
				stats.counts.Destroy++
			}
			say("%s: Creation complete after %s%s\n", c.Addr, elapsed(), idOf(nv.Value))
		} else {
			stats.counts.Change++
			say("%s: Modifications complete after %s%s\n", c.Addr, elapsed(), idOf(nv.Value))
		}
		stats.mu.Unlock()
		return diags
	}
	run := func(cs []*Change) bool {
		res := make([]Diags, len(cs))
		parallel(s.par, len(cs), func(i int) { res[i] = applyOne(cs[i]) })
		per = append(per, res...)
		return !flatten(res).HasErrors()
	}
	// Deletions of what left the configuration first, then block by block
	// in dependency order: a block's instances are expanded again with the
	// applied values of the blocks they refer to, now known, for their
	// final plan. A block whose dependency failed is not applied.
	var deletes []*Change
	byBlock := map[string][]*Change{}
	for _, c := range todo {
		if c.Action == Delete {
			deletes = append(deletes, c)
		} else {
			byBlock[c.Type+"."+c.Name] = append(byBlock[c.Type+"."+c.Name], c)
		}
	}
	// Imports were done at plan time; apply records the imported objects
	// first (context_apply.go Apply).
	for _, c := range changes {
		if c.Importing == nil {
			continue
		}
		say("%s", importSummary(c.Addr, c.Importing))
		if err := save(c, c.Importing.Object); err != nil {
			per = append(per, Diags{errorDiag("Failed to save state", err.Error())})
			continue
		}
		stats.counts.Import++
	}
	// Deletions go dependents first, as Terraform destroys in reverse
	// dependency order (a tenant that refers to a cell is destroyed before
	// the cell; terraform/graph_builder_apply.go, DestroyEdgeTransformer).
	// Blocks no longer in the configuration have no dependencies known
	// here (Terraform records them in the state) and go first. A block
	// that a block whose deletion failed depends on is not destroyed.
	delByBlock := map[string][]*Change{}
	for _, c := range deletes {
		delByBlock[c.Type+"."+c.Name] = append(delByBlock[c.Type+"."+c.Name], c)
	}
	inConfig := map[string]bool{}
	for _, rc := range s.order {
		inConfig[rc.Addr()] = true
	}
	var orphans []*Change
	for _, c := range deletes {
		if !inConfig[c.Type+"."+c.Name] {
			orphans = append(orphans, c)
		}
	}
	run(orphans)
	delFailed := map[string]bool{}
	for i := len(s.order) - 1; i >= 0; i-- {
		addr := s.order[i].Addr()
		if len(delByBlock[addr]) == 0 {
			continue
		}
		for _, other := range s.order {
			for _, dep := range s.cfg.refs(other, s.schema) {
				if dep == addr && delFailed[other.Addr()] {
					delFailed[addr] = true
				}
			}
		}
		if !delFailed[addr] && !run(delByBlock[addr]) {
			delFailed[addr] = true
		}
	}
	// A block this apply destroyed whole (terraform destroy) is not
	// evaluated again: its references may point at destroyed objects.
	gone := func(addr string) bool {
		if len(delByBlock[addr]) == 0 || len(byBlock[addr]) > 0 {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for _, si := range st.Instances {
			if si.Type+"."+si.Name == addr {
				return false
			}
		}
		return true
	}
	vals := map[string]cty.Value{}
	failed := map[string]bool{}
	for _, rc := range s.order {
		if gone(rc.Addr()) {
			continue
		}
		skip := false
		for _, dep := range s.cfg.refs(rc, s.schema) {
			skip = skip || failed[dep]
		}
		if skip {
			failed[rc.Addr()] = true
			continue
		}
		insts, d := s.cfg.expandBlock(rc, s.schema, vals)
		if d.HasErrors() {
			per = append(per, d)
			failed[rc.Addr()] = true
			continue
		}
		for _, in := range insts {
			s.byAddr[in.Addr] = in
		}
		if rc.Data {
			// Data sources read at plan keep that value; those deferred
			// (or new) are read now that their configuration is known.
			values := make([]cty.Value, len(insts))
			var dd Diags
			for i, in := range insts {
				if c := dataChanges[in.Addr]; c != nil && c.Action == ReadNow {
					values[i] = c.Planned
					continue
				}
				say("%s: Reading...\n", in.Addr)
				v, d := s.readData(ctx, in)
				dd = append(dd, d...)
				values[i] = v
				if !d.HasErrors() {
					say("%s: Read complete after 0s%s\n", in.Addr, idOf(v))
				}
			}
			per = append(per, dd)
			if dd.HasErrors() {
				failed[rc.Addr()] = true
				continue
			}
			v := blockValue(rc, insts, func(i int) cty.Value { return values[i] })
			vals[rc.Addr()] = v
			s.dataVals[rc.Addr()] = v
			continue
		}
		if !run(byBlock[rc.Addr()]) {
			failed[rc.Addr()] = true
			continue
		}
		v, err := s.stateBlockValue(st, rc, insts)
		if err != nil {
			per = append(per, Diags{errorDiag("Invalid state", err.Error())})
			failed[rc.Addr()] = true
			continue
		}
		vals[rc.Addr()] = v
	}
	if n := cancelled.Load(); n > 0 || interrupted.Load() {
		per = append(per, Diags{errorDiag("Operation cancelled",
			fmt.Sprintf("tfcore was interrupted: %d planned operations were not started. The state records what was done; run apply again to finish.", n))})
	}
	return stats.counts, flatten(per)
}

// stateBlockValue reads a block's applied instances back from the state.
func (s *Session) stateBlockValue(st *State, rc *ResourceConfig, insts []*Instance) (cty.Value, error) {
	ty := impliedType(s.schema.Resources[rc.Type].Block)
	vs := make([]cty.Value, len(insts))
	for i, in := range insts {
		si := st.Instances[in.Addr]
		if si == nil {
			vs[i] = cty.NullVal(ty)
			continue
		}
		v, err := ctyjson.Unmarshal(si.Attrs, ty)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%s: %v", in.Addr, err)
		}
		vs[i] = v
	}
	return blockValue(rc, insts, func(i int) cty.Value { return vs[i] }), nil
}
