package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"fixstick/internal/atomicfile"
	"fixstick/payload"
)

// VerifyError lists every file of a bundle that does not match its lock.
type VerifyError struct {
	Problems []string
}

func (e *VerifyError) Error() string {
	return "the bundle does not match its lock; nothing was run:\n\t" + strings.Join(e.Problems, "\n\t")
}

// Verify checks every file the lock lists against its SHA-256 and size, and
// returns the files in dir that the lock does not list (the lock itself and
// the reports folder aside). Extra files are never run; they are reported
// because someone put them there.
func Verify(dir string, l *payload.Lock) (extras []string, err error) {
	extras, _, err = verify(dir, l)
	return extras, err
}

// verify is Verify that also returns notes: unlisted folders that could not
// be listed (nothing in them is used, so they do not stop the run).
func verify(dir string, l *payload.Lock) (extras, notes []string, err error) {
	var problems []string
	listed := map[string]bool{}
	for _, f := range l.Files {
		listed[payload.FoldName(f.Path)] = true
		name := filepath.Join(dir, filepath.FromSlash(f.Path))
		fi, err := os.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s: missing", f.Path))
			continue
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", f.Path, err))
			continue
		case !fi.Mode().IsRegular():
			problems = append(problems, fmt.Sprintf("%s: not a regular file", f.Path))
			continue
		}
		if err := payload.VerifyFile(name, f.Path, f.SHA256, f.Size); err != nil {
			var ce *payload.ChecksumError
			if errors.As(err, &ce) {
				if ce.WantSize != ce.GotSize {
					problems = append(problems, fmt.Sprintf("%s: size %d, the lock says %d (changed since the bundle was built)", f.Path, ce.GotSize, ce.WantSize))
				} else {
					problems = append(problems, fmt.Sprintf("%s: sha256 %s, the lock says %s (changed since the bundle was built)", f.Path, ce.Got, ce.Want))
				}
				continue
			}
			problems = append(problems, err.Error())
		}
	}
	extras, notes, err = unlisted(os.DirFS(dir), l)
	if err != nil {
		problems = append(problems, fmt.Sprintf("listing the bundle: %v", err))
	}
	if len(problems) > 0 {
		return extras, notes, &VerifyError{Problems: problems}
	}
	return extras, notes, nil
}

// systemFolders are made by Windows at the root of a volume: a bundle at
// the root of a stick must not trip over them (only SYSTEM may list
// "System Volume Information").
var systemFolders = map[string]bool{"system volume information": true, "$recycle.bin": true}

// unlisted walks fsys and returns the files the lock does not list (its own
// file and the reports folder aside). A folder that cannot be read is a
// note, not a failure: nothing in it is listed, so nothing in it is used.
func unlisted(fsys fs.FS, l *payload.Lock) (extras, notes []string, err error) {
	listed := map[string]bool{}
	dirs := map[string]bool{} // folders holding listed files
	for _, f := range l.Files {
		listed[payload.FoldName(f.Path)] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			dirs[payload.FoldName(d)] = true
		}
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if p == "." {
			return err
		}
		if err != nil {
			if dirs[payload.FoldName(p)] {
				return err // a folder of the bundle's own files
			}
			notes = append(notes, fmt.Sprintf("the folder %s could not be read (%v); nothing in it is used", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p == payload.ReportsDir || (!strings.Contains(p, "/") && systemFolders[strings.ToLower(p)]) {
				return fs.SkipDir
			}
			return nil
		}
		if p == payload.LockName || p == payload.LockSigName || listed[payload.FoldName(p)] {
			return nil
		}
		extras = append(extras, p)
		return nil
	})
	sort.Strings(extras)
	return extras, notes, err
}

// cleanPrivate removes from the private copy every file and folder the
// lock does not list, and says what it removed: they were planted, or
// left by an older bundle of the same id. It returns an error when one
// cannot be removed; then nothing may run.
func (r *run) cleanPrivate() error {
	keep := map[string]bool{payload.FoldName(payload.LockName): true, payload.FoldName(payload.LockSigName): r.b.sig != nil}
	for _, f := range r.b.Lock.Files {
		keep[payload.FoldName(f.Path)] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			keep[payload.FoldName(d)+"/"] = true
		}
	}
	var removed []string
	err := filepath.WalkDir(r.p.Bundle, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == r.p.Bundle && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(r.p.Bundle, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		name := payload.FoldName(rel)
		if d.IsDir() {
			name += "/"
		}
		if keep[name] && (d.IsDir() || d.Type().IsRegular()) {
			return nil
		}
		if err := removeTree(p); err != nil {
			return err
		}
		removed = append(removed, rel)
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	})
	if len(removed) > 0 {
		r.notef("removed from the private copy what the lock does not list: %s", strings.Join(removed, ", "))
	}
	return err
}

// removeTree removes a file or a folder and everything in it, one entry at
// a time (os.RemoveAll fails under Wine 8, which lacks
// FileDispositionInformationEx).
func removeTree(name string) error {
	fi, err := os.Lstat(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		ents, err := os.ReadDir(name)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := removeTree(filepath.Join(name, e.Name())); err != nil {
				return err
			}
		}
	}
	return os.Remove(name)
}

// copyVerified copies src to dst, hashing while it copies, and keeps dst
// only when the bytes match the pin: the medium may change between the
// check and the copy. dst is written under a temporary name, synced, then
// renamed, so a partial copy never looks complete.
func copyVerified(src, dst, name, sha string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", name, err)
	}
	defer in.Close()
	out, err := atomicfile.Create(dst, 0o600)
	if err != nil {
		return fmt.Errorf("copying %s: %w", name, err)
	}
	defer out.Cleanup()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, size+1))
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != sha {
		return &payload.ChecksumError{Name: name, Want: sha, Got: got, WantSize: size, GotSize: n}
	}
	return out.Commit()
}

// verifyReader checks that r holds exactly the pinned bytes.
func verifyReader(r io.Reader, name, sha string, size int64) error {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("verifying %s: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != sha {
		return &payload.ChecksumError{Name: name, Want: sha, Got: got, WantSize: size, GotSize: n}
	}
	return nil
}
