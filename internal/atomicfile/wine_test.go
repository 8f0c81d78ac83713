//go:build !windows

package atomicfile

import (
	"testing"

	"fixstick/internal/winetest"
)

func TestMain(m *testing.M) { winetest.Main(m) }

// On Linux, the Windows tests of this package run under Wine.
func TestWindowsTestsUnderWine(t *testing.T) {
	w := winetest.Get(t)
	w.NewPrefix(t).RunGoTests(t, w, "fixstick/internal/atomicfile", nil, "TestRenameWaitsForHolder", "TestWriteFile", "TestCleanupKeepsOld")
}
