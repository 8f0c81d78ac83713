//go:build !windows

package winsys

// On Linux, the Windows tests of this package run under Wine: they are
// cross-compiled (go test -c) and started in a fresh prefix.

import (
	"strings"
	"testing"

	"fixstick/internal/winetest"
)

func TestMain(m *testing.M) { winetest.Main(m) }

func TestWindowsTestsUnderWine(t *testing.T) {
	w := winetest.Get(t)
	exe := w.GoTest(t, "fixstick/runner/internal/winsys", "amd64")
	p := w.NewPrefix(t)
	// Windows 10, as the runner's supported systems; Wine runs as admin.
	p.SetWindowsVersion("win10")
	r := p.RunEnv([]string{"WINSYS_WANT_OS=10.0", "WINSYS_WANT_ELEVATED=1"}, p.WinPath(exe), "-test.v")
	t.Logf("windows tests:\n%s%s", r.Stdout, r.Stderr)
	if r.Status != 0 || !strings.Contains(r.Stdout, "\nPASS") {
		t.Fatalf("the Windows tests failed under Wine (status %d)", r.Status)
	}
	for _, name := range []string{"TestRegistryViews", "TestMkdirPrivate", "TestExecVerbatimAndTimeout", "TestOpenSharedLocksOutWriters",
		"TestBootTime", "TestExecWaitsForChildren", "TestExecTimeoutKillsChildren"} {
		if !strings.Contains(r.Stdout, "--- PASS: "+name) {
			t.Errorf("%s did not pass", name)
		}
	}
}
