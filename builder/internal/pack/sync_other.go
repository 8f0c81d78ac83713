//go:build !windows

package pack

import "os"

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// rename is os.Rename: only Windows needs retries (sync_windows.go).
func rename(from, to string) error { return os.Rename(from, to) }
