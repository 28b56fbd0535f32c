// fake.go — `tfcore fake-provider`: a deliberately faulty provider, served
// with go-plugin like any Go provider, used by the end-to-end tests and by
// tfcore_test.go to show that tfcore's checks catch what Terraform would
// catch (a harness whose checks never fire proves nothing about the real
// provider).
//
// It serves one resource type, cellrouter_fake { name (required, forces
// replacement), value (optional), id (computed), serial (computed number) }
// with an identity { name (required_for_import) }, and a list resource of
// the same name whose config takes an optional name `prefix`. It keeps no
// remote state: Read returns the state it is given; import and list find
// the objects named in TFCORE_FAKE_OBJECTS (comma-separated names), each
// with value "v-NAME". TFCORE_FAKE_TRACE names a file that gets one line
// per gRPC method called (go-plugin's services included), so tests can
// check the order of calls. TFCORE_FAKE_GENCONFIG=1 announces
// generate_resource_config and answers GenerateResourceConfig.
//
// The fault comes from TFCORE_FAKE_FAULT:
//
//	bad-schema             an attribute both required and computed
//	bad-type               an attribute type that is not JSON
//	schema-diag            GetProviderSchema answers an error diagnostic
//	invalid-plan           plans a new value for the non-computed "value"
//	inconsistent-final     plans a different known "id" on every plan
//	inconsistent-apply     applies a "value" other than the planned one
//	unknown-after-apply    leaves "serial" unknown after apply
//	invalid-read           returns an unknown "id" from ReadResource
//	no-identities          GetResourceIdentitySchemas is UNIMPLEMENTED
//	identity-schema-diag   GetResourceIdentitySchemas answers an error diagnostic
//	identity-schema-error  GetResourceIdentitySchemas fails (gRPC INTERNAL)
//	identity-schema-bad    an identity attribute neither required nor optional for import
//	identity-changed       ReadResource returns another identity than the stored one
//	identity-unknown       plans an unknown identity for an existing object
//	identity-null-required ReadResource returns an identity whose name is null
//	identity-wrong-type    returns identities with an attribute the schema lacks
//	import-no-identity     ImportResourceState by identity returns no identity
//	list-no-identity       ListResource events carry no identity
//	no-alpn                the TLS server selects no ALPN protocol
//	tls11                  the TLS server speaks TLS 1.1 at most
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	pluginpb "cellrouter/proto/plugin"
	"cellrouter/proto/tfplugin6"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

var fakeType = cty.Object(map[string]cty.Type{
	"name": cty.String, "value": cty.String, "id": cty.String, "serial": cty.Number,
})

var fakeIdentityType = cty.Object(map[string]cty.Type{"name": cty.String})

var fakeListConfigType = cty.Object(map[string]cty.Type{"prefix": cty.String})

type fakeServer struct {
	tfplugin6.UnimplementedProviderServer
	fault     string
	objects   []string
	genConfig bool
}

type fakePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *fakeServer
}

func (f fakePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	tfplugin6.RegisterProviderServer(s, f.srv)
	pluginpb.RegisterGRPCStdioServer(s, fakeStdio{})
	return nil
}

func (fakePlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("fake-provider only serves")
}

// fakeStdio is go-plugin >= 1.3's stdio service, which Debian's 1.0.1
// server lacks: an open, silent stream, so the trace shows it was opened.
type fakeStdio struct{}

func (fakeStdio) StreamStdio(_ *emptypb.Empty, srv pluginpb.GRPCStdio_StreamStdioServer) error {
	<-srv.Context().Done()
	return nil
}

// ---- the call trace ------------------------------------------------------------

var traceMu sync.Mutex

func trace(method string) {
	path := os.Getenv("TFCORE_FAKE_TRACE")
	if path == "" {
		return
	}
	traceMu.Lock()
	defer traceMu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintln(f, method)
	f.Close()
}

func traceServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.UnaryInterceptor(func(ctx context.Context, req interface{}, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (interface{}, error) {
			trace(info.FullMethod)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv interface{}, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			trace(info.FullMethod)
			return h(srv, ss)
		}),
	}
}

func runFakeProvider() int {
	srv := &fakeServer{fault: os.Getenv("TFCORE_FAKE_FAULT"), genConfig: os.Getenv("TFCORE_FAKE_GENCONFIG") == "1"}
	for _, n := range strings.Split(os.Getenv("TFCORE_FAKE_OBJECTS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			srv.objects = append(srv.objects, n)
		}
	}
	sort.Strings(srv.objects)
	if srv.fault == "no-alpn" || srv.fault == "tls11" {
		return serveFakeRawTLS(srv)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: 6,
			MagicCookieKey: magicCookieKey, MagicCookieValue: magicCookieValue},
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": fakePlugin{srv: srv}}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, traceServerOptions()...))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr, JSONFormat: true}),
	})
	return 0
}

// serveFakeRawTLS serves without go-plugin, to get a TLS server Terraform
// must refuse: no ALPN protocol selected (no-alpn), or TLS 1.1 at most
// (tls11). The handshake line and the client certificate check are
// go-plugin's; gRPC runs over the TLS listener as it would over creds.
func serveFakeRawTLS(srv *fakeServer) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "fake-provider: %v\n", err)
		return 1
	}
	if os.Getenv(magicCookieKey) != magicCookieValue {
		return fail(fmt.Errorf("not launched as a plugin"))
	}
	clientPEM := os.Getenv("PLUGIN_CLIENT_CERT")
	if clientPEM == "" {
		return fail(fmt.Errorf("the %s fault needs AutoMTLS", srv.fault))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(clientPEM)) {
		return fail(fmt.Errorf("PLUGIN_CLIENT_CERT is not a certificate"))
	}
	cert, _, err := mintCert()
	if err != nil {
		return fail(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	switch srv.fault {
	case "no-alpn":
		conf.MinVersion = tls.VersionTLS12 // and no NextProtos
	case "tls11":
		conf.NextProtos = []string{"h2"}
		conf.MinVersion, conf.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	}
	dir, err := os.MkdirTemp("", "fake-plugin")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "plugin.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fail(err)
	}
	var gs *grpc.Server
	// go-plugin's controller, the one service of its own tfcore calls
	// here: Shutdown ends the server; anything else is UNIMPLEMENTED.
	unknown := grpc.UnknownServiceHandler(func(_ interface{}, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		trace(method)
		if method != "/plugin.GRPCController/Shutdown" {
			return status.Errorf(codes.Unimplemented, "unknown method %s", method)
		}
		var in emptypb.Empty
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		go gs.Stop()
		return stream.SendMsg(&emptypb.Empty{})
	})
	gs = grpc.NewServer(append(traceServerOptions(), unknown)...)
	tfplugin6.RegisterProviderServer(gs, srv)
	fmt.Printf("1|6|unix|%s|grpc|%s\n", sock, base64.RawStdEncoding.EncodeToString(cert.Certificate[0]))
	os.Stdout.Sync()
	_ = gs.Serve(tls.NewListener(l, conf))
	return 0
}

// ---- schema ------------------------------------------------------------------

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
	case "schema-diag":
		return &tfplugin6.GetProviderSchema_Response{Diagnostics: []*tfplugin6.Diagnostic{{
			Severity: tfplugin6.Diagnostic_ERROR, Summary: "fake-provider", Detail: "the schema is broken on purpose"}}}, nil
	}
	return &tfplugin6.GetProviderSchema_Response{
		Provider: &tfplugin6.Schema{Block: &tfplugin6.Schema_Block{Attributes: []*tfplugin6.Schema_Attribute{
			{Name: "path", Type: str, Optional: true}}}},
		ResourceSchemas: map[string]*tfplugin6.Schema{"cellrouter_fake": {Block: &tfplugin6.Schema_Block{Attributes: attrs}}},
		ListResourceSchemas: map[string]*tfplugin6.Schema{"cellrouter_fake": {Block: &tfplugin6.Schema_Block{
			Attributes: []*tfplugin6.Schema_Attribute{{Name: "prefix", Type: str, Optional: true}}}}},
		ServerCapabilities: &tfplugin6.ServerCapabilities{GenerateResourceConfig: f.genConfig},
	}, nil
}

func (f *fakeServer) GetResourceIdentitySchemas(context.Context, *tfplugin6.GetResourceIdentitySchemas_Request) (*tfplugin6.GetResourceIdentitySchemas_Response, error) {
	attr := &tfplugin6.ResourceIdentitySchema_IdentityAttribute{Name: "name", Type: []byte(`"string"`), RequiredForImport: true,
		Description: "The fake object's name."}
	switch f.fault {
	case "no-identities":
		return nil, status.Error(codes.Unimplemented, "method GetResourceIdentitySchemas not implemented")
	case "identity-schema-diag":
		return &tfplugin6.GetResourceIdentitySchemas_Response{Diagnostics: []*tfplugin6.Diagnostic{{
			Severity: tfplugin6.Diagnostic_ERROR, Summary: "GetResourceIdentitySchemas Not Implemented",
			Detail: "the fake answers with an error diagnostic where it should answer UNIMPLEMENTED"}}}, nil
	case "identity-schema-error":
		return nil, status.Error(codes.Internal, "identity schemas are broken on purpose")
	case "identity-schema-bad":
		attr.RequiredForImport = false
	}
	return &tfplugin6.GetResourceIdentitySchemas_Response{IdentitySchemas: map[string]*tfplugin6.ResourceIdentitySchema{
		"cellrouter_fake": {Version: 0, IdentityAttributes: []*tfplugin6.ResourceIdentitySchema_IdentityAttribute{attr}}}}, nil
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

// ---- identities ----------------------------------------------------------------

// identity is the object's identity as the fault wants it (nil: none).
func (f *fakeServer) identity(name cty.Value) *tfplugin6.ResourceIdentityData {
	if f.fault == "no-identities" {
		return nil
	}
	v := cty.ObjectVal(map[string]cty.Value{"name": name})
	ty := fakeIdentityType
	switch f.fault {
	case "identity-null-required":
		v = cty.ObjectVal(map[string]cty.Value{"name": cty.NullVal(cty.String)})
	case "identity-wrong-type":
		ty = cty.Object(map[string]cty.Type{"name": cty.String, "region": cty.String})
		v = cty.ObjectVal(map[string]cty.Value{"name": name, "region": cty.StringVal("eu")})
	}
	dv, err := toDV(v, ty)
	if err != nil {
		return nil
	}
	return &tfplugin6.ResourceIdentityData{IdentityData: dv}
}

func fakeObject(name string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "value": cty.StringVal("v-" + name),
		"id": cty.StringVal(name), "serial": cty.NumberIntVal(1)})
}

func (f *fakeServer) exists(name string) bool {
	for _, n := range f.objects {
		if n == name {
			return true
		}
	}
	return false
}

// ---- resources ------------------------------------------------------------------

func (f *fakeServer) UpgradeResourceState(_ context.Context, r *tfplugin6.UpgradeResourceState_Request) (*tfplugin6.UpgradeResourceState_Response, error) {
	v, err := ctyjson.Unmarshal(r.RawState.GetJson(), fakeType)
	if err != nil {
		return &tfplugin6.UpgradeResourceState_Response{Diagnostics: fakeErr(err)}, nil
	}
	dv, _ := toDV(v, fakeType)
	return &tfplugin6.UpgradeResourceState_Response{UpgradedState: dv}, nil
}

func (f *fakeServer) ReadResource(_ context.Context, r *tfplugin6.ReadResource_Request) (*tfplugin6.ReadResource_Response, error) {
	v, err := fromDV(r.CurrentState, fakeType)
	if err != nil {
		return &tfplugin6.ReadResource_Response{Diagnostics: fakeErr(err)}, nil
	}
	if v.IsNull() {
		return &tfplugin6.ReadResource_Response{NewState: r.CurrentState}, nil
	}
	name := v.GetAttr("name")
	if f.fault == "identity-changed" && name.IsKnown() && !name.IsNull() {
		name = cty.StringVal(name.AsString() + "-renamed")
	}
	if f.fault == "invalid-read" {
		m := v.AsValueMap()
		m["id"] = cty.UnknownVal(cty.String)
		dv, _ := toDV(cty.ObjectVal(m), fakeType)
		return &tfplugin6.ReadResource_Response{NewState: dv, Private: r.Private, NewIdentity: f.identity(name)}, nil
	}
	return &tfplugin6.ReadResource_Response{NewState: r.CurrentState, Private: r.Private, NewIdentity: f.identity(name)}, nil
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
	id := f.identity(m["name"])
	if f.fault == "identity-unknown" && !prior.IsNull() {
		dv, _ := toDV(cty.UnknownVal(fakeIdentityType), fakeIdentityType)
		id = &tfplugin6.ResourceIdentityData{IdentityData: dv}
	}
	dv, _ := toDV(cty.ObjectVal(m), fakeType)
	return &tfplugin6.PlanResourceChange_Response{PlannedState: dv, PlannedPrivate: r.PriorPrivate, PlannedIdentity: id,
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
	return &tfplugin6.ApplyResourceChange_Response{NewState: dv, Private: r.PlannedPrivate, NewIdentity: f.identity(m["name"])}, nil
}

// ImportResourceState imports by ID (the name) or by identity; the object
// must be one of TFCORE_FAKE_OBJECTS, else nothing is returned... as a
// null state, which ReadResource then keeps null ("Cannot import
// non-existent remote object").
func (f *fakeServer) ImportResourceState(_ context.Context, r *tfplugin6.ImportResourceState_Request) (*tfplugin6.ImportResourceState_Response, error) {
	name := r.Id
	byIdentity := r.Identity != nil && r.Identity.IdentityData != nil
	if byIdentity {
		idv, err := fromDV(r.Identity.IdentityData, fakeIdentityType)
		if err != nil {
			return &tfplugin6.ImportResourceState_Response{Diagnostics: fakeErr(err)}, nil
		}
		if n := idv.GetAttr("name"); !n.IsNull() && n.IsKnown() {
			name = n.AsString()
		}
	}
	obj := cty.NullVal(fakeType)
	if f.exists(name) {
		obj = fakeObject(name)
	}
	dv, _ := toDV(obj, fakeType)
	ir := &tfplugin6.ImportResourceState_ImportedResource{TypeName: "cellrouter_fake", State: dv}
	if !(byIdentity && f.fault == "import-no-identity") {
		ir.Identity = f.identity(cty.StringVal(name))
	}
	return &tfplugin6.ImportResourceState_Response{ImportedResources: []*tfplugin6.ImportResourceState_ImportedResource{ir}}, nil
}

func (f *fakeServer) GenerateResourceConfig(_ context.Context, r *tfplugin6.GenerateResourceConfig_Request) (*tfplugin6.GenerateResourceConfig_Response, error) {
	v, err := fromDV(r.State, fakeType)
	if err != nil || v.IsNull() {
		return &tfplugin6.GenerateResourceConfig_Response{Diagnostics: fakeErr(fmt.Errorf("no object to generate configuration from"))}, nil
	}
	cfg := cty.ObjectVal(map[string]cty.Value{"name": v.GetAttr("name"), "value": v.GetAttr("value"),
		"id": cty.NullVal(cty.String), "serial": cty.NullVal(cty.Number)})
	dv, _ := toDV(cfg, fakeType)
	return &tfplugin6.GenerateResourceConfig_Response{Config: dv}, nil
}

// ---- list ------------------------------------------------------------------------

func (f *fakeServer) ValidateListResourceConfig(_ context.Context, r *tfplugin6.ValidateListResourceConfig_Request) (*tfplugin6.ValidateListResourceConfig_Response, error) {
	v, err := fromDV(r.Config, fakeListConfigType)
	if err != nil {
		return &tfplugin6.ValidateListResourceConfig_Response{Diagnostics: fakeErr(err)}, nil
	}
	if p := v.GetAttr("prefix"); p.IsKnown() && !p.IsNull() && strings.ContainsAny(p.AsString(), " \t") {
		return &tfplugin6.ValidateListResourceConfig_Response{Diagnostics: []*tfplugin6.Diagnostic{{
			Severity: tfplugin6.Diagnostic_ERROR, Summary: "Invalid prefix", Detail: "A prefix holds no blanks.",
			Attribute: &tfplugin6.AttributePath{Steps: []*tfplugin6.AttributePath_Step{
				{Selector: &tfplugin6.AttributePath_Step_AttributeName{AttributeName: "prefix"}}}}}}}, nil
	}
	return &tfplugin6.ValidateListResourceConfig_Response{}, nil
}

func (f *fakeServer) ListResource(r *tfplugin6.ListResource_Request, srv tfplugin6.Provider_ListResourceServer) error {
	v, err := fromDV(r.Config, fakeListConfigType)
	if err != nil {
		return srv.Send(&tfplugin6.ListResource_Event{Diagnostic: fakeErr(err)})
	}
	prefix := ""
	if p := v.GetAttr("prefix"); !p.IsNull() {
		prefix = p.AsString()
	}
	sent := int64(0)
	for _, n := range f.objects {
		if !strings.HasPrefix(n, prefix) || (r.Limit > 0 && sent >= r.Limit) {
			continue
		}
		ev := &tfplugin6.ListResource_Event{DisplayName: "fake " + n}
		if f.fault != "list-no-identity" {
			ev.Identity = f.identity(cty.StringVal(n))
		}
		if r.IncludeResourceObject {
			ev.ResourceObject, _ = toDV(fakeObject(n), fakeType)
		}
		if err := srv.Send(ev); err != nil {
			return err
		}
		sent++
	}
	return nil
}
