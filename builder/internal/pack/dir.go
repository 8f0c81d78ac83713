package pack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fixstick/payload"
)

// tmpPrefix starts the names of the builder's temp files and folders; a
// folder check ignores them (a build that was killed leaves them behind).
const tmpPrefix = ".fixstick-tmp-"

// CheckDir decides whether a bundle for manifestID may be written into
// dir. It may when dir does not exist, is empty, or holds a previous
// bundle of the same manifest: every file in it is listed by that
// bundle's lock (or by the new one, from a rebuild that was interrupted),
// lies under reports/, or is a builder temp file. Anything else is someone
// else's data, and dir is refused rather than clobbered.
func CheckDir(dir, manifestID string, newFiles []payload.LockFile) (old *payload.Lock, err error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(ents) == 0 {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, payload.LockName))
	if err != nil {
		return nil, fmt.Errorf("folder %s is not empty and holds no bundle: choose an empty or new folder", dir)
	}
	old, err = ParseLock(b)
	if err != nil {
		return nil, fmt.Errorf("folder %s holds an unreadable bundle (%v): choose an empty or new folder", dir, err)
	}
	if old.Manifest.ID != manifestID {
		return nil, fmt.Errorf("folder %s holds a bundle of another manifest (%s): choose an empty or new folder", dir, old.Manifest.ID)
	}
	ours := map[string]bool{payload.LockName: true}
	for _, f := range old.Files {
		ours[f.Path] = true
	}
	for _, f := range newFiles {
		ours[f.Path] = true
	}
	var foreign []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case strings.HasPrefix(d.Name(), tmpPrefix) || isReport(rel):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		case !ours[rel]:
			foreign = append(foreign, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		if len(foreign) > 5 {
			foreign = append(foreign[:5], "...")
		}
		return nil, fmt.Errorf("folder %s holds files that are not part of bundle %s (%s): choose an empty or new folder", dir, old.Bundle, strings.Join(foreign, ", "))
	}
	return old, nil
}

// WriteDir writes the bundle unpacked into dir (a USB stick, say). Each
// file is written to a temp file beside it, synced and renamed; a file
// already there with the right content is kept (rewriting a stick is
// slow). The lock goes last, then files of the old bundle that the new one
// does not list are removed, and the folder is verified. reports/ is
// never touched.
func (b *Bundle) WriteDir(ctx context.Context, dir string) error {
	old, err := CheckDir(dir, b.Lock.Manifest.ID, b.Lock.Files)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	buf := make([]byte, copyBufSize)
	dirs := map[string]bool{}
	var lock *entry
	for i := range b.entries {
		e := &b.entries[i]
		if e.path == payload.LockName {
			lock = e
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeDirFile(dir, e, buf, dirs); err != nil {
			return err
		}
	}
	// The lock last: until it is in place, the folder does not claim to be
	// the new bundle, and verify says which files are not yet right.
	if err := writeDirFile(dir, lock, buf, dirs); err != nil {
		return err
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if old != nil {
		removeStale(dir, old, b.Lock)
	}
	r, err := Verify(dir)
	if err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("folder %s does not match the bundle after writing:\n\t%s", dir, strings.Join(r.Problems, "\n\t"))
	}
	return nil
}

func writeDirFile(root string, e *entry, buf []byte, dirs map[string]bool) error {
	dst := filepath.Join(root, filepath.FromSlash(e.path))
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	dirs[parent] = true
	if st, err := os.Lstat(dst); err == nil && st.Mode().IsRegular() && st.Size() == e.size {
		if sum, _, err := payload.HashFile(dst); err == nil && sum == e.sha256 {
			return nil
		}
	}
	f, err := os.CreateTemp(parent, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	err = e.copyTo(f, buf)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

// removeStale removes the files of the old bundle that the new one does
// not list, and the folders that leaves empty. A failure leaves an extra
// file, which verify reports; it does not fail the build.
func removeStale(root string, old, cur *payload.Lock) {
	keep := map[string]bool{}
	for _, f := range cur.Files {
		keep[f.Path] = true
	}
	for _, f := range old.Files {
		if keep[f.Path] || payload.CheckPath(f.Path) != nil {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if os.Remove(p) != nil {
			continue
		}
		for d := filepath.Dir(p); d != filepath.Clean(root); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	}
}
