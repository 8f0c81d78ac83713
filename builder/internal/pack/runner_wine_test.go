package pack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/builder/internal/legacy"
	"fixstick/internal/winetest"
	"fixstick/payload"
)

// The real runner.exe, started through START.cmd, accepts a bundle this
// package writes (the lock's form, the bundle id, the file list, a skipped
// step without a program), and refuses it once a payload changes.
func TestRunnerVerifiesBundleUnderWine(t *testing.T) {
	w := winetest.Get(t)
	p := w.NewPrefix(t)
	runner, err := os.ReadFile(w.GoBuild(t, "fixstick/runner", "amd64", "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	o := fixture(t)
	// the legacy path is not started here: stand-ins for its helpers
	o.Runners = []File{{Path: payload.RunnerAMD64, Data: runner}, {Path: payload.RunnerX86, Data: runner},
		{Path: payload.LegacyHelperAMD64, Data: []byte("MZ helper")}, {Path: payload.LegacyHelperX86, Data: []byte("MZ helper")}}
	o.Legacy = legacy.Render
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := p.C("bundle")
	if err := b.WriteDir(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	p.SetWindowsVersion("win10")
	verify := func() winetest.Result {
		t.Helper()
		os.WriteFile(p.C("go.cmd"), crlf("@echo off\ncall C:\\bundle\\START.cmd verify\n"), 0o644)
		return p.RunEnv([]string{"FIXSTICK_NOPAUSE=1"}, "cmd", "/c", `C:\go.cmd`)
	}
	if r := verify(); !strings.Contains(r.Stdout+r.Stderr, b.Lock.Bundle+": all") {
		t.Fatalf("runner verify of a fresh bundle:\n%s\n%s", r.Stdout, r.Stderr)
	}
	os.WriteFile(filepath.Join(dir, "payloads", "setup", "setup.exe"), []byte("MZ pretend installes\x00\x01\x02"), 0o644)
	r := verify()
	if !strings.Contains(r.Stdout+r.Stderr, "payloads/setup/setup.exe") || strings.Contains(r.Stdout+r.Stderr, ": all") {
		t.Fatalf("runner verify of a changed payload:\n%s\n%s", r.Stdout, r.Stderr)
	}
}
