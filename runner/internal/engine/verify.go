package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == payload.ReportsDir {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == payload.LockName || listed[payload.FoldName(rel)] {
			return nil
		}
		extras = append(extras, rel)
		return nil
	})
	if err != nil {
		problems = append(problems, fmt.Sprintf("listing the bundle: %v", err))
	}
	sort.Strings(extras)
	if len(problems) > 0 {
		return extras, &VerifyError{Problems: problems}
	}
	return extras, nil
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
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("copying %s: %w", name, err)
	}
	defer os.Remove(tmp)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(in, size+1))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != sha {
		return &payload.ChecksumError{Name: name, Want: sha, Got: got, WantSize: size, GotSize: n}
	}
	return renameRetry(tmp, dst)
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
