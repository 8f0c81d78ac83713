package engine

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic replaces name with data so that a crash or a power cut
// leaves either the old file or the new one, never a mix: write a temporary
// file in the same folder, sync it, close it, then rename it over name.
// (Close before rename: Windows does not rename open files.)
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this finds nothing
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := renameRetry(tmp, name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return syncDir(filepath.Dir(name))
}
