package main

import (
	"context"
	"fmt"

	"fixstick/builder/internal/pack"
)

// runVerify checks a bundle, zip or folder, against its lock and prints
// every difference. Exit status 0 only when the bundle is exact.
func runVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder verify BUNDLE\n\nCheck a bundle (zip or folder) against its bundle.lock.json: every file's size and\nSHA-256, no file the lock does not list (reports/ aside), the lock unedited;\na zip also against ZIP.sha256 when that file is beside it.\nExit status 0: exact; 1: something differs.\n")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify needs exactly one bundle (zip or folder)")
	}
	path := fs.Arg(0)
	r, err := pack.Verify(path)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", path, err)
	}
	if !r.OK() {
		for _, p := range r.Problems {
			fmt.Fprintf(e.stderr, "%s: %s\n", path, p)
		}
		what := "differences"
		if len(r.Problems) == 1 {
			what = "difference"
		}
		fmt.Fprintf(e.stderr, "builder: error: %s does not match its lock (%d %s)\n", path, len(r.Problems), what)
		return &invalidError{fmt.Errorf("%s does not match its lock", path)}
	}
	fmt.Fprintf(e.stdout, "%s: ok: bundle %s, %d files match the lock\n", path, r.Lock.Bundle, r.Files+1)
	return nil
}
