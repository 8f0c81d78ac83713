package fetch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// BenchmarkFetch fetches a 64 MiB payload from a local server into a cold
// cache, whole and in segments: the cost of the fetch itself (socket copy,
// writes, hashing) with no network limit. bench/fetch measures the
// segmented fetch against curl over a rate-limited link.
func BenchmarkFetch(b *testing.B) {
	data := randomBytes(42, 64<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f.bin", time.Unix(1700000000, 0), bytes.NewReader(data))
	}))
	defer srv.Close()
	m := manifest(data, srv.URL+"/f.bin")
	for _, segs := range []int{1, 8} {
		b.Run(fmt.Sprintf("segments=%d", segs), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				dir, err := os.MkdirTemp(b.TempDir(), "cache")
				if err != nil {
					b.Fatal(err)
				}
				f, err := New(Options{CacheDir: dir, Segments: segs})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Fetch(context.Background(), m); err != nil {
					b.Fatal(err)
				}
				os.RemoveAll(dir)
			}
		})
	}
}
