package winetest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildMu sync.Mutex
	builds  = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	exe  string
	err  error
}

// GoBuild builds the main package pkg (an import path, "fixstick/runner")
// for windows/goarch once per test binary and returns the program's host
// path. ldflags are passed to -ldflags.
func (w *Wine) GoBuild(t testing.TB, pkg, goarch, ldflags string) string {
	t.Helper()
	key := pkg + "|" + goarch + "|" + ldflags
	buildMu.Lock()
	b := builds[key]
	if b == nil {
		b = &buildResult{}
		builds[key] = b
	}
	buildMu.Unlock()
	b.once.Do(func() {
		dir := filepath.Join(w.root, "bin", fmt.Sprintf("%d", len(builds)), goarch)
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		b.exe = filepath.Join(dir, path.Base(pkg)+".exe")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", b.exe, pkg)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH="+goarch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s for windows/%s: %v\n%s", pkg, goarch, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.exe
}
