package winetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The end-to-end tests of runner.exe and of the legacy executor both make
// real bundles: the real builder, a manifest whose payloads an httptest
// server serves, and a real MSI made by wixl.

// RequireWixl skips t when wixl is missing, or fails it when
// FIXSTICK_REQUIRE_WINE=1.
func RequireWixl(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("wixl"); err != nil && os.Getenv(RequireEnv) != "1" {
		t.Skipf("wixl is not installed (apt install wixl; set %s=1 to make this a failure)", RequireEnv)
	}
}

// BuildBuilder builds the builder (fixstick/builder) for this machine into
// the test binary's scratch folder and returns its path.
func (w *Wine) BuildBuilder() (string, error) {
	exe := filepath.Join(w.Scratch("builder"), "builder")
	if out, err := exec.Command("go", "build", "-o", exe, "fixstick/builder").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the builder: %v\n%s", err, out)
	}
	return exe, nil
}

// BuildMSI makes the test MSI from the WiX source wxs (which installs a
// fixture.txt) with wixl and returns the package.
func (w *Wine) BuildMSI(wxs string) ([]byte, error) {
	src, err := os.ReadFile(wxs)
	if err != nil {
		return nil, err
	}
	wx := w.Scratch("wixl")
	if err := os.WriteFile(filepath.Join(wx, "fixture.wxs"), src, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(wx, "fixture.txt"), []byte("installed by the fixstick test MSI\n"), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("wixl", "-o", "fixture.msi", "fixture.wxs")
	cmd.Dir = wx
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wixl (apt install wixl): %v\n%s", err, out)
	}
	return os.ReadFile(filepath.Join(wx, "fixture.msi"))
}

// Artifact is a payload the test server serves, as File.
type Artifact struct {
	ID, File string
	Data     []byte
}

// Bundle says how BuildBundle runs the builder.
type Bundle struct {
	Builder   string // the builder, from BuildBuilder
	RunnerDir string // holds runner.exe and runner-x86.exe for --runner-dir
	ID, Title string // the manifest's id and title
	Sign      string // a minisign secret key without a password: builder build --sign
	Top       string // more top-level YAML (requires, goal), or ""
}

// Build writes a manifest for arts and steps (the YAML of the steps list),
// serves the payloads over HTTP, and runs `builder build --dir` with
// SOURCE_DATE_EPOCH set; it returns the bundle folder.
func (b Bundle) Build(t testing.TB, arts []Artifact, steps string) string {
	t.Helper()
	srvDir := t.TempDir()
	srv := httptest.NewServer(http.FileServer(http.Dir(srvDir)))
	defer srv.Close()
	var m strings.Builder
	fmt.Fprintf(&m, "manifest: 1\nid: %s\ntitle: %s\ncreated: 2026-01-01T00:00:00Z\n", b.ID, b.Title)
	if b.Top != "" {
		m.WriteString(strings.TrimSpace(b.Top) + "\n")
	}
	m.WriteString("artifacts:\n")
	for _, a := range arts {
		if err := os.WriteFile(filepath.Join(srvDir, a.File), a.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(a.Data)
		fmt.Fprintf(&m, "  - id: %s\n    file: %s\n    sha256: %s\n    urls:\n      - url: %s/%s\n        insecure_http: true\n",
			a.ID, a.File, hex.EncodeToString(sum[:]), srv.URL, a.File)
	}
	m.WriteString("steps:\n" + steps)
	work := t.TempDir()
	manifest := filepath.Join(work, b.ID+".yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(work, "stick")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"build", manifest, "--dir", bundle, "--runner-dir", b.RunnerDir, "--cache", filepath.Join(work, "cache")}
	if b.Sign != "" {
		args = append(args, "--sign", b.Sign)
	}
	cmd := exec.CommandContext(ctx, b.Builder, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("builder build: %v\n%s\nmanifest:\n%s", err, out, m.String())
	}
	return bundle
}
