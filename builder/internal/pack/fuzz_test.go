package pack

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"fixstick/payload"
)

// FuzzLock feeds ParseLock and CheckLock any bytes: they must not panic,
// and a lock that CheckLock finds clean is exactly the canonical form of
// what was parsed (so verify's "edited by hand" cannot be fooled by a
// second way of writing the same lock).
func FuzzLock(f *testing.F) {
	b, err := Prepare(context.Background(), fixture(f), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.LockJSON)
	b.Close()
	f.Add([]byte(`{"lock":1,"bundle":"x-000000000000","files":[{"path":"../x","sha256":"","size":-1}],"steps":[{"id":"a","program":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		if len(CheckLock(data, l)) > 0 {
			return
		}
		c, err := MarshalLock(l)
		if err != nil || !bytes.Equal(c, data) {
			t.Fatalf("a clean lock is not in canonical form: %v\n%q\n%q", err, data, c)
		}
	})
}

// FuzzExtract feeds extractArchive any bytes, seeded with the corpus. It
// must not panic (a panic the guard turned into an error fails too: the
// fuzzer is there to find them), must leave nothing behind when it refuses,
// and what it takes out must be the pinned bytes.
func FuzzExtract(f *testing.F) {
	for _, c := range corpus() {
		f.Add(c.data)
	}
	want := []payload.ExtractEntry{{Path: "bin/tool.exe", SHA256: sha([]byte(corpusTool))}}
	lim := Limits{Entries: 1000, EntrySize: 1 << 20, TotalSize: 4 << 20, PathLen: 240, PathDepth: 32}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		src := filepath.Join(dir, "archive")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		if err := os.Mkdir(out, 0o700); err != nil {
			t.Fatal(err)
		}
		xs, err := extractArchive(context.Background(), "fuzz", src, want, out, lim)
		var re *readerError
		if errors.As(err, &re) {
			t.Fatalf("the reader panicked: %v", err)
		}
		ents, _ := os.ReadDir(out)
		if err != nil {
			if len(ents) != 0 {
				t.Fatalf("refused (%v) but left %v", err, ents)
			}
			return
		}
		if len(xs) != 1 || len(ents) != 1 || xs[0].SHA256 != want[0].SHA256 {
			t.Fatalf("extracted %+v, files %v", xs, ents)
		}
		got, err := os.ReadFile(xs[0].Disk)
		if err != nil || string(got) != corpusTool || filepath.Dir(xs[0].Disk) != out {
			t.Fatalf("extracted %q to %s: %v", got, xs[0].Disk, err)
		}
	})
}
