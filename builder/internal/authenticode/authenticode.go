// Package authenticode checks the Authenticode signature of a Windows file
// (PE: exe, dll; MSI and MSP; CAB and MSU) before the builder takes it in:
// the signed digest matches the file, the signer's certificate chains to
// a trusted root, and the signer's subject common name is the one the
// manifest names.
//
// Expiry is ignored on purpose: the manifest's pin fixes the bytes in
// time, and the XP-era files this tool exists for were signed by
// certificates (and roots) that expired long ago. For the same reason
// SHA-1 certificate signatures are accepted (Go's x509.Verify refuses
// them; the chain is built here with Certificate.CheckSignature, which
// allows them); MD5 ones are not.
//
// Parsing and digests are relic's (github.com/sassoftware/relic/v8,
// lib/authenticode), which covers PE, MSI and CAB; chains and names are
// checked here.
package authenticode

import (
	"bytes"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/sassoftware/relic/v8/lib/authenticode"
	"github.com/sassoftware/relic/v8/lib/pkcs9"
	"github.com/sassoftware/relic/v8/signers/sigerrors"
)

// The built-in roots: Microsoft's code-signing roots, which every
// Microsoft download of the XP era and later chains to.
//
// Source: public repositories that vendor them as PEM (found by serial
// number: Microsoft Root Authority from jasoth/Utility.PS's
// Get-X509Certificate example; the three "Microsoft Root Certificate
// Authority" roots from a Go installer of the Visual Studio Build Tools
// and a Microsoft Store downloader script). They are trusted for their
// thumbprints, which TestBuiltinRootThumbprints checks against the ones
// Microsoft publishes (Microsoft PKI repository,
// https://www.microsoft.com/pkiops/docs/repository.htm, and the Trusted
// Root Program's participant list):
//
//	Microsoft Root Authority (1997)                 SHA-1 A43489159A520F0D93D032CCAF37E7FE20A8B419
//	Microsoft Root Certificate Authority (2001)     SHA-1 CDD4EEAE6000AC7F40C3802C171E30148030C072
//	Microsoft Root Certificate Authority 2010       SHA-1 3B1EFD3A66EA28B16697394703A72CA340A05BD5
//	Microsoft Root Certificate Authority 2011       SHA-1 8F43288AD272F3103B6FB1428485EA3014C0BCFE
//
//go:embed roots/*.pem
var builtinRoots embed.FS

// Kind classifies a refusal.
type Kind string

const (
	NotSigned      Kind = "not signed"
	DigestMismatch Kind = "digest mismatch"
	BadSignature   Kind = "bad signature"
	Untrusted      Kind = "untrusted"
	WrongSigner    Kind = "wrong signer"
	NotSignable    Kind = "not signable"
)

// Error is a file that failed the check.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Signer is what a good signature says.
type Signer struct {
	Subject string // the leaf's subject common name
	Root    string // the trusted root's common name
}

// Verifier checks files against a set of trusted roots.
type Verifier struct {
	roots []*x509.Certificate
}

// New returns a Verifier trusting the built-in Microsoft roots and the
// certificates in extraPEM (--trust-roots files).
func New(extraPEM ...[]byte) (*Verifier, error) {
	v := &Verifier{}
	ents, err := builtinRoots.ReadDir("roots")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		data, err := builtinRoots.ReadFile(path.Join("roots", e.Name()))
		if err != nil {
			return nil, err
		}
		certs, err := ParsePEM(data)
		if err != nil {
			return nil, fmt.Errorf("built-in root %s: %w", e.Name(), err)
		}
		v.roots = append(v.roots, certs...)
	}
	for _, data := range extraPEM {
		certs, err := ParsePEM(data)
		if err != nil {
			return nil, err
		}
		v.roots = append(v.roots, certs...)
	}
	return v, nil
}

// ParsePEM reads every CERTIFICATE block of data; it fails on anything
// else, and on no certificate at all.
func ParsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a %s block where certificates were expected", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate in it")
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return nil, errors.New("data after the last PEM certificate")
	}
	return out, nil
}

// Roots are the trusted roots, built-in ones first.
func (v *Verifier) Roots() []*x509.Certificate { return v.roots }

// Verify checks the Authenticode signature of the file at name against
// signer (a subject common name, "Microsoft Corporation"). The error is an
// *Error saying what is wrong in words.
func (v *Verifier) Verify(name, signer string) (Signer, error) {
	f, err := os.Open(name)
	if err != nil {
		return Signer{}, err
	}
	defer f.Close()
	var magic [8]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return Signer{}, &Error{NotSignable, "too short to be a PE, MSI or CAB file: it cannot carry an Authenticode signature"}
	}
	var sig pkcs9.TimestampedSignature
	switch {
	case bytes.HasPrefix(magic[:], []byte("MZ")):
		sigs, err := authenticode.VerifyPE(f, false)
		if err != nil {
			return Signer{}, classify(err)
		}
		sig = sigs[0].TimestampedSignature
	case bytes.Equal(magic[:], []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		s, err := authenticode.VerifyMSI(f, false)
		if err != nil {
			return Signer{}, classify(err)
		}
		sig = s.TimestampedSignature
	case bytes.HasPrefix(magic[:], []byte("MSCF")):
		s, err := authenticode.VerifyCab(f, false)
		if err != nil {
			return Signer{}, classify(err)
		}
		sig = s.TimestampedSignature
	default:
		return Signer{}, &Error{NotSignable, "not a PE, MSI or CAB file: it cannot carry an Authenticode signature"}
	}
	leaf := sig.Certificate
	if leaf == nil {
		return Signer{}, &Error{BadSignature, "bad signature: the signer's certificate is not in it"}
	}
	root, err := v.chain(leaf, sig.Intermediates)
	if err != nil {
		return Signer{}, err
	}
	got := Signer{Subject: leaf.Subject.CommonName, Root: root.Subject.CommonName}
	if !codeSigning(leaf) {
		return got, &Error{BadSignature, fmt.Sprintf("signed by %s, whose certificate is not for code signing", describe(leaf))}
	}
	if got.Subject != signer {
		return got, &Error{WrongSigner, fmt.Sprintf("signed by %s, not %s", describe(leaf), signer)}
	}
	return got, nil
}

func describe(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// classify turns relic's errors into ours.
func classify(err error) error {
	var ns sigerrors.NotSignedError
	if errors.As(err, &ns) {
		return &Error{NotSigned, "not signed"}
	}
	if strings.Contains(err.Error(), "digest mismatch") || strings.Contains(err.Error(), "page hash mismatch") {
		return &Error{DigestMismatch, "digest mismatch: the file was changed after signing"}
	}
	return &Error{BadSignature, "bad signature: " + err.Error()}
}

// codeSigning reports whether c may sign code: its extended key usage
// names code signing (or any usage), or it has none at all.
func codeSigning(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// maxChain bounds the path from the signer to a root.
const maxChain = 8

// chain finds a path from leaf through the signature's own certificates to
// a trusted root, checking each signature and that every issuer is a CA.
// Validity periods are not checked (see the package comment).
func (v *Verifier) chain(leaf *x509.Certificate, pool []*x509.Certificate) (*x509.Certificate, error) {
	var walk func(c *x509.Certificate, depth int) *x509.Certificate
	walk = func(c *x509.Certificate, depth int) *x509.Certificate {
		for _, r := range v.roots {
			if c.Equal(r) {
				return r
			}
		}
		if depth >= maxChain {
			return nil
		}
		for _, r := range v.roots {
			if issuedBy(c, r) {
				return r
			}
		}
		for _, p := range pool {
			if p.Equal(c) || !issuedBy(c, p) {
				continue
			}
			if r := walk(p, depth+1); r != nil {
				return r
			}
		}
		return nil
	}
	if r := walk(leaf, 0); r != nil {
		return r, nil
	}
	top := leaf
	for i := 0; i < maxChain; i++ {
		next := (*x509.Certificate)(nil)
		for _, p := range pool {
			if !p.Equal(top) && bytes.Equal(p.RawSubject, top.RawIssuer) {
				next = p
			}
		}
		if next == nil {
			break
		}
		top = next
	}
	return nil, &Error{Untrusted, fmt.Sprintf("signed by %s, whose certificate does not chain to a trusted root (it ends at %s, issued by %s); add its root with --trust-roots FILE.pem if you trust it",
		describe(leaf), describe(top), top.Issuer.CommonName)}
}

// issuedBy reports whether parent, a CA, signed c.
func issuedBy(c, parent *x509.Certificate) bool {
	if !bytes.Equal(c.RawIssuer, parent.RawSubject) {
		return false
	}
	if parent.BasicConstraintsValid && !parent.IsCA {
		return false
	}
	return parent.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
