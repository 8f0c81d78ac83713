package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real builder: each script's `builder`
// command is this test binary re-executed as main().
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"builder": main,
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets a local HTTP
// server that serves its $WORK/srv folder at $SRV, a private cache in
// $WORK/cache (FIXSTICK_CACHE), and SOURCE_DATE_EPOCH fixed.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: false,
		Setup: func(e *testscript.Env) error {
			srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(e.WorkDir, "srv"))))
			e.Defer(srv.Close)
			e.Setenv("SRV", srv.URL)
			e.Setenv("FIXSTICK_CACHE", filepath.Join(e.WorkDir, "cache"))
			e.Setenv("SOURCE_DATE_EPOCH", "1700000000")
			return nil
		},
		Condition: toolCondition,
	})
}

// toolCondition is [minisign] (and [osslsigncode]): the tool is installed.
// Scripts skip without it, except where FIXSTICK_REQUIRE_TOOLS=1 (CI,
// which installs them): there a missing tool fails the test.
func toolCondition(cond string) (bool, error) {
	switch cond {
	case "minisign", "osslsigncode":
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := exec.LookPath(cond); err == nil {
		return true, nil
	}
	if os.Getenv("FIXSTICK_REQUIRE_TOOLS") == "1" {
		return false, fmt.Errorf("%s is not installed, and FIXSTICK_REQUIRE_TOOLS=1 requires it (apt-get install %s)", cond, cond)
	}
	return false, nil
}
