// tfcore_test.go — tests of tfcore's own rules, without a provider: the
// schema checks Terraform applies, ProposedNew, the plan/apply consistency
// checks and their wording, configuration reading, state files and plan
// rendering. A harness whose checks cannot fail would prove nothing about
// the provider, so each check is shown here to fail on bad input.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cellrouter/proto/tfplugin6"

	"github.com/zclconf/go-cty/cty"
)

func tenantBlock() *Block {
	str := func(req, opt, comp bool) *Attribute {
		return &Attribute{Type: cty.String, Required: req, Optional: opt, Computed: comp}
	}
	return &Block{Attributes: map[string]*Attribute{
		"tenant_id": str(true, false, false),
		"cell_id":   str(true, false, false),
		"standby":   str(false, true, false),
		"note":      str(false, true, true),
		"id":        str(false, false, true),
		"version":   {Type: cty.Number, Computed: true},
		"labels":    {Type: cty.Map(cty.String), Optional: true},
		"secret":    {Type: cty.String, Optional: true, Sensitive: true},
	}, BlockTypes: map[string]*NestedBlock{}}
}

func obj(m map[string]cty.Value) cty.Value {
	b := tenantBlock()
	full := map[string]cty.Value{}
	for n, a := range b.Attributes {
		full[n] = cty.NullVal(a.Type)
	}
	for k, v := range m {
		full[k] = v
	}
	return cty.ObjectVal(full)
}

func wantErr(t *testing.T, errs []error, substr string) {
	t.Helper()
	for _, e := range errs {
		if strings.Contains(e.Error(), substr) {
			return
		}
	}
	t.Fatalf("want an error containing %q, got %v", substr, errs)
}

func TestSchemaConversionRejectsBadTypes(t *testing.T) {
	cases := map[string]*tfplugin6.Schema{
		"unquoted type": {Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
			{Name: "a", Type: []byte("string"), Optional: true}}}},
		"no type": {Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
			{Name: "a", Optional: true}}}},
		"no block": {},
		"nested block without block": {Block: &tfplugin6.Schema_Block{BlockTypes: []*tfplugin6.Schema_NestedBlock{
			{TypeName: "b", Nesting: tfplugin6.Schema_NestedBlock_LIST}}}},
		"invalid nesting": {Block: &tfplugin6.Schema_Block{BlockTypes: []*tfplugin6.Schema_NestedBlock{
			{TypeName: "b", Block: &tfplugin6.Schema_Block{}}}}},
		"duplicate attribute": {Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
			{Name: "a", Type: []byte(`"string"`), Optional: true}, {Name: "a", Type: []byte(`"string"`), Optional: true}}}},
	}
	for name, s := range cases {
		if _, err := convertSchema(s, "resource x"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := &tfplugin6.Schema{Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
		{Name: "labels", Type: []byte(`["map","string"]`), Optional: true}}}}
	s, err := convertSchema(ok, "resource x")
	if err != nil || !s.Block.Attributes["labels"].Type.Equals(cty.Map(cty.String)) {
		t.Fatalf("valid schema: %v %#v", err, s)
	}
}

func TestInternalValidate(t *testing.T) {
	if errs := validateBlock(tenantBlock(), "r"); len(errs) != 0 {
		t.Fatalf("valid block rejected: %v", errs)
	}
	bad := []struct {
		attr *Attribute
		want string
	}{
		{&Attribute{Type: cty.String}, "must set Optional, Required or Computed"},
		{&Attribute{Type: cty.String, Optional: true, Required: true}, "cannot set both Optional and Required"},
		{&Attribute{Type: cty.String, Computed: true, Required: true}, "cannot set both Computed and Required"},
		{&Attribute{Optional: true}, "either Type or NestedType must be defined"},
	}
	for _, c := range bad {
		b := &Block{Attributes: map[string]*Attribute{"a": c.attr}, BlockTypes: map[string]*NestedBlock{}}
		wantErr(t, validateBlock(b, "r"), c.want)
	}
	b := &Block{Attributes: map[string]*Attribute{"Bad-Name": {Type: cty.String, Optional: true}}}
	wantErr(t, validateBlock(b, "r"), "lowercase letters")
	inner := &Block{Attributes: map[string]*Attribute{}}
	b = &Block{Attributes: map[string]*Attribute{"x": {Type: cty.String, Optional: true}},
		BlockTypes: map[string]*NestedBlock{"x": {Block: inner, Nesting: nestingList}}}
	wantErr(t, validateBlock(b, "r"), "both attribute and child block type")
	b = &Block{BlockTypes: map[string]*NestedBlock{"s": {Block: inner, Nesting: nestingSingle, MaxItems: 2}}}
	wantErr(t, validateBlock(b, "r"), "NestingSingle")
	b = &Block{BlockTypes: map[string]*NestedBlock{"l": {Block: inner, Nesting: nestingList, MinItems: 3, MaxItems: 2}}}
	wantErr(t, validateBlock(b, "r"), "MinItems must be less than or equal to MaxItems")
}

func TestProposedNew(t *testing.T) {
	b := tenantBlock()
	config := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2")})
	// Create: computed attributes stay null, config is kept.
	p := proposedNew(b, cty.NullVal(impliedType(b)), config)
	if !p.GetAttr("version").IsNull() || p.GetAttr("cell_id").AsString() != "c2" {
		t.Fatalf("create: %#v", p)
	}
	prior := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c1"),
		"id": cty.StringVal("t"), "version": cty.NumberIntVal(3), "note": cty.StringVal("n"),
		"standby": cty.StringVal("old")})
	p = proposedNew(b, prior, config)
	if v := p.GetAttr("version"); !v.RawEquals(cty.NumberIntVal(3)) {
		t.Errorf("computed null in config should take prior: %#v", v)
	}
	if v := p.GetAttr("note"); v.AsString() != "n" {
		t.Errorf("optional+computed null in config should take prior: %#v", v)
	}
	if v := p.GetAttr("standby"); !v.IsNull() {
		t.Errorf("optional-only null in config must stay null: %#v", v)
	}
	if v := p.GetAttr("cell_id"); v.AsString() != "c2" {
		t.Errorf("config value must win: %#v", v)
	}
}

func TestAssertPlanValid(t *testing.T) {
	b := tenantBlock()
	config := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2")})
	prior := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c1"),
		"id": cty.StringVal("t"), "version": cty.NumberIntVal(3)})
	good := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2"),
		"id": cty.StringVal("t"), "version": cty.UnknownVal(cty.Number), "note": cty.StringVal("default")})
	if errs := assertPlanValid(b, prior, config, good); len(errs) != 0 {
		t.Fatalf("valid plan rejected: %v", errs)
	}
	keepPrior := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c1"),
		"id": cty.StringVal("t"), "version": cty.NumberIntVal(3)})
	if errs := assertPlanValid(b, prior, config, keepPrior); len(errs) != 0 {
		t.Fatalf("keeping the prior value is allowed: %v", errs)
	}
	changed := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c9")})
	wantErr(t, assertPlanValid(b, prior, config, changed),
		`.cell_id: planned value cty.StringVal("c9") does not match config value cty.StringVal("c2") nor prior value cty.StringVal("c1")`)
	wantErr(t, assertPlanValid(b, cty.NullVal(impliedType(b)), config, changed),
		`.cell_id: planned value cty.StringVal("c9") does not match config value cty.StringVal("c2")`)
	defaulted := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2"),
		"standby": cty.StringVal("x")})
	wantErr(t, assertPlanValid(b, prior, config, defaulted), `.standby: planned value cty.StringVal("x") for a non-computed attribute`)
	unknownReq := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.UnknownVal(cty.String)})
	wantErr(t, assertPlanValid(b, prior, config, unknownReq), ".cell_id: planned value cty.UnknownVal(cty.String) does not match")
	secret := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2"),
		"secret": cty.StringVal("leak")})
	errs := assertPlanValid(b, prior, config, secret)
	wantErr(t, errs, ".secret: planned value for a non-computed attribute")
	for _, e := range errs {
		if strings.Contains(e.Error(), "leak") {
			t.Fatalf("sensitive value in message: %v", e)
		}
	}
	wantErr(t, assertPlanValid(b, prior, config, cty.NullVal(impliedType(b))), "planned for absence but config wants existence")
	wantErr(t, assertPlanValid(b, prior, cty.NullVal(impliedType(b)), good), "planned for existence but config wants absence")
}

func TestAssertObjectCompatible(t *testing.T) {
	b := tenantBlock()
	planned := obj(map[string]cty.Value{"cell_id": cty.StringVal("a"), "version": cty.UnknownVal(cty.Number),
		"labels": cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")})})
	actual := obj(map[string]cty.Value{"cell_id": cty.StringVal("a"), "version": cty.NumberIntVal(7),
		"labels": cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")})})
	if errs := assertObjectCompatible(b, planned, actual); len(errs) != 0 {
		t.Fatalf("compatible result rejected: %v", errs)
	}
	bad := obj(map[string]cty.Value{"cell_id": cty.StringVal("b"), "version": cty.NumberIntVal(7),
		"labels": cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v"), "n": cty.StringVal("x")})})
	errs := assertObjectCompatible(b, planned, bad)
	wantErr(t, errs, `.cell_id: was cty.StringVal("a"), but now cty.StringVal("b")`)
	wantErr(t, errs, `.labels["n"]: new element "n" has appeared`)
	gone := obj(map[string]cty.Value{"version": cty.NumberIntVal(7),
		"labels": cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")})})
	wantErr(t, assertObjectCompatible(b, planned, gone), `.cell_id: was cty.StringVal("a"), but now null`)
	if _, ok := assertKnown(planned); ok {
		t.Fatal("assertKnown missed an unknown")
	}
	if p, ok := assertKnown(actual); !ok {
		t.Fatalf("assertKnown found an unknown at %v", p)
	}
}

func TestDecideAction(t *testing.T) {
	prior := obj(map[string]cty.Value{"tenant_id": cty.StringVal("a"), "cell_id": cty.StringVal("c")})
	same := prior
	moved := obj(map[string]cty.Value{"tenant_id": cty.StringVal("b"), "cell_id": cty.StringVal("c")})
	recell := obj(map[string]cty.Value{"tenant_id": cty.StringVal("a"), "cell_id": cty.StringVal("d")})
	tid := cty.GetAttrPath("tenant_id")
	cases := []struct {
		prior, planned cty.Value
		rr             []cty.Path
		want           Action
	}{
		{cty.NullVal(prior.Type()), same, nil, Create},
		{prior, cty.NullVal(prior.Type()), nil, Delete},
		{prior, same, []cty.Path{tid}, NoOp},
		{prior, moved, []cty.Path{tid}, Replace},
		{prior, recell, []cty.Path{tid}, Update},
	}
	for i, c := range cases {
		got, _, d := decideAction("x", c.prior, c.planned, c.rr)
		if d.HasErrors() || got != c.want {
			t.Errorf("case %d: got %v (%v), want %v", i, got, d, c.want)
		}
	}
	_, _, d := decideAction("x", prior, recell, []cty.Path{cty.GetAttrPath("nope")})
	if !d.HasErrors() || !strings.Contains(d[0].Detail, "non-existent attribute path") {
		t.Fatalf("a requires_replace path that exists nowhere must be an invalid plan: %v", d)
	}
}

func testSchema() *ProviderSchema {
	b := &Block{Attributes: map[string]*Attribute{
		"tenant_id": {Type: cty.String, Required: true},
		"cell_id":   {Type: cty.String, Required: true},
		"labels":    {Type: cty.Map(cty.String), Optional: true},
		"id":        {Type: cty.String, Computed: true},
	}}
	return &ProviderSchema{
		Provider:  &Schema{Block: &Block{Attributes: map[string]*Attribute{"path": {Type: cty.String, Optional: true}}}},
		Resources: map[string]*Schema{"cellrouter_tenant": {Block: b}},
	}
}

func writeTF(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConfigExpand(t *testing.T) {
	dir := writeTF(t, `
variable "cells" {
  type    = map(string)
  default = { a = "cell-1", b = "cell-2" }
}
variable "prefix" { default = "t-" }
locals {
  full   = "${local.prefix}x"
  prefix = var.prefix
}
provider "cellrouter" { path = "/tmp/x.db" }
resource "cellrouter_tenant" "m" {
  for_each  = var.cells
  tenant_id = "${local.prefix}${each.key}"
  cell_id   = each.value
  labels    = { k = local.full }
}
resource "cellrouter_tenant" "one" {
  tenant_id = "one"
  cell_id   = upper("c")
}
`)
	cfg, diags := loadConfig(dir, []string{`cells={ z = "cell-9" }`})
	if diags.HasErrors() {
		t.Fatalf("%v", diags[0])
	}
	ps := testSchema()
	insts, diags := cfg.expand(ps)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", diags[0].Summary, diags[0].Detail)
	}
	var addrs []string
	for _, in := range insts {
		addrs = append(addrs, in.Addr)
	}
	if got := strings.Join(addrs, " "); got != `cellrouter_tenant.m["z"] cellrouter_tenant.one` {
		t.Fatalf("instances: %s", got)
	}
	m := insts[0].Config
	if m.GetAttr("tenant_id").AsString() != "t-z" || m.GetAttr("cell_id").AsString() != "cell-9" ||
		m.GetAttr("labels").Index(cty.StringVal("k")).AsString() != "t-x" || !m.GetAttr("id").IsNull() {
		t.Fatalf("decoded: %#v", m)
	}
	if insts[1].Config.GetAttr("cell_id").AsString() != "C" {
		t.Fatalf("function call: %#v", insts[1].Config)
	}
	pc, diags := cfg.providerConfig(ps)
	if diags.HasErrors() || pc.GetAttr("path").AsString() != "/tmp/x.db" {
		t.Fatalf("provider config: %#v %v", pc, diags)
	}
}

func TestConfigErrors(t *testing.T) {
	ps := testSchema()
	cases := map[string]struct{ src, want string }{
		"missing required": {`resource "cellrouter_tenant" "a" { tenant_id = "a" }`, "Missing required argument"},
		"wrong type":       {`resource "cellrouter_tenant" "a" {` + "\n" + `tenant_id = "a"` + "\n" + `cell_id = ["x"]` + "\n}", "Incorrect attribute value type"},
		"unknown argument": {`resource "cellrouter_tenant" "a" {` + "\n" + `tenant_id = "a"` + "\n" + `cell_id = "x"` + "\n" + `nope = 1` + "\n}", "Unsupported argument"},
		"for_each list":    {`resource "cellrouter_tenant" "a" {` + "\n" + `for_each = ["a"]` + "\n" + `tenant_id = "a"` + "\n" + `cell_id = "x"` + "\n}", "Invalid for_each argument"},
		"unknown type":     {`resource "cellrouter_other" "a" {}`, "Invalid resource type"},
		"resource ref":     {`resource "cellrouter_tenant" "a" {` + "\n" + `tenant_id = cellrouter_tenant.b.id` + "\n" + `cell_id = "x"` + "\n}", "Reference to undeclared resource"},
	}
	for name, c := range cases {
		cfg, diags := loadConfig(writeTF(t, c.src), nil)
		if !diags.HasErrors() {
			_, diags = cfg.blockConfigs(ps)
		}
		if !diags.HasErrors() {
			_, diags = cfg.expand(ps)
		}
		found := false
		for _, d := range diags {
			if strings.Contains(d.Summary, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q, got %d diagnostics", name, c.want, len(diags))
			for _, d := range diags {
				t.Logf("  %s: %s", d.Summary, d.Detail)
			}
		}
	}
	_, diags := loadConfig(writeTF(t, `variable "x" {}`), nil)
	if !diags.HasErrors() || diags[0].Summary != "No value for required variable" {
		t.Errorf("missing variable value: %v", diags)
	}
	_, diags = loadConfig(writeTF(t, `locals {
  a = local.b
  b = local.a
}`), nil)
	if !diags.HasErrors() {
		t.Errorf("local cycle accepted")
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.tfstate")
	st, err := readState(path)
	if err != nil || len(st.Instances) != 0 {
		t.Fatalf("missing state file: %v", err)
	}
	k := "acme"
	st.Instances[`cellrouter_tenant.t["acme"]`] = &StateInstance{Addr: `cellrouter_tenant.t["acme"]`, Type: "cellrouter_tenant",
		Name: "t", Key: &k, Attrs: []byte(`{"id":"acme"}`), Private: []byte{0, 1, 2}}
	st.Instances["cellrouter_tenant.one"] = &StateInstance{Addr: "cellrouter_tenant.one", Type: "cellrouter_tenant",
		Name: "one", SchemaVersion: 1, Attrs: []byte(`{"id":"one"}`)}
	if err := st.write(); err != nil {
		t.Fatal(err)
	}
	again, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.Serial != 1 || again.Lineage != st.Lineage || len(again.Instances) != 2 {
		t.Fatalf("reread: %+v", again)
	}
	a := again.Instances[`cellrouter_tenant.t["acme"]`]
	var compact bytes.Buffer
	if a != nil {
		_ = json.Compact(&compact, a.Attrs)
	}
	if a == nil || *a.Key != "acme" || !bytes.Equal(a.Private, []byte{0, 1, 2}) || compact.String() != `{"id":"acme"}` {
		t.Fatalf("instance: %+v", a)
	}
	if again.Instances["cellrouter_tenant.one"].SchemaVersion != 1 {
		t.Fatal("schema_version lost")
	}
	os.WriteFile(path, []byte(`{"version": 3}`), 0o644)
	if _, err := readState(path); err == nil {
		t.Fatal("state format 3 accepted")
	}
	os.WriteFile(path, []byte(`{"version": 4, "resources": [`), 0o644)
	if _, err := readState(path); err == nil {
		t.Fatal("truncated state accepted")
	}
}

func TestRender(t *testing.T) {
	b := tenantBlock()
	after := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c2"),
		"version": cty.UnknownVal(cty.Number), "secret": cty.StringVal("hidden")})
	var w bytes.Buffer
	renderChange(&w, "cellrouter_tenant.a", "cellrouter_tenant", "a", Create, b, cty.NullVal(after.Type()), after, nil)
	out := w.String()
	for _, want := range []string{"# cellrouter_tenant.a will be created", `+ resource "cellrouter_tenant" "a" {`,
		`+ cell_id   = "c2"`, "+ version   = (known after apply)", "+ secret    = (sensitive value)"} {
		if !strings.Contains(out, want) {
			t.Errorf("create rendering lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("sensitive value shown:\n%s", out)
	}
	before := obj(map[string]cty.Value{"tenant_id": cty.StringVal("t"), "cell_id": cty.StringVal("c1"),
		"id": cty.StringVal("t"), "note": cty.StringVal("n")})
	after = obj(map[string]cty.Value{"tenant_id": cty.StringVal("u"), "cell_id": cty.StringVal("c1"),
		"id": cty.StringVal("t"), "note": cty.StringVal("n")})
	w.Reset()
	renderChange(&w, "cellrouter_tenant.a", "cellrouter_tenant", "a", Replace, b, before, after, []cty.Path{cty.GetAttrPath("tenant_id")})
	out = w.String()
	for _, want := range []string{"must be replaced", `-/+ resource`, `~ tenant_id = "t" -> "u" # forces replacement`,
		`id        = "t"`, "# (2 unchanged attributes hidden)"} {
		if !strings.Contains(out, want) {
			t.Errorf("replace rendering lacks %q:\n%s", want, out)
		}
	}
}

func TestOrderAndReferences(t *testing.T) {
	cfg, diags := loadConfig(writeTF(t, `
resource "cellrouter_tenant" "c" {
  tenant_id = cellrouter_tenant.b.tenant_id
  cell_id   = cellrouter_tenant.a.cell_id
}
resource "cellrouter_tenant" "b" {
  tenant_id = "b"
  cell_id   = cellrouter_tenant.a.id
}
resource "cellrouter_tenant" "a" {
  tenant_id = "a"
  cell_id   = "x"
}
`), nil)
	if diags.HasErrors() {
		t.Fatalf("%v", diags[0])
	}
	ps := testSchema()
	order, diags := cfg.order(ps)
	if diags.HasErrors() {
		t.Fatalf("%s", diags[0].Detail)
	}
	var names []string
	for _, rc := range order {
		names = append(names, rc.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("order %v", names)
	}
	// Planned values flow into dependents; unknown ones stay unknown.
	a := cty.ObjectVal(map[string]cty.Value{"tenant_id": cty.StringVal("a"), "cell_id": cty.StringVal("x"),
		"labels": cty.NullVal(cty.Map(cty.String)), "id": cty.UnknownVal(cty.String)})
	insts, diags := cfg.expandBlock(order[1], ps, map[string]cty.Value{"cellrouter_tenant.a": a})
	if diags.HasErrors() || len(insts) != 1 || insts[0].Config.GetAttr("cell_id").IsKnown() {
		t.Fatalf("b with unknown a.id: %#v %v", insts, diags)
	}
	insts, diags = cfg.expandBlock(order[2], ps, map[string]cty.Value{"cellrouter_tenant.a": a})
	if diags.HasErrors() || insts[0].Config.GetAttr("cell_id").AsString() != "x" || insts[0].Config.GetAttr("tenant_id").IsKnown() {
		t.Fatalf("c: %#v %v", insts[0].Config, diags)
	}
}

func nestedBlock() *Block {
	entry := &Object{Nesting: nestingMap, Attributes: map[string]*Attribute{
		"cell":    {Type: cty.String, Required: true},
		"note":    {Type: cty.String, Optional: true},
		"version": {Type: cty.Number, Computed: true},
	}}
	return &Block{Attributes: map[string]*Attribute{
		"name":    {Type: cty.String, Required: true},
		"entries": {NestedType: entry, Required: true},
	}}
}

func entry(cell string, version cty.Value) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"cell": cty.StringVal(cell), "note": cty.NullVal(cty.String), "version": version})
}

func TestNestedAttributes(t *testing.T) {
	b := nestedBlock()
	// Optional and computed nested attributes may be left out of config.
	dir := writeTF(t, `resource "x" "y" {
  name    = "n"
  entries = { a = { cell = "c1" } }
}`)
	cfg, diags := loadConfig(dir, nil)
	if diags.HasErrors() {
		t.Fatal(diags[0].Summary)
	}
	val, diags := decodeBody(cfg.Resources[0].Body, cfg.Resources[0].Syntax, b, cfg.ctx, "x.y")
	if diags.HasErrors() {
		t.Fatalf("%s: %s", diags[0].Summary, diags[0].Detail)
	}
	if !val.Type().Equals(impliedType(b)) {
		t.Fatalf("decoded type %#v", val.Type())
	}
	mk := func(m map[string]cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("n"), "entries": cty.MapVal(m)})
	}
	prior := mk(map[string]cty.Value{"a": entry("c0", cty.NumberIntVal(4))})
	config := mk(map[string]cty.Value{"a": entry("c1", cty.NullVal(cty.Number)), "b": entry("c2", cty.NullVal(cty.Number))})
	p := proposedNew(b, prior, config)
	es := p.GetAttr("entries")
	if !es.Index(cty.StringVal("a")).GetAttr("version").RawEquals(cty.NumberIntVal(4)) ||
		!es.Index(cty.StringVal("b")).GetAttr("version").IsNull() ||
		es.Index(cty.StringVal("a")).GetAttr("cell").AsString() != "c1" {
		t.Fatalf("proposed: %#v", p)
	}
	good := mk(map[string]cty.Value{"a": entry("c1", cty.UnknownVal(cty.Number)), "b": entry("c2", cty.UnknownVal(cty.Number))})
	if errs := assertPlanValid(b, prior, config, good); len(errs) != 0 {
		t.Fatalf("valid nested plan rejected: %v", errs)
	}
	badCell := mk(map[string]cty.Value{"a": entry("c9", cty.UnknownVal(cty.Number)), "b": entry("c2", cty.UnknownVal(cty.Number))})
	wantErr(t, assertPlanValid(b, prior, config, badCell), `.entries["a"].cell: planned value cty.StringVal("c9") does not match config value cty.StringVal("c1") nor prior value cty.StringVal("c0")`)
	extra := mk(map[string]cty.Value{"a": entry("c1", cty.UnknownVal(cty.Number)), "b": entry("c2", cty.UnknownVal(cty.Number)),
		"z": entry("c3", cty.UnknownVal(cty.Number))})
	wantErr(t, assertPlanValid(b, prior, config, extra), `element key "z" from plan is not present in config`)
	missing := mk(map[string]cty.Value{"a": entry("c1", cty.UnknownVal(cty.Number))})
	wantErr(t, assertPlanValid(b, prior, config, missing), `element key "b" from config is not present in plan`)
}

// range() stops at 1,024 elements, as in Terraform (go-cty's RangeFunc,
// which both use: stdlib/sequence.go "more than 1024 values were
// generated").
func TestRangeLimit(t *testing.T) {
	if _, diags := loadConfig(writeTF(t, "locals {\n  a = range(1024)\n}\n"), nil); diags.HasErrors() {
		t.Fatalf("range(1024) refused: %s", diags[0].Detail)
	}
	_, diags := loadConfig(writeTF(t, "locals {\n  a = range(1025)\n}\n"), nil)
	if !diags.HasErrors() || diags[0].Summary != "Error in function call" ||
		!strings.Contains(diags[0].Detail, `Call to function "range" failed: more than 1024 values were generated`) {
		t.Fatalf("range(1025): %v", diags)
	}
}

func TestExtractLegacyConfig(t *testing.T) {
	b := &Block{Attributes: map[string]*Attribute{
		"id":      {Type: cty.String, Optional: true, Computed: true},
		"name":    {Type: cty.String, Required: true},
		"note":    {Type: cty.String, Optional: true},
		"old":     {Type: cty.String, Optional: true, Deprecated: true},
		"version": {Type: cty.Number, Computed: true},
		"entries": {NestedType: &Object{Nesting: nestingMap, Attributes: map[string]*Attribute{
			"cell":    {Type: cty.String, Required: true},
			"version": {Type: cty.Number, Computed: true},
		}}, Optional: true},
	}}
	state := cty.ObjectVal(map[string]cty.Value{
		"id": cty.StringVal("x"), "name": cty.StringVal("x"), "note": cty.StringVal(""), "old": cty.StringVal("o"),
		"version": cty.NumberIntVal(3),
		"entries": cty.MapVal(map[string]cty.Value{"k": cty.ObjectVal(map[string]cty.Value{
			"cell": cty.StringVal("c1"), "version": cty.NumberIntVal(7)})}),
	})
	got := extractLegacyConfig(b, state)
	for _, n := range []string{"id", "note", "old", "version"} {
		if !got.GetAttr(n).IsNull() {
			t.Errorf("%s kept: %#v", n, got.GetAttr(n))
		}
	}
	e := got.GetAttr("entries").Index(cty.StringVal("k"))
	if e.GetAttr("cell").AsString() != "c1" || !e.GetAttr("version").IsNull() || got.GetAttr("name").AsString() != "x" {
		t.Fatalf("extracted: %#v", got)
	}
	var buf strings.Builder
	writeAttrsFromValue("t.n", &buf, got, b.Attributes, 2)
	out := buf.String()
	for _, want := range []string{`  name = "x"`, "  entries = {\n    k = {\n", `cell = "c1"`, `note = null`} {
		if !strings.Contains(out, want) {
			t.Errorf("generated lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "version") || strings.Contains(out, "old") {
		t.Errorf("computed or deprecated attribute generated:\n%s", out)
	}
	buf.Reset()
	js := cty.ObjectVal(map[string]cty.Value{"doc": cty.StringVal(`{"a":[1,2]}`), "n": cty.StringVal("42")})
	writeAttrsFromValue("t.n", &buf, js, map[string]*Attribute{"doc": {Type: cty.String, Optional: true}, "n": {Type: cty.String, Optional: true}}, 2)
	if !strings.Contains(buf.String(), "doc = jsonencode({") || !strings.Contains(buf.String(), `n = "42"`) {
		t.Errorf("JSON strings: %s", buf.String())
	}
}

func TestIdentitySchemaValidation(t *testing.T) {
	ps := &ProviderSchema{Resources: map[string]*Schema{"t": {Block: &Block{}}}, Identities: map[string]*IdentitySchema{
		"t": {Attributes: map[string]*IdentityAttribute{"id": {Type: cty.String, RequiredForImport: true}}}}}
	if d := validateIdentitySchemas(ps); d != nil {
		t.Fatalf("valid identity schema refused: %s", d.Detail)
	}
	for want, a := range map[string]*IdentityAttribute{
		"must set Optional, Required or Computed": {Type: cty.String},
		"cannot set both Optional and Required":   {Type: cty.String, RequiredForImport: true, OptionalForImport: true},
		`attribute "id" is a map`:                 {Type: cty.Map(cty.String), RequiredForImport: true},
		`attribute "id" is a set`:                 {Type: cty.Set(cty.String), RequiredForImport: true},
	} {
		ps.Identities["t"].Attributes["id"] = a
		d := validateIdentitySchemas(ps)
		if d == nil || d.Summary != "Failed to load plugin schemas" || !strings.Contains(d.Detail, want) {
			t.Errorf("want %q, got %v", want, d)
		}
	}
	id := cty.ObjectVal(map[string]cty.Value{"b": cty.NumberIntVal(2), "a": cty.StringVal("x"), "c": cty.NullVal(cty.String)})
	if got := objectToString(id); got != "a=x,b=2,c=<null>" {
		t.Errorf("objectToString: %s", got)
	}
}

func TestStateKeepsIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.tfstate")
	st, _ := readState(path)
	st.Instances["t.a"] = &StateInstance{Addr: "t.a", Type: "t", Name: "a", Attrs: []byte(`{"id":"a"}`),
		IdentityVersion: 2, Identity: []byte(`{"id":"a"}`)}
	if err := st.write(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"identity_schema_version": 2`) || !strings.Contains(string(raw), `"identity": {`) {
		t.Fatalf("identity not written:\n%s", raw)
	}
	again, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	if a := again.Instances["t.a"]; a.IdentityVersion != 2 || string(a.Identity) != `{
            "id": "a"
          }` && !strings.Contains(string(a.Identity), `"id"`) {
		t.Fatalf("identity lost: %+v", a)
	}
}

func TestErrorPrefixed(t *testing.T) {
	if got := errorPrefixed(perr(cty.GetAttrPath("value"), "planned value x"), "t.a"); got != "t.a.value: planned value x" {
		t.Errorf("path error: %s", got)
	}
	if got := errorPrefixed(perr(nil, "planned for absence"), "t.a"); got != "t.a: planned for absence" {
		t.Errorf("plain error: %s", got)
	}
}
