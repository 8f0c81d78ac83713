package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"fixstick/builder/internal/fetch"
	"fixstick/builder/internal/legacy"
	"fixstick/builder/internal/manifest"
	"fixstick/builder/internal/pack"
	"fixstick/builder/internal/runnerbin"
	"fixstick/payload"
)

type buildOptions struct {
	fetchFlags
	output    string
	dir       string
	runnerDir string
	sign      string
}

func (o *buildOptions) addFlags(e *env) *pflag.FlagSet {
	fs := newFlags(e, "build")
	fs.StringVarP(&o.output, "output", "o", "", "write the bundle zip to `FILE` (default: ID.zip), and its SHA-256 to FILE.sha256")
	fs.StringVar(&o.dir, "dir", "", "write the bundle unpacked into `FOLDER` (a USB stick) instead of a zip")
	o.fetchFlags.addFlags(fs)
	fs.StringVar(&o.runnerDir, "runner-dir", "", "take runner.exe and runner-x86.exe from `FOLDER`")
	fs.StringVar(&o.sign, "sign", "", "sign the lock and the zip with the minisign secret key `FILE` (password: asked, or $"+signEnv+")")
	return fs
}

// runBuild fetches a manifest's artifacts and packs the bundle. The output
// appears only once it is complete and verified.
func runBuild(ctx context.Context, e *env, args []string) (err error) {
	var o buildOptions
	fs := o.addFlags(e)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder build [flags] MANIFEST\n\nFetch and verify every artifact, then write the bundle as a zip (-o) or a folder (--dir).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("build needs exactly one manifest file")
	}
	if o.output != "" && o.dir != "" {
		return usagef("-o and --dir exclude each other")
	}
	m, err := loadManifest(e, fs.Arg(0))
	if err != nil {
		return err
	}
	created, note, err := pack.ResolveCreated(m, e.getenv)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintf(e.stderr, "builder: note: %s\n", note)
	}
	runners, runnersFrom, err := runnerbin.Load(o.runnerDir, e.getenv)
	if err != nil {
		return err
	}
	if runnersFrom != "" {
		// Another runner makes another zip: say so, lest two builds of one
		// manifest differ for no visible reason.
		fmt.Fprintf(e.stderr, "builder: note: runner programs from %s, not built into the builder: the bundle differs from one built with them\n", runnersFrom)
	}

	adds, err := parseAdd(o.add)
	if err != nil {
		return err
	}
	var signLock func([]byte, string) ([]byte, error)
	var signZip func(string, string) ([]byte, error)
	var signKeyID string
	if o.sign != "" {
		k, err := loadSecretKey(e, o.sign)
		if err != nil {
			return err
		}
		signLock, signZip = signers(k)
		signKeyID = k.ID()
		fmt.Fprintf(e.stderr, "builder: signing with key ID %s\n", k.ID())
	}
	popts := pack.Options{
		SignLock:  signLock,
		SignZip:   signZip,
		SignKeyID: signKeyID,
		Manifest:  m,
		Runners:   runners,
		Legacy:    legacy.Render,
		Builder:   builderVersion(),
		Created:   created,
	}
	noted := map[string]bool{} // a second run says nothing new
	popts.Note = func(s string) {
		if !noted[s] {
			noted[s] = true
			fmt.Fprintf(e.stderr, "builder: %s\n", s)
		}
	}
	// Pack hashes each cached payload as it copies it into the zip, so
	// fetch leaves that to it: one read and one hash of each file, not
	// two. A payload that fails its pin then is dropped from the cache,
	// and the build runs once more, fetching it again, as fetch would
	// have done. --dir may keep a file already on the stick without
	// reading the cache's copy, so fetch checks the cache then (the stick
	// is far slower than the hashing anyway).
	o.deferCachedHash = o.dir == ""
	err = o.fetchAndPack(ctx, e, m, adds, popts)
	var se *pack.SourceError
	if errors.As(err, &se) {
		again := "; fetching it again"
		if o.offline {
			again = "" // the next run says it is missing
		}
		fmt.Fprintf(e.stderr, "builder: warning: %v\nbuilder: warning: removed it from the cache%s\n", se, again)
		err = o.fetchAndPack(ctx, e, m, adds, popts)
	}
	return err
}

// fetchAndPack fetches the manifest's artifacts (with adds, --add's ID and
// PATH) and packs the bundle. A cache file that fails its pin, found by
// Prepare (an archive) or while packing, is removed from the cache.
func (o *buildOptions) fetchAndPack(ctx context.Context, e *env, m *payload.Manifest, adds [][2]string, popts pack.Options) (err error) {
	f, done, err := o.fetcher(e)
	if err != nil {
		return err
	}
	added := map[string]fetch.Result{}
	for _, a := range adds {
		r, err := f.Add(m, a[0], a[1])
		if err != nil {
			done()
			return fmt.Errorf("--add %s=%s: %w", a[0], a[1], err)
		}
		added[r.ArtifactID] = r
	}
	results, err := f.Fetch(ctx, m)
	done()
	if err != nil {
		return err
	}
	popts.Sources = map[string]pack.Source{}
	popts.Skipped = map[string]string{}
	byID := map[string]fetch.Result{}
	for _, r := range results {
		if a, ok := added[r.ArtifactID]; ok && r.Path == "" {
			r = a
		}
		byID[r.ArtifactID] = r
		if r.Path == "" {
			popts.Skipped[r.ArtifactID] = r.Skipped
			continue
		}
		popts.Sources[r.ArtifactID] = pack.Source{Path: r.Path, SHA256: r.SHA256, Size: r.Size}
	}
	forget := func(id string) {
		if ferr := f.Forget(byID[id]); ferr != nil {
			fmt.Fprintf(e.stderr, "builder: warning: removing %s from the cache: %v\n", id, ferr)
		}
	}

	out := o.output
	if o.dir == "" && out == "" {
		out = m.ID + ".zip"
	}
	// Archives are extracted into a temp folder on the output's disk: into
	// the folder itself for --dir (its parent, /media/$USER say, may not
	// be writable; WriteDir leaves the temp folder alone), beside the zip
	// otherwise. A folder made for this is removed if the build fails.
	tmpParent := filepath.Dir(out)
	if o.dir != "" {
		tmpParent = filepath.Clean(o.dir)
	}
	made, err := mkdirAll(tmpParent)
	if err != nil {
		return err
	}
	defer func() {
		// After b.Close (deferred below), which empties the temp folder.
		if err != nil {
			removeMade(made)
		}
	}()
	b, err := pack.Prepare(ctx, popts, tmpParent)
	if err != nil {
		var ae *pack.ArchiveError
		if errors.As(err, &ae) && !pinnedItself(m, ae.ArtifactID) {
			// An unpinned archive that fails its entries' pins must not
			// stay in the cache as if it were good.
			forget(ae.ArtifactID)
		}
		return err
	}
	defer b.Close()
	defer func() {
		var se *pack.SourceError
		if errors.As(err, &se) {
			forget(se.ArtifactID)
		}
	}()

	if o.dir != "" {
		target := filepath.Clean(o.dir)
		if err := b.WriteDir(ctx, target); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "bundle %s written to %s (%d files), verified\n", b.Lock.Bundle, target, len(b.Lock.Files)+1)
		return nil
	}
	sum, size, err := b.WriteZip(ctx, out)
	if err != nil {
		return err
	}
	if !o.quiet {
		// What fetch says of the files it hashed itself.
		for _, r := range results {
			if r.Unverified {
				fmt.Fprintf(e.stderr, "builder: %s: %s in the cache, verified while packing (sha256:%s, %d bytes)\n", r.ArtifactID, r.File, r.SHA256, r.Size)
			}
		}
	}
	fmt.Fprintf(e.stdout, "bundle %s written to %s (%d files, %d bytes)\n", b.Lock.Bundle, out, len(b.Lock.Files)+1, size)
	fmt.Fprintf(e.stdout, "sha256 %s  %s (also in %s.sha256: publish it beside the zip)\n", sum, out, out)
	return nil
}

// mkdirAll makes dir and its missing parents, and returns the folders it
// made, the deepest first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// removeMade removes the folders mkdirAll made, as long as they are
// empty: a failed build leaves no new folder behind, and never removes
// what it did not make.
func removeMade(made []string) {
	for _, d := range made {
		if os.Remove(d) != nil {
			return
		}
	}
}

// pinnedItself reports whether the artifact's own bytes are pinned (not
// only its extract entries).
func pinnedItself(m *payload.Manifest, id string) bool {
	for _, a := range m.Artifacts {
		if a.ID == id {
			return a.SHA256 != "" || a.SHA1 != ""
		}
	}
	return false
}

// loadManifest reads a manifest, printing every problem when it is invalid.
func loadManifest(e *env, path string) (*payload.Manifest, error) {
	m, err := manifest.Load(path)
	var list manifest.ErrorList
	if errors.As(err, &list) {
		fmt.Fprintln(e.stderr, list.Error())
		fmt.Fprintf(e.stderr, "builder: error: %s is invalid\n", path)
		return nil, &invalidError{fmt.Errorf("%s is invalid", path)}
	}
	return m, err
}
