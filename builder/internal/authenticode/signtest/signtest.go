// Package signtest makes Authenticode fixtures for tests: a test CA and
// code-signing certificates (made here, in Go), a small PE built by the Go
// toolchain, an MSI built by wixl and the cabinet inside it, signed by Debian's osslsigncode. It
// is imported by tests only.
package signtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// RequireEnv makes a missing osslsigncode or wixl a failure, not a skip
// (CI sets it; it installs both).
const RequireEnv = "FIXSTICK_REQUIRE_TOOLS"

// Require skips t (or fails it under FIXSTICK_REQUIRE_TOOLS=1) when a tool
// is missing.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv(RequireEnv) == "1" {
				t.Fatalf("%s is not installed, and %s=1 requires it", tool, RequireEnv)
			}
			t.Skipf("%s is not installed (apt install %s)", tool, tool)
		}
	}
}

// CA is a certificate authority that issues code-signing certificates.
type CA struct {
	Cert *x509.Certificate
	key  *rsa.PrivateKey
	// PEM is the CA's certificate, for --trust-roots.
	PEM []byte
}

// Signer is a code-signing certificate and its key, as PEM files.
type Signer struct {
	CertsPEM, KeyPEM string // the leaf then the CA; the key (PKCS#8)
}

// NewCA makes a self-signed root named cn. Its validity lies in the
// past on purpose: the check must ignore expiry.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"fixstick tests"}},
		NotBefore:             time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Issue makes a code-signing certificate for subject cn, written with its
// key into dir.
func (ca *CA) Issue(t testing.TB, dir, cn string) Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{cn}},
		NotBefore:    time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := Signer{CertsPEM: filepath.Join(dir, cn+".certs.pem"), KeyPEM: filepath.Join(dir, cn+".key.pem")}
	certs := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.PEM...)
	write(t, s.CertsPEM, certs)
	write(t, s.KeyPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	return s
}

func write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Sign signs in into out with osslsigncode (SHA-256, no timestamp).
func (s Signer) Sign(t testing.TB, in, out string) {
	t.Helper()
	cmd := exec.Command("osslsigncode", "sign", "-certs", s.CertsPEM, "-key", s.KeyPEM, "-h", "sha256", "-n", "fixstick test", "-in", in, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode: %v\n%s", err, b)
	}
}

// PE builds a small Windows program into dir and returns its path.
func PE(t testing.TB, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "pe")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(src, "go.mod"), []byte("module fixture\n\ngo 1.21\n"))
	write(t, filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() { println(\"MZ fixture installer\") }\n"))
	out := filepath.Join(dir, "setup.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// MSI builds a small Windows Installer package with wixl into dir and
// returns its path. Its product name, "Fixstick Fixture Product", is in
// its string pool, uncompressed: a test changes a letter of it.
func MSI(t testing.TB, dir string) string {
	t.Helper()
	write(t, filepath.Join(dir, "fixture.txt"), []byte("installed by the fixstick test MSI\n"))
	write(t, filepath.Join(dir, "fixture.wxs"), []byte(`<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="Fixstick Fixture Product" Language="1033" Version="1.0.0" Manufacturer="fixstick tests"
           UpgradeCode="6a3f3f0e-5d8e-4c4e-9a51-3b0f7c0b2a11">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="fixture.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="FixstickFixture">
          <Component Id="Main" Guid="4b8f0d3c-2d1a-4c5e-8f6a-1e2d3c4b5a69">
            <File Id="FixtureTxt" Source="fixture.txt"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
  </Product>
</Wix>
`))
	cmd := exec.Command("wixl", "-o", "fixture.msi", "fixture.wxs")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wixl: %v\n%s", err, b)
	}
	return filepath.Join(dir, "fixture.msi")
}

// CAB returns a small cabinet: the one wixl embeds in the MSI that MSI
// built in dir, taken out with msitools' msiinfo.
func CAB(t testing.TB, dir, msi string) string {
	t.Helper()
	out := filepath.Join(dir, "fixture.cab")
	data, err := exec.Command("msiinfo", "extract", msi, "fixture.cab").Output()
	if err != nil {
		t.Fatalf("msiinfo extract: %v", err)
	}
	write(t, out, data)
	return out
}
