// emulate.go — which Terraform tfcore behaves as.
//
// Terraform's client side of the protocol grew over the releases the
// provider supports (1.4 .. 1.15): what it calls, what it sends and what it
// refuses. tfcore emulates one release at a time, chosen with the global
// option -emulate=VERSION or TFCORE_EMULATE (the option wins); the default
// is the newest. Every switch below names the release that introduced the
// behaviour and where it comes from, so a test run under "1.4" is the call
// sequence an old Terraform makes, and one under "1.15" fails wherever a
// current Terraform fails.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"cellrouter/proto/tfplugin6"
)

type emulation struct {
	Name    string // as given: "1.15"
	Version string // the release: terraform_version in ConfigureProvider and state files

	// ClientCapabilities (tfplugin6 6.6, Terraform 1.9): sent with
	// ValidateResourceConfig, ConfigureProvider, ReadResource,
	// PlanResourceChange, ImportResourceState and ReadDataSource
	// (internal/plugin6/grpc_provider.go, clientCapabilitiesToProto).
	ClientCaps bool
	// write_only_attributes_allowed (Terraform 1.11,
	// internal/terraform/eval_context_builtin.go ClientCapabilities).
	WriteOnly bool
	// ImportBlocks: `import` blocks in configuration (Terraform 1.5,
	// internal/configs/import.go).
	ImportBlocks bool
	// Identity: GetResourceIdentitySchemas inside every GetProviderSchema,
	// identities carried in state and in Read/Plan/Apply/Import, import
	// blocks with `identity` (Terraform 1.12; internal/plugin6/
	// grpc_provider.go GetProviderSchema, internal/terraform/
	// node_resource_abstract_instance.go, internal/states/statefile/
	// version4.go).
	Identity bool
	// EnforceALPN: grpc-go >= 1.67 refuses a TLS server that does not
	// select ALPN "h2" (credentials/tls.go ClientHandshake, on by default
	// through GRPC_ENFORCE_ALPN_ENABLED). Terraform's go.mod moved from
	// grpc-go 1.59 (1.11.x) to 1.69.4 in 1.12.0.
	EnforceALPN bool
	// Query: `terraform query` over `list` blocks in *.tfquery.hcl
	// (Terraform 1.14, internal/command/query.go; 1.13 had it behind
	// experiments only, commands.go).
	Query bool
	// GenerateConfigRPC: config generation asks the provider through
	// GenerateResourceConfig when it announces the capability (Terraform
	// 1.14, internal/terraform/node_resource_plan_instance.go
	// generateResourceConfig).
	GenerateConfigRPC bool
}

// The releases tfcore can emulate. Versions are the ones whose source the
// rules above were read from (go.mod of each tag for the libraries).
var emulations = map[string]*emulation{
	"1.4":  {Name: "1.4", Version: "1.4.7"},
	"1.11": {Name: "1.11", Version: "1.11.4", ClientCaps: true, WriteOnly: true, ImportBlocks: true},
	"1.12": {Name: "1.12", Version: "1.12.2", ClientCaps: true, WriteOnly: true, ImportBlocks: true,
		Identity: true, EnforceALPN: true},
	"1.13": {Name: "1.13", Version: "1.13.5", ClientCaps: true, WriteOnly: true, ImportBlocks: true,
		Identity: true, EnforceALPN: true},
	"1.14": {Name: "1.14", Version: "1.14.9", ClientCaps: true, WriteOnly: true, ImportBlocks: true,
		Identity: true, EnforceALPN: true, Query: true, GenerateConfigRPC: true},
	"1.15": {Name: "1.15", Version: "1.15.9", ClientCaps: true, WriteOnly: true, ImportBlocks: true,
		Identity: true, EnforceALPN: true, Query: true, GenerateConfigRPC: true},
}

const newestEmulation = "1.15"

// emu is the release in effect (set once in run, before any work).
var emu = emulations[newestEmulation]

// setEmulation selects a release by "1.N" (or "1.N.P", which must be the
// patch release listed above or is taken as its minor line).
func setEmulation(v string) error {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if e, ok := emulations[v]; ok {
		emu = e
		return nil
	}
	if parts := strings.Split(v, "."); len(parts) == 3 {
		if e, ok := emulations[parts[0]+"."+parts[1]]; ok {
			emu = e
			return nil
		}
	}
	names := make([]string, 0, len(emulations))
	for n := range emulations {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return versionLess(names[i], names[j]) })
	return fmt.Errorf("unknown Terraform version %q to emulate (known: %s)", v, strings.Join(names, ", "))
}

// emulationFromEnv applies TFCORE_EMULATE when set.
func emulationFromEnv() error {
	if v := os.Getenv("TFCORE_EMULATE"); v != "" {
		return setEmulation(v)
	}
	return nil
}

func versionLess(a, b string) bool {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	return am < bm || am == bm && an < bn
}

// terraformVersion is what ConfigureProvider and state files carry.
func terraformVersion() string { return emu.Version }

// clientCaps is what the emulated Terraform announces: nothing before 1.9
// (the field did not exist); write-only attributes from 1.11; deferrals
// only ever behind an experiment, so never allowed.
func clientCaps() *tfplugin6.ClientCapabilities {
	if !emu.ClientCaps {
		return nil
	}
	return &tfplugin6.ClientCapabilities{DeferralAllowed: false, WriteOnlyAttributesAllowed: emu.WriteOnly}
}
