// Package pack compiles a manifest and its fetched payloads into a bundle:
// the lock (bundle.lock.json), START.cmd, README.txt, the runner programs,
// the legacy executor and the payloads, written as a reproducible zip or
// as a folder, and verified after writing. Verify checks any bundle
// against its lock.
//
// Reproducible means: the same manifest, payloads, runners and builder
// version give the same bytes on any machine. Entries are sorted, every
// timestamp is the bundle's created time, modes are fixed, and nothing
// depends on the clock, the host or the order of a map.
package pack

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"fixstick/payload"
)

// Source is an artifact's file, as fetch returns it. Pack hashes it while
// copying it into the bundle, and fails with a *SourceError when it does
// not match SHA256 and Size: fetch may leave that check to pack
// (fetch.Options.DeferCachedHash).
type Source struct {
	Path   string // the file in the cache
	SHA256 string
	Size   int64
}

// File is a file made in memory: a runner program, a legacy script.
type File struct {
	Path string
	Data []byte
}

// Options say what goes into a bundle.
type Options struct {
	Manifest *payload.Manifest
	// Sources are the fetched artifacts, by artifact id.
	Sources map[string]Source
	// Skipped says why an optional artifact is left out, by artifact id.
	// An optional artifact with no Source is skipped too.
	Skipped map[string]string
	// Runners are runner.exe and runner-x86.exe.
	Runners []File
	// Legacy renders the legacy executor's files (paths under legacy/)
	// from the lock. It sees every other file in the lock, and the
	// manifest id as the bundle id: the real id depends on its output.
	Legacy func(*payload.Lock) (map[string][]byte, error)
	// Builder is the builder's version, recorded in the lock.
	Builder string
	// Created dates the lock and every file of the bundle (ResolveCreated).
	Created time.Time
	// Limits cap archive extraction; the zero value means DefaultLimits.
	Limits Limits
	// Note receives what the user should know (a skipped step); may be nil.
	Note func(string)
	// SignLock, when set, signs the lock's exact bytes; the signature goes
	// into the bundle as bundle.lock.json.minisig, which the lock cannot
	// list (payload.LockSigName).
	SignLock func(lock []byte, bundleID string) ([]byte, error)
	// SignZip, when set, signs the written zip (its path); the signature
	// goes beside it as OUT.zip.minisig.
	SignZip func(path, bundleID string) ([]byte, error)
	// SignKeyID is the id of the key SignLock signs with, for README.txt
	// (the technician compares it with the one the organisation published).
	SignKeyID string
}

// ArchiveError is an archive artifact that was refused: hostile, broken,
// or not holding its pinned entries. When the archive itself is unpinned,
// the caller should drop it from the cache, so that the next build fetches
// it again.
type ArchiveError struct {
	ArtifactID string
	Err        error
}

func (e *ArchiveError) Error() string { return e.Err.Error() }
func (e *ArchiveError) Unwrap() error { return e.Err }

// SourceError is an artifact's file that did not match its pin while it
// was packed. Nothing was written; the caller should remove the file from
// the cache (fetch's Forget), and may fetch it again.
type SourceError struct {
	ArtifactID string
	Err        error
}

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// entry is one file of the bundle, read from disk or from memory.
type entry struct {
	path    string
	size    int64
	sha256  string
	disk    string // read from here when data is nil
	source  string // the artifact whose Source disk is, if it is one
	data    []byte
	deflate bool // small generated text; payloads and programs are stored
}

// Bundle is a compiled bundle, ready to write. Close removes the files
// extracted for it.
type Bundle struct {
	Lock     *payload.Lock
	LockJSON []byte
	created  time.Time
	entries  []entry // sorted by path, the lock included
	signZip  func(path, bundleID string) ([]byte, error)
	tmp      string
}

// Close removes the temporary folder the archives were extracted into.
func (b *Bundle) Close() error {
	if b.tmp == "" {
		return nil
	}
	err := os.RemoveAll(b.tmp)
	b.tmp = ""
	return err
}

// Prepare compiles the lock and gathers the bundle's files. Archives are
// extracted into a temporary folder made in tmpParent (put it on the same
// disk as the output: extracted installers can be large).
func Prepare(ctx context.Context, o Options, tmpParent string) (_ *Bundle, err error) {
	m := o.Manifest
	lim := o.Limits
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	b := &Bundle{created: o.Created.UTC(), signZip: o.SignZip}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	skipped := map[string]string{}
	for _, a := range m.Artifacts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		why, isSkipped := o.Skipped[a.ID]
		src, ok := o.Sources[a.ID]
		switch {
		case isSkipped || !ok:
			if !a.Optional {
				if why == "" {
					why = "not fetched"
				}
				return nil, fmt.Errorf("artifact %s is required but %s", a.ID, why)
			}
			if why == "" {
				why = "not supplied"
			}
			skipped[a.ID] = why
			continue
		case len(a.Extract) > 0:
			if a.SHA256 != "" && src.SHA256 != a.SHA256 {
				return nil, &payload.ChecksumError{Name: src.Path, Want: a.SHA256, Got: src.SHA256, WantSize: -1}
			}
			if b.tmp == "" {
				if b.tmp, err = os.MkdirTemp(tmpParent, tmpPrefix); err != nil {
					return nil, fmt.Errorf("making a folder to extract archives into: %w", err)
				}
			}
			dir, err := os.MkdirTemp(b.tmp, a.ID+"-")
			if err != nil {
				return nil, err
			}
			xs, err := extractArchive(ctx, a.ID+" ("+a.File+")", src.Path, a.Extract, dir, lim)
			if err != nil {
				return nil, &ArchiveError{ArtifactID: a.ID, Err: err}
			}
			for _, x := range xs {
				b.entries = append(b.entries, entry{path: payload.PayloadPath(a.ID, x.Path), size: x.Size, sha256: x.SHA256, disk: x.Disk})
			}
		default:
			// Check that this is the file the manifest pins, not some other
			// cached file; its bytes are hashed as they are packed.
			if (a.SHA256 != "" && src.SHA256 != a.SHA256) || (a.Size > 0 && src.Size != a.Size) || !payload.IsHex(src.SHA256, 64) {
				return nil, fmt.Errorf("artifact %s: the fetched file %s does not match the manifest's pin", a.ID, src.Path)
			}
			b.entries = append(b.entries, entry{path: payload.PayloadPath(a.ID, a.File), size: src.Size, sha256: src.SHA256, disk: src.Path, source: a.ID})
		}
	}

	have := map[string]bool{}
	for _, r := range o.Runners {
		have[r.Path] = true
		b.entries = append(b.entries, memEntry(r.Path, r.Data, false))
	}
	for _, n := range []string{payload.RunnerAMD64, payload.RunnerX86} {
		if !have[n] {
			return nil, fmt.Errorf("runner program %s missing", n)
		}
	}

	steps, notes, err := compileSteps(m, skipped)
	if err != nil {
		return nil, err
	}
	if o.Note != nil {
		for _, n := range notes {
			o.Note(n)
		}
	}
	l := &payload.Lock{
		Version:  payload.LockVersion,
		Title:    m.Title,
		Manifest: payload.LockManifest{ID: m.ID, SHA256: m.SHA256},
		Builder:  o.Builder,
		Created:  b.created.Format(time.RFC3339),
		Requires: m.Requires,
		Goal:     m.Goal,
		Steps:    steps,
	}
	b.entries = append(b.entries,
		memEntry(payload.StartCmd, crlf(startCmd), true),
		memEntry(payload.ReadmeTxt, crlf(readme(m, l, o.SignKeyID)), true),
	)
	if o.Legacy != nil {
		view := *l
		view.Bundle = m.ID
		view.Files = lockFiles(b.entries)
		files, err := o.Legacy(&view)
		if err != nil {
			return nil, fmt.Errorf("rendering the legacy executor: %w", err)
		}
		for p, data := range files {
			if !strings.HasPrefix(p, payload.LegacyDir+"/") {
				return nil, fmt.Errorf("legacy executor file %q is not under %s/", p, payload.LegacyDir)
			}
			b.entries = append(b.entries, memEntry(p, data, true))
		}
	}
	l.Files = lockFiles(b.entries)
	if l.Bundle, err = payload.BundleID(l); err != nil {
		return nil, err
	}
	if b.LockJSON, err = payload.MarshalLock(l); err != nil {
		return nil, err
	}
	// The lock must pass the check every runner applies: a legacy file
	// could still shadow another, or a name be unsafe on Windows.
	if probs := payload.CheckLock(b.LockJSON, l); len(probs) > 0 {
		return nil, fmt.Errorf("the bundle's lock: %s", strings.Join(probs, "; "))
	}
	b.Lock = l
	b.entries = append(b.entries, memEntry(payload.LockName, b.LockJSON, true))
	if o.SignLock != nil {
		sig, err := o.SignLock(b.LockJSON, l.Bundle)
		if err != nil {
			return nil, fmt.Errorf("signing the lock: %w", err)
		}
		b.entries = append(b.entries, memEntry(payload.LockSigName, sig, true))
	}
	sortEntries(b.entries)
	return b, nil
}

func memEntry(p string, data []byte, deflate bool) entry {
	return entry{path: p, size: int64(len(data)), sha256: hashBytes(data), data: data, deflate: deflate}
}

func lockFiles(es []entry) []payload.LockFile {
	fs := make([]payload.LockFile, 0, len(es))
	for _, e := range es {
		if e.path == payload.LockName || e.path == payload.LockSigName {
			continue
		}
		fs = append(fs, payload.LockFile{Path: e.path, SHA256: e.sha256, Size: e.size})
	}
	sortFiles(fs)
	return fs
}
