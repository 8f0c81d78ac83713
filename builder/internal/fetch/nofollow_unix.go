//go:build unix

package fetch

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens name without following a link there (O_NOFOLLOW: a
// link planted in the cache fails to open instead of leading the write
// to a file elsewhere), and only if it is a regular file.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	return f, nil
}

// checkOwnFolder refuses a cache folder that another user owns or that
// group or others can write: they could plant a link in it, or swap a
// verified file, and the builder's user would then write where they
// chose, or pack what they chose.
func checkOwnFolder(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d): use a cache folder of your own (--cache DIR)", path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s can be written by group or others (mode %v): run chmod go-w on it, or use another cache folder", path, fi.Mode().Perm())
	}
	return nil
}
