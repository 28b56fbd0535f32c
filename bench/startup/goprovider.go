// bench/startup/goprovider.go — the runtime every Go provider carries, for
// the start-up benchmark (bench/startup.sh): a minimal Terraform provider
// built here from Debian's hashicorp/go-plugin and grpc-go, serving the very
// GetProviderSchema and GetResourceIdentitySchemas responses
// terraform-provider-cellrouter serves.
//
// The schema is those responses in protobuf form (schemaPB, identitiesPB,
// generated at build time from the C provider by `docgen -dump-schema`, see
// bench/startup.mk), decoded on the first call and kept, as the C provider
// builds its response on the first call and keeps it. Served the way terraform-plugin-go serves
// a provider: go-plugin, protocol 6, gRPC, AutoMTLS when Terraform asks for
// it. Every other RPC is gRPC's Unimplemented: only start-up and the schema
// are measured. Built with tfcore's codec.go (Debian's grpc-go 1.33 needs it
// for APIv2 messages), which a provider built against a current grpc-go
// would not carry.
package main

import (
	"context"
	"fmt"
	"sync"

	"cellrouter/proto/tfplugin6"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

type provider struct {
	tfplugin6.UnimplementedProviderServer
	once   sync.Once
	schema *tfplugin6.GetProviderSchema_Response
	err    error
	idOnce sync.Once
	ids    *tfplugin6.GetResourceIdentitySchemas_Response
	idErr  error
}

func (p *provider) GetResourceIdentitySchemas(context.Context, *tfplugin6.GetResourceIdentitySchemas_Request) (*tfplugin6.GetResourceIdentitySchemas_Response, error) {
	p.idOnce.Do(func() {
		p.ids = &tfplugin6.GetResourceIdentitySchemas_Response{}
		p.idErr = proto.Unmarshal(identitiesPB, p.ids)
	})
	return p.ids, p.idErr
}

func (p *provider) GetProviderSchema(context.Context, *tfplugin6.GetProviderSchema_Request) (*tfplugin6.GetProviderSchema_Response, error) {
	p.once.Do(func() {
		p.schema = &tfplugin6.GetProviderSchema_Response{}
		p.err = proto.Unmarshal(schemaPB, p.schema)
	})
	return p.schema, p.err
}

// grpcPlugin registers the provider on go-plugin's gRPC server.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv *provider
}

func (g *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	tfplugin6.RegisterProviderServer(s, g.srv)
	return nil
}

func (g *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("this plugin only serves")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			MagicCookieKey:   "TF_PLUGIN_MAGIC_COOKIE",
			MagicCookieValue: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
		},
		VersionedPlugins: map[int]plugin.PluginSet{
			6: {"provider": &grpcPlugin{srv: &provider{}}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
