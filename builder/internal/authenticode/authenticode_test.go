package authenticode

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/builder/internal/authenticode/signtest"
)

// TestBuiltinRootThumbprints pins the built-in roots to the thumbprints
// Microsoft publishes (see the comment on builtinRoots): a PEM changed by
// one bit fails here.
func TestBuiltinRootThumbprints(t *testing.T) {
	want := map[string][2]string{
		"Microsoft Root Authority":                  {"A43489159A520F0D93D032CCAF37E7FE20A8B419", "F38406E540D7A9D90CB4A9479299640FFB6DF9E224ECC7A01C0D9558D8DAD77D"},
		"Microsoft Root Certificate Authority":      {"CDD4EEAE6000AC7F40C3802C171E30148030C072", "885DE64C340E3EA70658F01E1145F957FCDA27AABEEA1AB9FAA9FDB0102D4077"},
		"Microsoft Root Certificate Authority 2010": {"3B1EFD3A66EA28B16697394703A72CA340A05BD5", "DF545BF919A2439C36983B54CDFC903DFA4F37D3996D8D84B4C31EEC6F3C163E"},
		"Microsoft Root Certificate Authority 2011": {"8F43288AD272F3103B6FB1428485EA3014C0BCFE", "847DF6A78497943F27FC72EB93F9A637320A02B561D0A91B09E87A7807ED7C61"},
	}
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Roots()) != len(want) {
		t.Fatalf("%d built-in roots, want %d", len(v.Roots()), len(want))
	}
	for _, c := range v.Roots() {
		w, ok := want[c.Subject.CommonName]
		s1, s256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
		if !ok || strings.ToUpper(hex.EncodeToString(s1[:])) != w[0] || strings.ToUpper(hex.EncodeToString(s256[:])) != w[1] {
			t.Errorf("root %q: SHA-1 %X SHA-256 %X, want %v", c.Subject.CommonName, s1, s256, w)
		}
	}
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// flip changes the first occurrence of old in the file to new, which must
// be as long.
func flip(t *testing.T, name string, old, new []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, old)
	if i < 0 {
		t.Fatalf("%q not found in %s", old, name)
	}
	copy(data[i:], new)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerify: a PE, an MSI and a CAB signed by osslsigncode with a test CA given
// as a trusted root; the same signed by the right name under an untrusted
// root; a wrong signer; unsigned; a byte changed after signing.
func TestVerify(t *testing.T) {
	signtest.Require(t, "osslsigncode", "wixl", "msiinfo")
	dir := t.TempDir()
	ca := signtest.NewCA(t, "Fixstick Test Root")
	rogue := signtest.NewCA(t, "Rogue Root")
	good := ca.Issue(t, dir, "Fixture Corporation")
	impostor := rogue.Issue(t, dir, "Fixture Corporation ")
	v, err := New(ca.PEM)
	if err != nil {
		t.Fatal(err)
	}
	msi := signtest.MSI(t, dir)
	fixtures := map[string]struct {
		path     string
		old, new []byte // a change inside the signed content
	}{
		"pe":  {signtest.PE(t, dir), []byte("MZ fixture installer"), []byte("MZ fixture installes")},
		"msi": {msi, []byte("Fixstick Fixture Product"), []byte("Fixstick Fixture ProducT")},
		// The cabinet's one file entry is named fixture.txt (wixl names it
		// by its File Id, FixtureTxt).
		"cab": {signtest.CAB(t, dir, msi), []byte("FixtureTxt"), []byte("FixtureTxT")},
	}
	for name, fx := range fixtures {
		t.Run(name, func(t *testing.T) {
			ext := filepath.Ext(fx.path)
			signed := filepath.Join(dir, name+"-signed"+ext)
			good.Sign(t, fx.path, signed)
			s, err := v.Verify(signed, "Fixture Corporation")
			if err != nil || s.Subject != "Fixture Corporation" || s.Root != "Fixstick Test Root" {
				t.Fatalf("a correct signature: %+v %v", s, err)
			}

			_, err = v.Verify(signed, "Microsoft Corporation")
			if kindOf(err) != WrongSigner || err.Error() != "signed by Fixture Corporation, not Microsoft Corporation" {
				t.Errorf("wrong signer: %v", err)
			}

			_, err = v.Verify(fx.path, "Fixture Corporation")
			if kindOf(err) != NotSigned || err.Error() != "not signed" {
				t.Errorf("unsigned: %v", err)
			}

			changed := filepath.Join(dir, name+"-changed"+ext)
			copyFile(t, signed, changed)
			flip(t, changed, fx.old, fx.new)
			_, err = v.Verify(changed, "Fixture Corporation")
			if kindOf(err) != DigestMismatch || err.Error() != "digest mismatch: the file was changed after signing" {
				t.Errorf("a byte changed after signing: %v", err)
			}

			rogueSigned := filepath.Join(dir, name+"-rogue"+ext)
			impostor.Sign(t, fx.path, rogueSigned)
			_, err = v.Verify(rogueSigned, "Fixture Corporation ")
			if kindOf(err) != Untrusted || !strings.Contains(err.Error(), "does not chain to a trusted root") || !strings.Contains(err.Error(), "Rogue Root") {
				t.Errorf("an untrusted root: %v", err)
			}
			// Without --trust-roots, the test CA is not trusted either.
			builtin, _ := New()
			if _, err := builtin.Verify(signed, "Fixture Corporation"); kindOf(err) != Untrusted {
				t.Errorf("only the built-in roots: %v", err)
			}
		})
	}

	other := filepath.Join(dir, "notes.zip")
	os.WriteFile(other, []byte("PK\x03\x04 not a signable file"), 0o644)
	if _, err := v.Verify(other, "Fixture Corporation"); kindOf(err) != NotSignable {
		t.Errorf("a zip: %v", err)
	}
}
