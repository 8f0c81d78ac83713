package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// tempDir is t.TempDir, but on Windows a folder that is never removed:
// Go 1.26's os.RemoveAll fails under Wine 8 ("Invalid function": no
// FileDispositionInformationEx), and the Wine prefix goes away with the
// Linux test anyway.
func tempDir(t *testing.T) string {
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "atomicfile-test-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWriteFile(t *testing.T) {
	dir := tempDir(t)
	name := filepath.Join(dir, "journal.json")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(name, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil || string(got) != "new" {
		t.Fatalf("read %q, %v", got, err)
	}
	if fi, _ := os.Stat(name); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	onlyFile(t, dir, "journal.json")
}

// A write that fails before Commit leaves the old file and no temporary
// file.
func TestCleanupKeepsOld(t *testing.T) {
	dir := tempDir(t)
	name := filepath.Join(dir, "report.json")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Create(name, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if !IsTemp(filepath.Base(p.TempName())) {
		t.Errorf("IsTemp(%q) = false", p.TempName())
	}
	p.Write([]byte("half"))
	p.Cleanup()
	if got, _ := os.ReadFile(name); string(got) != "old" {
		t.Errorf("after Cleanup: %q", got)
	}
	onlyFile(t, dir, "report.json")
}

// The target may be a link planted by someone else: the rename replaces
// the link, and the file it pointed to is untouched.
func TestWriteFileReplacesLink(t *testing.T) {
	dir := tempDir(t)
	victim := filepath.Join(tempDir(t), "victim")
	if err := os.WriteFile(victim, []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "x.meta")
	if err := os.Symlink(victim, name); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if err := WriteFile(name, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "victim" {
		t.Errorf("the link's target was written: %q", got)
	}
	if fi, err := os.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a regular file: %v %v", name, fi, err)
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".setup.exe.tmp-123": true, "setup.exe.tmp-123": false, ".setup.exe.tmp-": false,
		".setup.exe.tmp-12a": false, ".tmp-1": false, "setup.exe": false,
	} {
		if IsTemp(name) != want {
			t.Errorf("IsTemp(%q) = %v", name, !want)
		}
	}
}

func onlyFile(t *testing.T, dir, want string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != want {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q, want only %s", names, want)
	}
}
