package main

import (
	"context"
	"errors"
	"fmt"

	"fixstick/builder/internal/manifest"
)

// runValidate checks every manifest given and prints every problem of every
// file, so that one run shows all there is to fix.
func runValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "validate")
	quiet := fs.BoolP("quiet", "q", false, "print nothing for valid manifests")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder validate [flags] FILE...\n\nCheck manifests and report every problem as file:line:col: field: message.\nExit status 0: all valid; 1: a manifest is invalid or unreadable; 2: usage error.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("validate needs at least one manifest file")
	}
	bad := 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := manifest.Load(path)
		var list manifest.ErrorList
		switch {
		case errors.As(err, &list):
			fmt.Fprintln(e.stderr, list.Error())
			fmt.Fprintf(e.stderr, "builder: error: %s: %d %s\n", path, len(list), plural(len(list), "problem", "problems"))
			bad++
		case err != nil:
			fmt.Fprintf(e.stderr, "builder: error: %v\n", err)
			bad++
		case !*quiet:
			fmt.Fprintf(e.stdout, "%s: ok (%s, %d %s, %d %s)\n", path, m.ID,
				len(m.Artifacts), plural(len(m.Artifacts), "artifact", "artifacts"),
				len(m.Steps), plural(len(m.Steps), "step", "steps"))
		}
	}
	if bad > 0 {
		return &invalidError{fmt.Errorf("%d of %d %s invalid", bad, fs.NArg(), plural(fs.NArg(), "manifest", "manifests"))}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
