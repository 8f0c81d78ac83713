package pack

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f at off to
// the disk, without waiting (sync_file_range(2)): the disk works while the
// rest of the zip is hashed and written, and the fsync at the end finds
// little left to do, not the whole zip. It is a hint: errors are ignored,
// and the fsync reports any that matter.
func startWriteback(f *os.File, off, n int64) {
	c, err := f.SyscallConn()
	if err != nil {
		return
	}
	c.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
