package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"fixstick/internal/atomicfile"
)

// part is a download in progress: the .part file, written at offsets by
// one or more segments, and its .meta, which records how much of each
// segment is on disk. The .meta is written only after the .part is synced,
// so it never claims bytes a crash could have lost; a .part without a .meta
// that can be trusted is discarded.
type part struct {
	path, metaPath string
	f              *os.File
	withSHA1       bool
	sizeReported   bool // an undeclared size was added to the progress total
	suspect        bool // segments came with different validators; guarded by mu
	// pieced marks the segments whose bytes did not all come in one
	// response of this run: resumed after a cut or a stall, or carried
	// over from an earlier run or another URL. When the file fails its
	// pin, they are the ones fetched again. Guarded by mu.
	pieced []bool

	mu   sync.Mutex
	meta partMeta
	hs   *hasher
}

type partMeta struct {
	// URL is the SHA-256 of the URL the validator came from (URLs may
	// hold secrets; the cache folder should not).
	URL       string    `json:"url,omitempty"`
	Validator string    `json:"validator,omitempty"` // "etag:..." or "date:...", for If-Range
	Size      int64     `json:"size"`                // 0: not known yet
	Segments  []segment `json:"segments"`
}

// segment is the byte range [Start, End) of the file, of which the first
// Done bytes are on disk. End < 0: up to the end, size unknown.
type segment struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Done  int64 `json:"done"`
}

func (s segment) complete() bool { return s.End >= 0 && s.Start+s.Done == s.End }

func hashURL(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:16])
}

// openPart opens t's .part, keeping what a previous run left only if its
// .meta is consistent with the file and with t.
func (f *Fetcher) openPart(t *target) (*part, error) {
	base := filepath.Join(f.cache.tmpDir(), t.key())
	p := &part{path: base + ".part", metaPath: base + ".meta", withSHA1: t.sha1 != ""}
	// A .part left by an earlier run is resumed only if it is a regular
	// file; anything else there (a planted link) is removed, and a new
	// .part is created exclusively, so that no link is ever followed.
	file, err := openNoFollow(p.path, os.O_RDWR, 0)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("removing %s: %w", p.path, err)
		}
	}
	if err != nil {
		file, err = openNoFollow(p.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p.path, err)
	}
	p.f = file
	if !p.loadMeta(t) {
		if err := p.reset(t, f.layout(t.size)); err != nil {
			file.Close()
			return nil, err
		}
		return p, nil
	}
	p.hs = newHasher(p.f, p.withSHA1)
	p.hs.advance(p.frontier())
	f.bytes(p.have()) // received in an earlier run: counts as done
	return p, nil
}

// loadMeta reads the .meta and reports whether the .part can be resumed.
func (p *part) loadMeta(t *target) bool {
	b, err := os.ReadFile(p.metaPath)
	if err != nil {
		return false
	}
	var m partMeta
	if json.Unmarshal(b, &m) != nil || len(m.Segments) == 0 {
		return false
	}
	if t.size > 0 && m.Size != t.size {
		return false
	}
	fi, err := p.f.Stat()
	if err != nil {
		return false
	}
	// Segments must tile [0, Size) in order, each within its bounds, and
	// the file must hold every byte they claim and nothing past Size.
	var at, claimed int64
	for i, s := range m.Segments {
		if s.Start != at || s.Done < 0 {
			return false
		}
		if s.End < 0 {
			if i != len(m.Segments)-1 || m.Size != 0 {
				return false
			}
		} else if s.End < s.Start || s.Start+s.Done > s.End {
			return false
		}
		claimed = max(claimed, s.Start+s.Done)
		at = s.End
	}
	if m.Size > 0 && at != m.Size {
		return false
	}
	if fi.Size() < claimed || (m.Size > 0 && fi.Size() > m.Size) {
		return false
	}
	// Bytes past the last one claimed are not vouched for by anything
	// (a crash between a write and its .meta, or junk). Cut them: with no
	// size known, a tail left there would survive the download that
	// completes the file, and end up in the store with it.
	if fi.Size() > claimed && p.f.Truncate(claimed) != nil {
		return false
	}
	p.meta = m
	p.pieced = make([]bool, len(m.Segments))
	return true
}

// layout splits a file of the declared size into segments.
func (f *Fetcher) layout(size int64) []segment {
	if size <= 0 {
		return []segment{{Start: 0, End: -1}}
	}
	k := int64(1)
	if size >= f.opts.SegmentMin {
		k = int64(f.opts.Segments)
	}
	segs := make([]segment, 0, k)
	for i := int64(0); i < k; i++ {
		segs = append(segs, segment{Start: size * i / k, End: size * (i + 1) / k})
	}
	return segs
}

// reset throws away what the .part holds and starts over with segs.
func (p *part) reset(t *target, segs []segment) error {
	if p.hs != nil {
		p.hs.finish()
	}
	if err := p.f.Truncate(0); err != nil {
		return fmt.Errorf("resetting %s: %w", p.path, err)
	}
	size := t.size
	if size <= 0 && len(segs) == 1 && segs[0].End > 0 {
		size = segs[0].End
	}
	p.mu.Lock()
	p.meta = partMeta{Size: size, Segments: segs}
	p.suspect = false
	p.pieced = make([]bool, len(segs))
	p.mu.Unlock()
	p.hs = newHasher(p.f, p.withSHA1)
	return p.save()
}

// markCarried marks every segment that already holds bytes as pieced:
// they came from an earlier run or another URL.
func (p *part) markCarried() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.meta.Segments {
		if s.Done > 0 {
			p.pieced[i] = true
		}
	}
}

// piecedSegments returns the segments marked pieced and their byte ranges.
func (p *part) piecedSegments() (idx []int, ranges []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.meta.Segments {
		if p.pieced[i] {
			idx = append(idx, i)
			ranges = append(ranges, fmt.Sprintf("%d-%d", s.Start, s.End-1))
		}
	}
	return idx, ranges
}

// refetch empties the segments in idx, so that the next attempt fetches
// them again, and starts hashing the file again from its first byte (the
// previous hasher has finished). Their old bytes stay on disk until they
// are overwritten, beyond the frontier, where nothing reads them.
func (p *part) refetch(idx []int) (dropped int64, err error) {
	p.mu.Lock()
	for _, i := range idx {
		dropped += p.meta.Segments[i].Done
		p.meta.Segments[i].Done = 0
		p.pieced[i] = false
	}
	fr := p.frontier()
	p.mu.Unlock()
	p.hs = newHasher(p.f, p.withSHA1)
	p.hs.advance(fr)
	return dropped, p.save()
}

// have is how many bytes the .part holds.
func (p *part) have() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, s := range p.meta.Segments {
		n += s.Done
	}
	return n
}

// frontier is the end of the contiguous prefix on disk. The caller holds
// p.mu or owns p alone.
func (p *part) frontier() int64 {
	for _, s := range p.meta.Segments {
		if !s.complete() {
			return s.Start + s.Done
		}
	}
	return p.meta.Size
}

func (p *part) complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.meta.Segments {
		if !s.complete() {
			return false
		}
	}
	return true
}

// save syncs the .part, then records its progress in the .meta.
func (p *part) save() error {
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	p.mu.Lock()
	b, err := json.Marshal(p.meta)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p.metaPath, b, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p.metaPath, err)
	}
	return nil
}

// close saves progress for the next run and closes the file.
func (p *part) close() error {
	p.hs.finish()
	err := p.save()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// remove deletes the .part and its .meta.
func (p *part) remove() {
	p.hs.finish()
	p.f.Close()
	os.Remove(p.path)
	os.Remove(p.metaPath)
}

// hasher hashes the .part in order as its contiguous prefix grows, reading
// back what the segments wrote (from the page cache, so cheaply). Every byte
// is hashed once, whether it was received now or in a previous run.
type hasher struct {
	f  *os.File
	hs *hashes

	mu               sync.Mutex
	cond             *sync.Cond
	frontier, hashed int64
	stop             bool
	err              error
	done             chan struct{}
}

func newHasher(f *os.File, withSHA1 bool) *hasher {
	h := &hasher{f: f, hs: newHashes(withSHA1), done: make(chan struct{})}
	h.cond = sync.NewCond(&h.mu)
	go h.run()
	return h
}

// advance says the first n bytes of the file are written.
func (h *hasher) advance(n int64) {
	h.mu.Lock()
	if n > h.frontier {
		h.frontier = n
		h.cond.Signal()
	}
	h.mu.Unlock()
}

func (h *hasher) run() {
	defer close(h.done)
	buf := make([]byte, 1<<20)
	for {
		h.mu.Lock()
		for h.hashed >= h.frontier && !h.stop {
			h.cond.Wait()
		}
		lo, hi, stop := h.hashed, h.frontier, h.stop
		h.mu.Unlock()
		if lo >= hi && stop {
			return
		}
		for lo < hi {
			n := int(min(int64(len(buf)), hi-lo))
			if _, err := h.f.ReadAt(buf[:n], lo); err != nil {
				h.mu.Lock()
				h.err = fmt.Errorf("hashing: %w", err)
				h.mu.Unlock()
				return
			}
			h.hs.w.Write(buf[:n])
			lo += int64(n)
			h.mu.Lock()
			h.hashed = lo
			h.mu.Unlock()
		}
	}
}

// finish waits until everything advanced so far is hashed, stops the
// hasher, and returns the digests of those bytes.
func (h *hasher) finish() (s256, s1 string, n int64, err error) {
	h.mu.Lock()
	h.stop = true
	h.cond.Signal()
	h.mu.Unlock()
	<-h.done
	if h.err != nil {
		return "", "", 0, h.err
	}
	s256, s1 = h.hs.sums()
	return s256, s1, h.hashed, nil
}
