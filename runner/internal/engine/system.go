// Package engine runs a bundle: it reads and checks the lock, verifies every
// file, copies the payloads into a private folder, evaluates each step's
// conditions, runs the installers in order, classifies their exit codes,
// keeps a journal that survives a crash or a power cut, and asks for
// reboots. Everything that touches Windows goes through System, so the
// engine is tested on any host with a fake.
package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// System is the engine's whole view of the machine. The Windows
// implementation lives in runner/internal/winsys; tests use a fake.
type System interface {
	// Elevated reports whether the process runs with administrator rights.
	Elevated() (bool, error)
	// ComputerName names the machine in reports.
	ComputerName() string
	// PrivateRoot is the folder under which each bundle gets its own
	// private folder (%ProgramData%\fixstick).
	PrivateRoot() (string, error)
	// MkdirPrivate creates dir (and missing parents) so that only SYSTEM and
	// the Administrators group can reach it; the DACL is protected, so no
	// permission is inherited from above, and children inherit it. A dir
	// that exists already and is owned by SYSTEM or Administrators gets
	// that DACL and owner again, on itself and everything inside it. One
	// owned by anyone else (a user pre-created it under ProgramData, where
	// users may create folders) is not trusted: it is renamed aside, its
	// new name returned as movedAside, and dir is created anew.
	MkdirPrivate(dir string) (movedAside string, err error)
	// WindowsDir is the Windows folder (C:\Windows) that replaces
	// %SystemRoot% in the command lines of msiexec and wusa.
	WindowsDir() (string, error)
	// ReadRegistry reads a value. key starts with a hive (HKLM\...), view is
	// 32 or 64. A missing key or value gives ErrNotFound; value "" with a
	// nil error from an existing key means the key exists.
	ReadRegistry(key, value string, view int) (RegValue, error)
	// KeyExists reports whether a registry key exists in a view.
	KeyExists(key string, view int) (bool, error)
	// OSVersion is the real Windows version (RtlGetVersion) and the
	// machine's native architecture.
	OSVersion() (OSInfo, error)
	// FileVersion returns a file's version resource ("5.1.2600.5512") or
	// ErrNotFound when the file does not exist.
	FileVersion(path string) (string, error)
	// ExpandEnv expands %VAR% references.
	ExpandEnv(s string) string
	// PendingReboot lists why Windows says a restart is pending, if it does.
	PendingReboot() []string
	// OpenShared opens path for reading so that nobody can write to, rename
	// or delete it while the handle is open.
	OpenShared(path string) (io.ReadCloser, error)
	// LockFile creates or opens path and holds it so that no other process
	// can open it until the returned Closer is closed: one runner per
	// bundle at a time.
	LockFile(path string) (io.Closer, error)
	// Exec starts a process and waits for it. It calls spec.Started once the
	// process exists (before it runs any of its own code, when the system
	// allows). When ctx ends, the process and its children are killed and
	// Exec returns ctx.Err().
	Exec(ctx context.Context, spec ExecSpec) (uint32, error)
	// SetRunOnce registers (command != "") or removes (command == "") the
	// machine-wide RunOnce entry name.
	SetRunOnce(name, command string) error
	// Reboot restarts the machine.
	Reboot(reason string) error
	// BootTime is when Windows last started. It tells whether the restart
	// a step asked for has happened: a later run in the same boot finds
	// the same time.
	BootTime() (time.Time, error)
}

// ExecSpec is one process to run.
type ExecSpec struct {
	App     string // absolute path of the executable (lpApplicationName)
	CmdLine string // the whole command line, verbatim, program included
	Dir     string // working folder
	Started func() // called once the process exists
}

// RegValue is a registry value. Num is set for DWORD and QWORD values, and
// for strings that read as a decimal number.
type RegValue struct {
	String string
	Num    uint64
	IsNum  bool
	// Numeric is true for DWORD and QWORD values.
	Numeric bool
}

// OSInfo describes the running Windows.
type OSInfo struct {
	Major, Minor, Build uint32
	ServicePack         string
	Arch                string // x86 | x64 | arm64
}

// ErrNotFound says a registry key or value, or a file, does not exist.
var ErrNotFound = errors.New("not found")

// Clock is the engine's time; tests replace it.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
