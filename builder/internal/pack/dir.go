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

	"fixstick/internal/atomicfile"
	"fixstick/payload"
)

// tmpPrefix starts the names of the builder's temp files and folders; a
// folder check ignores them (a build that was killed leaves them behind).
const tmpPrefix = ".fixstick-tmp-"

// CheckDir decides whether a bundle for manifestID, made of newFiles, may
// be written into dir. It may when dir does not exist, is empty, or holds
// a previous bundle of the same manifest: every file in it is listed by
// that bundle's lock or by the new one (a rebuild that was interrupted),
// lies under reports/, or is a builder temp file. A folder without a lock
// is accepted only when each of its files already holds what the new
// bundle puts there (a first build that was interrupted before it wrote
// the lock). Anything else is someone else's data, and dir is refused
// rather than clobbered. stale lists the temp files of interrupted builds.
func CheckDir(dir, manifestID string, newFiles []payload.LockFile) (old *payload.Lock, stale []string, err error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if len(ents) == 0 {
		return nil, nil, nil
	}
	// The lock's signature is the builder's in any case: a build killed
	// after writing it and before the lock leaves it alone.
	ours := map[string]bool{payload.LockSigName: true}
	want := map[string]payload.LockFile{}
	b, err := os.ReadFile(filepath.Join(dir, payload.LockName))
	switch {
	case err == nil:
		old, err = payload.ParseLock(b)
		if err != nil {
			return nil, nil, fmt.Errorf("folder %s holds an unreadable bundle (%v): choose an empty or new folder", dir, err)
		}
		if old.Manifest.ID != manifestID {
			return nil, nil, fmt.Errorf("folder %s holds a bundle of another manifest (%s): choose an empty or new folder", dir, old.Manifest.ID)
		}
		ours[payload.LockName] = true
		for _, f := range old.Files {
			ours[f.Path] = true
		}
		for _, f := range newFiles {
			ours[f.Path] = true
		}
	case errors.Is(err, fs.ErrNotExist):
		for _, f := range newFiles {
			want[f.Path] = f
		}
	default:
		return nil, nil, err
	}
	// WalkDir reports a link as what it is (it does not follow it): the
	// builder writes only regular files into real folders, and a link, even
	// at a path the old lock lists, could lead its writes elsewhere.
	var foreign, odd []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
		case strings.HasPrefix(d.Name(), tmpPrefix) || atomicfile.IsTemp(d.Name()):
			stale = append(stale, p)
			if d.IsDir() {
				return fs.SkipDir
			}
		case rel == payload.ReportsDir && d.IsDir():
			return fs.SkipDir // runners' reports: never touched
		case rel == payload.ReportsDir && d.Type().IsRegular():
			odd = append(odd, rel+" (a file, not a folder)")
		case d.IsDir():
		case !d.Type().IsRegular():
			odd = append(odd, fmt.Sprintf("%s (%s)", rel, typeName(d.Type())))
		case ours[rel]:
		case holds(p, d, want[rel]):
		default:
			foreign = append(foreign, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(odd) > 0 {
		sort.Strings(odd)
		return nil, nil, fmt.Errorf("folder %s holds what a bundle never does: %s: remove it, or choose an empty or new folder", dir, strings.Join(odd, ", "))
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		if len(foreign) > 5 {
			foreign = append(foreign[:5], "...")
		}
		what := "that are not part of a bundle of " + manifestID
		if old == nil {
			what = "and no bundle"
		}
		return nil, nil, fmt.Errorf("folder %s holds files %s (%s): choose an empty or new folder", dir, what, strings.Join(foreign, ", "))
	}
	return old, stale, nil
}

// holds reports whether the regular file at p has f's size and content.
func holds(p string, d fs.DirEntry, f payload.LockFile) bool {
	if f.Path == "" || !d.Type().IsRegular() {
		return false
	}
	sum, n, err := payload.HashFile(p)
	return err == nil && n == f.Size && sum == f.SHA256
}

// WriteDir writes the bundle unpacked into dir (a USB stick, say). Each
// file is written to a temp file beside it, synced and renamed; a file
// already there with the right content is kept (rewriting a stick is
// slow). The lock goes last, then files of the old bundle that the new one
// does not list are removed, and the folder is verified. reports/ is
// never touched. The bundle's temp folder may be inside dir (Prepare's
// tmpParent): it is then removed before the check.
func (b *Bundle) WriteDir(ctx context.Context, dir string) error {
	old, stale, err := CheckDir(dir, b.Lock.Manifest.ID, b.Lock.Files)
	if err != nil {
		return err
	}
	// Temp files of a build that was killed would read as extra files.
	for _, p := range stale {
		if p != b.tmp {
			os.RemoveAll(p)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c := newCopier()
	dirs := map[string]bool{}
	var lock, sig *entry
	for i := range b.entries {
		e := &b.entries[i]
		switch e.path {
		case payload.LockName:
			lock = e
			continue
		case payload.LockSigName:
			sig = e
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeDirFile(dir, e, c, dirs); err != nil {
			return err
		}
	}
	// The lock last: until it is in place, the folder does not claim to be
	// the new bundle, and verify says which files are not yet right. Its
	// signature just before it (an old lock beside a new signature fails
	// verification, as it should); an unsigned build removes an old one.
	if sig != nil {
		if err := writeDirFile(dir, sig, c, dirs); err != nil {
			return err
		}
	} else if err := os.Remove(filepath.Join(dir, payload.LockSigName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := writeDirFile(dir, lock, c, dirs); err != nil {
		return err
	}
	for d := range dirs {
		if err := atomicfile.SyncDir(d); err != nil {
			return err
		}
	}
	if old != nil {
		removeStale(dir, old, b.Lock)
	}
	// Archives may have been extracted inside dir (when its parent is not
	// writable): their files are copied now, and the folder would read as
	// an extra file. The bundle cannot be written again after this.
	if b.tmp != "" && filepath.Dir(b.tmp) == filepath.Clean(dir) {
		if err := b.Close(); err != nil {
			return fmt.Errorf("removing the extraction folder: %w", err)
		}
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

func writeDirFile(root string, e *entry, c *copier, dirs map[string]bool) error {
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
	f, err := atomicfile.Create(dst, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	defer f.Cleanup()
	err = e.copyTo(f.File(), c)
	if err == nil {
		err = f.Rename() // the caller syncs each folder once
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

// removeStale removes the files of the old bundle that the new one does
// not list, and the folders that leaves empty. A failure leaves an extra
// file, which verify reports; it does not fail the build.
func removeStale(root string, old, cur *payload.Lock) {
	for _, rel := range staleFiles(old, cur) {
		p := filepath.Join(root, filepath.FromSlash(rel))
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

// staleFiles lists the files of the old lock that the new one does not
// list, comparing names as Windows does: on a FAT or NTFS stick, an old
// Setup.exe is the new setup.exe, and removing it would remove the new file.
func staleFiles(old, cur *payload.Lock) []string {
	keep := map[string]bool{}
	for _, f := range cur.Files {
		keep[payload.FoldName(f.Path)] = true
	}
	var stale []string
	for _, f := range old.Files {
		if !keep[payload.FoldName(f.Path)] && payload.CheckPath(f.Path) == nil {
			stale = append(stale, f.Path)
		}
	}
	return stale
}
