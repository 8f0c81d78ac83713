//go:build unix

package fetch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link planted at the .part (or its .meta, or its lock) in a cache
// someone else could write: the builder writes through no link, the file
// the link names keeps its bytes, and the store holds the verified
// download (a link at the lock is refused: two builders would not share
// it).
func TestPlantedPartLink(t *testing.T) {
	data := randomBytes(23, 300<<10)
	s := newServer(t, data, nil)
	for _, suffix := range []string{".part", ".meta", ".lock"} {
		t.Run(suffix, func(t *testing.T) {
			opts := testOptions(t)
			tmp := filepath.Join(opts.CacheDir, "tmp")
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("the user's file"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(tmp, "sha256-"+sha(data)+suffix)
			if err := os.Symlink(victim, link); err != nil {
				t.Fatal(err)
			}
			if suffix == ".lock" {
				// not a lock file the builder made: refused, by name
				_, err := fetchOne(t, opts, manifest(data, s.URL+"/f.bin"))
				if err == nil || !strings.Contains(err.Error(), link) {
					t.Errorf("err %v, want one naming %s", err, link)
				}
			} else {
				wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
			}
			if got, _ := os.ReadFile(victim); string(got) != "the user's file" {
				t.Errorf("the file behind the planted link was written: %d bytes", len(got))
			}
		})
	}
	// a dangling link: following it would create the file it names
	t.Run("dangling", func(t *testing.T) {
		opts := testOptions(t)
		tmp := filepath.Join(opts.CacheDir, "tmp")
		os.MkdirAll(tmp, 0o755)
		victim := filepath.Join(t.TempDir(), "created")
		if err := os.Symlink(victim, filepath.Join(tmp, "sha256-"+sha(data)+".part")); err != nil {
			t.Fatal(err)
		}
		wantOK(t, opts, manifest(data, s.URL+"/f.bin"), data)
		if _, err := os.Lstat(victim); err == nil {
			t.Errorf("a file was created through the dangling link")
		}
	})
}

// A cache folder that another user could write into is refused before
// anything is written: it could hold planted links, or swapped files.
func TestCacheFolderOthersCanWrite(t *testing.T) {
	data := randomBytes(24, 1000)
	s := newServer(t, data, nil)
	for _, tc := range []struct {
		name string
		make func(t *testing.T, cache string)
		want string
	}{
		{"cache folder", chmodSub(""), "can be written by group or others"},
		{"tmp", chmodSub("tmp"), "can be written by group or others"},
		{"store", chmodSub("sha256"), "can be written by group or others"},
		{"tmp a link", func(t *testing.T, cache string) {
			if err := os.Symlink(t.TempDir(), filepath.Join(cache, "tmp")); err != nil {
				t.Fatal(err)
			}
		}, "is a link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.make(t, opts.CacheDir)
			_, err := New(opts)
			if err == nil {
				_, err = fetchOne(t, opts, manifest(data, s.URL+"/f.bin"))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// chmodSub makes the cache's subfolder sub (or the cache folder) writable
// by everyone.
func chmodSub(sub string) func(t *testing.T, cache string) {
	return func(t *testing.T, cache string) {
		dir := filepath.Join(cache, sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
	}
}
