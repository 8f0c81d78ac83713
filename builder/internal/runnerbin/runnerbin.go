// Package runnerbin finds the runner programs (runner.exe for windows/amd64,
// runner-x86.exe for windows/386) and the legacy executor's native helpers
// (legacy/fixhelp.exe and legacy/fixhelp-x86.exe, from make helper) that go
// into every bundle.
//
// The released builder (make build) carries them inside, built with the
// tag embedrunner from bin/, where the Makefile copies them. A builder
// built without the tag (go build, go test) looks, in order, in the folder
// given with --runner-dir, in $FIXSTICK_RUNNER_DIR, beside the builder
// executable, and in dist/ at the module root (where make runner puts
// them; only in this module, whose path is fixstick, as another project's
// dist/ holds other programs). An explicit folder always wins over the
// embedded programs, so a runner can be tried without rebuilding the
// builder.
package runnerbin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fixstick/builder/internal/pack"
	"fixstick/payload"
)

// EnvDir names the environment variable that gives the runners' folder.
const EnvDir = "FIXSTICK_RUNNER_DIR"

// Names are the runner programs' paths, in the folder and the bundle.
var Names = []string{payload.RunnerAMD64, payload.RunnerX86, payload.LegacyHelperAMD64, payload.LegacyHelperX86}

// Load returns the runner programs, and the folder they were read from
// ("" for the ones built into the builder: a bundle's bytes, and so its
// zip's SHA-256, depend on which). dir is --runner-dir ("" when not given);
// getenv reads the environment.
func Load(dir string, getenv func(string) string) (_ []pack.File, from string, _ error) {
	if dir != "" {
		fs, err := fromDir(dir)
		return fs, dir, err
	}
	if d := getenv(EnvDir); d != "" {
		fs, err := fromDir(d)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvDir, err)
		}
		return fs, d, nil
	}
	if fs := embedded(); fs != nil {
		return fs, "", nil
	}
	var tried []string
	for _, d := range searchDirs() {
		if fs, err := fromDir(d); err == nil {
			return fs, d, nil
		}
		tried = append(tried, d)
	}
	return nil, "", fmt.Errorf("runner programs not found (looked in %s): run make runner, or give --runner-dir DIR", strings.Join(tried, ", "))
}

func fromDir(dir string) ([]pack.File, error) {
	var fs []pack.File
	for _, n := range Names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("no %s in %s: run make runner", filepath.FromSlash(n), dir)
			}
			return nil, err
		}
		if len(b) < 2 || string(b[:2]) != "MZ" {
			return nil, fmt.Errorf("%s is not a Windows program", filepath.Join(dir, filepath.FromSlash(n)))
		}
		fs = append(fs, pack.File{Path: n, Data: b})
	}
	return fs, nil
}

// searchDirs are the folders a development builder looks in: beside its
// executable (dist/builder with dist/runner.exe), then dist/ at the root
// of the module the working directory is in.
func searchDirs() []string {
	var ds []string
	if exe, err := os.Executable(); err == nil {
		ds = append(ds, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		if d := moduleDist(wd); d != "" {
			ds = append(ds, d)
		}
	}
	return ds
}

// Module is the module path of this project.
const Module = "fixstick"

// moduleDist returns dist/ at the root of the module that holds dir, if
// that module is this project; "" otherwise. The nearest go.mod decides:
// a runner.exe in another project's dist/ is not ours.
func moduleDist(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if modulePath(b) == Module {
				return filepath.Join(d, "dist")
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// modulePath returns the path of a go.mod's module directive.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line, _, _ = strings.Cut(line, "//")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`+"`")
		}
	}
	return ""
}
