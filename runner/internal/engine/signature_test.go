package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/internal/signature"
	"fixstick/payload"
)

// testKey makes a key pair (no password) and returns its secret half and
// its public key.
func testKey(t *testing.T) (signature.SecretKey, signature.PublicKey) {
	t.Helper()
	pub, sec, _, err := signature.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	sk, err := signature.ParseSecretKey(sec, "")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := signature.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sk, pk
}

// signBundle writes dir's lock signature, made with k.
func signBundle(t *testing.T, dir string, k signature.SecretKey) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, payload.LockName))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signature.Sign(k, bytes.NewReader(lock), "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, payload.LockSigName), sig, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSignature: with a trusted key, a bundle is opened only when its
// lock is signed by that key and unchanged; nothing is run otherwise. The
// signature file is not an extra file, and goes into the private copy.
func TestOpenSignature(t *testing.T) {
	good, goodPub := testKey(t)
	other, _ := testKey(t)
	cases := []struct {
		name    string
		prepare func(dir string)
		want    string // "" opens
	}{
		{"signed", func(dir string) { signBundle(t, dir, good) }, ""},
		{"unsigned", func(string) {}, "bundle.lock.json: not signed"},
		{"other key", func(dir string) { signBundle(t, dir, other) }, "which is not a trusted key"},
		{"lock changed after signing", func(dir string) {
			signBundle(t, dir, good)
			name := filepath.Join(dir, payload.LockName)
			data, _ := os.ReadFile(name)
			os.WriteFile(name, bytes.Replace(data, []byte(`"Test bundle"`), []byte(`"Test bundlE"`), 1), 0o644)
		}, "the signature does not match"},
		{"signature changed", func(dir string) {
			signBundle(t, dir, good)
			name := filepath.Join(dir, payload.LockSigName)
			data, _ := os.ReadFile(name)
			lines := strings.Split(string(data), "\n")
			c := byte('A')
			if lines[1][30] == 'A' {
				c = 'B'
			}
			lines[1] = lines[1][:30] + string(c) + lines[1][31:]
			os.WriteFile(name, []byte(strings.Join(lines, "\n")), 0o644)
		}, "the signature does not match"},
		{"not a signature", func(dir string) {
			os.WriteFile(filepath.Join(dir, payload.LockSigName), []byte("hello\n"), 0o644)
		}, "not a minisign signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := oneStepBundle(t)
			c.prepare(dir)
			sys := newFakeSys(t)
			e, _, _ := newEngine(t, sys)
			e.Keys, e.KeySource = []signature.PublicKey{goodPub}, "test key"
			b, err := e.Open(dir)
			if c.want != "" {
				var se *SignatureError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "test key") {
					t.Fatalf("Open: %v, want a SignatureError saying %q", err, c.want)
				}
				if b != nil {
					t.Fatal("Open returned a bundle to run")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !b.SignerTrusted || b.Signer != signature.KeyID(goodPub.ID()) || len(b.Extras) != 0 {
				t.Fatalf("signer %q trusted %v extras %v", b.Signer, b.SignerTrusted, b.Extras)
			}
			if _, err := e.Run(context.Background(), b, RunOptions{}); err != nil {
				t.Fatal(err)
			}
			p, _ := e.PathsFor(b.Lock.Bundle)
			// The private copy is signed too: a resume after a restart
			// opens it with the same keys.
			if _, err := e.Open(p.Bundle); err != nil {
				t.Fatalf("the private copy does not open with the key: %v", err)
			}
		})
	}
}

// TestOpenSignatureWithoutKeys: with no trusted key the signature is not
// checked, but its key id is shown.
func TestOpenSignatureWithoutKeys(t *testing.T) {
	good, goodPub := testKey(t)
	dir := oneStepBundle(t)
	signBundle(t, dir, good)
	e, _, _ := newEngine(t, newFakeSys(t))
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.SignerTrusted || b.Signer != signature.KeyID(goodPub.ID()) {
		t.Fatalf("signer %q trusted %v", b.Signer, b.SignerTrusted)
	}
}
