// fake.go — `tfcore fake-provider`: a deliberately faulty provider, served
// with go-plugin like any Go provider, used by the end-to-end tests to show
// that tfcore's checks catch what Terraform would catch (a harness whose
// checks never fire proves nothing about the real provider).
//
// It serves one resource type, cellrouter_fake { name (required, forces
// replacement), value (optional), id (computed), serial (computed number) },
// keeping no remote state: Read returns the state it is given. The fault
// comes from TFCORE_FAKE_FAULT:
//
//	bad-schema           an attribute both required and computed
//	bad-type             an attribute type that is not JSON
//	invalid-plan         plans a new value for the non-computed "value"
//	inconsistent-final   plans a different known "id" on every plan
//	inconsistent-apply   applies a "value" other than the planned one
//	unknown-after-apply  leaves "serial" unknown after apply
//	invalid-read         returns an unknown "id" from ReadResource
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"cellrouter/proto/tfplugin6"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc"
)

var fakeType = cty.Object(map[string]cty.Type{
	"name": cty.String, "value": cty.String, "id": cty.String, "serial": cty.Number,
})

type fakeServer struct {
	tfplugin6.UnimplementedProviderServer
	fault string
}

type fakePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *fakeServer
}

func (f fakePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	tfplugin6.RegisterProviderServer(s, f.srv)
	return nil
}

func (fakePlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("fake-provider only serves")
}

func runFakeProvider() int {
	srv := &fakeServer{fault: os.Getenv("TFCORE_FAKE_FAULT")}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: 6,
			MagicCookieKey: magicCookieKey, MagicCookieValue: magicCookieValue},
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": fakePlugin{srv: srv}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr, JSONFormat: true}),
	})
	return 0
}

func (f *fakeServer) GetProviderSchema(context.Context, *tfplugin6.GetProviderSchema_Request) (*tfplugin6.GetProviderSchema_Response, error) {
	str := []byte(`"string"`)
	attrs := []*tfplugin6.Schema_Attribute{
		{Name: "name", Type: str, Required: true},
		{Name: "value", Type: str, Optional: true},
		{Name: "id", Type: str, Computed: true},
		{Name: "serial", Type: []byte(`"number"`), Computed: true},
	}
	switch f.fault {
	case "bad-schema":
		attrs[1].Computed, attrs[1].Optional, attrs[1].Required = true, false, true
	case "bad-type":
		attrs[1].Type = []byte("string")
	}
	return &tfplugin6.GetProviderSchema_Response{
		Provider: &tfplugin6.Schema{Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
			{Name: "path", Type: str, Optional: true}}}},
		ResourceSchemas: map[string]*tfplugin6.Schema{"cellrouter_fake": {Block: &tfplugin6.Schema_Block{Attributes: attrs}}},
	}, nil
}

func (f *fakeServer) ValidateProviderConfig(context.Context, *tfplugin6.ValidateProviderConfig_Request) (*tfplugin6.ValidateProviderConfig_Response, error) {
	return &tfplugin6.ValidateProviderConfig_Response{}, nil
}

func (f *fakeServer) ValidateResourceConfig(context.Context, *tfplugin6.ValidateResourceConfig_Request) (*tfplugin6.ValidateResourceConfig_Response, error) {
	return &tfplugin6.ValidateResourceConfig_Response{}, nil
}

func (f *fakeServer) ConfigureProvider(context.Context, *tfplugin6.ConfigureProvider_Request) (*tfplugin6.ConfigureProvider_Response, error) {
	return &tfplugin6.ConfigureProvider_Response{}, nil
}

func fakeErr(err error) []*tfplugin6.Diagnostic {
	return []*tfplugin6.Diagnostic{{Severity: tfplugin6.Diagnostic_ERROR, Summary: "fake-provider", Detail: err.Error()}}
}

func (f *fakeServer) UpgradeResourceState(_ context.Context, r *tfplugin6.UpgradeResourceState_Request) (*tfplugin6.UpgradeResourceState_Response, error) {
	v, err := ctyjson.Unmarshal(r.RawState.GetJson(), fakeType)
	if err != nil {
		return &tfplugin6.UpgradeResourceState_Response{Diagnostics: fakeErr(err)}, nil
	}
	dv, _ := toDV(v, fakeType)
	return &tfplugin6.UpgradeResourceState_Response{UpgradedState: dv}, nil
}

func (f *fakeServer) ReadResource(_ context.Context, r *tfplugin6.ReadResource_Request) (*tfplugin6.ReadResource_Response, error) {
	if f.fault == "invalid-read" {
		v, err := fromDV(r.CurrentState, fakeType)
		if err != nil {
			return &tfplugin6.ReadResource_Response{Diagnostics: fakeErr(err)}, nil
		}
		m := v.AsValueMap()
		m["id"] = cty.UnknownVal(cty.String)
		dv, _ := toDV(cty.ObjectVal(m), fakeType)
		return &tfplugin6.ReadResource_Response{NewState: dv, Private: r.Private}, nil
	}
	return &tfplugin6.ReadResource_Response{NewState: r.CurrentState, Private: r.Private}, nil
}

func (f *fakeServer) PlanResourceChange(_ context.Context, r *tfplugin6.PlanResourceChange_Request) (*tfplugin6.PlanResourceChange_Response, error) {
	prop, err := fromDV(r.ProposedNewState, fakeType)
	if err != nil {
		return &tfplugin6.PlanResourceChange_Response{Diagnostics: fakeErr(err)}, nil
	}
	prior, err := fromDV(r.PriorState, fakeType)
	if err != nil || prop.IsNull() {
		return &tfplugin6.PlanResourceChange_Response{PlannedState: r.ProposedNewState}, nil
	}
	m := prop.AsValueMap()
	if prior.IsNull() || !prior.GetAttr("value").RawEquals(m["value"]) || !prior.GetAttr("name").RawEquals(m["name"]) {
		m["id"] = m["name"]
		m["serial"] = cty.UnknownVal(cty.Number)
	}
	switch f.fault {
	case "invalid-plan":
		m["value"] = cty.StringVal("changed-by-provider")
	case "inconsistent-final":
		var b [8]byte
		_, _ = rand.Read(b[:])
		m["id"] = cty.StringVal(hex.EncodeToString(b[:]))
	}
	dv, _ := toDV(cty.ObjectVal(m), fakeType)
	return &tfplugin6.PlanResourceChange_Response{PlannedState: dv, PlannedPrivate: r.PriorPrivate,
		RequiresReplace: []*tfplugin6.AttributePath{{Steps: []*tfplugin6.AttributePath_Step{
			{Selector: &tfplugin6.AttributePath_Step_AttributeName{AttributeName: "name"}}}}}}, nil
}

func (f *fakeServer) ApplyResourceChange(_ context.Context, r *tfplugin6.ApplyResourceChange_Request) (*tfplugin6.ApplyResourceChange_Response, error) {
	planned, err := fromDV(r.PlannedState, fakeType)
	if err != nil {
		return &tfplugin6.ApplyResourceChange_Response{Diagnostics: fakeErr(err)}, nil
	}
	if planned.IsNull() {
		return &tfplugin6.ApplyResourceChange_Response{NewState: r.PlannedState}, nil
	}
	m := planned.AsValueMap()
	if !m["serial"].IsKnown() {
		m["serial"] = cty.NumberIntVal(1)
	}
	switch f.fault {
	case "inconsistent-apply":
		m["value"] = cty.StringVal("not-what-was-planned")
	case "unknown-after-apply":
		m["serial"] = cty.UnknownVal(cty.Number)
	}
	dv, _ := toDV(cty.ObjectVal(m), fakeType)
	return &tfplugin6.ApplyResourceChange_Response{NewState: dv, Private: r.PlannedPrivate}, nil
}
