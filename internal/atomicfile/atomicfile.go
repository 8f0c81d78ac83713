// Package atomicfile writes files so that a crash or a power cut at any
// instant leaves either the old file or the new one, never a mix or a
// half: the bytes go to a temporary file in the same folder, which is
// synced and closed, then renamed over the target, and the folder is
// synced (cmd/go's renameio and robustio are the model). The builder and
// the runner both write through it.
package atomicfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tempInfix marks this package's temporary files: "." + base + tempInfix +
// digits, beside the file they will replace.
const tempInfix = ".tmp-"

// Pending is a new version of a file, written to a temporary file beside
// it until Commit renames it into place.
type Pending struct {
	f         *os.File
	name      string
	perm      os.FileMode
	closed    bool
	committed bool
}

// Create starts a new version of name. The caller writes it, then calls
// Commit; a deferred Cleanup removes the temporary file on every other
// path.
func Create(name string, perm os.FileMode) (*Pending, error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tempInfix+"*")
	if err != nil {
		return nil, err
	}
	return &Pending{f: f, name: name, perm: perm}, nil
}

// Write writes to the temporary file.
func (p *Pending) Write(b []byte) (int, error) { return p.f.Write(b) }

// File is the temporary file, for writers that need more than Write.
func (p *Pending) File() *os.File { return p.f }

// TempName is the temporary file's path, to read back what was written
// after Close and before Commit.
func (p *Pending) TempName() string { return p.f.Name() }

// Close gives the temporary file its mode, syncs and closes it: its bytes
// are then on disk ("otherwise, after a crash the reader may observe a
// 0-length file", cmd/go). Close before rename: Windows does not rename a
// file that is open.
func (p *Pending) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.f.Chmod(p.perm)
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Commit closes the temporary file if it is open, renames it over the
// target and syncs the folder.
func (p *Pending) Commit() error {
	if err := p.Rename(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(p.name))
}

// Rename is Commit without the folder sync, for a writer of many files
// that syncs each folder once (SyncDir) when all are in place.
func (p *Pending) Rename() error {
	if err := p.Close(); err != nil {
		return err
	}
	if err := Rename(p.f.Name(), p.name); err != nil {
		return err
	}
	p.committed = true
	return nil
}

// Cleanup removes the temporary file unless Commit renamed it. It is
// meant to be deferred.
func (p *Pending) Cleanup() {
	if p.committed {
		return
	}
	if !p.closed {
		p.closed = true
		p.f.Close()
	}
	os.Remove(p.f.Name())
}

// WriteFile replaces name with data, with mode perm.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	p, err := Create(name, perm)
	if err != nil {
		return err
	}
	defer p.Cleanup()
	if _, err := p.Write(data); err != nil {
		return err
	}
	return p.Commit()
}

// WriteFileIn is WriteFile for a file inside root: every step stays in
// root's folder tree (os.Root follows no link out of it), for a folder
// someone else may have prepared, such as a bundle folder on a stick.
func WriteFileIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	var f *os.File
	var tmp string
	for tries := 0; ; tries++ {
		tmp = filepath.Join(dir, "."+base+tempInfix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		var err error
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || tries == 10 {
			return err
		}
	}
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = retry(func() error { return root.Rename(tmp, name) })
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncOpenDir(d)
}

// IsTemp reports whether a file name is one of this package's temporary
// files, which a crash may leave behind.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempInfix)
	if !strings.HasPrefix(name, ".") || i < 1 || i+len(tempInfix) == len(name) {
		return false
	}
	for _, c := range name[i+len(tempInfix):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
