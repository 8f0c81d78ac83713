package signature

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A key made by minisign -G (Debian's minisign 0.11): its id as minisign
// prints it, read from a file with Windows line ends too.
const minisignPub = "untrusted comment: minisign public key 956003A5BB02EC86\nRWSG7AK7pQNglbupi8TIoIBfew0HB+26FX3m0ZV9KjOlwBLLK3saeACh\n"

func TestParsePublicKey(t *testing.T) {
	for _, text := range []string{minisignPub, strings.ReplaceAll(minisignPub, "\n", "\r\n"), "RWSG7AK7pQNglbupi8TIoIBfew0HB+26FX3m0ZV9KjOlwBLLK3saeACh"} {
		k, err := ParsePublicKey([]byte(text))
		if err != nil || KeyID(k.ID()) != "956003A5BB02EC86" {
			t.Errorf("%q: %v %v", text, KeyID(k.ID()), err)
		}
	}
	if _, err := ParsePublicKey([]byte("untrusted comment: x\nnot a key\n")); err == nil {
		t.Error("a broken key was accepted")
	}
}

func TestSignVerify(t *testing.T) {
	pub, sec, id, err := GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	sk, err := ParseSecretKey(sec, "")
	if err != nil || sk.ID() != id {
		t.Fatal(sk.ID(), err)
	}
	pk, _ := ParsePublicKey(pub)
	other, _ := ParsePublicKey([]byte(minisignPub))
	msg := []byte(`{"lock": 1}`)
	sig, err := Sign(sk, bytes.NewReader(msg), "fixstick bundle b-1\tfile:bundle.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Sign(sk, bytes.NewReader(msg), "fixstick bundle b-1\tfile:bundle.lock.json")
	if !bytes.Equal(sig, again) {
		t.Error("two signatures of the same bytes differ: a signed bundle would not be reproducible")
	}
	s, err := Verify([]PublicKey{other, pk}, "bundle.lock.json", msg, sig)
	if err != nil || s.KeyID != id || s.TrustedComment != "fixstick bundle b-1\tfile:bundle.lock.json" {
		t.Fatalf("%+v %v", s, err)
	}
	if s, err := VerifyReader([]PublicKey{pk}, "x.zip", bytes.NewReader(msg), sig); err != nil || s.KeyID != id {
		t.Fatalf("VerifyReader: %v", err)
	}
	for name, c := range map[string]struct {
		keys []PublicKey
		msg  []byte
		sig  []byte
		want string
	}{
		"unsigned":    {[]PublicKey{pk}, msg, nil, "bundle.lock.json: not signed"},
		"other key":   {[]PublicKey{other}, msg, sig, "signed by key ID " + id + ", which is not a trusted key (trusted: 956003A5BB02EC86)"},
		"no key":      {nil, msg, sig, "and no key is trusted"},
		"changed":     {[]PublicKey{pk}, []byte(`{"lock": 2}`), sig, "the signature does not match"},
		"not minisig": {[]PublicKey{pk}, msg, []byte("hello\n"), "not a minisign signature"},
	} {
		_, err := Verify(c.keys, "bundle.lock.json", c.msg, c.sig)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if name == "unsigned" && !errors.Is(err, ErrNotSigned) {
			t.Errorf("unsigned: %v is not ErrNotSigned", err)
		}
	}
	if _, err := Sign(sk, bytes.NewReader(msg), "two\nlines"); err == nil {
		t.Error("a two-line trusted comment was accepted")
	}
}
