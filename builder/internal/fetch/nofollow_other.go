//go:build !unix

package fetch

import (
	"fmt"
	"io/fs"
	"os"
)

// openNoFollow opens name only if it is a regular file and not a link
// (Windows has no O_NOFOLLOW for os.OpenFile: the name is checked with
// Lstat, then the file opened is compared with what was checked). A new
// file is created with O_EXCL, which a link at the name makes fail.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	before, err := os.Lstat(name)
	if err == nil && !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	after, err := os.Lstat(name)
	fi, ferr := f.Stat()
	if err != nil || ferr != nil || !after.Mode().IsRegular() || !os.SameFile(after, fi) {
		f.Close()
		return nil, fmt.Errorf("%s changed while it was opened", name)
	}
	return f, nil
}

// checkOwnFolder checks only that a cache folder is a folder: Windows
// decides who may write by ACL, not by mode bits, and a cache under the
// user's own profile (the default) is the user's alone.
func checkOwnFolder(path string, fi fs.FileInfo) error { return nil }
