package winsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"fixstick/payload"
	"fixstick/runner/internal/engine"
)

// New returns the running Windows as an engine.System.
func New() (engine.System, error) { return sys{}, nil }

type sys struct{}

func (sys) Elevated() (bool, error) {
	return windows.GetCurrentProcessToken().IsElevated(), nil
}

func (sys) ComputerName() string {
	if n, err := windows.ComputerName(); err == nil && n != "" {
		return n
	}
	return os.Getenv("COMPUTERNAME")
}

func (sys) PrivateRoot() (string, error) {
	pd, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil || pd == "" {
		pd = os.Getenv("ProgramData")
	}
	if pd == "" {
		return "", fmt.Errorf("cannot find the ProgramData folder: %v", err)
	}
	return filepath.Join(pd, payload.Product), nil
}

// privateSDDL: owner Administrators; a protected DACL (nothing inherited
// from ProgramData, where Users may create files) granting full control to
// SYSTEM and Administrators, inherited by every file and folder below.
const privateSDDL = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

func (sys) MkdirPrivate(dir string) (string, error) {
	sd, err := windows.SecurityDescriptorFromString(privateSDDL)
	if err != nil {
		return "", err
	}
	if err := createPrivate(dir, sd); err == nil {
		return "", nil
	} else if !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return "", &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	// It exists. Made by an administrator (an earlier run): reset the
	// permissions of everything in it, since a child may carry explicit
	// ACEs that the protected DACL above does not remove. Made by anyone
	// else, or a link to elsewhere: trust nothing in it.
	if trusted(dir) {
		err := resetTree(dir, sd)
		if err == nil {
			return "", nil
		}
	}
	aside := fmt.Sprintf("%s.untrusted-%d", dir, time.Now().Unix())
	// Not MOVEFILE_REPLACE_EXISTING: the folder moves aside, over nothing.
	from, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return "", err
	}
	to, err := windows.UTF16PtrFromString(aside)
	if err != nil {
		return "", err
	}
	if err := windows.MoveFileEx(from, to, windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return "", fmt.Errorf("%s was not made by an administrator, and moving it aside failed: %w", dir, err)
	}
	if err := createPrivate(dir, sd); err != nil {
		return "", &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return aside, nil
}

func createPrivate(dir string, sd *windows.SECURITY_DESCRIPTOR) error {
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	return windows.CreateDirectory(p, sa)
}

// trusted reports whether dir is a real folder (not a junction or link)
// owned by SYSTEM or the Administrators group.
func trusted(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode()&(os.ModeSymlink|os.ModeIrregular) != 0 {
		return false
	}
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return false
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return false
	}
	for _, w := range []windows.WELL_KNOWN_SID_TYPE{windows.WinBuiltinAdministratorsSid, windows.WinLocalSystemSid} {
		if sid, err := windows.CreateWellKnownSid(w); err == nil && owner.Equals(sid) {
			return true
		}
	}
	// Wine stores no owners: it shows every file as the user's own, and
	// all its processes are one Unix user anyway, with nothing to defend
	// against. On Windows this never applies: a file the same user made
	// unelevated is owned by the user, and is exactly what must not be
	// trusted.
	if underWine {
		if u, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil && owner.Equals(u.User.Sid) {
			return true
		}
	}
	return false
}

// underWine is true under Wine, whose ntdll exports wine_get_version
// (payload.WineExport; the legacy helper has the same rule).
var underWine = windows.NewLazySystemDLL("ntdll.dll").NewProc(payload.WineExport).Find() == nil

// resetTree gives dir and everything below it (links are not followed)
// the private owner and protected DACL.
func resetTree(dir string, sd *windows.SECURITY_DESCRIPTOR) error {
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		err = windows.SetNamedSecurityInfo(p, windows.SE_FILE_OBJECT,
			windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
			owner, nil, dacl, nil)
		if err != nil {
			return fmt.Errorf("setting the permissions of %s: %w", p, err)
		}
		return nil
	})
}

// BootTime is Windows' own record of when it started
// (SystemTimeOfDayInformation), exact within one boot; if that cannot be
// read, now minus the milliseconds since the start.
func (sys) BootTime() (time.Time, error) {
	var tod struct {
		BootTime, CurrentTime, TimeZoneBias int64
		TimeZoneID, Reserved                uint32
		BootTimeBias, SleepTimeBias         uint64
	}
	var n uint32
	const systemTimeOfDayInformation = 3
	if err := windows.NtQuerySystemInformation(systemTimeOfDayInformation, unsafe.Pointer(&tod), uint32(unsafe.Sizeof(tod)), &n); err == nil && tod.BootTime > 0 {
		ft := windows.Filetime{LowDateTime: uint32(tod.BootTime), HighDateTime: uint32(tod.BootTime >> 32)}
		return time.Unix(0, ft.Nanoseconds()), nil
	}
	lo, hi, _ := procGetTickCount64.Call()
	ms := uint64(lo)
	if unsafe.Sizeof(lo) == 4 { // a 64-bit result in EDX:EAX
		ms |= uint64(hi) << 32
	}
	return time.Now().Add(-time.Duration(ms) * time.Millisecond), nil
}

var procGetTickCount64 = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount64")

func (sys) WindowsDir() (string, error) { return windows.GetSystemWindowsDirectory() }

// openKey opens HKLM\..., HKCU\... in the given view.
func openKey(key string, view int, access uint32) (registry.Key, error) {
	hive, path, _ := strings.Cut(key, `\`)
	var root registry.Key
	switch strings.ToUpper(hive) {
	case "HKLM", "HKEY_LOCAL_MACHINE":
		root = registry.LOCAL_MACHINE
	case "HKCU", "HKEY_CURRENT_USER":
		root = registry.CURRENT_USER
	case "HKCR", "HKEY_CLASSES_ROOT":
		root = registry.CLASSES_ROOT
	case "HKU", "HKEY_USERS":
		root = registry.USERS
	default:
		return 0, fmt.Errorf("registry key %q: unknown hive %q", key, hive)
	}
	if view == 32 {
		access |= registry.WOW64_32KEY
	} else {
		access |= registry.WOW64_64KEY
	}
	k, err := registry.OpenKey(root, path, access)
	if errors.Is(err, registry.ErrNotExist) {
		return 0, engine.ErrNotFound
	}
	return k, err
}

func (sys) KeyExists(key string, view int) (bool, error) {
	k, err := openKey(key, view, registry.QUERY_VALUE)
	if errors.Is(err, engine.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	k.Close()
	return true, nil
}

func (sys) ReadRegistry(key, value string, view int) (engine.RegValue, error) {
	k, err := openKey(key, view, registry.QUERY_VALUE)
	if err != nil {
		return engine.RegValue{}, err
	}
	defer k.Close()
	if n, _, err := k.GetIntegerValue(value); err == nil {
		return engine.RegValue{String: fmt.Sprint(n), Num: n, IsNum: true, Numeric: true}, nil
	} else if errors.Is(err, registry.ErrNotExist) {
		return engine.RegValue{}, engine.ErrNotFound
	} else if !errors.Is(err, registry.ErrUnexpectedType) {
		return engine.RegValue{}, err
	}
	var s string
	if ss, _, err := k.GetStringsValue(value); err == nil {
		s = strings.Join(ss, "\n")
	} else if s, _, err = k.GetStringValue(value); err != nil {
		return engine.RegValue{}, err
	}
	v := engine.RegValue{String: s}
	var n uint64
	if _, err := fmt.Sscan(s, &n); err == nil && fmt.Sprint(n) == strings.TrimSpace(s) {
		v.Num, v.IsNum = n, true
	}
	return v, nil
}

func (sys) OSVersion() (engine.OSInfo, error) {
	v := windows.RtlGetVersion()
	info := engine.OSInfo{Major: v.MajorVersion, Minor: v.MinorVersion, Build: v.BuildNumber,
		ServicePack: windows.UTF16ToString(v.CsdVersion[:]), Arch: "x86"}
	switch runtime.GOARCH {
	case "amd64":
		info.Arch = "x64"
	case "arm64":
		info.Arch = "arm64"
	default:
		var wow bool
		if err := windows.IsWow64Process(windows.CurrentProcess(), &wow); err == nil && wow {
			info.Arch = "x64"
		}
	}
	return info, nil
}

func (sys) FileVersion(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", engine.ErrNotFound
		}
		return "", err
	}
	size, err := windows.GetFileVersionInfoSize(path, nil)
	if err != nil {
		return "", fmt.Errorf("no version resource: %w", err)
	}
	buf := make([]byte, size)
	if err := windows.GetFileVersionInfo(path, 0, size, unsafe.Pointer(&buf[0])); err != nil {
		return "", err
	}
	var fixed *windows.VS_FIXEDFILEINFO
	var n uint32
	if err := windows.VerQueryValue(unsafe.Pointer(&buf[0]), `\`, unsafe.Pointer(&fixed), &n); err != nil {
		return "", err
	}
	if n < uint32(unsafe.Sizeof(*fixed)) {
		return "", errors.New("short version resource")
	}
	return fmt.Sprintf("%d.%d.%d.%d", fixed.FileVersionMS>>16, fixed.FileVersionMS&0xffff,
		fixed.FileVersionLS>>16, fixed.FileVersionLS&0xffff), nil
}

func (sys) ExpandEnv(s string) string {
	out, err := registry.ExpandString(s)
	if err != nil {
		return s
	}
	return out
}

// PendingReboot reads the places Windows marks a restart as pending
// (A. Bertram's list).
func (s sys) PendingReboot() []string {
	var why []string
	sm := `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`
	for _, v := range []string{"PendingFileRenameOperations", "PendingFileRenameOperations2"} {
		if r, err := s.ReadRegistry(sm, v, 64); err == nil && strings.TrimSpace(r.String) != "" {
			why = append(why, "files wait to be replaced at restart ("+v+")")
		}
	}
	keys := map[string]string{
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`:  "Windows servicing (CBS) waits for a restart",
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`: "Windows Update waits for a restart",
	}
	for k, text := range keys {
		if ok, _ := s.KeyExists(k, 64); ok {
			why = append(why, text)
		}
	}
	if r, err := s.ReadRegistry(`HKLM\SOFTWARE\Microsoft\Updates`, "UpdateExeVolatile", 64); err == nil && r.IsNum && r.Num != 0 {
		why = append(why, "an update waits for a restart (UpdateExeVolatile)")
	}
	// A new computer name takes effect at the restart.
	cn := `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\`
	active, err1 := s.ReadRegistry(cn+"ActiveComputerName", "ComputerName", 64)
	next, err2 := s.ReadRegistry(cn+"ComputerName", "ComputerName", 64)
	if err1 == nil && err2 == nil && !strings.EqualFold(active.String, next.String) {
		why = append(why, "the computer is being renamed ("+active.String+" to "+next.String+")")
	}
	return why
}

// sharedFile is a file opened so that others may read it, and nothing
// else: no writing, renaming or deleting while the runner holds it.
func (sys) OpenShared(path string) (io.ReadCloser, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	// An antivirus scanner may hold a file it just saw being written for a
	// moment: retry sharing violations for up to about 30 seconds.
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ, nil,
			windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
		if err == nil {
			return os.NewFile(uintptr(h), path), nil
		}
		if !errors.Is(err, windows.ERROR_SHARING_VIOLATION) || time.Now().After(deadline) {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// LockFile opens path with no sharing at all: a second runner's open
// fails with a sharing violation while the first holds it. The file is
// deleted when the handle closes, even if the runner dies.
func (sys) LockFile(path string) (io.Closer, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
	if err != nil {
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// Exec starts the program suspended, puts it in a job object that kills
// every process in it when the runner closes the job (so a timeout also
// stops the installer's children), then lets it run, and waits for it and
// for every process it started. The command line is
// passed verbatim: Go's os/exec would quote the arguments again.
func (sys) Exec(ctx context.Context, spec engine.ExecSpec) (uint32, error) {
	app, err := windows.UTF16PtrFromString(spec.App)
	if err != nil {
		return 0, err
	}
	cmdline, err := windows.UTF16PtrFromString(spec.CmdLine)
	if err != nil {
		return 0, err
	}
	dir, err := windows.UTF16PtrFromString(spec.Dir)
	if err != nil {
		return 0, err
	}
	si := &windows.StartupInfo{Cb: uint32(unsafe.Sizeof(windows.StartupInfo{}))}
	var pi windows.ProcessInformation
	err = windows.CreateProcess(app, cmdline, nil, nil, false,
		windows.CREATE_SUSPENDED|windows.CREATE_UNICODE_ENVIRONMENT, nil, dir, si, &pi)
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(pi.Process)
	defer windows.CloseHandle(pi.Thread)
	job := newJob(pi.Process)
	if job != 0 {
		// Closing the last handle kills whatever still runs in the job.
		defer windows.CloseHandle(job)
	}
	spec.Started()
	if _, err := windows.ResumeThread(pi.Thread); err != nil {
		windows.TerminateProcess(pi.Process, 1)
		return 0, fmt.Errorf("resuming the process: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := windows.WaitForSingleObject(pi.Process, windows.INFINITE)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return 0, err
		}
	case <-ctx.Done():
		if job != 0 {
			windows.TerminateJobObject(job, 1)
		}
		windows.TerminateProcess(pi.Process, 1)
		<-done
		return 0, ctx.Err()
	}
	var code uint32
	if err := windows.GetExitCodeProcess(pi.Process, &code); err != nil {
		return 0, err
	}
	// A bootstrapper's exit is not the installation's end: the processes
	// it started go on. Closing the job would kill them, so wait, within
	// the step's timeout, until none is left.
	if job != 0 {
		for working(job) {
			select {
			case <-ctx.Done():
				windows.TerminateJobObject(job, 1)
				return 0, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		// What is left is a shell an installer restarted: it must outlive
		// the job.
		release(job)
	}
	return code, nil
}

// working reports whether a process of job other than explorer.exe runs.
// Installers of shell extensions restart explorer.exe (and under Wine the
// first window starts explorer.exe as the desktop): it never ends, and is
// not the installation's work.
func working(job windows.Handle) bool {
	var list struct {
		Assigned, InList uint32
		IDs              [256]uintptr
	}
	err := windows.QueryInformationJobObject(job, windows.JobObjectBasicProcessIdList,
		uintptr(unsafe.Pointer(&list)), uint32(unsafe.Sizeof(list)), nil)
	if err != nil {
		// more processes than the list holds (ERROR_MORE_DATA)
		return errors.Is(err, windows.ERROR_MORE_DATA)
	}
	for _, id := range list.IDs[:list.InList] {
		if !isShell(uint32(id)) {
			return true
		}
	}
	return false
}

func isShell(pid uint32) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false // it cannot be asked: count it as working
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return false
	}
	name := windows.UTF16ToString(buf[:n])
	return strings.EqualFold(name[strings.LastIndexByte(name, '\\')+1:], "explorer.exe")
}

// release lets the processes still in job live on when it is closed.
func release(job windows.Handle) {
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	_, _ = windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
}

// newJob returns a kill-on-close job holding process, or 0 when the system
// refuses (nested jobs before Windows 8): a timeout then kills the process
// alone.
func newJob(process windows.Handle) windows.Handle {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	_, err = windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	if err == nil {
		err = windows.AssignProcessToJobObject(job, process)
	}
	if err != nil {
		windows.CloseHandle(job)
		return 0
	}
	return job
}

const runOnceKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`

// SetRunOnce writes the machine-wide RunOnce entry in the 64-bit view,
// which Windows reads at the next logon of an administrator.
func (sys) SetRunOnce(name, command string) error {
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, runOnceKey, registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return fmt.Errorf("opening HKLM\\%s: %w", runOnceKey, err)
	}
	defer k.Close()
	if command == "" {
		if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return err
		}
		return nil
	}
	// RunOnce ignores commands longer than MAX_PATH.
	if len(command) >= windows.MAX_PATH {
		return fmt.Errorf("the command to continue is %d characters, more than RunOnce takes", len(command))
	}
	return k.SetStringValue(name, command)
}

// Reboot restarts the machine after a short delay that shows the reason.
func (sys) Reboot(reason string) error {
	if err := enablePrivilege("SeShutdownPrivilege"); err != nil {
		return err
	}
	msg, err := windows.UTF16PtrFromString(reason)
	if err != nil {
		return err
	}
	const planned = windows.SHTDN_REASON_MAJOR_APPLICATION | windows.SHTDN_REASON_MINOR_INSTALLATION | windows.SHTDN_REASON_FLAG_PLANNED
	return windows.InitiateSystemShutdownEx(nil, msg, 10, false, true, planned)
}

func enablePrivilege(name string) error {
	var token windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &token); err != nil {
		return err
	}
	defer token.Close()
	var luid windows.LUID
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return err
	}
	if err := windows.LookupPrivilegeValue(nil, n, &luid); err != nil {
		return err
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
	if err := windows.AdjustTokenPrivileges(token, false, &tp, 0, nil, nil); err != nil {
		return fmt.Errorf("enabling %s: %w", name, err)
	}
	return nil
}

var procSetConsoleTitleW = windows.NewLazySystemDLL("kernel32.dll").NewProc("SetConsoleTitleW")

// SetConsoleTitle shows s in the console window's title bar; without a
// console it does nothing.
func SetConsoleTitle(s string) {
	p, err := windows.UTF16PtrFromString(s)
	if err != nil {
		return
	}
	_, _, _ = procSetConsoleTitleW.Call(uintptr(unsafe.Pointer(p)))
}
