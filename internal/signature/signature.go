// Package signature signs and verifies bundles in minisign's format
// (Ed25519 over a BLAKE2b-512 digest, with a signed trusted comment), so
// that the reference minisign tool verifies what the builder signs, and
// the builder and the runner read minisign's keys. Both programs import
// it: the runner only verifies, the builder also signs and makes keys.
//
// Format: https://jedisct1.github.io/minisign/ (signature, public and
// secret key files); library: aead.dev/minisign.
package signature

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"aead.dev/minisign"
)

// Ext is the extension of a signature file: minisign writes FILE.minisig.
const Ext = ".minisig"

// MaxKeySize and MaxSigSize cap what is read: a minisign public key is
// two short lines, a signature four.
const (
	MaxKeySize = 4 << 10
	MaxSigSize = 8 << 10
)

// PublicKey is a minisign public key.
type PublicKey = minisign.PublicKey

// KeyID formats a key id as minisign prints it (16 uppercase hex digits).
func KeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// ParsePublicKey reads a public key in minisign's file format (an
// untrusted comment line, then the base64 key) or the bare base64 line.
func ParsePublicKey(data []byte) (PublicKey, error) {
	var k PublicKey
	text := bytes.TrimSpace(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
	if err := k.UnmarshalText(text); err != nil {
		return k, fmt.Errorf("not a minisign public key: %v", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	return k, nil
}

// ReadPublicKey reads a public key file (see ParsePublicKey).
func ReadPublicKey(path string) (PublicKey, error) {
	data, err := readCapped(path, MaxKeySize)
	if err != nil {
		return PublicKey{}, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return k, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// readCapped reads at most max bytes of path, and fails on a larger file.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a minisign file", path, max)
	}
	return data, nil
}

// Signed is what a good signature says.
type Signed struct {
	KeyID          string // the key that signed, as minisign prints it
	TrustedComment string // signed with the file
}

// ErrNotSigned says that a file has no signature.
var ErrNotSigned = errors.New("not signed")

// Verify checks sig, the contents of name's .minisig file (nil when there
// is none), over message, with the first key whose id the signature
// names. The error says what is wrong in words a person can act on.
func Verify(keys []PublicKey, name string, message, sig []byte) (Signed, error) {
	return verify(keys, name, sig, func(k PublicKey) bool { return minisign.Verify(k, message, sig) })
}

// VerifyReader is Verify over everything r holds: a zip is not read into
// memory. The digest is taken only if the signature names a trusted key.
func VerifyReader(keys []PublicKey, name string, r io.Reader, sig []byte) (Signed, error) {
	return verify(keys, name, sig, func(k PublicKey) bool {
		mr := minisign.NewReader(r)
		if _, err := io.Copy(io.Discard, mr); err != nil {
			return false
		}
		return mr.Verify(k, sig)
	})
}

func verify(keys []PublicKey, name string, sig []byte, check func(PublicKey) bool) (Signed, error) {
	if sig == nil {
		return Signed{}, fmt.Errorf("%s: %w (no %s%s beside it)", name, ErrNotSigned, name, Ext)
	}
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return Signed{}, fmt.Errorf("%s%s: not a minisign signature: %v", name, Ext, strings.TrimPrefix(err.Error(), "minisign: "))
	}
	got := Signed{KeyID: KeyID(s.KeyID), TrustedComment: s.TrustedComment}
	var ids []string
	for _, k := range keys {
		if k.ID() != s.KeyID {
			ids = append(ids, KeyID(k.ID()))
			continue
		}
		if !check(k) {
			return got, fmt.Errorf("%s: the signature does not match: the file or its signature was changed after signing (key ID %s)", name, got.KeyID)
		}
		return got, nil
	}
	if len(ids) == 0 {
		return got, fmt.Errorf("%s: signed by key ID %s, and no key is trusted", name, got.KeyID)
	}
	return got, fmt.Errorf("%s: signed by key ID %s, which is not a trusted key (trusted: %s)", name, got.KeyID, strings.Join(ids, ", "))
}

// SignerKeyID returns the key id a signature names, without checking it:
// for a person to compare with a published one.
func SignerKeyID(sig []byte) (string, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return "", fmt.Errorf("not a minisign signature: %v", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	return KeyID(s.KeyID), nil
}

// SecretKey is a decrypted minisign secret key.
type SecretKey struct{ key minisign.PrivateKey }

// ID is the key id, as minisign prints it.
func (k SecretKey) ID() string { return KeyID(k.key.ID()) }

// IsEncrypted reports whether a secret key file needs a password.
func IsEncrypted(data []byte) bool { return minisign.IsEncrypted(data) }

// ParseSecretKey reads a minisign secret key file, decrypting it with
// password when it is encrypted (minisign -G; minisign -G -W writes one
// that is not).
func ParseSecretKey(data []byte, password string) (SecretKey, error) {
	data = bytes.TrimSpace(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
	if minisign.IsEncrypted(data) {
		k, err := minisign.DecryptKey(password, data)
		if err != nil {
			return SecretKey{}, errors.New("cannot decrypt the secret key: wrong password, or not a minisign secret key")
		}
		return SecretKey{k}, nil
	}
	var k minisign.PrivateKey
	if err := k.UnmarshalText(data); err != nil {
		return SecretKey{}, fmt.Errorf("not a minisign secret key: %v", strings.TrimPrefix(err.Error(), "minisign: "))
	}
	return SecretKey{k}, nil
}

// Sign signs everything r holds, as minisign -S does (a BLAKE2b-512
// digest, signed with Ed25519), with a trusted comment. Ed25519 is
// deterministic: the same key, bytes and comment give the same signature,
// so a signed bundle is still reproducible.
func Sign(k SecretKey, r io.Reader, trustedComment string) ([]byte, error) {
	if strings.ContainsAny(trustedComment, "\r\n") {
		return nil, errors.New("a trusted comment is one line")
	}
	mr := minisign.NewReader(r)
	if _, err := io.Copy(io.Discard, mr); err != nil {
		return nil, err
	}
	return mr.SignWithComments(k.key, trustedComment, "signature from fixstick secret key "+k.ID()), nil
}

// GenerateKey makes a key pair in minisign's file formats; the secret key
// is encrypted with password (scrypt, as minisign -G does) unless
// password is empty.
func GenerateKey(password string) (pub, sec []byte, id string, err error) {
	pk, sk, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	id = KeyID(pk.ID())
	pub = []byte("untrusted comment: minisign public key " + id + "\n" + pk.String() + "\n")
	if password == "" {
		sec, err = sk.MarshalText()
	} else {
		sec, err = minisign.EncryptKey(password, sk)
	}
	if err != nil {
		return nil, nil, "", err
	}
	return pub, append(sec, '\n'), id, nil
}
