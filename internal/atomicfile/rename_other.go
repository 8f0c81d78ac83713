//go:build !windows

package atomicfile

import "os"

// Rename renames from to to, replacing to. Only Windows needs retries.
func Rename(from, to string) error { return os.Rename(from, to) }

func retry(op func() error) error { return op() }

// SyncDir makes a rename in dir durable: on POSIX systems a directory
// entry is on disk only once the directory itself is synced.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return syncOpenDir(d)
}

func syncOpenDir(d *os.File) error { return d.Sync() }
