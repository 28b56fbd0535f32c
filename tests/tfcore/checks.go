// checks.go — protocol-level checks and benchmarks that need a hand-made
// client rather than go-plugin's: the end-to-end tests and `make bench`
// call these subcommands.
//
//	check-mtls        the right client certificate is served; a different
//	                  certificate, no certificate, or plaintext is refused
//	check-tls         the handshake a current Terraform makes selects ALPN
//	                  "h2" and TLS 1.2 or later; TLS 1.0 and 1.1 are refused
//	check-concurrent  N (default 10) concurrent calls are all served
//	check-shutdown    GRPCController/Shutdown (and SIGTERM, and go-plugin's
//	                  own teardown) end the process cleanly: exit status 0,
//	                  socket file removed, no process left behind
//	bench-schema      exec→handshake time, RSS after GetProviderSchema,
//	                  GetProviderSchema round trips (p50/p99)
//
// Each prints "ok: ..." per passed assertion and "FAIL: ..." per failed one,
// and exits 1 if anything failed.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"cellrouter/proto/tfplugin6"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

type checker struct{ failed int }

func (c *checker) ok(format string, args ...any) { fmt.Printf("ok: "+format+"\n", args...) }
func (c *checker) fail(format string, args ...any) {
	c.failed++
	fmt.Printf("FAIL: "+format+"\n", args...)
}
func (c *checker) expect(cond bool, format string, args ...any) bool {
	if cond {
		c.ok(format, args...)
	} else {
		c.fail(format, args...)
	}
	return cond
}
func (c *checker) exit() int {
	if c.failed > 0 {
		return 1
	}
	return 0
}

// mintCert makes a certificate of the shape go-plugin's AutoMTLS uses:
// ECDSA P-521, self-signed CA, SAN localhost, client and server auth.
func mintCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}},
		DNSNames:              []string{"localhost"},
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		NotBefore:             time.Now().Add(-30 * time.Second),
		NotAfter:              time.Now().Add(262980 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	return pair, certPEM, err
}

// rawPlugin is a provider started by hand, as go-plugin would.
type rawPlugin struct {
	cmd        *exec.Cmd
	network    string
	addr       string
	serverCert *x509.Certificate
	clientCert tls.Certificate
	started    time.Time
	handshake  time.Duration
	stderr     *strings.Builder
	stderrMu   sync.Mutex
	waitErr    chan error
}

func startRaw(tlsOn bool) (*rawPlugin, error) {
	rp := &rawPlugin{stderr: &strings.Builder{}, waitErr: make(chan error, 1)}
	env := append(os.Environ(), magicCookieKey+"="+magicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=6",
		"PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000")
	if tlsOn {
		pair, pemBytes, err := mintCert()
		if err != nil {
			return nil, err
		}
		rp.clientCert = pair
		env = append(env, "PLUGIN_CLIENT_CERT="+string(pemBytes))
	}
	rp.cmd = exec.Command(providerBinary())
	rp.cmd.Env = env
	stdout, err := rp.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := rp.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	rp.started = time.Now()
	if err := rp.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			rp.stderrMu.Lock()
			rp.stderr.WriteString(sc.Text() + "\n")
			rp.stderrMu.Unlock()
		}
	}()
	lineCh := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lineCh <- line
		// Later stdout is read and dropped, as go-plugin does.
		buf := make([]byte, 4096)
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
		rp.waitErr <- rp.cmd.Wait()
	}()
	var line string
	select {
	case line = <-lineCh:
	case <-time.After(60 * time.Second):
		rp.cmd.Process.Kill()
		return nil, fmt.Errorf("timeout while waiting for plugin to start")
	}
	rp.handshake = time.Since(rp.started)
	line = strings.TrimSpace(line)
	parts := strings.Split(line, "|")
	if len(parts) < 4 {
		rp.cmd.Process.Kill()
		return nil, fmt.Errorf("Unrecognized remote plugin message: %q (stderr: %s)", line, rp.Stderr())
	}
	if parts[0] != "1" || parts[1] != "6" {
		rp.cmd.Process.Kill()
		return nil, fmt.Errorf("handshake %q: want core protocol 1, app protocol 6", line)
	}
	if len(parts) < 5 || parts[4] != "grpc" {
		rp.cmd.Process.Kill()
		return nil, fmt.Errorf("handshake %q: protocol field is not grpc", line)
	}
	rp.network, rp.addr = parts[2], parts[3]
	if tlsOn {
		if len(parts) < 6 || len(parts[5]) <= 50 {
			rp.cmd.Process.Kill()
			return nil, fmt.Errorf("handshake %q: no server certificate although PLUGIN_CLIENT_CERT was set", line)
		}
		der, err := base64.RawStdEncoding.DecodeString(parts[5])
		if err != nil {
			rp.cmd.Process.Kill()
			return nil, fmt.Errorf("error parsing server cert: %v", err)
		}
		rp.serverCert, err = x509.ParseCertificate(der)
		if err != nil {
			rp.cmd.Process.Kill()
			return nil, fmt.Errorf("error parsing server cert: %v", err)
		}
	}
	return rp, nil
}

func (rp *rawPlugin) Stderr() string {
	rp.stderrMu.Lock()
	defer rp.stderrMu.Unlock()
	return rp.stderr.String()
}

// dial connects with the given client certificate (nil: none); plaintext
// when plain is set.
func (rp *rawPlugin) dial(cert *tls.Certificate, plain bool) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, rp.network, rp.addr)
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	if plain || rp.serverCert == nil {
		opts = append(opts, grpc.WithInsecure())
	} else {
		pool := x509.NewCertPool()
		pool.AddCert(rp.serverCert)
		conf := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if cert != nil {
			conf.Certificates = []tls.Certificate{*cert}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	}
	return grpc.Dial("unused", opts...)
}

func (rp *rawPlugin) kill() {
	if rp.cmd.Process != nil {
		rp.cmd.Process.Kill()
		<-rp.waitErr
	}
}

func callSchema(conn *grpc.ClientConn, timeout time.Duration) (*tfplugin6.GetProviderSchema_Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return tfplugin6.NewProviderClient(conn).GetProviderSchema(ctx, &tfplugin6.GetProviderSchema_Request{})
}

// startChecked launches the provider with AutoMTLS for a check; nil (and
// a failure recorded) if it does not start.
func (c *checker) startChecked() *rawPlugin {
	rp, err := startRaw(true)
	if err != nil {
		c.fail("launch with AutoMTLS: %v", err)
		return nil
	}
	return rp
}

func checkMTLS(args []string) int {
	c := &checker{}
	rp := c.startChecked()
	if rp == nil {
		return c.exit()
	}
	defer rp.kill()
	c.ok("handshake line read: %s %s, server certificate %d bytes", rp.network, rp.addr, len(rp.serverCert.Raw))
	sc := rp.serverCert
	c.expect(len(sc.DNSNames) > 0 && sc.DNSNames[0] == "localhost", "server certificate has SAN DNS localhost (%v)", sc.DNSNames)
	c.expect(sc.SerialNumber.Sign() > 0, "server certificate serial is positive")
	c.expect(time.Now().After(sc.NotBefore) && time.Now().Before(sc.NotAfter), "server certificate is valid now")
	hasServerAuth := len(sc.ExtKeyUsage) == 0
	for _, u := range sc.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			hasServerAuth = true
		}
	}
	c.expect(hasServerAuth, "server certificate allows serverAuth")

	good, err := rp.dial(&rp.clientCert, false)
	if err == nil {
		_, err = callSchema(good, 30*time.Second)
		good.Close()
	}
	c.expect(err == nil, "client with the certificate from PLUGIN_CLIENT_CERT is served (%v)", err)

	other, _, err := mintCert()
	if err != nil {
		c.fail("minting a second certificate: %v", err)
		return c.exit()
	}
	for _, tc := range []struct {
		name  string
		cert  *tls.Certificate
		plain bool
	}{
		{"a different client certificate", &other, false},
		{"no client certificate", nil, false},
		{"plaintext (no TLS)", nil, true},
	} {
		conn, err := rp.dial(tc.cert, tc.plain)
		if err == nil {
			_, err = callSchema(conn, 10*time.Second)
			conn.Close()
		}
		c.expect(err != nil, "client with %s is refused (%v)", tc.name, err)
	}
	// And the right client still works after the refused attempts.
	good, err = rp.dial(&rp.clientCert, false)
	if err == nil {
		_, err = callSchema(good, 30*time.Second)
		good.Close()
	}
	c.expect(err == nil, "the right client is still served afterwards (%v)", err)
	return c.exit()
}

// checkTLS looks at the provider's TLS server the way grpc-go >= 1.67 and
// go-plugin >= 1.7 do (see hardenTLS): a handshake with Terraform's client
// configuration must select ALPN "h2" and at least TLS 1.2, and a client
// limited to TLS 1.1 or 1.0 must be refused. It reports what was
// negotiated, for the record.
func checkTLS(args []string) int {
	c := &checker{}
	rp := c.startChecked()
	if rp == nil {
		return c.exit()
	}
	defer rp.kill()
	pool := x509.NewCertPool()
	pool.AddCert(rp.serverCert)
	handshake := func(min, max uint16) (tls.ConnectionState, error) {
		raw, err := net.DialTimeout(rp.network, rp.addr, 30*time.Second)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer raw.Close()
		_ = raw.SetDeadline(time.Now().Add(30 * time.Second))
		conn := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"},
			Certificates: []tls.Certificate{rp.clientCert}, MinVersion: min, MaxVersion: max})
		err = conn.Handshake()
		return conn.ConnectionState(), err
	}
	cs, err := handshake(tls.VersionTLS12, 0)
	if c.expect(err == nil, "handshake with Terraform's client configuration (%v)", err) {
		c.expect(cs.NegotiatedProtocol == "h2", "ALPN selected %q (want \"h2\", grpc-go >= 1.67 refuses anything else)", cs.NegotiatedProtocol)
		c.expect(cs.Version >= tls.VersionTLS12, "negotiated %s (want TLS 1.2 or later)", tlsVersionName(cs.Version))
		c.ok("cipher suite %s", tls.CipherSuiteName(cs.CipherSuite))
	}
	// For the record only: no Go client (Terraform, OpenTofu) stops at
	// TLS 1.2 when the server offers 1.3, so this is not a pass/fail rule.
	if cs, err := handshake(tls.VersionTLS12, tls.VersionTLS12); err != nil {
		fmt.Printf("note: a client limited to TLS 1.2 (with go-plugin's P-521 client certificate) is not served: %v\n", err)
	} else {
		fmt.Printf("note: a client limited to TLS 1.2 is served (%s)\n", tls.CipherSuiteName(cs.CipherSuite))
	}
	for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS10} {
		cs, err := handshake(tls.VersionTLS10, v)
		c.expect(err != nil, "a client offering at most %s is refused (%v; negotiated %s)", tlsVersionName(v), err, tlsVersionName(cs.Version))
	}
	// And the provider still serves the real client afterwards.
	conn, err := rp.dial(&rp.clientCert, false)
	if err == nil {
		_, err = callSchema(conn, 30*time.Second)
		conn.Close()
	}
	c.expect(err == nil, "GetProviderSchema over the same kind of connection (%v)", err)
	return c.exit()
}

func checkConcurrent(args []string) int {
	fs := flag.NewFlagSet("check-concurrent", flag.ContinueOnError)
	n := fs.Int("n", 10, "concurrent calls")
	if fs.Parse(args) != nil {
		return 1
	}
	c := &checker{}
	p, err := launchProvider(nil)
	if err != nil {
		c.fail("launch through go-plugin: %v", err)
		return c.exit()
	}
	defer p.Close()
	var wg sync.WaitGroup
	start := make(chan struct{})
	resps := make([]*tfplugin6.GetProviderSchema_Response, *n)
	errs := make([]error, *n)
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			resps[i], errs[i] = p.rpc.GetProviderSchema(ctx, &tfplugin6.GetProviderSchema_Request{})
		}(i)
	}
	close(start)
	wg.Wait()
	served := 0
	for i := 0; i < *n; i++ {
		if errs[i] != nil {
			c.fail("concurrent call %d: %v", i, errs[i])
			continue
		}
		if !proto.Equal(resps[i], resps[0]) {
			c.fail("concurrent call %d: answer differs from call 0", i)
			continue
		}
		served++
	}
	c.expect(served == *n, "%d of %d concurrent GetProviderSchema calls served with identical answers", served, *n)
	return c.exit()
}

// children lists processes whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cp, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(raw)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				out = append(out, cp)
			}
		}
	}
	return out
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func checkShutdown(args []string) int {
	c := &checker{}
	for _, how := range []string{"GRPCController/Shutdown", "SIGTERM"} {
		rp, err := startRaw(true)
		if err != nil {
			c.fail("launch: %v", err)
			return c.exit()
		}
		pid := rp.cmd.Process.Pid
		conn, err := rp.dial(&rp.clientCert, false)
		if err == nil {
			_, err = callSchema(conn, 30*time.Second)
		}
		if !c.expect(err == nil, "[%s] provider serves before shutdown (%v)", how, err) {
			rp.kill()
			continue
		}
		kids := children(pid)
		if how == "SIGTERM" {
			err = rp.cmd.Process.Signal(syscall.SIGTERM)
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{})
			cancel()
		}
		c.expect(err == nil, "[%s] shutdown request accepted (%v)", how, err)
		var werr error
		select {
		case werr = <-rp.waitErr:
		case <-time.After(60 * time.Second): // hang guard, not a measurement
			c.fail("[%s] provider still running 60s after shutdown; killing it", how)
			rp.kill()
			conn.Close()
			continue
		}
		conn.Close()
		c.expect(werr == nil, "[%s] provider exited with status 0 (%v)", how, werr)
		if rp.network == "unix" {
			_, serr := os.Stat(rp.addr)
			c.expect(os.IsNotExist(serr), "[%s] socket file %s removed", how, rp.addr)
		}
		c.expect(!alive(pid), "[%s] provider process %d reaped (no zombie)", how, pid)
		left := 0
		for _, k := range kids {
			if alive(k) {
				left++
			}
		}
		c.expect(left == 0, "[%s] no child process left behind (%d of %d)", how, left, len(kids))
		if t := rp.Stderr(); strings.Contains(t, "AddressSanitizer") || strings.Contains(t, "runtime error") {
			c.fail("[%s] sanitizer report on stderr:\n%s", how, t)
		}
	}
	// And through go-plugin's own teardown, as Terraform ends each phase.
	p, err := launchProvider(nil)
	if err != nil {
		c.fail("launch through go-plugin: %v", err)
		return c.exit()
	}
	_, err = p.rpc.GetProviderSchema(context.Background(), &tfplugin6.GetProviderSchema_Request{})
	c.expect(err == nil, "[go-plugin] provider serves (%v)", err)
	pid, sock := p.Pid, p.Addr
	p.Close()
	c.expect(!alive(pid), "[go-plugin] provider process %d gone after Kill()", pid)
	if _, serr := os.Stat(sock); sock != "" {
		c.expect(os.IsNotExist(serr), "[go-plugin] socket file %s removed", sock)
	}
	return c.exit()
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func rssKB(pid int) int { return procStatusKB(pid, "VmRSS:") }

// procStatusKB reads one "Vm...: N kB" line of /proc/PID/status.
func procStatusKB(pid int, key string) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.Atoi(f[1])
				return v
			}
		}
	}
	return -1
}

// privateKB: the process's private memory from /proc/PID/smaps_rollup:
// clean (pages of files only it maps, e.g. its executable's code) and dirty
// (what it wrote: heap, stacks, data).
func privateKB(pid int) (clean, dirty int) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return -1, -1
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			v, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "Private_Clean:":
				clean = v
			case "Private_Dirty:":
				dirty = v
			}
		}
	}
	return clean, dirty
}

func benchSchema(args []string) int {
	fs := flag.NewFlagSet("bench-schema", flag.ContinueOnError)
	n := fs.Int("n", 1000, "GetProviderSchema calls")
	starts := fs.Int("starts", 20, "launches for the startup time")
	if fs.Parse(args) != nil {
		return 1
	}
	var startup []time.Duration
	for i := 0; i < *starts; i++ {
		rp, err := startRaw(true)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-schema: %v\n", err)
			return 1
		}
		startup = append(startup, rp.handshake)
		rp.kill()
	}
	sort.Slice(startup, func(i, j int) bool { return startup[i] < startup[j] })
	rp, err := startRaw(true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-schema: %v\n", err)
		return 1
	}
	defer rp.kill()
	conn, err := rp.dial(&rp.clientCert, false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-schema: %v\n", err)
		return 1
	}
	defer conn.Close()
	rssBefore := rssKB(rp.cmd.Process.Pid)
	if _, err := callSchema(conn, 30*time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "bench-schema: %v\n", err)
		return 1
	}
	rssAfter := rssKB(rp.cmd.Process.Pid)
	privClean, privDirty := privateKB(rp.cmd.Process.Pid)
	lat := make([]time.Duration, 0, *n)
	for i := 0; i < *n; i++ {
		t := time.Now()
		if _, err := callSchema(conn, 30*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "bench-schema: call %d: %v\n", i, err)
			return 1
		}
		lat = append(lat, time.Since(t))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Nanoseconds())/1000) }
	fmt.Printf("startup_exec_to_handshake_ms  p50=%.2f min=%.2f max=%.2f (n=%d, AutoMTLS on)\n",
		float64(percentile(startup, 0.5).Microseconds())/1000, float64(startup[0].Microseconds())/1000,
		float64(startup[len(startup)-1].Microseconds())/1000, len(startup))
	fmt.Printf("rss_kb  after_handshake=%d after_GetProviderSchema=%d\n", rssBefore, rssAfter)
	fmt.Printf("private_kb  after_GetProviderSchema=%d clean=%d dirty=%d\n", privClean+privDirty, privClean, privDirty)
	fmt.Printf("GetProviderSchema_roundtrip_us  p50=%s p99=%s max=%s (n=%d, one TLS connection)\n",
		us(percentile(lat, 0.5)), us(percentile(lat, 0.99)), us(lat[len(lat)-1]), len(lat))
	return 0
}
