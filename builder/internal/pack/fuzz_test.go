package pack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"fixstick/payload"
)

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
