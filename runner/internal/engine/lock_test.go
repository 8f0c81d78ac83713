package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

func validLock() payload.Lock {
	return payload.Lock{Version: 1, Title: "t", Manifest: payload.LockManifest{ID: "b"},
		Files: []payload.LockFile{{Path: "payloads/a/a.exe", SHA256: strings.Repeat("a", 64), Size: 1}},
		Steps: []payload.LockStep{exeStep("a", "payloads/a/a.exe")}}
}

// canonical is l as the builder writes it, with its bundle id.
func canonical(t *testing.T, l *payload.Lock) []byte {
	t.Helper()
	var err error
	if l.Bundle, err = payload.BundleID(l); err != nil {
		t.Fatal(err)
	}
	data, err := payload.MarshalLock(l)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The runner refuses a lock with every problem the lock's codec finds
// (payload's tests go through each rule).
func TestParseLock(t *testing.T) {
	l := validLock()
	good := canonical(t, &l)
	if _, err := ParseLock(good); err != nil {
		t.Fatalf("valid lock: %v", err)
	}
	l.Steps[0].Kind = payload.KindMSI
	l.Files[0].SHA256 = "A"
	_, err := ParseLock(canonical(t, &l))
	if err == nil || !strings.Contains(err.Error(), "a msi step runs a .msi file") || !strings.Contains(err.Error(), "64 lowercase hex") {
		t.Errorf("err %v, want both problems", err)
	}
	edited := strings.Replace(string(good), `"title": "t"`, `"title": "edited"`, 1)
	if _, err := ParseLock([]byte(edited)); err == nil || !strings.Contains(err.Error(), "edited after the build") {
		t.Errorf("edited lock: err %v", err)
	}
}

func TestReadLockSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, payload.MaxLockSize+1)
	if err := os.WriteFile(filepath.Join(dir, payload.LockName), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err %v", err)
	}
	if _, err := ReadLock(t.TempDir()); err == nil || !strings.Contains(err.Error(), "a bundle folder?") {
		t.Errorf("err %v", err)
	}
}
