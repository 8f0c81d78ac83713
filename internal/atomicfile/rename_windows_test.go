package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// A file held open without FILE_SHARE_DELETE (as a scanner or a just-run
// installer holds it) cannot be replaced: one rename fails with a
// sharing error, and Rename waits until the holder lets go.
func TestRenameWaitsForHolder(t *testing.T) {
	dir := tempDir(t)
	target := filepath.Join(dir, "runner.exe")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := windows.UTF16PtrFromString(target)
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "new")
	if err := os.WriteFile(tmp, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := moveFile(tmp, target); err == nil || !transient(err) {
		windows.CloseHandle(h)
		t.Fatalf("replacing a held file: %v, want a sharing or access error", err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		windows.CloseHandle(h)
		close(released)
	}()
	if err := Rename(tmp, target); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	<-released
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Errorf("target holds %q", got)
	}
}
