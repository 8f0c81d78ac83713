package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxUndeclared caps a download whose size the manifest does not declare,
// so that an endless body cannot fill the disk.
const maxUndeclared = 4 << 30

// progressMin is how much an attempt must add to the .part to count as
// progress (and reset the count of attempts without progress).
const progressMin = 64 << 10

// restartError makes the next attempt start again from byte zero.
type restartError struct{ msg string }

func (e *restartError) Error() string { return e.msg }

// urlError is what happened at one URL.
type urlError struct {
	url string // redacted
	err error
}

// mirrorsError lists every URL of an artifact and what happened there.
type mirrorsError struct {
	id, file string
	tries    []urlError
}

func (e *mirrorsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetching %s (%s): ", e.id, e.file)
	if len(e.tries) == 1 {
		fmt.Fprintf(&b, "%s: %s", e.tries[0].url, oneLine(e.tries[0].err))
		return b.String()
	}
	fmt.Fprintf(&b, "all %d URLs failed:", len(e.tries))
	for _, t := range e.tries {
		fmt.Fprintf(&b, "\n\t%s: %s", t.url, oneLine(t.err))
	}
	return b.String()
}

func (e *mirrorsError) Unwrap() []error {
	errs := make([]error, len(e.tries))
	for i, t := range e.tries {
		errs[i] = t.err
	}
	return errs
}

// oneLine folds a multi-line error (a checksum mismatch) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// download fetches t from its URLs in order into the cache.
func (f *Fetcher) download(ctx context.Context, t *target) (Result, error) {
	if len(t.urls) == 0 {
		return Result{}, fmt.Errorf("fetching %s (%s): no URL to download it from: give the file with --add %s=PATH", t.id, t.file, t.id)
	}
	unlock, err := f.lock(ctx, t)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	// Another builder may have fetched it while this one waited.
	if r, ok, err := f.cache.lookup(t, false); err != nil || ok {
		return r, err
	}
	d := &dl{f: f, t: t}
	var tries []urlError
	for i, u := range t.urls {
		if i > 0 {
			prev := tries[len(tries)-1]
			f.event(Event{Kind: EventMirror, ArtifactID: t.id, File: t.file, URL: prev.url, Err: prev.err, Msg: "trying " + redact(u.URL)})
		}
		if u.InsecureHTTP {
			f.event(Event{Kind: EventNotice, ArtifactID: t.id, File: t.file, URL: redact(u.URL),
				Msg: "plain http, allowed by insecure_http: the pin, not the connection, vouches for the bytes"})
		}
		if d.p == nil { // first URL, or the last one's file failed its pin
			if err := d.open(); err != nil {
				return Result{}, err
			}
		}
		r, err := d.fromURL(ctx, u.URL, i == len(t.urls)-1)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			d.close()
			return Result{}, ctx.Err()
		}
		tries = append(tries, urlError{redact(u.URL), err})
	}
	d.close()
	return Result{}, &mirrorsError{id: t.id, file: t.file, tries: tries}
}

// dl is one target's download: its .part, kept across URLs.
type dl struct {
	f *Fetcher
	t *target
	p *part
}

func (d *dl) open() error {
	p, err := d.f.openPart(d.t)
	d.p = p
	return err
}

// close keeps the .part for the next run, unless it holds nothing.
func (d *dl) close() {
	if d.p == nil {
		return
	}
	if d.p.have() == 0 {
		d.p.remove()
	} else {
		d.p.close()
	}
	d.p = nil
}

// restart throws the .part away and starts again from zero.
func (d *dl) restart(single bool) error {
	d.f.bytes(-d.p.have())
	segs := d.f.layout(d.t.size)
	if single {
		segs = d.f.layoutSingle(d.t.size)
	}
	return d.p.reset(d.t, segs)
}

// fromURL fetches t from one URL, resuming after cut connections, until the
// file is complete and verified, or the URL is given up.
func (d *dl) fromURL(ctx context.Context, rawURL string, last bool) (Result, error) {
	f, t := d.f, d.t
	uh := hashURL(rawURL)
	if d.p.have() > 0 && d.p.meta.URL != uh {
		if !t.pinned() {
			// Only the same server's validator could vouch for a
			// prefix of an unpinned file.
			if err := d.restart(false); err != nil {
				return Result{}, err
			}
		} else {
			// The pin vouches for the whole: keep the prefix and send
			// Range without If-Range (another server's validator means
			// nothing here).
			d.p.mu.Lock()
			d.p.meta.Validator = ""
			d.p.mu.Unlock()
		}
	}
	d.p.markCarried()  // bytes from an earlier run or another URL
	var tried []string // what was fetched again after the file failed its pin
	fromZero := false  // the last of those: the whole file from zero
	noRanges := false
	failures := 0
	best := d.p.have()
	for attempt := 0; ; attempt++ {
		p := d.p
		have := p.have()
		if attempt == 0 {
			f.event(Event{Kind: EventStart, ArtifactID: t.id, File: t.file, URL: redact(rawURL), Size: p.meta.Size, Offset: have})
		} else if have > 0 {
			f.event(Event{Kind: EventResume, ArtifactID: t.id, File: t.file, URL: redact(rawURL), Size: p.meta.Size, Offset: have})
		}
		err := f.attempt(ctx, t, p, rawURL, uh, noRanges)
		if serr := p.save(); err == nil {
			err = serr
		}
		if err == nil && p.complete() {
			// A file assembled from several responses that fails its
			// pin is fetched again before this URL is blamed. Segments
			// pieced together from more than one response (a resume
			// after a cut or a stall, as when a proxy drops part of a
			// live stream; a prefix from before) are the likely culprits:
			// they are fetched again first, keeping the rest. Then, if the
			// file still fails, the whole of it from zero, once.
			// Validators that disagreed, or segments that each came
			// whole, go straight to zero: no segment is to blame more
			// than another.
			idx, ranges := p.piecedSegments()
			partly := !fromZero && !p.suspect && len(idx) > 0 && len(idx) < len(p.meta.Segments) && len(tried) == 0
			r, err := f.finish(t, p, partly)
			if err == nil {
				return r, nil
			}
			if len(tried) > 0 && !isPermanent(err) {
				err = fmt.Errorf("%w (fetched again: %s)", err, strings.Join(tried, ", then "))
			}
			var km *keptMismatch
			if errors.As(err, &km) {
				dropped, rerr := p.refetch(idx)
				if rerr != nil {
					return Result{}, rerr
				}
				f.bytes(-dropped)
				what := "bytes " + strings.Join(ranges, ", ")
				tried = append(tried, what)
				f.event(Event{Kind: EventRetry, ArtifactID: t.id, File: t.file, URL: redact(rawURL),
					Err: fmt.Errorf("wrong bytes in segments pieced together from several responses: fetching %s again", what)})
				failures, best = 0, p.have() // progress counts afresh
				continue
			}
			d.p = nil
			// One response that gave the whole file, wrong: the server
			// has another file, and the next mirror is tried.
			assembled := len(idx) > 0 || p.suspect || len(tried) > 0 || len(p.meta.Segments) > 1
			if fromZero || !assembled || isPermanent(err) {
				return Result{}, err
			}
			fromZero = true
			tried = append(tried, "the whole file from zero")
			if err := d.open(); err != nil {
				return Result{}, err
			}
			f.event(Event{Kind: EventRetry, ArtifactID: t.id, File: t.file, URL: redact(rawURL), Err: errors.New("wrong bytes after resuming: starting again from zero")})
			failures, best = 0, 0
			continue
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if err == nil {
			err = errors.New("transfer ended early")
		}
		var re *restartError
		switch {
		case errors.As(err, &re):
			if strings.Contains(re.msg, "ignores Range") {
				noRanges = true
			}
			if rerr := d.restart(noRanges); rerr != nil {
				return Result{}, rerr
			}
		case isPermanent(err):
			return Result{}, err
		}
		// Progress means getting further than ever before at this URL:
		// a server that cuts every connection at the same place, with no
		// way to resume, makes none.
		var se *stallError
		var rt *roundTripError
		stalled := errors.As(err, &se)
		if (stalled || errors.As(err, &rt)) && !last {
			return Result{}, err // the next mirror may do better
		}
		if now := d.p.have(); now >= best+progressMin && !stalled {
			failures, best = 0, now
		} else {
			failures++
		}
		if failures >= f.opts.MaxAttempts {
			return Result{}, fmt.Errorf("%w (%d attempts without progress)", err, failures)
		}
		if noRanges && p.have() > 0 {
			// No way to resume here: every attempt starts from zero.
			if rerr := d.restart(true); rerr != nil {
				return Result{}, rerr
			}
		}
		f.event(Event{Kind: EventRetry, ArtifactID: t.id, File: t.file, URL: redact(rawURL), Err: err})
		w := f.http.wait(failures)
		if f.opts.waitHook != nil {
			f.opts.waitHook(w)
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(w):
		}
	}
}

func (f *Fetcher) layoutSingle(size int64) []segment {
	if size <= 0 {
		size = -1
	}
	return []segment{{Start: 0, End: size}}
}

// keptMismatch is a complete .part that failed its pin and was kept, for
// some of its segments to be fetched again.
type keptMismatch struct{ err error }

func (e *keptMismatch) Error() string { return e.err.Error() }
func (e *keptMismatch) Unwrap() error { return e.err }

// finish checks the complete .part against t's pins and moves it into the
// store; a file that fails is deleted, unless keep is set and only the pin
// failed: the .part then stays open, and the error is a *keptMismatch.
func (f *Fetcher) finish(t *target, p *part, keep bool) (Result, error) {
	s256, s1, n, err := p.hs.finish()
	if err == nil && n != p.meta.Size {
		err = fmt.Errorf("hashed %d of %d bytes", n, p.meta.Size)
	}
	if err == nil {
		// The store takes the whole file, not the bytes hashed: a file
		// longer than them holds something no pin has checked.
		var fi os.FileInfo
		if fi, err = p.f.Stat(); err == nil && fi.Size() != n {
			err = fmt.Errorf("%s holds %d bytes, %d were hashed", p.path, fi.Size(), n)
		}
	}
	if err == nil {
		err = t.check(s256, s1, n)
		if err != nil && keep {
			return Result{}, &keptMismatch{err}
		}
	}
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	if err != nil {
		f.bytes(-n)
		os.Remove(p.path)
		os.Remove(p.metaPath)
		return Result{}, err
	}
	r, err := f.cache.commit(p.path, t, s256)
	if err != nil {
		os.Remove(p.path)
		os.Remove(p.metaPath)
		return Result{}, err
	}
	os.Remove(p.metaPath)
	r.Size = n
	return r, nil
}

// attempt sends one request for each unfinished segment, at once, and
// writes what they return into the .part.
func (f *Fetcher) attempt(ctx context.Context, t *target, p *part, rawURL, uh string, noRanges bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.mu.Lock()
	// Every request of one attempt carries the same If-Range: the
	// validator known when it starts (none on a fresh start, even once
	// the first response has brought one).
	ifRange := ""
	if p.meta.URL == uh {
		ifRange = ifRangeValue(p.meta.Validator)
	}
	var todo []int
	var have int64
	for i, s := range p.meta.Segments {
		have += s.Done
		if !s.complete() {
			todo = append(todo, i)
		}
	}
	p.mu.Unlock()
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	run := func(k, i int, probe func(bool)) {
		wg.Go(func() {
			errs[k] = f.segment(ctx, t, p, i, rawURL, uh, ifRange, noRanges, probe)
			var re *restartError
			if errors.As(errs[k], &re) || isPermanent(errs[k]) {
				cancel() // the others' bytes are wasted or suspect
			}
		})
	}
	if len(todo) > 1 && have == 0 {
		// A fresh start: the first segment's response says whether the
		// server honours Range before the others are asked for.
		ok := make(chan bool, 1)
		var once sync.Once
		run(0, todo[0], func(b bool) { once.Do(func() { ok <- b }) })
		if <-ok {
			for k, i := range todo[1:] {
				run(k+1, i, nil)
			}
		}
	} else {
		for k, i := range todo {
			run(k, i, nil)
		}
	}
	wg.Wait()
	// The most telling error wins: restart, then permanent, then any.
	for _, rank := range []func(error) bool{
		func(e error) bool { var re *restartError; return errors.As(e, &re) },
		isPermanent,
		func(e error) bool { return !errors.Is(e, context.Canceled) },
		func(e error) bool { return true },
	} {
		for _, e := range errs {
			if e != nil && rank(e) {
				return e
			}
		}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// segment fetches the rest of segment i with one request. probe, when not
// nil, is told whether the other segments may start: true once a 206 has
// passed every check; false on any failure, or when the server ignored
// Range and this response is taken as the whole file instead.
func (f *Fetcher) segment(ctx context.Context, t *target, p *part, i int, rawURL, uh, ifRange string, noRanges bool, probe func(bool)) error {
	if probe != nil {
		defer probe(false)
	}
	p.mu.Lock()
	s := p.meta.Segments[i]
	size := p.meta.Size
	single := len(p.meta.Segments) == 1
	if s.Done > 0 {
		p.pieced[i] = true // a resume: its bytes come from two responses or more
	}
	p.mu.Unlock()

	start := s.Start + s.Done
	ranged := !(start == 0 && single)
	if noRanges && ranged {
		return &restartError{"server ignores Range"}
	}
	end := s.End
	if single && end == size {
		end = -1 // "bytes=N-": the usual resume request
	}
	var resp *http.Response
	var err error
	if ranged {
		resp, err = f.http.get(ctx, rawURL, start, end, ifRange)
	} else {
		resp, err = f.http.get(ctx, rawURL, 0, -1, "")
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	crTotal := int64(-1) // the total a 206's Content-Range gives
	switch resp.StatusCode {
	case http.StatusOK:
		if ranged && probe != nil && start == 0 && ifRange == "" {
			// The server ignores Range: this response is the whole
			// file, fetched as one segment.
			s = segment{Start: 0, End: size}
			p.mu.Lock()
			p.meta.Segments = []segment{s}
			p.pieced = []bool{false}
			p.mu.Unlock()
			i, ranged = 0, false
		}
		if ranged {
			if v := validator(resp); v != "" && ifRange != "" && !sameVersion(v, p.validator()) {
				return &restartError{"the file changed on the server: starting again from zero"}
			}
			return &restartError{"server ignores Range: starting again from zero"}
		}
	case http.StatusPartialContent:
		if !ranged {
			return permanentf("HTTP 206 to a request without Range")
		}
		a, b, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		wantEnd := s.End
		if wantEnd < 0 || end < 0 {
			wantEnd = total
		}
		// size is the declared size, or the one learnt from an earlier
		// response: a server that now gives another total sends another
		// file.
		if !ok || a != start || b+1 != wantEnd || (size > 0 && total != size) {
			return permanentf("bad Content-Range %q for bytes %d-%d of %d", resp.Header.Get("Content-Range"), start, wantEnd-1, size)
		}
		crTotal = total
	case http.StatusRequestedRangeNotSatisfiable:
		return &restartError{"HTTP 416 Range Not Satisfiable: starting again from zero"}
	default:
		return permanentf("HTTP %s", resp.Status)
	}
	want := int64(-1) // bytes this response must carry
	if s.End >= 0 {
		want = s.End - start
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return permanentf("server sent Content-Encoding %s despite Accept-Encoding: identity", ce)
	}
	v := validator(resp)
	p.mu.Lock()
	switch {
	case p.meta.URL == uh && p.meta.Validator != "" && v != "" && !sameVersion(v, p.meta.Validator):
		if !t.pinned() {
			p.mu.Unlock()
			return &restartError{"the file changed on the server (" + strings.SplitN(v, ":", 2)[0] + "): starting again from zero"}
		}
		// CDN nodes may disagree on validators for the same bytes; the
		// pin decides, and a mismatch then earns one retry from zero.
		p.suspect = true
	case p.meta.URL != uh || p.meta.Validator == "":
		p.meta.URL, p.meta.Validator = uh, v
	}
	if want < 0 && (crTotal >= 0 || resp.ContentLength >= 0) {
		// The size is learnt from the first response that gives it: a
		// 206's Content-Range (checked above to run to its end), even
		// with no Content-Length, or a 200's Content-Length.
		if crTotal >= 0 {
			p.meta.Size = crTotal
			want = crTotal - start
		} else {
			p.meta.Size = resp.ContentLength
			want = resp.ContentLength
		}
		p.meta.Segments[i].End = p.meta.Size
		if !p.sizeReported {
			p.sizeReported = true
			f.total(p.meta.Size, 0)
		}
	}
	p.mu.Unlock()
	if resp.ContentLength >= 0 && want >= 0 && resp.ContentLength != want {
		return permanentf("Content-Length %d does not match the %d bytes expected", resp.ContentLength, want)
	}

	capSize := int64(maxUndeclared)
	if f.opts.maxSize > 0 {
		capSize = f.opts.maxSize
	}
	limit := want
	if limit < 0 {
		limit = capSize - start
	} else if size <= 0 && start+want > capSize {
		return permanentf("server announces %d bytes, more than the %d accepted with no declared size", start+want, capSize)
	}
	if probe != nil {
		probe(ranged)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var got int64
	for got < limit {
		n, rerr := resp.Body.Read(buf[:min(int64(len(buf)), limit-got)])
		if n > 0 {
			if _, err := p.f.WriteAt(buf[:n], start+got); err != nil {
				return permanentf("writing %s: %v", p.path, err)
			}
			got += int64(n)
			p.mu.Lock()
			p.meta.Segments[i].Done += int64(n)
			fr := p.frontier()
			p.mu.Unlock()
			p.hs.advance(fr)
			f.bytes(int64(n))
		}
		if rerr == io.EOF {
			if want >= 0 && got == want {
				break
			}
			if want >= 0 {
				return fmt.Errorf("connection closed after %d of %d bytes", got, want)
			}
			// No declared size and no Content-Length: the body's end
			// is the file's end.
			p.mu.Lock()
			p.meta.Size = start + got
			p.meta.Segments[i].End = p.meta.Size
			p.mu.Unlock()
			return nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				var se *stallError
				if !errors.As(rerr, &se) {
					return ctx.Err()
				}
			}
			return fmt.Errorf("after %d bytes: %w", start+got, rerr)
		}
	}
	if want < 0 {
		return permanentf("more than %d bytes with no declared size", start+limit)
	}
	if resp.ContentLength < 0 {
		// No Content-Length to frame the body: one byte more than
		// expected means the server sends something else.
		var one [1]byte
		if n, _ := io.ReadFull(resp.Body, one[:]); n > 0 {
			return permanentf("server sent more than the %d bytes expected", s.End)
		}
	}
	return nil
}

func (p *part) validator() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.meta.Validator
}

// validator returns what identifies the response's version of the file:
// "etag:" and a strong ETag; else "date:" and a Last-Modified date that is
// strong, at least a second before the response's Date (RFC 9110 8.8.2.2);
// else "weak:" and a Last-Modified date too recent to be strong.
//
// Only the first two may go into If-Range (RFC 9110 13.1.5): two versions
// written within one second share a weak date, and a server comparing it
// would send the rest of the new version after a prefix of the old. A weak
// date still tells a changed file when it differs, so it is kept and
// compared; a resume then sends Range alone, and relies on the other
// checks: that date and the Content-Range total compared on every
// response, and the pin (an unpinned archive's entries are pinned).
func validator(resp *http.Response) string {
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return "etag:" + et
	}
	lm := resp.Header.Get("Last-Modified")
	if lm == "" {
		return ""
	}
	mod, err1 := http.ParseTime(lm)
	date, err2 := http.ParseTime(resp.Header.Get("Date"))
	if err1 == nil && err2 == nil && date.Sub(mod) >= time.Second {
		return "date:" + lm
	}
	return "weak:" + lm
}

// ifRangeValue is what If-Range carries for validator v: nothing for a
// weak date.
func ifRangeValue(v string) string {
	if et, ok := strings.CutPrefix(v, "etag:"); ok {
		return et
	}
	if d, ok := strings.CutPrefix(v, "date:"); ok {
		return d
	}
	return ""
}

// sameVersion reports whether validators a and b name the same version: a
// date counts as the same whether it was strong or weak when seen (it
// grows strong as time passes). A weak date seen first stays weak.
func sameVersion(a, b string) bool {
	norm := func(v string) string {
		if d, ok := strings.CutPrefix(v, "weak:"); ok {
			return "date:" + d
		}
		return v
	}
	return norm(a) == norm(b)
}

// parseContentRange parses "bytes A-B/TOTAL".
func parseContentRange(s string) (a, b, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	as, bs, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	a, err1 = strconv.ParseInt(as, 10, 64)
	b, err2 = strconv.ParseInt(bs, 10, 64)
	total, err3 = strconv.ParseInt(tot, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || a < 0 || b < a || total <= b {
		return 0, 0, 0, false
	}
	return a, b, total, true
}

func (f *Fetcher) event(e Event) {
	if f.opts.Progress != nil {
		f.opts.Progress.Event(e)
	}
}

func (f *Fetcher) bytes(n int64) {
	if f.opts.Progress != nil && n != 0 {
		f.opts.Progress.Bytes(n)
	}
}

func (f *Fetcher) total(bytes int64, files int) {
	if f.opts.Progress != nil {
		f.opts.Progress.Total(bytes, files)
	}
}

// lock keeps other builder processes sharing the cache away from t's .part
// while this one downloads it: two writers would corrupt it, and one could
// still be writing into the file the other has moved into the store.
//
// A sweep (openCache) deletes lock files left for a day, but only while it
// holds the lock on the file the path names; so a lock taken here counts
// only if the path still names the locked file once it is held: if it was
// deleted in between, the lock is on a file nobody else can find, and the
// path is opened again. Once held and checked, the path stays this file's
// until it is released.
func (f *Fetcher) lock(ctx context.Context, t *target) (unlock func(), err error) {
	path := filepath.Join(f.cache.tmpDir(), t.key()+".lock")
	var lf *os.File
	for waited := false; ; {
		if lf == nil {
			if lf, err = openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
				return nil, fmt.Errorf("locking %s: %w", path, err)
			}
		}
		busy, err := tryLock(lf)
		if err != nil {
			lf.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !busy {
			if !stillAt(lf, path) {
				lf.Close() // releases the lock on the deleted file
				lf = nil
				continue
			}
			// Closing the file releases the lock.
			return func() { lf.Close() }, nil
		}
		if !waited {
			waited = true
			f.event(Event{Kind: EventNotice, ArtifactID: t.id, File: t.file, Msg: "waiting: another builder is fetching this file into the same cache"})
		}
		select {
		case <-ctx.Done():
			lf.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stillAt reports whether path names the open file f.
func stillAt(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
