package pack

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

	"github.com/klauspost/compress/zip"

	"fixstick/payload"
)

// Report is what Verify found. The bundle is exact when Problems is empty.
type Report struct {
	Lock     *payload.Lock // nil when the lock could not be read
	Files    int           // files checked against the lock
	Problems []string      // one line each: path: what differs
}

// OK reports whether the bundle matches its lock exactly.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) addf(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// required are the files every bundle must list: without them there is
// nothing to start on the broken machine.
var required = []string{payload.StartCmd, payload.RunnerAMD64, payload.RunnerX86, payload.LegacyDir + "/run.cmd"}

// bundleFile is one file found in a bundle.
type bundleFile struct {
	path string // slash-separated, as found
	open func() (io.ReadCloser, error)
	bad  string // why it cannot be a bundle file (a link, a folder entry with data)
}

// Verify checks the bundle at path (a zip or a folder) against its lock:
// the lock is well formed and its bundle id matches its content, every
// file the lock lists is there with its size and SHA-256, no other file is
// there (reports/ aside), and the programs that start a run are listed.
// The error is for a bundle that cannot be read at all.
func Verify(path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		files, err := dirFiles(path)
		if err != nil {
			return nil, err
		}
		return verifyFiles(files), nil
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip or a folder: %w", path, err)
	}
	defer zr.Close()
	r := verifyFiles(zipFiles(zr))
	if err := checkSidecar(path); err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	return r, nil
}

// checkSidecar compares the zip with the SHA-256 the build wrote beside it
// (ZIP.sha256), when that file is there: a zip whose entries still match
// its lock may yet not be the zip that was published.
func checkSidecar(path string) error {
	side := path + ".sha256"
	b, err := os.ReadFile(side)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	want, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !payload.IsHex(want, 64) {
		return fmt.Errorf("%s: not a SHA-256 line (HEX  NAME)", filepath.Base(side))
	}
	got, _, err := payload.HashFile(path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("the zip's SHA-256 is %s, %s says %s", got, filepath.Base(side), want)
	}
	return nil
}

func zipFiles(zr *zip.ReadCloser) []bundleFile {
	var out []bundleFile
	for _, f := range zr.File {
		bf := bundleFile{path: f.Name, open: func() (io.ReadCloser, error) { return f.Open() }}
		if strings.HasSuffix(f.Name, "/") {
			if f.UncompressedSize64 == 0 {
				continue // a folder entry: harmless
			}
			bf.bad = "a folder entry with data"
		} else if t := f.Mode().Type(); t != 0 {
			bf.bad = fmt.Sprintf("not a regular file (%s)", f.Mode())
		}
		out = append(out, bf)
	}
	return out
}

func dirFiles(root string) ([]bundleFile, error) {
	var out []bundleFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if rel == payload.ReportsDir {
				return fs.SkipDir
			}
			return nil
		}
		bf := bundleFile{path: rel, open: func() (io.ReadCloser, error) { return os.Open(p) }}
		switch {
		case rel == payload.ReportsDir:
			// A link would lead the runners' reports, and verify, out of
			// the bundle.
			bf.bad = fmt.Sprintf("not a folder (%s): runners write their reports into a real folder here", typeName(d.Type()))
		case !d.Type().IsRegular():
			bf.bad = fmt.Sprintf("not a regular file (%s)", typeName(d.Type()))
		}
		out = append(out, bf)
		return nil
	})
	return out, err
}

func verifyFiles(files []bundleFile) *Report {
	r := &Report{}
	byPath := map[string]bundleFile{}
	for _, f := range files {
		if _, dup := byPath[f.path]; dup {
			r.addf("%s: listed twice in the zip", f.path)
		}
		byPath[f.path] = f
	}
	lf, ok := byPath[payload.LockName]
	if !ok {
		r.addf("%s: missing: this is not a bundle, or its lock was removed", payload.LockName)
		return r
	}
	b, err := readCapped(lf, payload.MaxLockSize)
	if err != nil {
		r.addf("%s: %v", payload.LockName, err)
		return r
	}
	l, err := ParseLock(b)
	if err != nil {
		r.addf("%v", err)
		return r
	}
	r.Lock = l
	r.Problems = append(r.Problems, CheckLock(b, l)...)

	listed := map[string]bool{}
	for _, lf := range l.Files {
		listed[lf.Path] = true
		f, ok := byPath[lf.Path]
		if !ok {
			r.addf("%s: missing", lf.Path)
			continue
		}
		r.Files++
		if f.bad != "" {
			r.addf("%s: %s", lf.Path, f.bad)
			continue
		}
		sum, n, err := hashFile(f, lf.Size)
		switch {
		case err != nil:
			r.addf("%s: %v", lf.Path, err)
		case n != lf.Size:
			r.addf("%s: size differs: %d bytes, the lock says %d", lf.Path, n, lf.Size)
		case sum != lf.SHA256:
			r.addf("%s: content differs: sha256 %s, the lock says %s", lf.Path, sum, lf.SHA256)
		}
	}
	// Every name not in the lock is checked before reports/ is exempted:
	// "reports/../x.exe" is not a report. (CheckLock checks the listed ones.)
	var extra []string
	for p := range byPath {
		if !listed[p] && p != payload.LockName {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		f := byPath[p]
		err := payload.CheckPath(p)
		switch {
		case err != nil:
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			r.addf("%q: unsafe name: %v", p, err)
		case f.bad != "":
			r.addf("%s: %s", p, f.bad)
		case strings.HasPrefix(p, payload.ReportsDir+"/"):
			// written by runners after the build
		default:
			r.addf("%s: extra file: the lock does not list it", p)
		}
	}
	for _, p := range required {
		if !listed[p] {
			r.addf("%s: the lock does not list it, and a run cannot start without it", p)
		}
	}
	return r
}

func readCapped(f bundleFile, max int64) ([]byte, error) {
	rc, err := f.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}

// hashFile hashes at most size+1 bytes of f: a file longer than its lock
// entry is reported without reading it all.
func hashFile(f bundleFile, size int64) (string, int64, error) {
	rc, err := f.open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(rc, size+1), make([]byte, 256<<10))
	if err != nil {
		if errors.Is(err, zip.ErrChecksum) {
			return "", n, fmt.Errorf("damaged in the zip (CRC-32 mismatch)")
		}
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// typeName names a file type for a person.
func typeName(t fs.FileMode) string {
	switch {
	case t&fs.ModeSymlink != 0:
		return "a link"
	case t.IsRegular():
		return "a file"
	case t.IsDir():
		return "a folder"
	}
	return "a special file " + t.String()
}
