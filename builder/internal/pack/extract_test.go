package pack

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

// withZipReader puts r in place of the archive library for one test.
func withZipReader(t *testing.T, r func(io.ReaderAt, int64) (*zip.Reader, error)) {
	t.Cleanup(func() { newZipReader = zip.NewReader })
	newZipReader = r
}

// A panic in the archive library, when it opens the archive or midway
// through an entry's bytes, is an ordinary refusal: the build goes on to
// fail cleanly, and what was written is removed.
func TestReaderPanics(t *testing.T) {
	for name, r := range map[string]func(io.ReaderAt, int64) (*zip.Reader, error){
		"opening": func(io.ReaderAt, int64) (*zip.Reader, error) {
			var s []int
			return nil, errors.New(string(rune(s[3]))) // index out of range, as the RAR reader's slice bounds
		},
		"mid-entry": func(ra io.ReaderAt, size int64) (*zip.Reader, error) {
			zr, err := zip.NewReader(ra, size)
			if err == nil {
				zr.RegisterDecompressor(zip.Deflate, func(io.Reader) io.ReadCloser { return &panicAfter{n: 5} })
			}
			return zr, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			withZipReader(t, r)
			o := fixture(t)
			o.Sources["tools"] = Source{Path: filepath.Join(corpusDir, "good-deflate.zip")}
			tmp := t.TempDir()
			_, err := Prepare(context.Background(), o, tmp)
			want := "archive tools (tools.zip) refused: the reader failed: "
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			var ae *ArchiveError
			if !errors.As(err, &ae) || ae.ArtifactID != "tools" {
				t.Errorf("not an ArchiveError for tools: %#v", err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
			// extractArchive itself removes the half-written entry.
			dir := t.TempDir()
			wantx := []payload.ExtractEntry{{Path: "bin/tool.exe", SHA256: sha([]byte(corpusTool))}}
			if _, err := extractArchive(context.Background(), "x", o.Sources["tools"].Path, wantx, dir, DefaultLimits); err == nil {
				t.Fatal("no error")
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left behind by extractArchive: %v", ents)
			}
		})
	}
}

// panicAfter gives n bytes, then panics.
type panicAfter struct{ n int }

func (p *panicAfter) Read(b []byte) (int, error) {
	if p.n == 0 {
		panic("slice bounds out of range [:7] with capacity 3")
	}
	n := min(len(b), p.n)
	clear(b[:n])
	p.n -= n
	return n, nil
}

func (p *panicAfter) Close() error { return nil }

// A library that believes what the archive declares allocates without
// bound: this one makes room for every entry the end record declares, as
// readers that preallocate do (a 7z header's dictionary size is the same
// trap). The caps on the central directory refuse such archives before the
// library is called; a sound archive still reaches it.
func TestReaderThatAllocatesIsNotReached(t *testing.T) {
	var calls int
	withZipReader(t, func(ra io.ReaderAt, size int64) (*zip.Reader, error) {
		calls++
		d, err := findZipDirectory(ra, size)
		if err != nil {
			return nil, err
		}
		room := make([][256]byte, d.declared) // 2^40 entries: 256 TiB, a fatal out-of-memory
		_ = room
		return zip.NewReader(ra, size)
	})
	for _, c := range []struct{ archive, want string }{
		{"zip64-entries-2pow40.zip", "declares 1099511627776 entries, over the limit of 100000"},
		{"directory-name-60000.zip", "60000 bytes long"},
		{"rar5.rar", "RAR"},
		{"7z-dictionary-7g.7z", "7z"},
	} {
		o := fixture(t)
		o.Sources["tools"] = Source{Path: filepath.Join(corpusDir, c.archive)}
		if _, err := Prepare(context.Background(), o, t.TempDir()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.archive, err, c.want)
		}
	}
	if calls != 0 {
		t.Fatalf("the library was called %d times for archives the caps refuse", calls)
	}
	o := fixture(t)
	o.Sources["tools"] = Source{Path: filepath.Join(corpusDir, "good.zip")}
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if calls != 1 {
		t.Fatalf("a sound archive reached the library %d times, want 1", calls)
	}
}

// The directory walk counts entries and bytes before the library runs.
func TestZipDirectoryCaps(t *testing.T) {
	es := []ent{tool}
	for i := range 20 {
		es = append(es, ent{name: "f" + strings.Repeat("x", i), data: "y"})
	}
	z := zipOf(0, es...)
	p := filepath.Join(t.TempDir(), "many.zip")
	if err := os.WriteFile(p, z, 0o644); err != nil {
		t.Fatal(err)
	}
	var calls int
	withZipReader(t, func(ra io.ReaderAt, size int64) (*zip.Reader, error) { calls++; return zip.NewReader(ra, size) })
	lim := DefaultLimits
	lim.Entries = 10
	want := []payload.ExtractEntry{{Path: "bin/tool.exe", SHA256: sha([]byte(corpusTool))}}
	_, err := extractArchive(context.Background(), "many", p, want, t.TempDir(), lim)
	if err == nil || !strings.Contains(err.Error(), "declares 21 entries, over the limit of 10") || calls != 0 {
		t.Fatalf("error %v, library called %d times", err, calls)
	}
	// Within the count, over another cap.
	lim.Entries = 20
	_, err = extractArchive(context.Background(), "many", p, want, t.TempDir(), lim)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 20") || calls != 0 {
		t.Fatalf("error %v, library called %d times", err, calls)
	}
	// An end record that understates the count is caught by the walk,
	// which counts the records themselves (the library reads them all
	// too, and compares only the low 16 bits).
	e := endOf(z)
	le16(z, e+8, 21-16)
	le16(z, e+10, 21-16)
	if err := os.WriteFile(p, z, 0o644); err != nil {
		t.Fatal(err)
	}
	lim.Entries = 10
	_, err = extractArchive(context.Background(), "many", p, want, t.TempDir(), lim)
	if err == nil || !strings.Contains(err.Error(), "more than 10 entries") || calls != 0 {
		t.Fatalf("understated count: error %v, library called %d times", err, calls)
	}
}
