package engine

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// renameRetry renames with MOVEFILE_WRITE_THROUGH, so the rename is on disk
// when it returns, and retries while antivirus scanners or the search
// indexer hold the file for a moment (sharing violation, access denied), as
// cmd/go's robustio does, for up to about 30 seconds.
func renameRetry(from, to string) error {
	deadline := time.Now().Add(30 * time.Second)
	delay := 10 * time.Millisecond
	for {
		err := moveFile(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
		if err == nil || !transient(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
		if delay < time.Second {
			delay *= 2
		}
	}
}

func moveFile(from, to string, flags uint32) error {
	if err := MoveFileEx(from, to, flags); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// MoveFileEx is windows.MoveFileEx with Go strings; winsys moves folders
// aside with it too.
func MoveFileEx(from, to string, flags uint32) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, flags)
}

func transient(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// syncDir has nothing to do on Windows: MOVEFILE_WRITE_THROUGH already made
// the rename durable.
func syncDir(string) error { return nil }
