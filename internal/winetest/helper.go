package winetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"fixstick/payload"
)

var helperBuild struct {
	once sync.Once
	dir  string
	err  error
}

// BuildHelpers builds the legacy executor's native helpers (make -C
// runner/legacy/helper, with the mingw-w64 compilers) once per test
// binary, and returns the folder that holds them as a bundle does:
// legacy/fixhelp.exe and legacy/fixhelp-x86.exe. It needs no Wine.
func BuildHelpers() (string, error) {
	h := &helperBuild
	h.once.Do(func() {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "fixstick/runner/legacy").Output()
		if err != nil {
			h.err = fmt.Errorf("finding runner/legacy: %v", err)
			return
		}
		if h.dir, h.err = os.MkdirTemp("", "fixhelp-"); h.err != nil {
			return
		}
		legacy := filepath.Join(h.dir, payload.LegacyDir)
		if h.err = os.MkdirAll(legacy, 0o755); h.err != nil {
			return
		}
		src := filepath.Join(strings.TrimSpace(string(out)), "helper")
		if msg, err := exec.Command("make", "-s", "-j2", "-C", src, "OUT="+legacy).CombinedOutput(); err != nil {
			h.err = fmt.Errorf("building the legacy helper (apt install gcc-mingw-w64-x86-64-win32 gcc-mingw-w64-i686-win32): %v\n%s", err, msg)
		}
	})
	return h.dir, h.err
}

// AddHelpers puts the legacy helpers (BuildHelpers) into a runner folder
// given to the builder with --runner-dir, as legacy/fixhelp*.exe.
func AddHelpers(runnerDir string) error {
	dir, err := BuildHelpers()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(runnerDir, payload.LegacyDir), 0o755); err != nil {
		return err
	}
	for _, n := range []string{payload.LegacyHelperAMD64, payload.LegacyHelperX86} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err == nil {
			err = os.WriteFile(filepath.Join(runnerDir, filepath.FromSlash(n)), data, 0o755)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
