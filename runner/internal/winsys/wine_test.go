//go:build !windows

package winsys

// On Linux, the Windows tests of this package run under Wine: they are
// cross-compiled (go test -c) and started in a fresh prefix.

import (
	"testing"

	"fixstick/internal/winetest"
)

func TestMain(m *testing.M) { winetest.Main(m) }

func TestWindowsTestsUnderWine(t *testing.T) {
	w := winetest.Get(t)
	p := w.NewPrefix(t)
	// Windows 10, as the runner's supported systems; Wine runs as admin.
	p.SetWindowsVersion("win10")
	p.RunGoTests(t, w, "fixstick/runner/internal/winsys", []string{"WINSYS_WANT_OS=10.0", "WINSYS_WANT_ELEVATED=1"},
		"TestRegistryViews", "TestMkdirPrivate", "TestExecVerbatimAndTimeout", "TestOpenSharedLocksOutWriters",
		"TestBootTime", "TestExecWaitsForChildren", "TestExecTimeoutKillsChildren")
}
