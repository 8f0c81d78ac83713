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

	"fixstick/builder/internal/authenticode/signtest"
)

// TestPinAddAuthenticode: pin --add refuses a file whose Authenticode
// signature fails the manifest's signer, naming what is wrong, and keeps
// nothing of it (no pin written, nothing cached); a well-signed file is
// pinned. The test CA is trusted through --trust-roots.
func TestPinAddAuthenticode(t *testing.T) {
	signtest.Require(t, "osslsigncode")
	dir := t.TempDir()
	ca := signtest.NewCA(t, "Fixstick Test Root")
	caPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPEM, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	unsigned := signtest.PE(t, dir)
	signed := filepath.Join(dir, "signed.exe")
	ca.Issue(t, dir, "Fixture Corporation").Sign(t, unsigned, signed)
	changed := filepath.Join(dir, "changed.exe")
	data, _ := os.ReadFile(signed)
	data = bytes.Replace(data, []byte("MZ fixture installer"), []byte("MZ fixture installes"), 1)
	os.WriteFile(changed, data, 0o644)

	manifest := func(signer string) string {
		m := filepath.Join(t.TempDir(), "m.yaml")
		os.WriteFile(m, []byte(`manifest: 1
id: fixture
title: Fixture
artifacts:
  - id: fix
    file: fix.exe
    signer: `+signer+`
    urls: []
    optional: true
steps:
  - id: fix
    exe: fix
`), 0o644)
		return m
	}
	pin := func(m, file string) (int, string) {
		var out, errb bytes.Buffer
		cache := filepath.Join(dir, "cache")
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := run(context.Background(), e, []string{"pin", "-q", "--cache", cache, "--trust-roots", caPEM, "--add", "fix=" + file, m})
		return code, errb.String()
	}
	for _, c := range []struct {
		name, signer, file, want string
	}{
		{"wrong signer", "Microsoft Corporation", signed, "fix (fix.exe): refused: signed by Fixture Corporation, not Microsoft Corporation"},
		{"unsigned", "Fixture Corporation", unsigned, "fix (fix.exe): refused: not signed"},
		{"changed after signing", "Fixture Corporation", changed, "fix (fix.exe): refused: digest mismatch: the file was changed after signing"},
	} {
		m := manifest(c.signer)
		before, _ := os.ReadFile(m)
		code, stderr := pin(m, c.file)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %q", c.name, code, stderr, c.want)
		}
		if after, _ := os.ReadFile(m); !bytes.Equal(before, after) {
			t.Errorf("%s: the manifest was changed:\n%s", c.name, after)
		}
		if blobs, _ := filepath.Glob(filepath.Join(dir, "cache", "sha256", "*", "*")); len(blobs) != 0 {
			t.Errorf("%s: cached %v", c.name, blobs)
		}
	}
	m := manifest("Fixture Corporation")
	if code, stderr := pin(m, signed); code != 0 {
		t.Fatalf("a good signature: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(m); !strings.Contains(string(after), "sha256: ") {
		t.Errorf("not pinned:\n%s", after)
	}
}

// TestFetchAuthenticode: a download whose signature fails is not cached,
// and fetch says why; the same file well signed is.
func TestFetchAuthenticode(t *testing.T) {
	signtest.Require(t, "osslsigncode")
	dir := t.TempDir()
	ca := signtest.NewCA(t, "Fixstick Test Root")
	caPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(caPEM, ca.PEM, 0o644)
	srv := filepath.Join(dir, "srv")
	os.Mkdir(srv, 0o755)
	unsigned := signtest.PE(t, dir)
	ca.Issue(t, dir, "Fixture Corporation").Sign(t, unsigned, filepath.Join(srv, "signed.exe"))
	data, _ := os.ReadFile(unsigned)
	os.WriteFile(filepath.Join(srv, "unsigned.exe"), data, 0o644)
	hs := httptest.NewServer(http.FileServer(http.Dir(srv)))
	defer hs.Close()

	fetch := func(name string) (int, string) {
		data, err := os.ReadFile(filepath.Join(srv, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		m := filepath.Join(t.TempDir(), "m.yaml")
		os.WriteFile(m, []byte(`manifest: 1
id: fixture
title: Fixture
artifacts:
  - id: setup
    file: setup.exe
    sha256: `+hex.EncodeToString(sum[:])+`
    signer: Fixture Corporation
    urls:
      - url: `+hs.URL+"/"+name+`
        insecure_http: true
steps:
  - id: setup
    exe: setup
`), 0o644)
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := run(context.Background(), e, []string{"fetch", "-q", "--cache", filepath.Join(dir, "cache"), "--trust-roots", caPEM, m})
		return code, errb.String()
	}
	code, stderr := fetch("unsigned.exe")
	if code != 1 || !strings.Contains(stderr, "setup (setup.exe): refused: not signed") {
		t.Errorf("unsigned download: exit %d\n%s", code, stderr)
	}
	if blobs, _ := filepath.Glob(filepath.Join(dir, "cache", "sha256", "*", "*")); len(blobs) != 0 {
		t.Errorf("cached %v", blobs)
	}
	if code, stderr := fetch("signed.exe"); code != 0 {
		t.Errorf("signed download: exit %d\n%s", code, stderr)
	}
	if blobs, _ := filepath.Glob(filepath.Join(dir, "cache", "sha256", "*", "*")); len(blobs) != 1 {
		t.Errorf("cached %v", blobs)
	}
}
