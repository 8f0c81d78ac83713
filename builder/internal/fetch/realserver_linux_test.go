package fetch

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fetch loop against software nobody on this project wrote: nginx from
// Debian, started here on loopback with a temp config, behind toxiproxy,
// built here from the Go module proxy. Skipped when nginx is missing,
// unless FIXSTICK_REQUIRE_NGINX=1 (CI sets it): then missing is a failure.

const toxiproxyPkg = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0"

func requireNginx(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nginx")
	if err != nil {
		p = "/usr/sbin/nginx"
		if _, err = os.Stat(p); err != nil {
			if os.Getenv("FIXSTICK_REQUIRE_NGINX") == "1" {
				t.Fatalf("nginx is required (FIXSTICK_REQUIRE_NGINX=1) but not installed: apt-get install nginx-light")
			}
			t.Skip("nginx not installed (apt-get install nginx-light); FIXSTICK_REQUIRE_NGINX=1 makes this a failure")
		}
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, addr string, exited <-chan struct{}, log func() string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("the server exited before listening on %s:\n%s", addr, log())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s after 10 s:\n%s", addr, log())
}

// startProcess starts cmd and stops it (by its pid) when the test ends.
func startProcess(t *testing.T, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return exited
}

// nginxServer serves root over http and https (a self-signed certificate
// for 127.0.0.1, trusted by tlsConfig).
type nginxServer struct {
	http, https string
	tlsConfig   *tls.Config
}

func startNginx(t *testing.T, root string) nginxServer {
	bin := requireNginx(t)
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSigned(t)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	s := nginxServer{http: freePort(t), https: freePort(t), tlsConfig: &tls.Config{RootCAs: pool}}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;" // root's temp folders are not nobody's to read
	}
	conf := fmt.Sprintf(`%s
daemon off;
master_process off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
	access_log %[2]s/access.log;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	types { application/octet-stream bin; }
	server {
		listen %[3]s;
		listen %[4]s ssl;
		ssl_certificate %[2]s/cert.pem;
		ssl_certificate_key %[2]s/key.pem;
		root %[5]s;
		location /slow/ {
			alias %[5]s/;
			limit_rate 2m;
		}
	}
}
`, user, dir, s.http, s.https, root)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	log := func() string { b, _ := os.ReadFile(filepath.Join(dir, "error.log")); return string(b) }
	exited := startProcess(t, cmd)
	waitListening(t, s.http, exited, log)
	waitListening(t, s.https, exited, log)
	return s
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fixstick test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), pool
}

var toxiproxyBuild struct {
	once sync.Once
	bin  string
	err  error
}

// buildToxiproxy builds toxiproxy's server with `go install` from the Go
// module proxy into a temp folder, once per test binary (the Go build cache
// makes a second build take seconds). It is not a dependency of the module.
func buildToxiproxy(t *testing.T) string {
	t.Helper()
	toxiproxyBuild.once.Do(func() {
		gobin, err := os.MkdirTemp("", "fixstick-toxiproxy-")
		if err != nil {
			toxiproxyBuild.err = err
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			toxiproxyBuild.err = err
			return
		}
		cmd := exec.Command(goTool, "install", toxiproxyPkg)
		cmd.Dir = gobin // outside this module: go install pkg@version ignores it anyway
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			toxiproxyBuild.err = fmt.Errorf("go install %s: %v\n%s", toxiproxyPkg, err, out)
			return
		}
		toxiproxyBuild.bin = filepath.Join(gobin, "server")
	})
	if toxiproxyBuild.err != nil {
		if os.Getenv("FIXSTICK_REQUIRE_NGINX") == "1" {
			t.Fatalf("building toxiproxy: %v", toxiproxyBuild.err)
		}
		t.Skipf("building toxiproxy: %v", toxiproxyBuild.err)
	}
	return toxiproxyBuild.bin
}

// toxiproxy is a running toxiproxy server, driven through its HTTP API.
type toxiproxy struct {
	t   *testing.T
	api string
}

func startToxiproxy(t *testing.T) *toxiproxy {
	bin := buildToxiproxy(t)
	api := freePort(t)
	host, port, _ := net.SplitHostPort(api)
	var out bytes.Buffer
	cmd := exec.Command(bin, "-host", host, "-port", port)
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := startProcess(t, cmd)
	waitListening(t, api, exited, out.String)
	return &toxiproxy{t: t, api: "http://" + api}
}

func (tp *toxiproxy) call(method, path string, body any, into any) {
	tp.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tp.api+path, bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tp.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		tp.t.Fatalf("toxiproxy %s %s: %s %s", method, path, resp.Status, &msg)
	}
	if into != nil {
		json.NewDecoder(resp.Body).Decode(into)
	}
}

// proxy makes a proxy to upstream on a free port and returns its address.
func (tp *toxiproxy) proxy(name, upstream string) string {
	var p struct{ Listen string }
	tp.call("POST", "/proxies", map[string]any{"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true}, &p)
	if p.Listen == "" || strings.HasSuffix(p.Listen, ":0") {
		tp.t.Fatalf("toxiproxy did not say where proxy %s listens: %q", name, p.Listen)
	}
	return p.Listen
}

func (tp *toxiproxy) toxic(proxy, name, typ string, attrs map[string]any) {
	tp.call("POST", "/proxies/"+proxy+"/toxics", map[string]any{"name": name, "type": typ, "stream": "downstream", "toxicity": 1.0, "attributes": attrs}, nil)
}

func (tp *toxiproxy) removeToxic(proxy, name string) {
	tp.call("DELETE", "/proxies/"+proxy+"/toxics/"+name, nil, nil)
}

func (tp *toxiproxy) enable(proxy string, on bool) {
	tp.call("POST", "/proxies/"+proxy, map[string]any{"enabled": on}, nil)
}

// holeProxy forwards TCP connections to upstream. On the first
// connection whose request asks for match, it drops drop bytes of the
// response after the first keep, and goes on forwarding: a hole in a live
// stream, as a proxy that silently loses half a second of it makes.
// (toxiproxy's timeout toxic drops data too, but v2.5.0 closes the
// connection when the toxic is removed, so it cannot leave a hole.)
type holeProxy struct {
	addr        string
	upstream    string
	match       string
	keep, drop  int64
	used        atomic.Bool
	connections sync.WaitGroup
	mu          sync.Mutex
	open        []net.Conn // closed when the test ends (idle keep-alive connections would linger)
}

func (hp *holeProxy) track(c net.Conn) {
	hp.mu.Lock()
	hp.open = append(hp.open, c)
	hp.mu.Unlock()
}

func startHoleProxy(t *testing.T, upstream, match string, keep, drop int64) *holeProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hp := &holeProxy{addr: l.Addr().String(), upstream: upstream, match: match, keep: keep, drop: drop}
	t.Cleanup(func() {
		l.Close()
		hp.mu.Lock()
		for _, c := range hp.open {
			c.Close()
		}
		hp.mu.Unlock()
		hp.connections.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hp.connections.Add(1)
			go func() { defer hp.connections.Done(); hp.serve(c) }()
		}
	}()
	return hp
}

func (hp *holeProxy) serve(c net.Conn) {
	defer c.Close()
	hp.track(c)
	u, err := net.Dial("tcp", hp.upstream)
	if err != nil {
		return
	}
	defer u.Close()
	hp.track(u)
	req := make([]byte, 4096)
	n, err := c.Read(req)
	if err != nil {
		return
	}
	if _, err := u.Write(req[:n]); err != nil {
		return
	}
	go func() { io.Copy(u, c); u.Close() }()
	if !strings.Contains(string(req[:n]), hp.match) || !hp.used.CompareAndSwap(false, true) {
		io.Copy(c, u)
		return
	}
	if _, err := io.CopyN(c, u, hp.keep); err != nil {
		return
	}
	io.CopyN(io.Discard, u, hp.drop)
	io.Copy(c, u)
}

// TestRealServers fetches from nginx directly and through toxiproxy under
// each fault. A scenario holds when a fault that lets the bytes through
// gives the right file, and one that does not gives a clean error and an
// empty cache, and the same fetch succeeds once the fault is gone.
func TestRealServers(t *testing.T) {
	root := t.TempDir()
	data := randomBytes(41, 3<<20)
	if err := os.WriteFile(filepath.Join(root, "f.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ng := startNginx(t, root)
	tp := startToxiproxy(t)
	plain := tp.proxy("plain", ng.http)
	secure := tp.proxy("secure", ng.https)

	options := func(t *testing.T) Options {
		o := testOptions(t)
		o.HeaderTimeout = 2 * time.Second
		o.StallTimeout = time.Second
		o.TLSConfig = ng.tlsConfig
		return o
	}
	type scenario struct {
		name  string
		url   string
		toxic func()         // sets the fault up; its cleanup removes it
		undo  func()         // removes the fault
		opts  func(*Options) // changes the fetch options
		want  string         // a piece of the error while the fault lasts; "" for success
		check func(*retries) error
	}
	scenarios := []scenario{
		{name: "nginx, http, segments", url: "http://" + ng.http + "/f.bin"},
		{name: "nginx, https, segments", url: "https://" + ng.https + "/f.bin"},
		{name: "nginx limit_rate 2m per connection", url: "http://" + ng.http + "/slow/f.bin"},
		{name: "toxiproxy, no fault", url: "http://" + plain + "/f.bin"},
		{name: "bandwidth 4 MB/s", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "bw", "bandwidth", map[string]any{"rate": 4096}) },
			undo:  func() { tp.removeToxic("plain", "bw") }},
		{name: "latency 150 ms, jitter 50 ms", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "lat", "latency", map[string]any{"latency": 150, "jitter": 50}) },
			undo:  func() { tp.removeToxic("plain", "lat") }},
		{name: "TLS sliced into 100-byte pieces", url: "https://" + secure + "/f.bin",
			toxic: func() {
				tp.toxic("secure", "slice", "slicer", map[string]any{"average_size": 100, "size_variation": 50, "delay": 10})
			},
			undo: func() { tp.removeToxic("secure", "slice") }},
		{name: "limit_data: every connection closed after 700 KB", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "limit", "limit_data", map[string]any{"bytes": 700_000}) },
			undo:  func() { tp.removeToxic("plain", "limit") },
			opts:  func(o *Options) { o.Segments = 1; o.MaxAttempts = 10 },
			check: func(r *retries) error {
				if !r.has("after") {
					return fmt.Errorf("no resume after a cut: %q", r.msgs)
				}
				return nil
			}},
		{name: "reset_peer on every connection", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "reset", "reset_peer", map[string]any{"timeout": 0}) },
			undo:  func() { tp.removeToxic("plain", "reset") },
			want:  "fetching app (app.exe): "}, // reset, or EOF, depending on when the reset lands
		{name: "timeout: no data, connection held open", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "hang", "timeout", map[string]any{"timeout": 0}) },
			undo:  func() { tp.removeToxic("plain", "hang") },
			opts:  func(o *Options) { o.HeaderTimeout = 300 * time.Millisecond; o.Retries = 0; o.MaxAttempts = 2 },
			want:  "timeout"},
		{name: "proxy down", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.enable("plain", false) },
			undo:  func() { tp.enable("plain", true) },
			want:  "refused"},
		{name: "slow_close", url: "http://" + plain + "/f.bin",
			toxic: func() { tp.toxic("plain", "sc", "slow_close", map[string]any{"delay": 500}) },
			undo:  func() { tp.removeToxic("plain", "sc") }},
	}
	held := 0
	total := len(scenarios) + 2 // and the holes, below
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			opts := options(t)
			rs := &retries{}
			opts.Progress = rs
			if sc.opts != nil {
				sc.opts(&opts)
			}
			m := manifest(data, sc.url)
			if sc.toxic != nil {
				sc.toxic()
				done := false
				defer func() {
					if !done {
						sc.undo()
					}
				}()
				if sc.want != "" {
					wantErr(t, opts, m, sc.want)
					sc.undo()
					done = true
				}
			}
			wantOK(t, opts, m, data)
			if sc.check != nil {
				if err := sc.check(rs); err != nil {
					t.Fatal(err)
				}
			}
			held++
		})
	}

	// A hole mid-stream: bytes of a live response dropped, the
	// connection carrying on, short. The watchdog fires, the transfer
	// resumes, the file fails its pin and what was pieced together is
	// fetched again: the segment with the hole, or, in one stream, the
	// whole file from zero.
	for _, hc := range []struct {
		name, match, want string
		segments          int
	}{
		{"hole in one stream", "GET /f.bin", "starting again from zero", 1},
		{"hole in segment 2 of 4", "Range: bytes=1572864-2359295", "fetching bytes 1572864-2359295 again", 4},
	} {
		t.Run(hc.name, func(t *testing.T) {
			hp := startHoleProxy(t, ng.http, hc.match, 300_000, 50_000)
			opts := options(t)
			opts.Segments = hc.segments
			rs := &retries{}
			opts.Progress = rs
			wantOK(t, opts, manifest(data, "http://"+hp.addr+"/f.bin"), data)
			if !hp.used.Load() || !rs.has(hc.want) {
				t.Fatalf("hole made: %v; events %q, want %q", hp.used.Load(), rs.msgs, hc.want)
			}
			held++
		})
	}
	t.Logf("network scenarios held: %d of %d", held, total)
}
