package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/internal/signature"
	"fixstick/internal/winetest"
	"fixstick/payload"
)

// writeKeyPair makes a key pair without a password in dir and returns the
// paths of its public and secret key files, and its id.
func writeKeyPair(t *testing.T, dir, name string) (pub, sec, id string) {
	t.Helper()
	p, s, id, err := signature.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	pub, sec = filepath.Join(dir, name+".pub"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(pub, p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sec, s, 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, sec, id
}

// TestWineSignedBundle: with a key provisioned in
// %ProgramData%\fixstick\trusted-keys, runner.exe refuses an unsigned
// bundle, one signed by another key, and one whose lock was changed after
// signing, before anything runs; it runs the correctly signed one, and
// names the signing key. --key replaces the provisioned keys.
func TestWineSignedBundle(t *testing.T) {
	f := getFixture(t)
	keys := t.TempDir()
	orgPub, orgSec, orgID := writeKeyPair(t, keys, "org")
	otherPub, otherSec, otherID := writeKeyPair(t, keys, "other")
	b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: "wine-signed", Title: "Wine signed bundle", Sign: orgSec}
	bundle := b.Build(t, []artifact{f.fakeAs("one", "one_exit0.exe")}, `
  - id: one
    exe: one
`)
	lockName := filepath.Join(bundle, payload.LockName)
	sigName := filepath.Join(bundle, payload.LockSigName)
	goodLock, err := os.ReadFile(lockName)
	if err != nil {
		t.Fatal(err)
	}
	goodSig, err := os.ReadFile(sigName)
	if err != nil {
		t.Fatalf("the builder did not sign the lock: %v", err)
	}
	m := newMachine(t, f, bundle)
	provisioned := m.HostPath(`C:\ProgramData\fixstick\trusted-keys`)
	if err := os.MkdirAll(provisioned, 0o755); err != nil {
		t.Fatal(err)
	}
	pubData, _ := os.ReadFile(orgPub)
	if err := os.WriteFile(filepath.Join(provisioned, "org.pub"), pubData, 0o644); err != nil {
		t.Fatal(err)
	}

	write := func(name string, data []byte) {
		t.Helper()
		if data == nil {
			os.Remove(name)
			return
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	otherSig := func() []byte {
		k, err := os.ReadFile(otherSec)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := signature.ParseSecretKey(k, "")
		if err != nil {
			t.Fatal(err)
		}
		sig, err := signature.Sign(sk, bytes.NewReader(goodLock), "re-signed")
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}()
	tampered := bytes.Replace(goodLock, []byte(`"Wine signed bundle"`), []byte(`"Wine signed bundlE"`), 1)
	for _, c := range []struct {
		name      string
		lock, sig []byte
		want      string
	}{
		{"unsigned", goodLock, nil, "bundle.lock.json: not signed"},
		{"re-signed by another key", goodLock, otherSig, "signed by key ID " + otherID + ", which is not a trusted key (trusted: " + orgID + ")"},
		{"lock changed after signing", tampered, goodSig, "the signature does not match"},
	} {
		write(lockName, c.lock)
		write(sigName, c.sig)
		r := m.runner("run", "--yes")
		rep := m.report()
		if rep.Outcome != payload.ReportRefused || r.Status != 1 || !strings.Contains(rep.Reason, c.want) || !strings.Contains(rep.Reason, "not signed by a key this computer trusts") {
			t.Errorf("%s: %s (status %d): %s", c.name, rep.Outcome, r.Status, rep.Reason)
		}
		if runs := m.fakeRuns(); len(runs) != 0 {
			t.Fatalf("%s: a program ran: %+v", c.name, runs)
		}
		if _, err := os.Stat(m.HostPath(m.private())); !os.IsNotExist(err) {
			t.Errorf("%s: the private folder was made: %v", c.name, err)
		}
	}

	write(lockName, goodLock)
	write(sigName, goodSig)
	// --key replaces the provisioned keys: another key refuses this bundle.
	if err := os.WriteFile(m.C("other.pub"), mustRead(t, otherPub), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := m.runner("verify", "--key", `C:\other.pub`); v.Status != 1 || !strings.Contains(v.Stderr, "which is not a trusted key (trusted: "+otherID+")") {
		t.Errorf("verify --key other.pub: %d\n%s", v.Status, v.Stderr)
	}
	// The plan names the signing key, for comparison with the published id.
	if p := m.runner("plan"); p.Status != 0 || !strings.Contains(p.Stdout, "Signed by key ID "+orgID+", a key this computer trusts") {
		t.Errorf("plan: %d\n%s", p.Status, p.Stdout)
	}
	r := m.runner("run", "--yes")
	if rep := m.report(); rep.Outcome != payload.ReportSuccess || r.Status != 0 {
		t.Fatalf("the signed bundle: %s (status %d): %s", rep.Outcome, r.Status, rep.Reason)
	}
	if runs := m.fakeRuns(); len(runs) != 1 {
		t.Errorf("runs: %+v", runs)
	}
	// The private copy is signed too (a resume after a restart checks it).
	if _, err := os.Stat(m.HostPath(m.private("b", payload.LockSigName))); err != nil {
		t.Errorf("the private copy has no signature: %v", err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
