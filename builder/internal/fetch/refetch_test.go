package fetch

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// holeServer serves data with Range support and records which bytes each
// response carried. hole, when it returns true for a request, makes that
// response drop bytes mid-stream, as a proxy losing half a second of a
// live stream does: it sends keep bytes, skips drop bytes, sends another
// keep bytes in their place, and breaks the connection.
type holeServer struct {
	*httptest.Server
	data []byte
	hole func(rangeHeader string, n int) bool

	mu   sync.Mutex
	n    int
	sent [][2]int64 // [start, end) of the bytes each response carried
}

const holeKeep, holeDrop = 300000, 50000

func newHoleServer(t *testing.T, data []byte, hole func(string, int) bool) *holeServer {
	s := &holeServer{data: data, hole: hole}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *holeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	start, end := int64(0), int64(len(s.data))
	if rg := r.Header.Get("Range"); rg != "" {
		a, b, _ := strings.Cut(strings.TrimPrefix(rg, "bytes="), "-")
		start, _ = strconv.ParseInt(a, 10, 64)
		if b != "" {
			e, _ := strconv.ParseInt(b, 10, 64)
			end = e + 1
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, len(s.data)))
	}
	w.Header().Set("ETag", `"v1"`)
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
	if r.Header.Get("Range") != "" {
		w.WriteHeader(http.StatusPartialContent)
	}
	if s.hole != nil && s.hole(r.Header.Get("Range"), n) {
		w.Write(s.data[start : start+holeKeep])
		w.Write(s.data[start+holeKeep+holeDrop : start+2*holeKeep+holeDrop])
		s.record(start, start+holeKeep)
		s.record(start+holeKeep+holeDrop, start+2*holeKeep+holeDrop)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Write(s.data[start:end])
	s.record(start, end)
}

func (s *holeServer) record(a, b int64) {
	s.mu.Lock()
	s.sent = append(s.sent, [2]int64{a, b})
	s.mu.Unlock()
}

// twice returns the byte ranges the server sent more than once.
func (s *holeServer) twice() [][2]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	type edge struct {
		at int64
		d  int
	}
	var es []edge
	for _, r := range s.sent {
		es = append(es, edge{r[0], 1}, edge{r[1], -1})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].at < es[j].at || (es[i].at == es[j].at && es[i].d < es[j].d) })
	var out [][2]int64
	depth := 0
	var from int64
	for _, e := range es {
		before := depth
		depth += e.d
		if before < 2 && depth >= 2 {
			from = e.at
		} else if before >= 2 && depth < 2 && e.at > from {
			out = append(out, [2]int64{from, e.at})
		}
	}
	return out
}

func rangesString(rs [][2]int64) string {
	var b []string
	for _, r := range rs {
		b = append(b, fmt.Sprintf("%d-%d", r[0], r[1]-1))
	}
	return strings.Join(b, ", ")
}

// retries collects the retry events of a fetch.
type retries struct {
	mu   sync.Mutex
	msgs []string
}

func (r *retries) Event(e Event) {
	if e.Kind == EventRetry {
		r.mu.Lock()
		r.msgs = append(r.msgs, e.Err.Error())
		r.mu.Unlock()
	}
}
func (r *retries) Bytes(int64)      {}
func (r *retries) Total(int64, int) {}

func (r *retries) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// A mid-stream hole in one segment: the cut connection resumes where the
// .part says, so the segment holds shifted bytes and the file fails its
// pin. Only that segment is fetched again, and the file is stored.
func TestHoleInSegmentRecovers(t *testing.T) {
	data := randomBytes(31, 4<<20) // 4 segments of 1 MiB
	seg2 := "bytes=2097152-3145727"
	s := newHoleServer(t, data, func(rg string, n int) bool { return rg == seg2 && n <= 4 })
	opts := testOptions(t)
	rs := &retries{}
	opts.Progress = rs
	wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
	// Twice: segment 2 (2097152-3145727), but for the bytes the hole
	// dropped the first time (2397152-2447151), never sent then.
	twice := s.twice()
	if got, want := rangesString(twice), "2097152-2397151, 2447152-3145727"; got != want {
		t.Fatalf("bytes sent twice: %q, want only the segment with the hole: %q", got, want)
	}
	if !rs.has("fetching bytes 2097152-3145727 again") {
		t.Errorf("no event names the bytes fetched again: %q", rs.msgs)
	}
	t.Logf("hole of %d bytes at %d; bytes fetched twice: %s (%d of %d)", holeDrop, 2097152+holeKeep, rangesString(twice), twice[0][1]-twice[0][0]+twice[1][1]-twice[1][0], len(data))
}

// One stream (a file too small for segments): the whole file is fetched
// once more from zero.
func TestHoleInStreamRecovers(t *testing.T) {
	data := randomBytes(32, 900<<10)
	s := newHoleServer(t, data, func(rg string, n int) bool { return n == 1 })
	opts := testOptions(t)
	rs := &retries{}
	opts.Progress = rs
	wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
	if got := rangesString(s.twice()); got != "0-299999, 350000-921599" {
		t.Fatalf("bytes sent twice: %q, want the whole file", got)
	}
	if !rs.has("starting again from zero") {
		t.Errorf("events: %q", rs.msgs)
	}
}

// A server that breaks every first response of segment 2 with a hole:
// the segment, then the whole file, are fetched again, and then the URL
// is given up with an error that says so. Bounded: no more requests.
func TestHoleEveryTimeGivesUp(t *testing.T) {
	data := randomBytes(33, 4<<20)
	s := newHoleServer(t, data, func(rg string, n int) bool { return rg == "bytes=2097152-3145727" })
	opts := testOptions(t)
	opts.StallTimeout = time.Second
	err := wantErr(t, opts, manifest(data, s.URL+"/f.bin"), "checksum mismatch")
	want := "(fetched again: bytes 2097152-3145727, then the whole file from zero)"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	s.mu.Lock()
	n := s.n
	s.mu.Unlock()
	// Four segments, segment 2 resumed after its hole (5); segment 2
	// again, with its hole, and resumed (2); the whole file from zero:
	// four segments, segment 2 resumed (5). The pin fails each time.
	if n != 12 {
		t.Fatalf("%d requests, want 12", n)
	}
}

// Segments that each came in one response, one of them with a flipped
// byte (same length, no cut): no segment is to blame more than another,
// so the whole file is fetched again from zero, once.
func TestFlippedSegmentRefetchedFromZero(t *testing.T) {
	data := randomBytes(34, 4<<20)
	s := newServer(t, data, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Header.Get("Range") != "bytes=3145728-4194303" || n > 4 {
			return false
		}
		bad := append([]byte(nil), data[3145728:]...)
		bad[1000] ^= 1
		w.Header().Set("Content-Range", "bytes 3145728-4194303/4194304")
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusPartialContent)
		w.Write(bad)
		return true
	})
	opts := testOptions(t)
	rs := &retries{}
	opts.Progress = rs
	wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
	if n, ranges := s.requests(); n != 8 || !rs.has("starting again from zero") {
		t.Fatalf("%d requests (%q), events %q; want two rounds of four segments", n, ranges, rs.msgs)
	}
}
