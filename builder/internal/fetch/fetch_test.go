package fetch

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fixstick/payload"
)

// testOptions makes every wait tiny; no test asserts on time.
func testOptions(t *testing.T) Options {
	return Options{
		CacheDir:      t.TempDir(),
		Jobs:          4,
		Segments:      4,
		SegmentMin:    1 << 20,
		HeaderTimeout: 300 * time.Millisecond,
		StallTimeout:  300 * time.Millisecond,
		RetryWaitMin:  time.Millisecond,
		RetryWaitMax:  4 * time.Millisecond,
		RetryAfterMax: 5 * time.Millisecond,
		Retries:       2,
		MaxAttempts:   3,
		Progress:      debugReporter(),
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves data (with Range, If-Range and ETag support) unless fault
// handles the request; it records each request's Range header.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	data   []byte
	etag   string
	n      int
	ranges []string
	fault  func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newServer(t *testing.T, data []byte, fault func(w http.ResponseWriter, r *http.Request, n int) bool) *server {
	s := &server{data: data, etag: `"v1"`, fault: fault}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	data, etag := s.data, s.etag
	s.mu.Unlock()
	if s.fault != nil && s.fault(w, r, n) {
		return
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, "f.bin", time.Unix(1700000000, 0), bytes.NewReader(data))
}

func (s *server) requests() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, append([]string(nil), s.ranges...)
}

// cutAfter starts a full response and breaks the connection after k bytes.
func cutAfter(w http.ResponseWriter, data []byte, k int) {
	w.Header().Set("Content-Length", itoa(len(data)))
	w.Header().Set("ETag", `"v1"`)
	w.Header().Set("Accept-Ranges", "bytes")
	w.WriteHeader(http.StatusOK)
	w.Write(data[:k])
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func manifest(data []byte, urls ...string) *payload.Manifest {
	a := payload.Artifact{ID: "app", File: "app.exe", SHA256: sha(data), Size: int64(len(data))}
	for _, u := range urls {
		a.URLs = append(a.URLs, payload.URL{URL: u})
	}
	return &payload.Manifest{ID: "test", Path: "test.yaml", Artifacts: []payload.Artifact{a}}
}

// checkCache asserts that every file in the store matches its name: a file
// that fails its pin never reaches the cache.
func checkCache(t *testing.T, dir string) (n int) {
	t.Helper()
	filepath.WalkDir(filepath.Join(dir, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if sha(b) != d.Name() {
			t.Errorf("cache holds %s, whose content is sha256:%s", p, sha(b))
		}
		n++
		return nil
	})
	return n
}

func fetchOne(t *testing.T, opts Options, m *payload.Manifest) (Result, error) {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := f.Fetch(context.Background(), m)
	checkCache(t, opts.CacheDir)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

func wantOK(t *testing.T, opts Options, m *payload.Manifest, data []byte) Result {
	t.Helper()
	r, err := fetchOne(t, opts, m)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	b, err := os.ReadFile(r.Path)
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("cached file differs from the payload (%v)", err)
	}
	if r.SHA256 != sha(data) || r.Size != int64(len(data)) {
		t.Fatalf("result %+v", r)
	}
	return r
}

func wantErr(t *testing.T, opts Options, m *payload.Manifest, substr string) error {
	t.Helper()
	_, err := fetchOne(t, opts, m)
	if err == nil {
		t.Fatalf("fetch succeeded; want an error containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
	if n := checkCache(t, opts.CacheDir); n != 0 {
		t.Fatalf("cache holds %d files after a failure", n)
	}
	return err
}

func TestFetchPlainAndCached(t *testing.T) {
	data := randomBytes(1, 300<<10)
	s := newServer(t, data, nil)
	opts := testOptions(t)
	m := manifest(data, s.URL+"/f.bin")
	r := wantOK(t, opts, m, data)
	if r.Cached {
		t.Fatal("first fetch says cached")
	}
	n1, _ := s.requests()
	r = wantOK(t, opts, m, data)
	if n2, _ := s.requests(); !r.Cached || n2 != n1 {
		t.Fatalf("second fetch: cached=%v, requests %d -> %d", r.Cached, n1, n2)
	}
	// A corrupted cache entry is found, deleted and fetched again.
	os.WriteFile(r.Path, randomBytes(2, len(data)), 0o644)
	r = wantOK(t, opts, m, data)
	if r.Cached {
		t.Fatal("corrupted entry used")
	}
}

// With DeferCachedHash, a cached file pinned by SHA-256 is returned
// unhashed (a corrupted one of the right size too: the caller's hash finds
// it, and Forget drops it); a wrong size, a SHA-1 pin or an archive to
// extract is still checked by Fetch.
func TestDeferCachedHash(t *testing.T) {
	data := randomBytes(3, 100<<10)
	s := newServer(t, data, nil)
	opts := testOptions(t)
	m := manifest(data, s.URL+"/f.bin")
	first := wantOK(t, opts, m, data)
	if first.Unverified {
		t.Fatal("a download is unverified")
	}
	lazy := opts
	lazy.DeferCachedHash = true
	f, err := New(lazy)
	if err != nil {
		t.Fatal(err)
	}
	fetch := func() Result {
		t.Helper()
		rs, err := f.Fetch(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		return rs[0]
	}
	bad := randomBytes(4, len(data))
	os.WriteFile(first.Path, bad, 0o644)
	r := fetch()
	if !r.Cached || !r.Unverified || r.Path != first.Path || r.SHA256 != sha(data) || r.Size != int64(len(data)) {
		t.Fatalf("deferred lookup: %+v", r)
	}
	if b, _ := os.ReadFile(r.Path); !bytes.Equal(b, bad) {
		t.Fatal("the deferred lookup touched the file")
	}
	if err := f.Forget(r); err != nil {
		t.Fatal(err)
	}
	if r = fetch(); r.Cached || r.Unverified {
		t.Fatalf("after Forget: %+v", r)
	}
	checkCache(t, opts.CacheDir)

	// A wrong size is seen without hashing: the file is fetched again.
	os.WriteFile(r.Path, data[1:], 0o644)
	if r = fetch(); r.Cached {
		t.Fatalf("short file used: %+v", r)
	}
	checkCache(t, opts.CacheDir)

	// An archive to extract, or a file pinned by SHA-1 only, is hashed.
	for _, edit := range []func(a *payload.Artifact){
		func(a *payload.Artifact) {
			a.Extract = []payload.ExtractEntry{{Path: "x.exe", SHA256: strings.Repeat("a", 64)}}
		},
		func(a *payload.Artifact) { a.SHA256, a.SHA1 = "", sha1hex(data) },
	} {
		m = manifest(data, s.URL+"/f.bin")
		edit(&m.Artifacts[0])
		r = fetch()
		os.WriteFile(r.Path, bad, 0o644)
		if r = fetch(); r.Cached || r.Unverified {
			t.Fatalf("%+v: corrupted entry used", m.Artifacts[0])
		}
		checkCache(t, opts.CacheDir)
	}
}

func TestFetchSegmented(t *testing.T) {
	data := randomBytes(3, 5<<20+17)
	s := newServer(t, data, nil)
	opts := testOptions(t)
	wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
	n, ranges := s.requests()
	if n != 4 {
		t.Fatalf("%d requests, want 4 segments: %q", n, ranges)
	}
	for _, r := range ranges {
		if !strings.HasPrefix(r, "bytes=") {
			t.Fatalf("segment request without Range: %q", ranges)
		}
	}
}

func TestFetchSegmentCut(t *testing.T) {
	data := randomBytes(4, 4<<20)
	s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Header.Get("Range") == "bytes=1048576-2097151" && n <= 4 {
			w.Header().Set("Content-Range", "bytes 1048576-2097151/4194304")
			w.Header().Set("Content-Length", "1048576")
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[1048576 : 1048576+300000])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		return false
	})
	opts := testOptions(t)
	wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
	_, ranges := s.requests()
	if !contains(ranges, "bytes=1348576-2097151") {
		t.Fatalf("cut segment not resumed where it stopped: %q", ranges)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestResets(t *testing.T) {
	data := randomBytes(5, 200<<10)
	for _, k := range []int{0, 1, 100000} {
		t.Run(fmtInt(k), func(t *testing.T) {
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 1 {
					cutAfter(w, data, k)
				}
				return false
			})
			wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
			_, ranges := s.requests()
			if k > 0 && ranges[1] != "bytes="+fmtInt(k)+"-" {
				t.Fatalf("second request %q, want a resume at %d", ranges[1], k)
			}
		})
	}
	t.Run("always", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			cutAfter(w, data, 10)
			return false
		})
		wantErr(t, testOptions(t), manifest(data, s.URL+"/f.bin"), "attempts without progress")
	})
	t.Run("before headers", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				panic(http.ErrAbortHandler)
			}
			return false
		})
		wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
	})
}

func TestContentLength(t *testing.T) {
	data := randomBytes(6, 100<<10)
	good := newServer(t, data, nil)
	cases := map[string]func(w http.ResponseWriter){
		"short": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmtInt(len(data)-10))
			w.Write(data[:len(data)-10])
		},
		"long": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmtInt(len(data)+10))
			w.Write(data)
		},
		"endless": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			for i := 0; i < 100; i++ {
				if _, err := w.Write(data); err != nil {
					return
				}
			}
		},
		"wrong bytes": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", fmtInt(len(data)))
			w.Write(randomBytes(7, len(data)))
		},
		"gzip": func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(data)
		},
	}
	msgs := map[string]string{"short": "Content-Length", "long": "Content-Length", "endless": "more than",
		"wrong bytes": "checksum mismatch", "gzip": "Content-Encoding gzip"}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			bad := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool { h(w); return true })
			wantErr(t, testOptions(t), manifest(data, bad.URL+"/f.bin?sig=SECRET"), msgs[name])
			// With a good mirror after it, the fetch succeeds.
			wantOK(t, testOptions(t), manifest(data, bad.URL+"/f.bin", good.URL+"/f.bin"), data)
		})
	}
	t.Run("missing", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.WriteHeader(http.StatusOK) // chunked: no Content-Length
			w.Write(data)
			return true
		})
		wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
	})
	t.Run("endless undeclared", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			for i := 0; i < 100; i++ {
				if _, err := w.Write(data); err != nil {
					break
				}
			}
			return true
		})
		m := manifest(data, s.URL+"/f.bin")
		m.Artifacts[0].Size = 0
		opts := testOptions(t)
		opts.maxSize = 1 << 20
		wantErr(t, opts, m, "more than 1048576 bytes")
	})
	t.Run("huge undeclared", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Header().Set("Content-Length", "100000000000")
			w.Write(data)
			return true
		})
		m := manifest(data, s.URL+"/f.bin")
		m.Artifacts[0].Size = 0
		opts := testOptions(t)
		opts.maxSize = 1 << 20
		wantErr(t, opts, m, "server announces 100000000000 bytes")
	})
}

func TestStatuses(t *testing.T) {
	data := randomBytes(8, 50<<10)
	for _, code := range []int{500, 502, 503, 408, 429} {
		t.Run(fmtInt(code), func(t *testing.T) {
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 1 {
					w.WriteHeader(code)
					return true
				}
				return false
			})
			wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
		})
	}
	good := newServer(t, data, nil)
	for _, code := range []int{404, 410, 501, 503} {
		t.Run("always "+fmtInt(code), func(t *testing.T) {
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.WriteHeader(code)
				return true
			})
			wantErr(t, testOptions(t), manifest(data, s.URL+"/f.bin"), "HTTP "+fmtInt(code))
			n, _ := s.requests()
			if code == 404 && n != 1 {
				t.Fatalf("404 requested %d times", n)
			}
			wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin", good.URL+"/f.bin"), data)
		})
	}
}

func TestRetryAfter(t *testing.T) {
	data := randomBytes(9, 50<<10)
	for name, ra := range map[string]string{"day": "86400", "past": "Wed, 21 Oct 2015 07:28:00 GMT"} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 1 {
					w.Header().Set("Retry-After", ra)
					w.WriteHeader(http.StatusServiceUnavailable)
					return true
				}
				return false
			})
			opts := testOptions(t)
			var mu sync.Mutex
			var waits []time.Duration
			opts.waitHook = func(d time.Duration) { mu.Lock(); waits = append(waits, d); mu.Unlock() }
			wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
			if len(waits) != 1 {
				t.Fatalf("waits %v", waits)
			}
			if name == "day" && waits[0] != opts.RetryAfterMax || name == "past" && waits[0] != 0 {
				t.Fatalf("Retry-After %s gave a wait of %v", ra, waits[0])
			}
		})
	}
	if d, ok := parseRetryAfter("86400", time.Now()); !ok || d != 24*time.Hour {
		t.Fatal(d, ok)
	}
}

func TestSlowServers(t *testing.T) {
	data := randomBytes(10, 50<<10)
	good := newServer(t, data, nil)
	cases := map[string]func(w http.ResponseWriter, r *http.Request){
		"stall before headers": func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
		"stall after headers": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmtInt(len(data)))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"trickle": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmtInt(len(data)))
			w.WriteHeader(http.StatusOK)
			for i := range data {
				if _, err := w.Write(data[i : i+1]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		},
	}
	msgs := map[string]string{"stall before headers": "timeout", "stall after headers": "stalled", "trickle": "too slow"}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			bad := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool { h(w, r); return true })
			wantErr(t, testOptions(t), manifest(data, bad.URL+"/f.bin"), msgs[name])
			wantOK(t, testOptions(t), manifest(data, bad.URL+"/f.bin", good.URL+"/f.bin"), data)
		})
	}
}

func TestRanges(t *testing.T) {
	data := randomBytes(11, 300<<10)
	t.Run("ignored", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				cutAfter(w, data, 150000)
			}
			w.Header().Set("Content-Length", fmtInt(len(data)))
			w.Write(data) // 200 whatever the Range
			return true
		})
		wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
	})
	t.Run("ignored segmented", func(t *testing.T) {
		big := randomBytes(12, 3<<20)
		s := newServer(t, big, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Header().Set("Content-Length", fmtInt(len(big)))
			w.Write(big)
			return true
		})
		wantOK(t, testOptions(t), manifest(big, s.URL+"/f.bin"), big)
		// The first response, a 200, is taken as the whole file.
		if n, ranges := s.requests(); n != 1 {
			t.Fatalf("requests %q", ranges)
		}
	})
	t.Run("bad Content-Range", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				cutAfter(w, data, 150000)
			}
			w.Header().Set("Content-Range", "bytes 0-99/300")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[:100])
			return true
		})
		wantErr(t, testOptions(t), manifest(data, s.URL+"/f.bin"), "bad Content-Range")
	})
	// With no size declared, the size learnt from the first response
	// holds: a resume whose Content-Range gives another total is refused.
	t.Run("undeclared size, other total", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				cutAfter(w, data, 150000)
			}
			longer := append(append([]byte(nil), data...), make([]byte, 1000)...)
			w.Header().Set("Content-Range", "bytes 150000-"+fmtInt(len(longer)-1)+"/"+fmtInt(len(longer)))
			w.Header().Set("Content-Length", fmtInt(len(longer)-150000))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(longer[150000:])
			return true
		})
		m := manifest(data, s.URL+"/f.bin")
		m.Artifacts[0].Size = 0
		wantErr(t, testOptions(t), m, "bad Content-Range")
	})
	// With no size declared and no Content-Length, a 206's Content-Range
	// says how many bytes its body must carry: a body that ends early is
	// a cut transfer, resumed where it stopped, not the end of the file.
	t.Run("undeclared size, short 206", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			switch n {
			case 1: // no Content-Length: the size is not learnt
				w.Header().Set("ETag", `"v1"`)
				w.WriteHeader(http.StatusOK)
				w.Write(data[:150000])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			case 2:
				w.Header().Set("ETag", `"v1"`)
				w.Header().Set("Content-Range", "bytes 150000-"+fmtInt(len(data)-1)+"/"+fmtInt(len(data)))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(data[150000 : len(data)-1000])
				return true
			}
			return false
		})
		m := manifest(data, s.URL+"/f.bin")
		m.Artifacts[0].Size = 0
		wantOK(t, testOptions(t), m, data)
		if _, ranges := s.requests(); len(ranges) != 3 || ranges[2] != "bytes="+fmtInt(len(data)-1000)+"-" {
			t.Fatalf("requests %q, want a resume where the short 206 ended", ranges)
		}
	})
	t.Run("416", func(t *testing.T) {
		s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			switch n {
			case 1:
				cutAfter(w, data, 150000)
			case 2:
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return true
			}
			return false
		})
		wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
		if _, ranges := s.requests(); ranges[2] != "" {
			t.Fatalf("after 416, want a restart from zero: %q", ranges)
		}
	})
	t.Run("ETag changes, same bytes", func(t *testing.T) {
		var s *server
		s = newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				s.mu.Lock()
				s.etag = `"v2"`
				s.mu.Unlock()
				cutAfter(w, data, 150000)
			}
			return false
		})
		wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
		// If-Range "v1" gets the whole new version: start again from zero.
		if n, ranges := s.requests(); n != 3 || ranges[1] != "bytes=150000-" || ranges[2] != "" {
			t.Fatalf("requests %q", ranges)
		}
	})
	t.Run("ETag changes, new bytes", func(t *testing.T) {
		var s *server
		s = newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				s.mu.Lock()
				s.etag, s.data = `"v2"`, randomBytes(13, len(data))
				s.mu.Unlock()
				cutAfter(w, data, 150000)
			}
			return false
		})
		opts := testOptions(t)
		wantErr(t, opts, manifest(data, s.URL+"/f.bin"), "checksum mismatch")
		var left []string
		ents, _ := os.ReadDir(filepath.Join(opts.CacheDir, "tmp"))
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".lock") { // locks stay
				left = append(left, e.Name())
			}
		}
		if len(left) != 0 {
			t.Fatalf("left behind after a failed pin: %q", left)
		}
	})
}

func TestRedirects(t *testing.T) {
	data := randomBytes(14, 50<<10)
	plain := newServer(t, data, nil)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, plain.URL+"/f.bin?sig=SECRET", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop?sig=SECRET", http.StatusFound)
		case "/hop":
			http.Redirect(w, r, "/f.bin", http.StatusMovedPermanently)
		default:
			http.ServeContent(w, r, "f.bin", time.Time{}, bytes.NewReader(data))
		}
	}))
	// The untrusted-certificate case makes the server log handshake errors.
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	opts := func() Options {
		o := testOptions(t)
		o.TLSConfig = tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig
		return o
	}
	err := wantErr(t, opts(), manifest(data, tlsSrv.URL+"/down"), "not https")
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("secret in error: %v", err)
	}
	err = wantErr(t, opts(), manifest(data, tlsSrv.URL+"/loop"), "more than 5 redirects")
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("secret in error: %v", err)
	}
	wantOK(t, opts(), manifest(data, tlsSrv.URL+"/hop"), data)
	// A server the client does not trust.
	o := testOptions(t)
	wantErr(t, o, manifest(data, tlsSrv.URL+"/f.bin"), "certificate")
}

// recorder is a Reporter that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
	bytes  int64
	onByte func(total int64)
}

func (r *recorder) Event(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recorder) Bytes(n int64) {
	r.mu.Lock()
	r.bytes += n
	b := r.bytes
	r.mu.Unlock()
	if r.onByte != nil {
		r.onByte(b)
	}
}
func (r *recorder) Total(int64, int) {}

func TestMirrorsAndRedaction(t *testing.T) {
	data := randomBytes(15, 50<<10)
	notFound := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		http.NotFound(w, r)
		return true
	})
	wrong := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Write(randomBytes(16, len(data)))
		return true
	})
	opts := testOptions(t)
	rec := &recorder{}
	opts.Progress = rec
	err := wantErr(t, opts, manifest(data, notFound.URL+"/a?sig=SECRET", wrong.URL+"/b?X-Amz-Signature=SECRET", "https://user:SECRET@127.0.0.1:1/c"), "all 3 URLs failed")
	for _, want := range []string{notFound.URL + "/a?[redacted]: HTTP 404", wrong.URL + "/b?[redacted]: verifying app", "https://127.0.0.1:1/c: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	noSecret(t, err, rec)
}

func TestPoisonedPart(t *testing.T) {
	data := randomBytes(17, 300<<10)
	s := newServer(t, data, nil)
	for name, setup := range map[string]func(base string){
		"garbage prefix": func(base string) {
			os.WriteFile(base+".part", randomBytes(18, 100000), 0o644)
			os.WriteFile(base+".meta", []byte(`{"size":307200,"segments":[{"start":0,"end":307200,"done":100000}]}`), 0o644)
		},
		"oversized": func(base string) {
			os.WriteFile(base+".part", randomBytes(18, 400000), 0o644)
			os.WriteFile(base+".meta", []byte(`{"size":307200,"segments":[{"start":0,"end":307200,"done":100000}]}`), 0o644)
		},
		"no meta": func(base string) {
			os.WriteFile(base+".part", randomBytes(18, 100000), 0o644)
		},
		"lying meta": func(base string) {
			os.WriteFile(base+".part", data[:1000], 0o644)
			os.WriteFile(base+".meta", []byte(`{"size":307200,"segments":[{"start":0,"end":307200,"done":200000}]}`), 0o644)
		},
		// No size declared: the right prefix, then junk the .meta does
		// not claim. The resume must not leave the junk past the end.
		"junk tail, undeclared size": func(base string) {
			os.WriteFile(base+".part", append(append([]byte(nil), data[:1000]...), randomBytes(19, 500<<10)...), 0o644)
			os.WriteFile(base+".meta", []byte(`{"size":0,"segments":[{"start":0,"end":-1,"done":1000}]}`), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t)
			m := manifest(data, s.URL+"/f.bin")
			if strings.Contains(name, "undeclared") {
				m.Artifacts[0].Size = 0
			}
			os.MkdirAll(filepath.Join(opts.CacheDir, "tmp"), 0o755)
			setup(filepath.Join(opts.CacheDir, "tmp", "sha256-"+sha(data)))
			wantOK(t, opts, m, data)
		})
	}
}

func TestRestartMidDownload(t *testing.T) {
	data := randomBytes(19, 3<<20)
	gate := make(chan struct{})
	var once sync.Once
	s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			// Half the file, then hold the connection until the client
			// goes away.
			w.Header().Set("Content-Length", fmtInt(len(data)))
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusOK)
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			once.Do(func() { close(gate) })
			<-r.Context().Done()
			return true
		}
		return false
	})
	opts := testOptions(t)
	opts.Segments = 1
	opts.StallTimeout = time.Minute
	m := manifest(data, s.URL+"/f.bin")
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{onByte: func(n int64) {
		if n >= int64(len(data)/2) {
			cancel()
		}
	}}
	opts.Progress = rec
	f, _ := New(opts)
	_, err := f.Fetch(ctx, m)
	<-gate
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	if n := checkCache(t, opts.CacheDir); n != 0 {
		t.Fatal("cancelled fetch left a file in the store")
	}
	opts.Progress = nil
	wantOK(t, opts, m, data)
	if _, ranges := s.requests(); ranges[1] != "bytes="+fmtInt(len(data)/2)+"-" {
		t.Fatalf("restart did not resume: %q", ranges)
	}
}

func TestSHA1AndUnpinned(t *testing.T) {
	data := randomBytes(20, 100<<10)
	s := newServer(t, data, nil)
	opts := testOptions(t)
	m := manifest(data, s.URL+"/f.bin")
	a := &m.Artifacts[0]
	s1 := sha1hex(data)
	a.SHA256, a.SHA1 = "", s1
	r := wantOK(t, opts, m, data)
	if r = wantOK(t, opts, m, data); !r.Cached {
		t.Fatal("sha1-pinned artifact not found in the cache on the second run")
	}
	a.SHA1 = strings.Repeat("0", 40)
	wantErr(t, testOptions(t), m, "sha1:"+strings.Repeat("0", 40))

	// An archive pinned only by its extract entries.
	a.SHA1 = ""
	a.Extract = []payload.ExtractEntry{{Path: "x.exe", SHA256: strings.Repeat("a", 64)}}
	r = wantOK(t, opts, m, data)
	r2 := wantOK(t, opts, m, data)
	if !r2.Cached {
		t.Fatal("archive not found by its URLs")
	}
	f, _ := New(opts)
	if err := f.Forget(r2); err != nil {
		t.Fatal(err)
	}
	if r3 := wantOK(t, opts, m, data); r3.Cached {
		t.Fatal("forgotten archive still cached")
	}
}

func TestOfflineAndAdd(t *testing.T) {
	data := randomBytes(21, 10<<10)
	opts := testOptions(t)
	opts.Offline = true
	m := manifest(data, "https://example.invalid/app.exe")
	opt := payload.Artifact{ID: "fixit", File: "fixit.msi", Optional: true}
	m.Artifacts = append(m.Artifacts, opt)
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Fetch(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "app: app.exe sha256:"+sha(data)) {
		t.Fatalf("offline error: %v", err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, data, 0o644)
	os.WriteFile(bad, randomBytes(22, len(data)), 0o644)
	if _, err := f.Add(m, "app", bad); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("bad --add: %v", err)
	}
	if checkCache(t, opts.CacheDir) != 0 {
		t.Fatal("bad file reached the cache")
	}
	if _, err := f.Add(m, "fixit", good); err == nil || !strings.Contains(err.Error(), "builder pin test.yaml --add fixit=") {
		t.Fatalf("unpinned --add: %v", err)
	}
	if _, err := f.Add(m, "app", good); err != nil {
		t.Fatal(err)
	}
	rs, err := f.Fetch(context.Background(), m)
	if err != nil || !rs[0].Cached || rs[1].Skipped == "" {
		t.Fatalf("offline after --add: %+v %v", rs, err)
	}
}

func TestPinDownloads(t *testing.T) {
	data := randomBytes(23, 10<<10)
	s := newServer(t, data, nil)
	m := manifest(data, s.URL+"/f.bin")
	m.Artifacts[0].SHA256, m.Artifacts[0].Size, m.Artifacts[0].Optional = "", 0, true
	f, _ := New(testOptions(t))
	rs, err := f.Fetch(context.Background(), m)
	if err != nil || rs[0].Skipped == "" {
		t.Fatalf("unpinned optional artifact: %+v %v", rs, err)
	}
	r, err := f.Pin(context.Background(), m, "app", "")
	if err != nil || r.SHA256 != sha(data) || r.Size != int64(len(data)) {
		t.Fatalf("pin: %+v %v", r, err)
	}
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestValidators(t *testing.T) {
	big := randomBytes(24, 2<<20)
	t.Run("nodes disagree, pinned", func(t *testing.T) {
		// Each segment is served by a "node" with its own ETag: the pin
		// decides, and the fetch does not restart.
		var s *server
		s = newServer(t, big, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Header().Set("ETag", `"node`+fmtInt(n)+`"`)
			http.ServeContent(w, r, "f.bin", time.Time{}, bytes.NewReader(big))
			return true
		})
		wantOK(t, testOptions(t), manifest(big, s.URL+"/f.bin"), big)
		if n, ranges := s.requests(); n != 4 {
			t.Fatalf("requests %q", ranges)
		}
	})
	t.Run("nodes disagree, wrong bytes", func(t *testing.T) {
		// One retry from zero, then the pin failure stands.
		wrong := randomBytes(26, len(big))
		var s *server
		s = newServer(t, big, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Header().Set("ETag", `"node`+fmtInt(n)+`"`)
			http.ServeContent(w, r, "f.bin", time.Time{}, bytes.NewReader(wrong))
			return true
		})
		wantErr(t, testOptions(t), manifest(big, s.URL+"/f.bin"), "checksum mismatch")
		if n, ranges := s.requests(); n != 8 {
			t.Fatalf("requests %q", ranges)
		}
	})
	t.Run("nodes disagree, unpinned archive", func(t *testing.T) {
		var s *server
		s = newServer(t, big, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n <= 4 {
				w.Header().Set("ETag", `"node`+fmtInt(n)+`"`)
				http.ServeContent(w, r, "f.bin", time.Time{}, bytes.NewReader(big))
				return true
			}
			return false
		})
		m := manifest(big, s.URL+"/f.bin")
		m.Artifacts[0].SHA256 = ""
		m.Artifacts[0].Extract = []payload.ExtractEntry{{Path: "x.exe", SHA256: strings.Repeat("a", 64)}}
		wantOK(t, testOptions(t), m, big)
		// Nothing but a validator vouches for an unpinned file's parts:
		// the fetch starts again until the nodes agree.
		if n, ranges := s.requests(); n <= 4 {
			t.Fatalf("want a restart from zero: %q", ranges)
		}
	})
}

func TestRestartSegmented(t *testing.T) {
	data := randomBytes(25, 4<<20)
	var mu sync.Mutex
	served := map[int]int64{} // run -> bytes asked for
	run := 1
	s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		var a, b int64 = 0, int64(len(data)) - 1
		fmtSscan(r.Header.Get("Range"), &a, &b)
		mu.Lock()
		served[run] += b - a + 1
		cur := run
		mu.Unlock()
		if cur == 1 {
			// Send a quarter of each segment, then hold on.
			w.Header().Set("Content-Range", "bytes "+fmtInt(int(a))+"-"+fmtInt(int(b))+"/"+fmtInt(len(data)))
			w.Header().Set("Content-Length", fmtInt(int(b-a+1)))
			w.Header().Set("ETag", `"v1"`)
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[a : a+(b-a+1)/4])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return true
		}
		return false
	})
	opts := testOptions(t)
	opts.StallTimeout = time.Minute
	m := manifest(data, s.URL+"/f.bin")
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = &recorder{onByte: func(n int64) {
		if n >= int64(len(data))/4 {
			cancel()
		}
	}}
	f, _ := New(opts)
	if _, err := f.Fetch(ctx, m); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	mu.Lock()
	run = 2
	mu.Unlock()
	opts.Progress = nil
	wantOK(t, opts, m, data)
	mu.Lock()
	defer mu.Unlock()
	if want := int64(len(data)) * 3 / 4; served[2] != want {
		t.Fatalf("the second run asked for %d bytes, want the %d missing", served[2], want)
	}
}

// fmtSscan parses "bytes=A-B".
func fmtSscan(h string, a, b *int64) {
	h = strings.TrimPrefix(h, "bytes=")
	as, bs, ok := strings.Cut(h, "-")
	if !ok {
		return
	}
	*a, _ = strconv.ParseInt(as, 10, 64)
	if bs != "" {
		*b, _ = strconv.ParseInt(bs, 10, 64)
	}
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.MkdirAll(tmp, 0o755)
	old := time.Now().Add(-48 * time.Hour)
	for _, n := range []string{"add-1.part", "index-2", "sha256-ab.meta.tmp", "sha256-ab.part", "sha256-ab.meta", "add-new.part", "sha256-cd.lock"} {
		p := filepath.Join(tmp, n)
		os.WriteFile(p, nil, 0o644)
		if n != "add-new.part" {
			os.Chtimes(p, old, old)
		}
	}
	if _, err := New(Options{CacheDir: dir}); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	for i := range left {
		left[i] = filepath.Base(left[i])
	}
	if strings.Join(left, " ") != "add-new.part sha256-ab.meta sha256-ab.part" {
		t.Fatalf("left in tmp: %q", left)
	}
}

// Two fetchers on one cache (two builder processes): the second waits for
// the first, then finds the file in the store instead of fetching it again.
func TestTwoFetchersOneCache(t *testing.T) {
	data := randomBytes(27, 100<<10)
	arrived, release := make(chan struct{}), make(chan struct{})
	s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			close(arrived)
			<-release
		}
		return false
	})
	opts := testOptions(t)
	opts.StallTimeout = time.Minute
	opts.HeaderTimeout = time.Minute
	m := manifest(data, s.URL+"/f.bin")
	a, _ := New(opts)
	errA := make(chan error, 1)
	go func() { _, err := a.Fetch(context.Background(), m); errA <- err }()
	<-arrived

	waiting := make(chan struct{})
	var once sync.Once
	optsB := opts
	optsB.Progress = &notify{fn: func(e Event) {
		if e.Kind == EventNotice && strings.Contains(e.Msg, "another builder") {
			once.Do(func() { close(waiting) })
		}
	}}
	b, _ := New(optsB)
	resB := make(chan Result, 1)
	go func() {
		rs, err := b.Fetch(context.Background(), m)
		if err != nil {
			t.Error(err)
			resB <- Result{}
			return
		}
		resB <- rs[0]
	}()
	<-waiting
	close(release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	if r := <-resB; r.SHA256 != sha(data) {
		t.Fatalf("second fetcher: %+v", r)
	}
	if n, _ := s.requests(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

type notify struct{ fn func(Event) }

func (n *notify) Event(e Event)    { n.fn(e) }
func (n *notify) Bytes(int64)      {}
func (n *notify) Total(int64, int) {}

// finish stores the whole .part, so it must refuse one that holds more
// than the bytes it hashed, however they got there, and delete it.
func TestFinishRefusesUnhashedBytes(t *testing.T) {
	data := randomBytes(30, 10000)
	opts := testOptions(t)
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := manifest(data, "https://example.invalid/f.bin")
	m.Artifacts[0].Size = 0
	tg := newTarget(m, &m.Artifacts[0])
	p, err := f.openPart(tg)
	if err != nil {
		t.Fatal(err)
	}
	p.f.WriteAt(data, 0)
	p.f.WriteAt(randomBytes(31, 5000), int64(len(data)))
	n := int64(len(data))
	p.meta = partMeta{Size: n, Segments: []segment{{Start: 0, End: n, Done: n}}}
	p.hs.advance(n)
	_, err = f.finish(tg, p, false)
	if err == nil || !strings.Contains(err.Error(), "15000 bytes, 10000 were hashed") {
		t.Fatalf("finish: %v", err)
	}
	if n := checkCache(t, opts.CacheDir); n != 0 {
		t.Fatal("a file with unhashed bytes reached the store")
	}
	if _, err := os.Stat(p.path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf(".part kept: %v", err)
	}
}

// A Location header that does not parse: net/http's error quotes it whole,
// query string and all. It must come out as a permanent error naming no
// URL, and not be retried.
func TestBadLocation(t *testing.T) {
	data := randomBytes(32, 10<<10)
	for _, loc := range []string{"http://[::1%zz]/x?sig=SECRET", "/x%zz?sig=SECRET"} {
		t.Run(loc, func(t *testing.T) {
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusFound)
				return true
			})
			opts := testOptions(t)
			rec := &recorder{}
			opts.Progress = rec
			err := wantErr(t, opts, manifest(data, s.URL+"/f.bin"), "bad redirect Location")
			noSecret(t, err, rec)
			if n, _ := s.requests(); n != 1 {
				t.Fatalf("%d requests: a bad Location was retried", n)
			}
		})
	}
}

// Whatever the client's error, what is left of it names no secret: the
// *url.Error's URL is dropped, and a URL inside the message is redacted.
func TestCleanError(t *testing.T) {
	for _, err := range []error{
		&url.Error{Op: "Get", URL: "https://h/p?sig=SECRET", Err: errors.New(`proxyconnect "http://user:SECRET@proxy:8080/?k=SECRET": refused`)},
		fmt.Errorf("wrapped: %w", &url.Error{Op: "Get", URL: "https://h/p?sig=SECRET", Err: context.DeadlineExceeded}),
		errors.New("https://h/p?sig=SECRET failed"),
	} {
		got := cleanError(err)
		if strings.Contains(got.Error(), "SECRET") || errors.Unwrap(got) != nil {
			t.Errorf("cleanError(%q) = %q", err, got)
		}
	}
}

// With no ETag, a resume sends If-Range with the Last-Modified date only
// when the date is strong (at least a second before the response's Date):
// two versions written within one second share a weak one.
func TestIfRangeDate(t *testing.T) {
	data := randomBytes(34, 300<<10)
	lm := time.Unix(1700000000, 0).UTC()
	for name, date := range map[string]time.Time{"strong": lm.Add(time.Hour), "weak": lm} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var ifRange []string
			s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Date", date.Format(http.TimeFormat))
				if n == 1 {
					w.Header().Set("Last-Modified", lm.Format(http.TimeFormat))
					w.Header().Set("Content-Length", fmtInt(len(data)))
					w.WriteHeader(http.StatusOK)
					w.Write(data[:150000])
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler)
				}
				mu.Lock()
				ifRange = append(ifRange, r.Header.Get("If-Range"))
				mu.Unlock()
				http.ServeContent(w, r, "", lm, bytes.NewReader(data))
				return true
			})
			wantOK(t, testOptions(t), manifest(data, s.URL+"/f.bin"), data)
			_, ranges := s.requests()
			want := ""
			if name == "strong" {
				want = lm.Format(http.TimeFormat)
			}
			if len(ifRange) != 1 || ifRange[0] != want || ranges[1] != "bytes=150000-" {
				t.Fatalf("resume sent Range %q, If-Range %q; want If-Range %q", ranges[1:], ifRange, want)
			}
		})
	}
}

// noSecret fails t when "SECRET" appears in err or in any event rec saw:
// its URL, message or error.
func noSecret(t *testing.T, err error, rec *recorder) {
	t.Helper()
	all := err.Error()
	for _, e := range rec.events {
		all += " " + e.URL + " " + e.Msg
		if e.Err != nil {
			all += " " + e.Err.Error()
		}
	}
	if strings.Contains(all, "SECRET") {
		t.Fatalf("a secret reached an error or event: %s", all)
	}
}
