package winsys

// These tests run on Windows, and on Linux under Wine through
// wine_test.go (which cross-compiles them with go test -c).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"fixstick/runner/internal/engine"
)

// childEnv makes the test binary act as a child program for Exec tests.
const childEnv = "WINSYS_TEST_CHILD"

func TestMain(m *testing.M) {
	mode := os.Getenv(childEnv)
	switch {
	case mode == "":
		os.Exit(m.Run())
	case mode == "hang":
		time.Sleep(time.Hour)
	case strings.HasPrefix(mode, "late:"): // late:FILE: wait, then write FILE
		time.Sleep(lateDelay)
		os.WriteFile(strings.TrimPrefix(mode, "late:"), []byte("late"), 0o644)
		os.Exit(0)
	case strings.HasPrefix(mode, "spawn:"), strings.HasPrefix(mode, "spawnhang:"):
		// a bootstrapper: start a child that writes FILE later, then
		// exit at once (spawn) or hang (spawnhang)
		kind, file, _ := strings.Cut(mode, ":")
		self, _ := os.Executable()
		c := exec.Command(self)
		c.Env = append(os.Environ(), childEnv+"=late:"+file)
		if err := c.Start(); err != nil {
			os.Exit(2)
		}
		if kind == "spawnhang" {
			time.Sleep(time.Hour)
		}
		os.Exit(0)
	default: // record the raw command line into the named file, exit 3010
		line := windows.UTF16PtrToString(windows.GetCommandLine())
		if err := os.WriteFile(os.Getenv(childEnv), []byte(line), 0o644); err != nil {
			os.Exit(1)
		}
		os.Exit(3010)
	}
}

// lateDelay is how long a "late" child waits before it writes its file.
const lateDelay = 3 * time.Second

const testKey = `SOFTWARE\FixstickWinsysTest`

// underWine (winsys_windows.go): Wine keeps no DACLs of its own (it shows
// one made from the Unix permissions), and Go 1.26's os.RemoveAll fails
// there ("Invalid function": Wine 8 lacks FileDispositionInformationEx),
// which t.TempDir's cleanup uses.

// tempDir is t.TempDir that tolerates Wine: the prefix goes away with the
// Linux test anyway.
func tempDir(t *testing.T) string {
	if !underWine {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "winsys-test-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRegistryViews(t *testing.T) {
	s := sys{}
	k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, testKey, registry.ALL_ACCESS|registry.WOW64_32KEY)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { registry.DeleteKey(registry.LOCAL_MACHINE, testKey) })
	k.SetDWordValue("D", 394802)
	k.SetStringValue("S", "1")
	k.SetStringValue("T", "text")
	k.Close()

	v, err := s.ReadRegistry(`HKLM\`+testKey, "D", 32)
	if err != nil || !v.Numeric || v.Num != 394802 {
		t.Errorf("DWORD in the 32-bit view: %+v, %v", v, err)
	}
	if _, err := s.ReadRegistry(`HKLM\`+testKey, "D", 64); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the 64-bit view sees the 32-bit value: %v", err)
	}
	if v, _ := s.ReadRegistry(`HKEY_LOCAL_MACHINE\`+testKey, "S", 32); v.Numeric || !v.IsNum || v.Num != 1 || v.String != "1" {
		t.Errorf("REG_SZ 1: %+v", v)
	}
	if v, _ := s.ReadRegistry(`HKLM\`+testKey, "T", 32); v.IsNum || v.String != "text" {
		t.Errorf("REG_SZ text: %+v", v)
	}
	if _, err := s.ReadRegistry(`HKLM\`+testKey, "missing", 32); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("missing value: %v", err)
	}
	if ok, err := s.KeyExists(`HKLM\`+testKey, 32); !ok || err != nil {
		t.Errorf("KeyExists 32: %v %v", ok, err)
	}
	if ok, _ := s.KeyExists(`HKLM\`+testKey, 64); ok {
		t.Errorf("KeyExists 64: the key is only in the 32-bit view")
	}
	if _, err := s.ReadRegistry(`HKXX\`+testKey, "D", 32); err == nil || !strings.Contains(err.Error(), "unknown hive") {
		t.Errorf("bad hive: %v", err)
	}
}

func TestMkdirPrivate(t *testing.T) {
	dir := filepath.Join(tempDir(t), "private")
	for i := 0; i < 2; i++ { // create, then take over an existing folder
		if aside, err := (sys{}).MkdirPrivate(dir); err != nil || aside != "" {
			t.Fatalf("run %d: moved aside %q, %v", i, aside, err)
		}
		if i == 0 {
			// a child that carries explicit ACEs of its own
			child := filepath.Join(dir, "b")
			if err := os.Mkdir(child, 0o755); err != nil {
				t.Fatal(err)
			}
			if !underWine {
				everyone, err := windows.SecurityDescriptorFromString("D:(A;OICI;FA;;;WD)")
				if err != nil {
					t.Fatal(err)
				}
				dacl, _, _ := everyone.DACL()
				if err := windows.SetNamedSecurityInfo(child, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if underWine {
		t.Log("Wine keeps no DACLs: only the calls are checked")
		return
	}
	for _, d := range []string{dir, filepath.Join(dir, "b")} {
		sd, err := windows.GetNamedSecurityInfo(d, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION|windows.OWNER_SECURITY_INFORMATION)
		if err != nil {
			t.Fatal(err)
		}
		sddl := sd.String()
		// Protected (nothing inherited), full control for SYSTEM and
		// Administrators only, inherited below; owner Administrators.
		if !strings.Contains(sddl, "O:BA") || !strings.Contains(sddl, "D:P") || strings.Count(sddl, "(A;") != 2 ||
			!strings.Contains(sddl, ";;;SY)") || !strings.Contains(sddl, ";;;BA)") || !strings.Contains(sddl, "OICI") || strings.Contains(sddl, ";;;WD)") {
			t.Errorf("%s: security descriptor %s", d, sddl)
		}
	}
}

// A folder under ProgramData that someone else made first is not taken
// over: it is moved aside, and a new one made.
func TestMkdirPrivateUntrusted(t *testing.T) {
	dir := filepath.Join(tempDir(t), "private")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal.json"), []byte("planted"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := enablePrivilege("SeRestorePrivilege"); err != nil {
		t.Fatal(err)
	}
	users, err := windows.CreateWellKnownSid(windows.WinBuiltinUsersSid)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION, users, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if trusted(dir) {
		t.Skip("this system does not keep a folder's owner (Wine without extended attributes)")
	}
	aside, err := (sys{}).MkdirPrivate(dir)
	if err != nil || !strings.HasPrefix(aside, dir+".untrusted-") {
		t.Fatalf("moved aside %q, %v", aside, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal.json")); !os.IsNotExist(err) {
		t.Errorf("the planted journal is still in the private folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(aside, "journal.json")); err != nil {
		t.Errorf("the folder was not moved aside: %v", err)
	}
}

func TestBootTime(t *testing.T) {
	a, err := (sys{}).BootTime()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	b, _ := (sys{}).BootTime()
	if d := b.Sub(a); d > 100*time.Millisecond || d < -100*time.Millisecond || a.After(time.Now()) || time.Since(a) > 10*365*24*time.Hour {
		t.Errorf("boot time %s, then %s", a, b)
	}
}

func TestFileVersionAndOS(t *testing.T) {
	s := sys{}
	win, err := s.WindowsDir()
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.FileVersion(filepath.Join(win, "System32", "kernel32.dll"))
	if err != nil || strings.Count(v, ".") != 3 {
		t.Errorf("kernel32.dll version %q, %v", v, err)
	}
	if _, err := s.FileVersion(filepath.Join(win, "no-such.dll")); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	if got := s.ExpandEnv(`%SystemRoot%\x`); !strings.EqualFold(got, win+`\x`) {
		t.Errorf("ExpandEnv: %q", got)
	}
	info, err := s.OSVersion()
	if err != nil || info.Major < 6 || info.Arch != "x64" && info.Arch != "x86" && info.Arch != "arm64" {
		t.Errorf("OS %+v %v", info, err)
	}
	if want := os.Getenv("WINSYS_WANT_OS"); want != "" {
		if got := fmt.Sprintf("%d.%d", info.Major, info.Minor); got != want {
			t.Errorf("RtlGetVersion %s, want %s", got, want)
		}
	}
	if ok, err := s.Elevated(); err != nil || !ok && os.Getenv("WINSYS_WANT_ELEVATED") == "1" {
		t.Errorf("elevated %v %v", ok, err)
	}
}

func TestOpenSharedLocksOutWriters(t *testing.T) {
	name := filepath.Join(tempDir(t), "payload.exe")
	if err := os.WriteFile(name, []byte("MZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := (sys{}).OpenShared(name)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := os.OpenFile(name, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Errorf("a writer opened the file while it was held")
	}
	if r, err := os.Open(name); err != nil {
		t.Errorf("a reader could not open the file: %v", err)
	} else {
		r.Close()
	}
	h.Close()
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Errorf("a writer after the handle closed: %v", err)
	} else {
		f.Close()
	}
}

func TestExecVerbatimAndTimeout(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tempDir(t), "cmdline.txt")
	t.Setenv(childEnv, out)
	work := tempDir(t)
	cmdline := `"` + self + `" /q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`
	started := false
	code, err := (sys{}).Exec(context.Background(), engine.ExecSpec{App: self, CmdLine: cmdline, Dir: work, Started: func() { started = true }})
	if err != nil || code != 3010 || !started {
		t.Fatalf("exit %d, err %v, started %v", code, err, started)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != cmdline {
		t.Errorf("command line\n got %s\nwant %s", got, cmdline)
	}

	t.Setenv(childEnv, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	begin := time.Now()
	_, err = (sys{}).Exec(ctx, engine.ExecSpec{App: self, CmdLine: `"` + self + `"`, Dir: work, Started: func() {}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > time.Minute {
		t.Errorf("hung child: err %v after %s", err, time.Since(begin))
	}
}

// A bootstrapper exits while the installer it started still works: Exec
// waits for every process of the job, not for the first one alone.
func TestExecWaitsForChildren(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tempDir(t), "late.txt")
	t.Setenv(childEnv, "spawn:"+out)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, err := (sys{}).Exec(ctx, engine.ExecSpec{App: self, CmdLine: `"` + self + `"`, Dir: tempDir(t), Started: func() {}})
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("Exec returned before the child's child ended: %v", err)
	}
}

// A timeout ends the hung program and every process it started: the
// child that would write a file later never does.
func TestExecTimeoutKillsChildren(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tempDir(t), "late.txt")
	t.Setenv(childEnv, "spawnhang:"+out)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = (sys{}).Exec(ctx, engine.ExecSpec{App: self, CmdLine: `"` + self + `"`, Dir: tempDir(t), Started: func() {}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	time.Sleep(lateDelay + 2*time.Second)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a child of the hung program lived on and wrote its file: %v", err)
	}
}

func TestRunOnceAndPendingReboot(t *testing.T) {
	s := sys{}
	const name = "fixstick-winsys-test"
	if err := s.SetRunOnce(name, `"C:\x\runner.exe" run`); err != nil {
		t.Fatal(err)
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, runOnceKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := k.GetStringValue(name)
	k.Close()
	if err != nil || v != `"C:\x\runner.exe" run` {
		t.Errorf("RunOnce value %q %v", v, err)
	}
	if err := s.SetRunOnce(name, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRunOnce(name, ""); err != nil {
		t.Errorf("removing a missing entry: %v", err)
	}
	if err := s.SetRunOnce(name, strings.Repeat("x", 300)); err == nil {
		t.Errorf("a 300-character command was accepted")
	}

	// PendingFileRenameOperations: only where this machine has none (the
	// test must not disturb a real pending restart).
	sm := `SYSTEM\CurrentControlSet\Control\Session Manager`
	k, err = registry.OpenKey(registry.LOCAL_MACHINE, sm, registry.ALL_ACCESS|registry.WOW64_64KEY)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, _, err := k.GetStringsValue("PendingFileRenameOperations"); err == nil {
		t.Skip("this machine has a pending restart")
	}
	before := s.PendingReboot()
	if underWine && len(before) != 0 {
		t.Errorf("a fresh Wine prefix has a pending restart: %v", before)
	}
	if err := k.SetStringsValue("PendingFileRenameOperations", []string{`\??\C:\x.tmp`}); err != nil {
		t.Fatal(err)
	}
	after := s.PendingReboot()
	k.DeleteValue("PendingFileRenameOperations")
	if len(after) != len(before)+1 || !strings.Contains(strings.Join(after, ";"), "PendingFileRenameOperations") {
		t.Errorf("pending restart: before %v, after %v", before, after)
	}
}

func TestLockFile(t *testing.T) {
	name := filepath.Join(tempDir(t), "run.lock")
	l, err := (sys{}).LockFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := (sys{}).LockFile(name); err == nil {
		l2.Close()
		t.Errorf("a second lock succeeded")
	}
	l.Close()
	l2, err := (sys{}).LockFile(name)
	if err != nil {
		t.Errorf("lock after release: %v", err)
	} else {
		l2.Close()
	}
}
