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
//
// Debian's go-plugin (1.0.1) and grpc-go (1.33) are older than the ones a
// current Terraform links, and more lenient: tfcore adds what the newer
// libraries do on the same connection. The TLS handshake must select ALPN
// "h2" (grpc-go >= 1.67, Terraform >= 1.12) and TLS 1.2 or later
// (go-plugin >= 1.7 sets it; Go's own client default since 1.18 already
// did); the GRPCStdio stream is opened at once (go-plugin >= 1.3
// grpc_client.go newGRPCClient); the broker stream and the controller's
// Shutdown are go-plugin 1.0.1's own (grpc_client.go newGRPCClient, Close).
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	pluginpb "cellrouter/proto/plugin"
	"cellrouter/proto/tfplugin6"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	stopStdio  context.CancelFunc
	stdioDone  chan struct{}
	logger     hclog.Logger
	tlsMu      sync.Mutex
	tlsProblem error // why a TLS handshake was refused, if one was
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
	p.logger = cfg.Logger
	p.client = plugin.NewClient(cfg)
	if !p.reattached {
		// Start runs the handshake and, with AutoMTLS, fills in the TLS
		// configuration the connection will use: tighten it before the
		// first dial, as the newer libraries would have built it.
		if _, err := p.client.Start(); err != nil {
			p.client.Kill()
			return nil, fmt.Errorf("failed to launch the provider %s: %v", providerBinary(), err)
		}
		if cfg.TLSConfig != nil {
			hardenTLS(cfg.TLSConfig, p.noteTLSProblem, p.logger)
		}
	}
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
		p.openStdio()
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
	defer p.closeStdio()
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

// ---- TLS as grpc-go >= 1.67 and go-plugin >= 1.7 check it -------------------

// errNoALPN is grpc-go's own wording (credentials/tls.go ClientHandshake,
// grpc-go >= 1.67, enforced unless GRPC_ENFORCE_ALPN_ENABLED=false).
var errNoALPN = errors.New("credentials: cannot check peer: missing selected ALPN property")

// hardenTLS makes the AutoMTLS client configuration refuse what a current
// Terraform refuses: less than TLS 1.2 (go-plugin >= 1.7 client.go Start
// sets MinVersion: tls.VersionTLS12; Go >= 1.18 clients default to it, so
// every Terraform from 1.3 on refuses TLS 1.0 and 1.1), and a handshake that
// did not select ALPN "h2" (Terraform >= 1.12 only; older releases accept
// it, and tfcore then logs a warning). grpc-go 1.33 offers "h2" but does not
// check the answer, so the check runs as VerifyConnection, inside the
// handshake of every connection, and the reason is kept for the
// diagnostic.
func hardenTLS(c *tls.Config, note func(error), log hclog.Logger) {
	c.MinVersion = tls.VersionTLS12
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if cs.Version < tls.VersionTLS12 {
			err := fmt.Errorf("the provider negotiated %s; Terraform (go-plugin >= 1.7, Go >= 1.18) requires TLS 1.2 or later", tlsVersionName(cs.Version))
			note(err)
			return err
		}
		if cs.NegotiatedProtocol != "h2" {
			if emu.EnforceALPN {
				err := fmt.Errorf("%w: the provider's TLS server did not select ALPN \"h2\" (grpc-go >= 1.67, in Terraform >= 1.12, refuses such a server)", errNoALPN)
				note(err)
				return err
			}
			log.Warn("the provider's TLS server did not select ALPN \"h2\"; Terraform >= 1.12 refuses it", "emulating", emu.Version)
		}
		return nil
	}
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("TLS version 0x%04x", v)
}

func (p *Provider) noteTLSProblem(err error) {
	p.tlsMu.Lock()
	if p.tlsProblem == nil {
		p.tlsProblem = err
	}
	p.tlsMu.Unlock()
}

// TLSProblem is the reason a TLS handshake was refused (nil if none was).
func (p *Provider) TLSProblem() error {
	if p == nil {
		return nil
	}
	p.tlsMu.Lock()
	defer p.tlsMu.Unlock()
	return p.tlsProblem
}

// transportDiag adds to a diagnostic about a failed call the reason the
// TLS handshake was refused, when that is why: Terraform only logs it
// (grpc-go's transport error), tfcore says it where it is read.
func (p *Provider) transportDiag(d *Diag, callErr error) *Diag {
	if err := p.TLSProblem(); err != nil {
		d.Detail += fmt.Sprintf("\n\ntfcore: the TLS handshake with the provider was refused: %v.", err)
	} else if msg := status.Convert(callErr).Message(); strings.Contains(msg, "handshake failed") {
		d.Detail += fmt.Sprintf("\n\ntfcore: the connection to the provider failed: %s.", msg)
	}
	return d
}

// ---- the stdio stream (go-plugin >= 1.3) ---------------------------------------

// openStdio opens /plugin.GRPCStdio/StreamStdio on the provider's
// connection, as go-plugin >= 1.3 does right after connecting
// (grpc_stdio.go newGRPCStdioClient): UNIMPLEMENTED, UNAVAILABLE, EOF and
// cancellation end it quietly; data is logged as the provider's stdout or
// stderr.
func (p *Provider) openStdio() {
	ctx, cancel := context.WithCancel(context.Background())
	p.stopStdio = cancel
	p.stdioDone = make(chan struct{})
	stream, err := pluginpb.NewGRPCStdioClient(p.conn).StreamStdio(ctx, &emptypb.Empty{})
	if err != nil {
		if c := status.Code(err); c != codes.Unavailable && c != codes.Unimplemented {
			p.logger.Warn("stdio stream could not be opened", "error", err)
		}
		close(p.stdioDone)
		return
	}
	log := p.logger.Named("stdio")
	go func() {
		defer close(p.stdioDone)
		for {
			d, err := stream.Recv()
			if err != nil {
				switch status.Code(err) {
				case codes.Unavailable, codes.Canceled, codes.Unimplemented:
				default:
					if err != io.EOF && ctx.Err() == nil {
						log.Debug("stdio stream ended", "error", err)
					}
				}
				return
			}
			log.Debug("received data", "channel", d.Channel.String(), "data", string(d.Data))
		}
	}()
}

func (p *Provider) closeStdio() {
	if p.stopStdio != nil {
		p.stopStdio()
		<-p.stdioDone
		p.stopStdio = nil
	}
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
