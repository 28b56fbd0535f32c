// plugin.go — launching the provider the way Terraform does.
//
// Terraform starts a provider with hashicorp/go-plugin: the magic cookie in
// the environment, protocol 6 offered through VersionedPlugins, gRPC only,
// AutoMTLS (a one-shot client certificate in PLUGIN_CLIENT_CERT, the
// provider's certificate read back from the handshake line). We do exactly
// that with Debian's go-plugin, so a provider that works here is launched
// the same way by a real Terraform. TF_REATTACH_PROVIDERS (debug mode) is
// honoured too: the provider is then already running, plaintext, and is
// neither shut down nor killed when we are done (as Terraform does for
// reattached providers with "Test": true).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"cellrouter/proto/tfplugin6"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	magicCookieKey   = "TF_PLUGIN_MAGIC_COOKIE"
	magicCookieValue = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
	providerAddr     = "registry.terraform.io/cellrouter/cellrouter"
	providerName     = "cellrouter"
)

// grpcProviderPlugin is the go-plugin glue: the client side hands back the
// tfplugin6 client on the negotiated connection. We never serve.
type grpcProviderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (grpcProviderPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("tfcore only acts as a plugin client")
}

func (grpcProviderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return tfplugin6.NewProviderClient(conn), nil
}

// Provider is one running provider process (or a reattached one).
type Provider struct {
	client     *plugin.Client
	conn       *grpc.ClientConn
	rpc        tfplugin6.ProviderClient
	reattached bool
	Pid        int
	Network    string
	Addr       string
}

// providerBinary finds the provider executable: TFCORE_PROVIDER, else
// terraform-provider-cellrouter next to tfcore.
func providerBinary() string {
	if p := os.Getenv("TFCORE_PROVIDER"); p != "" {
		return p
	}
	self, err := os.Executable()
	if err == nil {
		cand := strings.TrimSuffix(self, "tfcore") + "terraform-provider-cellrouter"
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
	}
	return "terraform-provider-cellrouter"
}

// pluginLogger routes the provider's stderr (hclog JSON lines) through an
// hclog logger on our stderr, as Terraform does. The level comes from
// TF_LOG_CORE/TF_LOG like Terraform's; warnings and errors always show.
func pluginLogger() hclog.Logger {
	level := hclog.Warn
	for _, env := range []string{"TF_LOG_CORE", "TF_LOG"} {
		if v := os.Getenv(env); v != "" {
			if strings.EqualFold(v, "json") {
				level = hclog.Trace
			} else if l := hclog.LevelFromString(v); l != hclog.NoLevel {
				level = l
			}
			break
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "plugin",
		Level:  level,
		Output: os.Stderr,
	})
}

type reattachEntry struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            struct {
		Network string
		String  string
	}
}

// reattachConfig reads TF_REATTACH_PROVIDERS; nil when it does not name us.
func reattachConfig() (*plugin.ReattachConfig, error) {
	raw := os.Getenv("TF_REATTACH_PROVIDERS")
	if raw == "" {
		return nil, nil
	}
	var m map[string]reattachEntry
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("invalid TF_REATTACH_PROVIDERS: %v", err)
	}
	var e *reattachEntry
	for k, v := range m {
		if k == providerAddr || k == "cellrouter/cellrouter" {
			v := v
			e = &v
		}
	}
	if e == nil {
		return nil, nil
	}
	if e.ProtocolVersion != 0 && e.ProtocolVersion != 6 {
		return nil, fmt.Errorf("TF_REATTACH_PROVIDERS: protocol version %d is not supported (only 6)", e.ProtocolVersion)
	}
	if e.Protocol != "" && e.Protocol != "grpc" {
		return nil, fmt.Errorf("TF_REATTACH_PROVIDERS: protocol %q is not supported (only grpc)", e.Protocol)
	}
	var addr net.Addr
	var err error
	switch e.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", e.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", e.Addr.String)
	default:
		err = fmt.Errorf("unknown network %q", e.Addr.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("TF_REATTACH_PROVIDERS: %v", err)
	}
	return &plugin.ReattachConfig{Protocol: plugin.ProtocolGRPC, Addr: addr, Pid: e.Pid}, nil
}

// launchProvider starts (or reattaches to) the provider and returns its
// tfplugin6 client. stderrSink, when non-nil, also receives the raw stderr.
func launchProvider(stderrSink io.Writer) (*Provider, error) {
	handshake := plugin.HandshakeConfig{
		ProtocolVersion:  6,
		MagicCookieKey:   magicCookieKey,
		MagicCookieValue: magicCookieValue,
	}
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          plugin.PluginSet{"provider": grpcProviderPlugin{}}, // used on reattach
		VersionedPlugins: map[int]plugin.PluginSet{6: {"provider": grpcProviderPlugin{}}},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           pluginLogger(),
		Managed:          false,
		Stderr:           stderrSink,
	}
	// TFCORE_PROVIDER_STDERR: also append the provider's raw stderr to a
	// file, so tests can look for sanitizer or valgrind reports that the
	// log levels would otherwise hide.
	if path := os.Getenv("TFCORE_PROVIDER_STDERR"); path != "" && stderrSink == nil {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("TFCORE_PROVIDER_STDERR: %v", err)
		}
		cfg.Stderr = f
	}
	re, err := reattachConfig()
	if err != nil {
		return nil, err
	}
	p := &Provider{}
	if re != nil {
		cfg.Reattach = re
		p.reattached = true
	} else {
		cfg.Cmd = exec.Command(providerBinary())
		cfg.AutoMTLS = true
	}
	p.client = plugin.NewClient(cfg)
	proto, err := p.client.Client()
	if err != nil {
		p.client.Kill()
		return nil, fmt.Errorf("failed to launch the provider %s: %v", providerBinary(), err)
	}
	if v := p.client.NegotiatedVersion(); v != 6 && !p.reattached {
		p.client.Kill()
		return nil, fmt.Errorf("provider negotiated protocol %d, want 6", v)
	}
	if gc, ok := proto.(*plugin.GRPCClient); ok {
		p.conn = gc.Conn
	}
	raw, err := proto.Dispense("provider")
	if err != nil {
		p.client.Kill()
		return nil, fmt.Errorf("failed to instantiate the provider: %v", err)
	}
	p.rpc = raw.(tfplugin6.ProviderClient)
	if rc := p.client.ReattachConfig(); rc != nil {
		p.Pid = rc.Pid
		if rc.Addr != nil {
			p.Network, p.Addr = rc.Addr.Network(), rc.Addr.String()
		}
	}
	return p, nil
}

// Close shuts the provider down the way Terraform does: the controller's
// Shutdown, a grace period (2 s, as go-plugin's; TFCORE_SHUTDOWN_GRACE in
// seconds to allow for valgrind), then a kill. Reattached providers are
// left running.
func (p *Provider) Close() {
	if p == nil || p.client == nil {
		return
	}
	if !p.reattached {
		recordProviderPeak(p.Pid)
		grace := 2 * time.Second
		if v, err := strconv.Atoi(os.Getenv("TFCORE_SHUTDOWN_GRACE")); err == nil && v > 0 {
			grace = time.Duration(v) * time.Second
		}
		if p.conn != nil && grace > 2*time.Second {
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			_ = p.conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{})
			for !p.client.Exited() && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
		}
		p.client.Kill()
	}
	p.client = nil
}

// Exited reports whether go-plugin saw the process exit.
func (p *Provider) Exited() bool { return p.client == nil || p.client.Exited() }

// recordProviderPeak appends the provider's peak resident memory (VmHWM)
// to the file named by TFCORE_STATS, for the benchmarks.
func recordProviderPeak(pid int) {
	path := os.Getenv("TFCORE_STATS")
	if path == "" || pid <= 0 {
		return
	}
	if kb := procStatusKB(pid, "VmHWM:"); kb >= 0 {
		appendStat(path, fmt.Sprintf("provider_peak_rss_kb=%d provider_cpu_s=%.2f\n", kb, procCPUSeconds(pid)))
	}
}

// procCPUSeconds is the user+system CPU time of a live process, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, as Linux
// reports them to user space); -1 when unreadable. CPU time rather than
// wall time, so the provider's share is measured apart from tfcore's and
// from other load on the machine.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return float64(ut+st) / 100
}

func appendStat(path, line string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}
