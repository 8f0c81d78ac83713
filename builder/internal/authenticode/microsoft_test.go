package authenticode

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The positive case with a real Microsoft signature: NuGet.exe 5.8.0 as
// the npm registry ships it (package nuget-exe, a repackaging), signed by
// "Microsoft Corporation" under Microsoft Code Signing PCA 2011 and
// Microsoft Root Certificate Authority 2011. The package is pinned by its
// SHA-256 and fetched with `npm pack` (npm's cache keeps it); the test
// skips when npm or the registry cannot be reached, since the binary is
// Microsoft's to redistribute, not ours.
const (
	nugetPackage = "nuget-exe@5.8.0"
	nugetTgzSHA  = "48e53f4410878e10ad8463c6330e9415458e69ea8a89b404a0573238b2b1c018"
	nugetExe     = "package/nuget-5.8.0.exe"
)

func TestMicrosoftSigned(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("npm", "pack", "--silent", nugetPackage)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("npm pack %s: %v (no registry?)\n%s", nugetPackage, err, out)
	}
	tgz := filepath.Join(dir, "nuget-exe-5.8.0.tgz")
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != nugetTgzSHA {
		t.Fatalf("%s has sha256 %x, pinned %s", tgz, sum, nugetTgzSHA)
	}
	exe := filepath.Join(dir, "nuget.exe")
	extract(t, tgz, nugetExe, exe)

	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.Verify(exe, "Microsoft Corporation")
	if err != nil || s.Root != "Microsoft Root Certificate Authority 2011" {
		t.Fatalf("NuGet.exe: %+v %v", s, err)
	}
	if _, err := v.Verify(exe, "Microsoft Windows"); kindOf(err) != WrongSigner {
		t.Errorf("another signer name: %v", err)
	}
	flip(t, exe, []byte("NuGet"), []byte("NuGeT"))
	if _, err := v.Verify(exe, "Microsoft Corporation"); kindOf(err) != DigestMismatch {
		t.Errorf("a byte changed: %v", err)
	}
}

func extract(t *testing.T, tgz, name, dst string) {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, tgz, err)
		}
		if h.Name != name {
			continue
		}
		out, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
		return
	}
}
