package main

import (
	"bytes"
	"context"
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
