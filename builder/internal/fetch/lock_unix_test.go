//go:build unix

package fetch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A lock file deleted (by another process's sweep) while this one waits
// for it: the lock then taken is on a file nobody else can find, and a
// third builder would lock a new file at the same path. lock must notice
// and lock the file the path names.
func TestLockFileReplaced(t *testing.T) {
	opts := testOptions(t)
	waiting := make(chan struct{}, 1)
	opts.Progress = &notify{fn: func(e Event) {
		if e.Kind == EventNotice && strings.Contains(e.Msg, "another builder") {
			waiting <- struct{}{}
		}
	}}
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(33, 100)
	m := manifest(data, "https://example.invalid/f.bin")
	tg := newTarget(m, &m.Artifacts[0])
	path := filepath.Join(f.cache.tmpDir(), tg.key()+".lock")

	// Another process holds the lock...
	other, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := tryLock(other); busy || err != nil {
		t.Fatal(busy, err)
	}
	got := make(chan func(), 1)
	go func() {
		unlock, err := f.lock(context.Background(), tg)
		if err != nil {
			t.Error(err)
			unlock = func() {}
		}
		got <- unlock
	}()
	<-waiting
	// ...then deletes the file and lets go of it.
	os.Remove(path)
	other.Close()
	unlock := <-got
	defer unlock()

	third, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if busy, err := tryLock(third); err != nil || !busy {
		t.Fatalf("a third builder locks %s too (busy=%v, %v): two hold the lock", path, busy, err)
	}
}
