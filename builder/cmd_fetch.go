package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"fixstick/builder/internal/authenticode"
	"fixstick/builder/internal/fetch"
	"fixstick/builder/internal/progress"
)

// fetchFlags are the flags fetch and pin share.
type fetchFlags struct {
	cache   string
	jobs    int
	offline bool
	quiet   bool
	add     []string
	// trustRoots are PEM files of roots trusted for Authenticode besides
	// the built-in Microsoft ones.
	trustRoots []string
	// deferCachedHash: the caller hashes cached files as it reads them
	// (fetch.Options.DeferCachedHash); build does.
	deferCachedHash bool
}

func (o *fetchFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.cache, "cache", "", "cache `FOLDER` (default: $FIXSTICK_CACHE, else the user cache folder)")
	fs.IntVarP(&o.jobs, "jobs", "j", 4, "fetch `N` files at once")
	fs.BoolVar(&o.offline, "offline", false, "use the cache only; name every artifact missing from it")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar or progress lines")
	fs.StringArrayVar(&o.add, "add", nil, "supply an artifact's file: `ID=PATH` (repeatable)")
	fs.StringArrayVar(&o.trustRoots, "trust-roots", nil, "also trust the Authenticode roots in `FILE.pem` (repeatable)")
}

// fetcher opens the cache with a progress reporter: a bar on a terminal,
// plain lines otherwise, nothing with -q. Call done when the fetch ends.
func (o *fetchFlags) fetcher(e *env) (f *fetch.Fetcher, done func(), err error) {
	if o.jobs < 1 {
		return nil, nil, usagef("--jobs must be at least 1")
	}
	dir := o.cache
	if dir == "" {
		dir = e.getenv(fetch.EnvCache)
	}
	if dir == "" {
		if dir, err = fetch.DefaultCacheDir(); err != nil {
			return nil, nil, err
		}
	}
	verifier, err := o.authenticode()
	if err != nil {
		return nil, nil, err
	}
	opts := fetch.Options{CacheDir: dir, Jobs: o.jobs, Offline: o.offline, DeferCachedHash: o.deferCachedHash,
		Authenticode: func(path, signer string) error {
			_, err := verifier.Verify(path, signer)
			return err
		}}
	done = func() {}
	if !o.quiet {
		r := progress.New(e.stderr, e.stderrIsTerminal, "builder: ")
		opts.Progress, done = r, r.Finish
	}
	f, err = fetch.New(opts)
	return f, done, err
}

// authenticode returns the Authenticode verifier: the built-in Microsoft
// roots and those of --trust-roots.
func (o *fetchFlags) authenticode() (*authenticode.Verifier, error) {
	var extra [][]byte
	for _, p := range o.trustRoots {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--trust-roots: %w", err)
		}
		if _, err := authenticode.ParsePEM(data); err != nil {
			return nil, fmt.Errorf("--trust-roots %s: %w", p, err)
		}
		extra = append(extra, data)
	}
	return authenticode.New(extra...)
}

// parseAdd splits --add ID=PATH values.
func parseAdd(values []string) ([][2]string, error) {
	var out [][2]string
	for _, v := range values {
		id, path, ok := strings.Cut(v, "=")
		if !ok || id == "" || path == "" {
			return nil, usagef("--add %q: want ID=PATH", v)
		}
		out = append(out, [2]string{id, path})
	}
	return out, nil
}

func runFetch(ctx context.Context, e *env, args []string) error {
	var o fetchFlags
	fs := newFlags(e, "fetch")
	o.addFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder fetch [flags] MANIFEST\n\nDownload every pinned artifact into the cache and verify it; a file that fails its pin is deleted.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("fetch needs exactly one manifest file")
	}
	adds, err := parseAdd(o.add)
	if err != nil {
		return err
	}
	m, err := loadManifest(e, fs.Arg(0))
	if err != nil {
		return err
	}
	f, done, err := o.fetcher(e)
	if err != nil {
		return err
	}
	added := map[string]bool{}
	for _, a := range adds {
		r, err := f.Add(m, a[0], a[1])
		if err != nil {
			done()
			return fmt.Errorf("--add %s=%s: %w", a[0], a[1], err)
		}
		added[r.ArtifactID] = true
	}
	results, err := f.Fetch(ctx, m)
	done()
	if err != nil {
		return err
	}
	for _, r := range results {
		switch {
		case r.Skipped != "":
			fmt.Fprintf(e.stdout, "%s\t%s\tskipped: %s\n", r.ArtifactID, r.File, r.Skipped)
		default:
			how := "fetched"
			if added[r.ArtifactID] {
				how = "added"
			} else if r.Cached {
				how = "cached"
			}
			fmt.Fprintf(e.stdout, "%s\t%s\tsha256:%s\t%d\t%s\n", r.ArtifactID, r.File, r.SHA256, r.Size, how)
		}
	}
	return nil
}
