package winetest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildMu sync.Mutex
	builds  = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	n    int // its folder's number
	exe  string
	err  error
}

// GoTest compiles the tests of package pkg for windows/goarch (go test -c)
// once per test binary and returns the test program's host path: run it
// under Wine with -test.v and read its output, since Wine keeps only 8
// bits of the exit status (0 still means PASS).
func (w *Wine) GoTest(t testing.TB, pkg, goarch string) string {
	t.Helper()
	return w.goBuild(t, "test", pkg, goarch, "")
}

// RunGoTests runs the Windows tests of package pkg (see GoTest) in p with
// extra environment entries, and fails t unless they pass, each test named
// in mustPass among them (a test that skipped would pass unseen).
func (p *Prefix) RunGoTests(t testing.TB, w *Wine, pkg string, extra []string, mustPass ...string) {
	t.Helper()
	exe := w.GoTest(t, pkg, "amd64")
	r := p.RunEnv(extra, p.WinPath(exe), "-test.v")
	t.Logf("windows tests:\n%s%s", r.Stdout, r.Stderr)
	if r.Status != 0 || !strings.Contains(r.Stdout, "\nPASS") {
		t.Fatalf("the Windows tests of %s failed under Wine (status %d)", pkg, r.Status)
	}
	for _, name := range mustPass {
		if !strings.Contains(r.Stdout, "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass", name)
		}
	}
}

// GoBuild builds the main package pkg (an import path, "fixstick/runner")
// for windows/goarch once per test binary and returns the program's host
// path. ldflags are passed to -ldflags.
func (w *Wine) GoBuild(t testing.TB, pkg, goarch, ldflags string) string {
	t.Helper()
	return w.goBuild(t, "build", pkg, goarch, ldflags)
}

func (w *Wine) goBuild(t testing.TB, mode, pkg, goarch, ldflags string) string {
	t.Helper()
	key := mode + "|" + pkg + "|" + goarch + "|" + ldflags
	buildMu.Lock()
	b := builds[key]
	if b == nil {
		b = &buildResult{n: len(builds)}
		builds[key] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		dir := filepath.Join(w.root, "bin", fmt.Sprintf("%d", b.n), goarch)
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		b.exe = filepath.Join(dir, path.Base(pkg)+".exe")
		args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", b.exe, pkg}
		if mode == "test" {
			b.exe = filepath.Join(dir, path.Base(pkg)+".test.exe")
			args = []string{"test", "-c", "-o", b.exe, pkg}
		}
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH="+goarch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go %s %s for windows/%s: %v\n%s", mode, pkg, goarch, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.exe
}
