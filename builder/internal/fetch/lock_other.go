//go:build !unix && !windows

package fetch

import "os"

// tryLock does nothing where there is no file locking to use.
func tryLock(*os.File) (busy bool, err error) { return false, nil }
