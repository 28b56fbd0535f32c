// fake_test.go — tfcore's protocol checks against the fake provider
// (fake.go): each new check is shown to fire on a provider that breaks the
// rule, and to stay quiet on one that keeps it.
//
// The test binary plays both parts: run with TFCORE_TEST_MAIN=1 it is
// tfcore (run), and launched by go-plugin (the magic cookie is set) it is
// `tfcore fake-provider`. Each case runs it as a real process, through
// go-plugin with AutoMTLS, exactly as the e2e tests run tfcore.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(magicCookieKey) != "" {
		os.Exit(runFakeProvider())
	}
	if os.Getenv("TFCORE_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type fakeRun struct {
	t     *testing.T
	dir   string
	env   []string
	trace string
}

// newFake makes a working directory with main.tf (and any other files)
// and an environment that launches the fake with the given fault.
func newFake(t *testing.T, fault string, files map[string]string) *fakeRun {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRun{t: t, dir: dir, trace: filepath.Join(dir, "trace")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TFCORE_") && !strings.HasPrefix(kv, "TF_") {
			f.env = append(f.env, kv)
		}
	}
	f.env = append(f.env, "TFCORE_TEST_MAIN=1", "TFCORE_PROVIDER="+self, "TFCORE_FAKE_FAULT="+fault,
		"TFCORE_FAKE_TRACE="+f.trace, "TFCORE_FAKE_OBJECTS=a1,a2,b1")
	return f
}

// run runs tfcore in the directory; extra env entries come first in args
// as NAME=VALUE up to the first that is not.
func (f *fakeRun) run(args ...string) (int, string, string) {
	f.t.Helper()
	env := append([]string{}, f.env...)
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-") {
		env = append(env, args[0])
		args = args[1:]
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, append([]string{"-chdir=" + f.dir}, args...)...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		f.t.Fatalf("running tfcore: %v", err)
	}
	return rc, out.String(), errb.String()
}

// must runs and wants the exit status and, in stdout+stderr, each text.
func (f *fakeRun) must(rc int, args []string, wants ...string) string {
	f.t.Helper()
	got, out, errs := f.run(args...)
	all := out + errs
	if got != rc {
		f.t.Fatalf("tfcore %s: exit %d, want %d\n%s", strings.Join(args, " "), got, rc, all)
	}
	for _, w := range wants {
		if !strings.Contains(all, w) {
			f.t.Fatalf("tfcore %s: output lacks %q\n%s", strings.Join(args, " "), w, all)
		}
	}
	return all
}

func (f *fakeRun) calls() []string {
	raw, _ := os.ReadFile(f.trace)
	os.Remove(f.trace)
	return strings.Fields(string(raw))
}

func (f *fakeRun) state(t *testing.T) map[string]any {
	raw, err := os.ReadFile(filepath.Join(f.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func args(a ...string) []string { return a }

const fakeMain = `resource "cellrouter_fake" "x" {
  name  = "a1"
  value = "v-a1"
}
`

// ---- TLS --------------------------------------------------------------------------

func TestTLSRefusesProviderWithoutALPN(t *testing.T) {
	f := newFake(t, "no-alpn", map[string]string{"main.tf": fakeMain})
	f.must(1, args("validate"), "Failed to load plugin schemas", "Plugin did not respond",
		"credentials: cannot check peer: missing selected ALPN property")
	// Terraform 1.11 (grpc-go 1.59) accepted such a server.
	f.must(0, args("-emulate=1.11", "validate"), "Success!", `did not select ALPN "h2"`)
}

func TestTLSRefusesTLS11(t *testing.T) {
	f := newFake(t, "tls11", map[string]string{"main.tf": fakeMain})
	f.must(1, args("validate"), "Failed to load plugin schemas", "authentication handshake failed")
	// Every emulated release refuses it (Go >= 1.18 clients, go-plugin >= 1.7).
	f.must(1, args("-emulate=1.4", "validate"), "authentication handshake failed")
}

func TestHardenTLSRules(t *testing.T) {
	var noted error
	c := &tls.Config{}
	hardenTLS(c, func(err error) { noted = err }, pluginLogger())
	if c.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x, want TLS 1.2", c.MinVersion)
	}
	state := func(v uint16, alpn string) tls.ConnectionState {
		return tls.ConnectionState{Version: v, NegotiatedProtocol: alpn}
	}
	if err := c.VerifyConnection(state(tls.VersionTLS13, "h2")); err != nil {
		t.Fatalf("h2 over TLS 1.3 refused: %v", err)
	}
	if err := c.VerifyConnection(state(tls.VersionTLS12, "h2")); err != nil {
		t.Fatalf("h2 over TLS 1.2 refused: %v", err)
	}
	if err := c.VerifyConnection(state(tls.VersionTLS13, "")); err == nil || noted == nil {
		t.Fatal("a handshake without ALPN h2 was accepted")
	}
	if err := c.VerifyConnection(state(tls.VersionTLS11, "h2")); err == nil {
		t.Fatal("TLS 1.1 was accepted")
	}
	defer func(e *emulation) { emu = e }(emu)
	emu = emulations["1.11"]
	if err := c.VerifyConnection(state(tls.VersionTLS13, "")); err != nil {
		t.Fatalf("Terraform 1.11 emulation refused a server without ALPN: %v", err)
	}
}

// ---- the call sequence -------------------------------------------------------------

func TestCallSequenceByRelease(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": fakeMain})
	f.must(0, args("apply", "-auto-approve"), "Apply complete! Resources: 1 added")
	calls := f.calls()
	count := func(m string) int {
		n := 0
		for _, c := range calls {
			if c == m {
				n++
			}
		}
		return n
	}
	// Two provider processes (plan, apply), each: schema + identities,
	// stdio and broker streams, controller Shutdown.
	for m, want := range map[string]int{
		"/tfplugin6.Provider/GetProviderSchema":          2,
		"/tfplugin6.Provider/GetResourceIdentitySchemas": 2,
		"/plugin.GRPCStdio/StreamStdio":                  2,
		"/plugin.GRPCBroker/StartStream":                 2,
		"/plugin.GRPCController/Shutdown":                2,
		"/tfplugin6.Provider/ApplyResourceChange":        1,
	} {
		if got := count(m); got != want {
			t.Errorf("%s called %d times, want %d: %v", m, got, want, calls)
		}
	}
	// GetResourceIdentitySchemas right after GetProviderSchema.
	for i, c := range calls {
		if c == "/tfplugin6.Provider/GetResourceIdentitySchemas" {
			j := i - 1
			for j >= 0 && strings.HasPrefix(calls[j], "/plugin.") {
				j--
			}
			if j < 0 || calls[j] != "/tfplugin6.Provider/GetProviderSchema" {
				t.Errorf("GetResourceIdentitySchemas not right after GetProviderSchema: %v", calls)
			}
		}
	}
	// Terraform 1.4 never asks for identities.
	f.must(0, args("-emulate=1.4", "plan"), "No changes.")
	if count := strings.Count(strings.Join(f.calls(), " "), "GetResourceIdentitySchemas"); count != 0 {
		t.Errorf("Terraform 1.4 emulation called GetResourceIdentitySchemas")
	}
}

// ---- identity schemas ---------------------------------------------------------------

func TestIdentitySchemaErrorsAreFatal(t *testing.T) {
	cases := map[string][]string{
		"identity-schema-diag":  {"Failed to load plugin schemas", "GetResourceIdentitySchemas Not Implemented"},
		"identity-schema-error": {"Plugin error", "plugin6.(*GRPCProvider).GetProviderSchema", "code = Internal"},
		"identity-schema-bad":   {"has invalid identity schema for managed resource type \"cellrouter_fake\"", "must set Optional, Required or Computed"},
	}
	for fault, wants := range cases {
		t.Run(fault, func(t *testing.T) {
			f := newFake(t, fault, map[string]string{"main.tf": fakeMain})
			f.must(1, args("validate"), wants...)
			// Before 1.12 the call is never made: the same provider works.
			f.must(0, args("-emulate=1.11", "validate"), "Success!")
		})
	}
	// UNIMPLEMENTED is "no identities": everything works, nothing stored.
	f := newFake(t, "no-identities", map[string]string{"main.tf": fakeMain})
	f.must(0, args("apply", "-auto-approve"), "Apply complete!")
	inst := f.state(t)["resources"].([]any)[0].(map[string]any)["instances"].([]any)[0].(map[string]any)
	if _, ok := inst["identity"]; ok {
		t.Fatalf("identity stored without an identity schema: %v", inst)
	}
}

// ---- identities ------------------------------------------------------------------

func TestIdentityStoredAndSent(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": fakeMain})
	f.must(0, args("apply", "-auto-approve"), "Apply complete!")
	inst := f.state(t)["resources"].([]any)[0].(map[string]any)["instances"].([]any)[0].(map[string]any)
	id, _ := json.Marshal(inst["identity"])
	if string(id) != `{"name":"a1"}` || inst["identity_schema_version"] != float64(0) {
		t.Fatalf("identity in state: %s version %v", id, inst["identity_schema_version"])
	}
	// Terraform 1.11 knows nothing of identities: it drops them.
	f.must(0, args("-emulate=1.11", "apply", "-auto-approve"), "Apply complete!")
	inst = f.state(t)["resources"].([]any)[0].(map[string]any)["instances"].([]any)[0].(map[string]any)
	if _, ok := inst["identity"]; ok {
		t.Fatalf("Terraform 1.11 emulation kept the identity: %v", inst)
	}
}

func TestIdentityChangeIsRefused(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": fakeMain})
	f.must(0, args("apply", "-auto-approve"), "Apply complete!")
	f.must(1, args("TFCORE_FAKE_FAULT=identity-changed", "plan"), "Provider produced different identity",
		"name=a1 became name=a1-renamed")
	// The released core takes the new identity (c3b5b841cc).
	f.must(0, args("TFCORE_FAKE_FAULT=identity-changed", "TFCORE_IDENTITY_STRICT=0", "plan"), "No changes.")
}

func TestIdentityRulesFire(t *testing.T) {
	cases := map[string][]string{
		"identity-null-required": {"Provider produced an identity that doesn't match the schema", `attributes "name" are required and must not be null`},
		"identity-wrong-type":    {"an object with 1 attributes is required (2 given)"},
		"identity-unknown":       {"Provider produced invalid identity", "returned an identity with unknown values"},
	}
	for fault, wants := range cases {
		t.Run(fault, func(t *testing.T) {
			f := newFake(t, "", map[string]string{"main.tf": fakeMain})
			f.must(0, args("apply", "-auto-approve"), "Apply complete!")
			// A changed value makes the plan an update, where the identity
			// must be known.
			os.WriteFile(filepath.Join(f.dir, "main.tf"), []byte(strings.Replace(fakeMain, `"v-a1"`, `"v2"`, 1)), 0o644)
			f.must(1, args("TFCORE_FAKE_FAULT="+fault, "plan"), wants...)
		})
	}
}

// ---- import -------------------------------------------------------------------------

const importByIdentity = fakeMain + `
import {
  to       = cellrouter_fake.x
  identity = { name = "a1" }
}
`

func TestImportByIdentity(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": importByIdentity})
	f.must(0, args("plan"), "Preparing import... [identity=name=a1]", "# cellrouter_fake.x will be imported",
		"Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.")
	calls := strings.Join(f.calls(), " ")
	if !strings.Contains(calls, "ImportResourceState /tfplugin6.Provider/ReadResource") {
		t.Fatalf("import is not followed by a read: %s", calls)
	}
	f.must(0, args("apply", "-auto-approve"), "cellrouter_fake.x: Import complete [identity=name=a1]",
		"Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed.")
	f.must(0, args("plan", "-detailed-exitcode"), "No changes.")
	// A saved plan carries the import.
	g := newFake(t, "", map[string]string{"main.tf": importByIdentity})
	g.must(0, args("plan", "-out=p.json"), "Saved the plan to")
	g.must(0, args("apply", "p.json"), "Apply complete! Resources: 1 imported")
}

func TestImportByIdentityWithoutIdentityIsRefused(t *testing.T) {
	f := newFake(t, "import-no-identity", map[string]string{"main.tf": importByIdentity})
	f.must(1, args("plan"), "import of cellrouter_fake.x didn't return an identity")
	// Importing by ID does not require one.
	byID := strings.Replace(importByIdentity, `identity = { name = "a1" }`, `id = "a1"`, 1)
	os.WriteFile(filepath.Join(f.dir, "main.tf"), []byte(byID), 0o644)
	f.must(0, args("plan"), "Preparing import... [id=a1]", "Plan: 1 to import")
}

func TestImportBlockErrors(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": fakeMain + `
import {
  to       = cellrouter_fake.y
  identity = { name = "a1" }
}
`})
	f.must(1, args("plan"), "Configuration for import target does not exist")
	os.WriteFile(filepath.Join(f.dir, "main.tf"), []byte(strings.Replace(importByIdentity, `"a1" }`, `"zz" }`, 1)), 0o644)
	f.must(1, args("plan"), "Cannot import non-existent remote object")
	os.WriteFile(filepath.Join(f.dir, "main.tf"), []byte(strings.Replace(importByIdentity, `name = "a1"`, `nom = "a1"`, 1)), 0o644)
	f.must(1, args("plan"), "Incorrect value type")
	os.WriteFile(filepath.Join(f.dir, "main.tf"), []byte(importByIdentity), 0o644)
	f.must(1, args("-emulate=1.11", "plan"), `An argument named "identity" is not expected here`)
	f.must(1, args("-emulate=1.4", "plan"), `Blocks of type "import" are not expected here`)
}

// ---- query -------------------------------------------------------------------------

const fakeQuery = `list "cellrouter_fake" "all" {
  provider = cellrouter
}

list "cellrouter_fake" "a" {
  provider = cellrouter
  limit    = 1
  config {
    prefix = "a"
  }
}

list "cellrouter_fake" "none" {
  provider = cellrouter
  config {
    prefix = "zz"
  }
}
`

func TestQueryThenGeneratedConfigPlansClean(t *testing.T) {
	for _, rpc := range []string{"0", "1"} {
		t.Run("GenerateResourceConfig="+rpc, func(t *testing.T) {
			f := newFake(t, "", map[string]string{"main.tf": "provider \"cellrouter\" {}\n", "q.tfquery.hcl": fakeQuery})
			f.env = append(f.env, "TFCORE_FAKE_GENCONFIG="+rpc)
			out := f.must(0, args("query"), "list.cellrouter_fake.all   name=a1   fake a1",
				"list.cellrouter_fake.all   name=b1   fake b1", "list.cellrouter_fake.a   name=a1   fake a1",
				"Warning: list block(s) [list.cellrouter_fake.none] returned 0 results.")
			if strings.Contains(out, "list.cellrouter_fake.a   name=a2") {
				t.Fatalf("limit = 1 not honoured:\n%s", out)
			}
			calls := strings.Join(f.calls(), " ")
			// Validated in the validate walk and again before listing.
			if strings.Count(calls, "ValidateListResourceConfig") != 6 || strings.Count(calls, "/ListResource") != 3 {
				t.Fatalf("calls: %s", calls)
			}
			f.must(0, args("query", "-generate-config-out=generated.tf"))
			gen, err := os.ReadFile(filepath.Join(f.dir, "generated.tf"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"# __generated__ by Terraform", `resource "cellrouter_fake" "all_2" {`,
				`  name     = "b1"`, "  to       = cellrouter_fake.all_2", "  identity = {\n    name = \"b1\"\n  }"} {
				if !strings.Contains(string(gen), want) {
					t.Fatalf("generated.tf lacks %q:\n%s", want, gen)
				}
			}
			if strings.Contains(string(gen), "serial") {
				t.Fatalf("computed attributes generated:\n%s", gen)
			}
			usedRPC := strings.Contains(strings.Join(f.calls(), " "), "GenerateResourceConfig")
			if usedRPC != (rpc == "1") {
				t.Fatalf("GenerateResourceConfig called: %v, capability announced: %s", usedRPC, rpc)
			}
			f.must(1, args("query", "-generate-config-out=generated.tf"), "Target generated file already exists")
			os.Remove(filepath.Join(f.dir, "q.tfquery.hcl"))
			f.must(0, args("plan"), "Plan: 4 to import, 0 to add, 0 to change, 0 to destroy.")
			f.must(0, args("apply", "-auto-approve"), "Apply complete! Resources: 4 imported, 0 added, 0 changed, 0 destroyed.")
			f.must(0, args("plan", "-detailed-exitcode"), "No changes.")
		})
	}
}

func TestQueryErrors(t *testing.T) {
	f := newFake(t, "list-no-identity", map[string]string{"main.tf": "provider \"cellrouter\" {}\n", "q.tfquery.hcl": fakeQuery})
	f.must(1, args("query"), "missing identity data in ListResource event for cellrouter_fake")
	f.must(1, args("-emulate=1.13", "query"), `Terraform has no command named "query"`)
	g := newFake(t, "", map[string]string{"main.tf": "provider \"cellrouter\" {}\n",
		"q.tfquery.hcl": "list \"cellrouter_fake\" \"x\" {\n  config {\n    prefix = \"a b\"\n  }\n}\n"})
	g.must(1, args("query"), `Missing "provider" attribute`)
	os.WriteFile(filepath.Join(g.dir, "q.tfquery.hcl"), []byte("list \"cellrouter_fake\" \"x\" {\n  provider = cellrouter\n  config {\n    prefix = \"a b\"\n  }\n}\n"), 0o644)
	g.must(1, args("query"), "Invalid prefix", "attribute path: prefix")
	os.Remove(filepath.Join(g.dir, "q.tfquery.hcl"))
	g.must(1, args("query"), "No resources to query")
}

// ---- destroy order ----------------------------------------------------------------

// Terraform destroys an object's dependents before the object (a tenant
// that refers to a cell goes first), and does not evaluate the
// configuration of what it destroyed again.
func TestDestroyDependentsFirst(t *testing.T) {
	f := newFake(t, "", map[string]string{"main.tf": fakeMain + `
resource "cellrouter_fake" "y" {
  name  = "a2"
  value = cellrouter_fake.x.id
}
`})
	f.must(0, args("apply", "-auto-approve"), "Apply complete! Resources: 2 added")
	out := f.must(0, args("destroy", "-auto-approve"), "Destroy complete! Resources: 2 destroyed.")
	done := strings.Index(out, "cellrouter_fake.y: Destruction complete")
	start := strings.Index(out, "cellrouter_fake.x: Destroying...")
	if done < 0 || start < 0 || done > start {
		t.Fatalf("x was destroyed before its dependent y was gone:\n%s", out)
	}
}
