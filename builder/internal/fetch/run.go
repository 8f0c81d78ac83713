package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"fixstick/payload"
)

// task is one target and the artifacts that want it (two artifacts may pin
// the same bytes; they are fetched once).
type task struct {
	t    *target
	idx  []int
	res  Result
	err  error
	have bool // found in the cache
}

func (f *Fetcher) fetch(ctx context.Context, m *payload.Manifest) ([]Result, error) {
	results := make([]Result, len(m.Artifacts))
	var tasks []*task
	byKey := map[string]*task{}
	for i := range m.Artifacts {
		a := &m.Artifacts[i]
		results[i] = Result{ArtifactID: a.ID, File: a.File}
		if !a.Pinned() {
			if !a.Optional {
				return nil, fmt.Errorf("artifact %s (%s) has no pin: add sha256 (or run builder pin)", a.ID, a.File)
			}
			results[i].Skipped = "no pin: run builder pin MANIFEST (with --add " + a.ID + "=PATH if it has no URL)"
			continue
		}
		t := newTarget(m, a)
		if tk := byKey[t.key()]; tk != nil {
			tk.idx = append(tk.idx, i)
			continue
		}
		tk := &task{t: t, idx: []int{i}}
		byKey[t.key()] = tk
		tasks = append(tasks, tk)
	}

	// Look in the cache first (hashing every entry again, unless that is
	// deferred to the caller), then download what is missing, Jobs at a
	// time.
	f.each(ctx, tasks, func(tk *task) {
		tk.res, tk.have, tk.err = f.cache.lookup(tk.t, f.opts.DeferCachedHash && !extracted(m, tk.idx))
		// An unverified file is not announced as verified: the caller
		// says what became of it.
		if tk.have && !tk.res.Unverified {
			f.event(Event{Kind: EventDone, ArtifactID: tk.t.id, File: tk.t.file, SHA256: tk.res.SHA256, Size: tk.res.Size, Cached: true})
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var missing []string
	var todo []*task
	var bytes int64
	for _, tk := range tasks {
		switch {
		case tk.err != nil || tk.have:
		case f.opts.Offline:
			if m.Artifacts[tk.idx[0]].Optional {
				tk.skip(results, "not in the cache, and --offline")
				continue
			}
			missing = append(missing, fmt.Sprintf("\t%s: %s %s", tk.t.id, tk.t.file, tk.t.describe()))
		case len(tk.t.urls) == 0 && m.Artifacts[tk.idx[0]].Optional:
			tk.skip(results, "not supplied: give the file with --add "+tk.t.id+"=PATH")
		default:
			todo = append(todo, tk)
			bytes += tk.t.size
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--offline: %d artifact(s) not in the cache %s:\n%s", len(missing), f.cache.dir, strings.Join(missing, "\n"))
	}
	f.total(bytes, len(todo))
	f.each(ctx, todo, func(tk *task) {
		tk.res, tk.err = f.download(ctx, tk.t)
		switch {
		case tk.err == nil:
			f.event(Event{Kind: EventDone, ArtifactID: tk.t.id, File: tk.t.file, SHA256: tk.res.SHA256, Size: tk.res.Size})
		case ctx.Err() == nil:
			f.event(Event{Kind: EventFailed, ArtifactID: tk.t.id, File: tk.t.file, Err: tk.err})
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var errs []error
	for _, tk := range tasks {
		if tk.err != nil {
			if m.Artifacts[tk.idx[0]].Optional {
				tk.skip(results, "could not be fetched: "+oneLine(tk.err))
				continue
			}
			errs = append(errs, tk.err)
			continue
		}
		for _, i := range tk.idx {
			r := tk.res
			r.ArtifactID, r.File = m.Artifacts[i].ID, m.Artifacts[i].File
			results[i] = r
		}
	}
	if len(errs) > 0 {
		return results, errors.Join(errs...)
	}
	return results, nil
}

// extracted reports whether any of the artifacts is an archive to extract:
// the caller reads its entries, not its bytes, so its own pin is checked
// here.
func extracted(m *payload.Manifest, idx []int) bool {
	for _, i := range idx {
		if len(m.Artifacts[i].Extract) > 0 {
			return true
		}
	}
	return false
}

func (tk *task) skip(results []Result, why string) {
	tk.err = nil
	for _, i := range tk.idx {
		results[i].Skipped = why
	}
	tk.idx = nil
}

// each runs fn for every task, Jobs at a time, until ctx is cancelled.
func (f *Fetcher) each(ctx context.Context, tasks []*task, fn func(*task)) {
	sem := make(chan struct{}, f.opts.Jobs)
	var wg sync.WaitGroup
	for _, tk := range tasks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(tk)
		})
	}
	wg.Wait()
}

func findArtifact(m *payload.Manifest, id string) (*payload.Artifact, error) {
	for i := range m.Artifacts {
		if m.Artifacts[i].ID == id {
			return &m.Artifacts[i], nil
		}
	}
	return nil, fmt.Errorf("no artifact %q in %s", id, m.Path)
}

func (f *Fetcher) add(m *payload.Manifest, id, path string) (Result, error) {
	a, err := findArtifact(m, id)
	if err != nil {
		return Result{}, err
	}
	if !a.Pinned() {
		return Result{}, fmt.Errorf("artifact %s has no pin to check %s against: record one first with builder pin %s --add %s=%s (trust on first use)", id, path, m.Path, id, path)
	}
	return f.importFile(newTarget(m, a), path)
}

func (f *Fetcher) pin(ctx context.Context, m *payload.Manifest, id, path string) (Result, error) {
	a, err := findArtifact(m, id)
	if err != nil {
		return Result{}, err
	}
	t := newTarget(m, a)
	if path != "" {
		return f.importFile(t, path)
	}
	if r, ok, err := f.cache.lookup(t, false); err != nil || ok {
		r.ArtifactID, r.File = a.ID, a.File
		return r, err
	}
	if f.opts.Offline {
		return Result{}, fmt.Errorf("%s (%s) is not in the cache, and --offline", a.ID, a.File)
	}
	f.total(t.size, 1)
	r, err := f.download(ctx, t)
	if err != nil {
		return Result{}, err
	}
	r.ArtifactID, r.File = a.ID, a.File
	f.event(Event{Kind: EventDone, ArtifactID: t.id, File: t.file, SHA256: r.SHA256, Size: r.Size})
	return r, nil
}

// importFile copies a user's file into the store, hashing it on the way,
// and keeps it only if it matches t's pins.
func (f *Fetcher) importFile(t *target, path string) (Result, error) {
	src, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return Result{}, err
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("%s is not a regular file", path)
	}
	if t.size > 0 && fi.Size() != t.size {
		return Result{}, fmt.Errorf("%s has %d bytes, the manifest says %d for %s", path, fi.Size(), t.size, t.id)
	}
	tmp, err := os.CreateTemp(f.cache.tmpDir(), "add-*.part")
	if err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := newHashes(t.sha1 != "")
	limit := int64(maxUndeclared)
	if t.size > 0 {
		limit = t.size
	}
	n, err := io.Copy(io.MultiWriter(tmp, h.w), io.LimitReader(src, limit+1))
	if err != nil {
		return Result{}, fmt.Errorf("copying %s: %w", path, err)
	}
	s256, s1 := h.sums()
	if err := t.check(s256, s1, n); err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", path, err)
	}
	r, err := f.cache.commit(tmp.Name(), t, s256)
	if err != nil {
		return Result{}, err
	}
	ok = true
	r.ArtifactID, r.File, r.Size = t.id, t.file, n
	return r, nil
}
