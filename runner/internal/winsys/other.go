//go:build !windows

package winsys

import (
	"errors"

	"fixstick/internal/signature"
	"fixstick/runner/internal/engine"
)

// New fails: the runner only runs on Windows.
func New() (engine.System, error) {
	return nil, errors.New("runner.exe runs on Windows only")
}

// TrustedKeys finds none: there is no provisioned folder off Windows.
func TrustedKeys() ([]signature.PublicKey, []string, error) { return nil, nil, nil }

// SetConsoleTitle does nothing off Windows.
func SetConsoleTitle(string) {}
