// Command fetch measures `builder fetch` against the obvious alternative:
// curl fetching the same files one after another, then `sha256sum -c`.
//
// It writes random payloads (231 MB, 24 MB, 10 MB, 2 MB, 1 MB, 300 KB by
// default), serves them from a local HTTP server that limits every
// connection to 20 MB/s (a token bucket on each accepted connection, as a
// CDN or a busy mirror does), and times, in the same run:
//
//   - curl, file after file, plus sha256sum -c over the result;
//   - builder fetch with a cold cache (the manifest pins every file).
//
// It prints both times, their ratio (target <= 0.15) and the builder's
// peak RSS (from the child's rusage).
//
//	go run ./bench/fetch [-builder dist/builder] [-rate 20] [-runs 1]
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	builder := flag.String("builder", "", "builder binary (default: go build ./builder)")
	rate := flag.Float64("rate", 20, "per-connection limit, MB/s")
	runs := flag.Int("runs", 1, "timed runs of each side (the median is reported)")
	sizes := flag.String("sizes", "231000000,24000000,10000000,2000000,1000000,300000", "payload sizes in bytes")
	jobs := flag.Int("j", 4, "builder --jobs")
	flag.Parse()
	if err := run(*builder, *rate*1e6, *runs, *sizes, *jobs); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(1)
	}
}

func run(builder string, rate float64, runs int, sizeList string, jobs int) error {
	for _, tool := range []string{"curl", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed (apt-get install curl coreutils)", tool)
		}
	}
	tmp, err := os.MkdirTemp("", "fixstick-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if builder == "" {
		builder = filepath.Join(tmp, "builder")
		cmd := exec.Command("go", "build", "-o", builder, "./builder")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the builder: %w", err)
		}
	}

	srvDir := filepath.Join(tmp, "srv")
	os.Mkdir(srvDir, 0o755)
	var files []payloadFile
	var total int64
	for i, s := range strings.Split(sizeList, ",") {
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return fmt.Errorf("bad size %q", s)
		}
		f, err := writePayload(srvDir, fmt.Sprintf("payload%d.exe", i), n, uint64(i+1))
		if err != nil {
			return err
		}
		files = append(files, f)
		total += n
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(srvDir))}
	go srv.Serve(&limitListener{Listener: ln, rate: rate})
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	manifest := filepath.Join(tmp, "bench.yaml")
	if err := writeManifest(manifest, base, files); err != nil {
		return err
	}
	sums := filepath.Join(tmp, "SHA256SUMS")
	var sb strings.Builder
	for _, f := range files {
		fmt.Fprintf(&sb, "%s  %s\n", f.sha, f.name)
	}
	os.WriteFile(sums, []byte(sb.String()), 0o644)

	fmt.Printf("payloads: %d files, %.1f MB; server: %.0f MB/s per connection\n", len(files), float64(total)/1e6, rate/1e6)
	var curlTimes, builderTimes []time.Duration
	var rss int64
	for r := 0; r < runs; r++ {
		// curl, one file after another, then sha256sum -c.
		out := filepath.Join(tmp, fmt.Sprintf("curl%d", r))
		os.Mkdir(out, 0o755)
		start := time.Now()
		for _, f := range files {
			if err := sh(out, "curl", "-sS", "-f", "-o", f.name, base+"/"+f.name); err != nil {
				return err
			}
		}
		if err := sh(out, "sha256sum", "--quiet", "-c", sums); err != nil {
			return err
		}
		curlTimes = append(curlTimes, time.Since(start))
		os.RemoveAll(out)

		// builder fetch, cold cache.
		cache := filepath.Join(tmp, fmt.Sprintf("cache%d", r))
		cmd := exec.Command(builder, "fetch", "-q", "-j", fmt.Sprint(jobs), "--cache", cache, manifest)
		cmd.Stderr = os.Stderr
		start = time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("builder fetch: %w", err)
		}
		builderTimes = append(builderTimes, time.Since(start))
		rss = max(rss, peakRSS(cmd.ProcessState))
		os.RemoveAll(cache)
	}
	c, b := median(curlTimes), median(builderTimes)
	fmt.Printf("curl + sha256sum -c:  %6.2f s  (%.1f MB/s)\n", c.Seconds(), float64(total)/1e6/c.Seconds())
	fmt.Printf("builder fetch -j %d:   %6.2f s  (%.1f MB/s)\n", jobs, b.Seconds(), float64(total)/1e6/b.Seconds())
	fmt.Printf("ratio builder/curl:   %6.3f  (target <= 0.15)\n", b.Seconds()/c.Seconds())
	if rss > 0 {
		fmt.Printf("builder peak RSS:     %6.1f MiB (limit 64)\n", float64(rss)/(1<<20))
	}
	return nil
}

type payloadFile struct {
	name, sha string
	size      int64
}

// writePayload writes n random bytes (incompressible, like installers).
func writePayload(dir, name string, n int64, seed uint64) (payloadFile, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return payloadFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	src := rand.NewChaCha8([32]byte{byte(seed)})
	if _, err := io.CopyN(io.MultiWriter(f, h), src, n); err != nil {
		return payloadFile{}, err
	}
	return payloadFile{name: name, sha: hex.EncodeToString(h.Sum(nil)), size: n}, f.Close()
}

func writeManifest(path, base string, files []payloadFile) error {
	var b strings.Builder
	b.WriteString("manifest: 1\nid: bench\ntitle: Fetch benchmark\nartifacts:\n")
	for i, f := range files {
		fmt.Fprintf(&b, "  - id: p%d\n    file: %s\n    sha256: %s\n    size: %d\n    urls:\n      - url: %s/%s\n        insecure_http: true\n",
			i, f.name, f.sha, f.size, base, f.name)
	}
	b.WriteString("steps:\n")
	for i := range files {
		fmt.Fprintf(&b, "  - id: p%d\n    exe: p%d\n", i, i)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func sh(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// limitListener limits each accepted connection's writes to rate bytes/s.
type limitListener struct {
	net.Listener
	rate float64
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &limitConn{Conn: c, rate: l.rate, last: time.Now()}, nil
}

// limitConn is a token bucket with a small burst, so that a connection
// left idle does not then send faster than the rate.
type limitConn struct {
	net.Conn
	rate   float64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

const burst = 64 << 10

func (c *limitConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := 0
	for len(p) > 0 {
		n := min(len(p), 16<<10)
		now := time.Now()
		c.tokens = min(burst, c.tokens+now.Sub(c.last).Seconds()*c.rate)
		c.last = now
		if need := float64(n) - c.tokens; need > 0 {
			time.Sleep(time.Duration(need / c.rate * float64(time.Second)))
			now = time.Now()
			c.tokens = min(burst, c.tokens+now.Sub(c.last).Seconds()*c.rate)
			c.last = now
		}
		c.tokens -= float64(n)
		m, err := c.Conn.Write(p[:n])
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}
