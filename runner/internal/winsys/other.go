//go:build !windows

package winsys

import (
	"errors"

	"fixstick/runner/internal/engine"
)

// New fails: the runner only runs on Windows.
func New() (engine.System, error) {
	return nil, errors.New("runner.exe runs on Windows only")
}

// SetConsoleTitle does nothing off Windows.
func SetConsoleTitle(string) {}
