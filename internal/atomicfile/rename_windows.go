package atomicfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// renameDeadline bounds Rename's retries. Antivirus scanners open a file
// that was just written (an .exe on a USB stick first), and the search
// indexer, or an installer that has just run, may hold it: cmd/go's
// robustio retries such errors "if an executable file in the directory
// has recently been executed". A scan of a large installer can take tens
// of seconds.
const renameDeadline = 30 * time.Second

// Rename renames from to to, replacing to, with MOVEFILE_WRITE_THROUGH so
// that the rename is on disk when it returns, and retries sharing and
// access errors with a growing wait until renameDeadline.
func Rename(from, to string) error {
	return retry(func() error { return moveFile(from, to) })
}

// retry runs op until it succeeds, fails for another reason than a file
// someone holds, or renameDeadline passes.
func retry(op func() error) error {
	deadline := time.Now().Add(renameDeadline)
	delay := 10 * time.Millisecond
	for {
		err := op()
		if err == nil || !transient(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}

func moveFile(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	if err := windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

func transient(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}

// SyncDir has nothing to do on Windows: MOVEFILE_WRITE_THROUGH made the
// rename durable, and a folder cannot be opened for FlushFileBuffers
// without backup privileges.
func SyncDir(string) error { return nil }

func syncOpenDir(*os.File) error { return nil }
