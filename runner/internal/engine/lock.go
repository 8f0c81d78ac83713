package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fixstick/payload"
)

// ReadLock reads and checks dir's bundle.lock.json. The lock is all the
// runner trusts, so it is read with a size cap, decoded strictly (an
// unknown field or trailing data is refused: a lock that says more than
// this runner understands must not be half-obeyed) and checked for
// everything the runner relies on later.
func ReadLock(dir string) (*payload.Lock, error) {
	l, _, err := readLock(dir)
	return l, err
}

// readLock also returns the lock's bytes, so that the private copy holds
// exactly the lock that was checked.
func readLock(dir string) (*payload.Lock, []byte, error) {
	data, err := readLockBytes(dir)
	if err != nil {
		return nil, nil, err
	}
	l, err := ParseLock(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, payload.LockName), err)
	}
	return l, data, nil
}

// readLockBytes reads dir's lock, capped at MaxLockSize. A signature is
// checked over these bytes before they are parsed.
func readLockBytes(dir string) ([]byte, error) {
	name := filepath.Join(dir, payload.LockName)
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s not found: is %s a bundle folder?", payload.LockName, dir)
		}
		return nil, fmt.Errorf("reading the lock: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, payload.MaxLockSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > payload.MaxLockSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: refusing it", name, payload.MaxLockSize)
	}
	return data, nil
}

// ParseLock decodes a lock's bytes with the lock's codec and refuses it
// with every problem CheckLock finds.
func ParseLock(data []byte) (*payload.Lock, error) {
	l, err := payload.ParseLock(data)
	if err != nil {
		return nil, fmt.Errorf("invalid lock: %w", err)
	}
	if probs := payload.CheckLock(data, l); len(probs) > 0 {
		return nil, fmt.Errorf("invalid lock: %s", strings.Join(probs, "; "))
	}
	return l, nil
}
