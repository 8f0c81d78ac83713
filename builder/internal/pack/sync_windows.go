package pack

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// syncDir does nothing on Windows: NTFS journals renames, and a folder
// cannot be opened for FlushFileBuffers without backup privileges.
func syncDir(dir string) error { return nil }

// rename retries while an antivirus scanner or the search indexer holds
// the file for a moment (sharing violation, access denied), as cmd/go's
// robustio does, for up to about 10 seconds: a freshly written .exe on a
// USB stick is what scanners look at first.
func rename(from, to string) error {
	deadline := time.Now().Add(10 * time.Second)
	delay := 10 * time.Millisecond
	for {
		err := os.Rename(from, to)
		if err == nil || !transient(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}

func transient(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
