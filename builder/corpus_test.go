package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

// TestBuildCorpus builds a bundle from every archive of pack's corpus of
// hostile and malformed archives, as a zip (-o) and as a folder (--dir),
// with the real command: a sound archive (good*, sfx*) gives a bundle;
// every other is refused, with exit status 1, an error naming the archive,
// and no output, folder or temp file left behind.
func TestBuildCorpus(t *testing.T) {
	dir := filepath.Join("internal", "pack", "testdata", "archives")
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("no corpus in %s: %v", dir, err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	tool := sha256.Sum256([]byte("MZ cleanup tool"))
	runners := t.TempDir()
	for _, n := range []string{"runner.exe", "runner-x86.exe", payload.LegacyHelperAMD64, payload.LegacyHelperX86} {
		name := filepath.Join(runners, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("MZ "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, de := range ents {
		name := de.Name()
		t.Run(name, func(t *testing.T) {
			work := t.TempDir()
			m := filepath.Join(work, "m.yaml")
			manifest := strings.NewReplacer("@URL@", srv.URL+"/"+name, "@SHA@", hex.EncodeToString(tool[:])).Replace(corpusManifest)
			if err := os.WriteFile(m, []byte(manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			sound := strings.HasPrefix(name, "good") || strings.HasPrefix(name, "sfx")
			for _, out := range [][]string{{"-o", filepath.Join(work, "out", "b.zip")}, {"--dir", filepath.Join(work, "stick")}} {
				var stdout, stderr bytes.Buffer
				getenv := func(k string) string {
					return map[string]string{"FIXSTICK_CACHE": filepath.Join(work, "cache"), "FIXSTICK_RUNNER_DIR": runners, "SOURCE_DATE_EPOCH": "1700000000"}[k]
				}
				code := run(context.Background(), &env{stdout: &stdout, stderr: &stderr, getenv: getenv}, append([]string{"build", "-q", m}, out...))
				if sound {
					if code != 0 {
						t.Fatalf("%s: exit %d\n%s", out[0], code, &stderr)
					}
					continue
				}
				if code != 1 || !strings.Contains(stderr.String(), "archive tools (tools.zip)") {
					t.Fatalf("%s: exit %d, want 1 and an error naming the archive\n%s", out[0], code, &stderr)
				}
				left, _ := os.ReadDir(work)
				for _, e := range left {
					if e.Name() != "m.yaml" && e.Name() != "cache" {
						t.Errorf("%s: left behind: %s", out[0], e.Name())
					}
				}
				if strings.Contains(stderr.String(), "goroutine") {
					t.Errorf("%s: a stack trace:\n%s", out[0], &stderr)
				}
			}
		})
	}
}

const corpusManifest = `manifest: 1
id: corpus
title: One archive of the corpus
description: |
  A fixture for the builder's corpus test.
artifacts:
  - id: tools
    file: tools.zip
    urls:
      - url: @URL@
        insecure_http: true
    extract:
      - path: bin/tool.exe
        sha256: @SHA@
steps:
  - id: clean
    title: Run the tool
    exe: tools/bin/tool.exe
`
