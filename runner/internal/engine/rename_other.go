//go:build !windows

package engine

import "os"

func renameRetry(from, to string) error { return os.Rename(from, to) }

// syncDir makes a rename durable: on POSIX systems the directory entry is
// only on disk once the directory itself is synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
