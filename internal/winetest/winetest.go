// Package winetest runs Windows programs under Wine in tests: it finds
// Wine, makes a template prefix once per test binary (with the
// bcryptprimitives.dll shim that Go 1.22+ programs need on Wine before
// 8.13), gives each test its own copy, and offers the Windows chores tests
// need: run a program, set the Windows version, read and write the
// registry, simulate a restart, build Go programs for Windows.
//
// Tests that use it call Main from TestMain, so the template is removed at
// the end:
//
//	func TestMain(m *testing.M) { winetest.Main(m) }
//
//	func TestX(t *testing.T) {
//		p := winetest.Get(t).NewPrefix(t) // skips when Wine is missing
//		r := p.Run(exe, "arg")
//		...
//	}
//
// Without Wine the tests skip, unless FIXSTICK_REQUIRE_WINE=1 (CI), which
// makes them fail instead.
//
// Wine passes only the low 8 bits of a Windows exit code to Linux (1603
// arrives as 67): read results from files the program writes, not from
// Result.Status. And Wine re-quotes the arguments of `wine prog args`:
// hand a command line to a program through a file or the registry.
package winetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv names the variable that turns a missing Wine into a failure.
const RequireEnv = "FIXSTICK_REQUIRE_WINE"

// CommandTimeout bounds every Wine command a test runs: a hung Wine must
// fail the test, not stall it until the go test deadline.
var CommandTimeout = 3 * time.Minute

// Wine is an installed Wine with a ready template prefix.
type Wine struct {
	Wine   string // the wine loader (wine64 when present)
	Server string // wineserver
	root   string // this test binary's temp folder
	tmpl   string // the template prefix
}

var (
	mu      sync.Mutex
	shared  *Wine
	initErr error
	tried   bool
)

// Main runs the tests and removes the template prefix afterwards.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if shared != nil {
		_ = os.RemoveAll(shared.root)
	}
	mu.Unlock()
	if helperBuild.dir != "" {
		_ = os.RemoveAll(helperBuild.dir)
	}
	os.Exit(code)
}

// Get returns Wine with its template prefix, made on first use. When Wine
// is missing it skips the test, or fails it when FIXSTICK_REQUIRE_WINE=1.
func Get(t testing.TB) *Wine {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !tried {
		tried = true
		shared, initErr = setup()
	}
	if initErr != nil {
		if errors.Is(initErr, errNoWine) && os.Getenv(RequireEnv) != "1" {
			t.Skipf("%v (set %s=1 to make this a failure)", initErr, RequireEnv)
		}
		t.Fatalf("winetest: %v", initErr)
	}
	return shared
}

var errNoWine = errors.New("wine is not installed")

// find locates wine and wineserver. FIXSTICK_WINE may name the loader.
func find() (wine, server string, err error) {
	for _, c := range []string{os.Getenv("FIXSTICK_WINE"), "wine64", "/usr/lib/wine/wine64", "wine"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			wine = p
			break
		}
	}
	for _, c := range []string{"wineserver", "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver"} {
		if p, err := exec.LookPath(c); err == nil {
			server = p
			break
		}
	}
	if wine == "" || server == "" {
		return "", "", errNoWine
	}
	return wine, server, nil
}

func setup() (*Wine, error) {
	wine, server, err := find()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "fixstick-winetest-")
	if err != nil {
		return nil, err
	}
	w := &Wine{Wine: wine, Server: server, root: root, tmpl: filepath.Join(root, "template")}
	if err := w.makeTemplate(); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("making the template prefix: %w", err)
	}
	return w, nil
}

// Scratch returns a folder that lasts as long as the test binary (Main
// removes it), for things built once and shared by tests.
func (w *Wine) Scratch(name string) string {
	dir := filepath.Join(w.root, "scratch", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	return dir
}

// env is the environment Wine runs with for a prefix: no Mono or Gecko
// setup (saves seconds per prefix and is never needed), no debug noise,
// and TMPDIR inside the test's folder, where Wine puts its server socket.
func env(prefix, tmp string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES", "TMPDIR", "DISPLAY", "WAYLAND_DISPLAY", "WINEARCH":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=", "TMPDIR="+tmp)
	return append(out, extra...)
}

func (w *Wine) makeTemplate() error {
	tmp := filepath.Join(w.root, "tmp-template")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	e := env(w.tmpl, tmp)
	if out, err := runCmd(e, w.Wine, "wineboot", "--init"); err != nil {
		return fmt.Errorf("wineboot --init: %v\n%s", err, out)
	}
	dll := filepath.Join(w.tmpl, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if _, err := os.Stat(dll); errors.Is(err, fs.ErrNotExist) {
		if err := BuildShim(dll, filepath.Join(w.root, "shim")); err != nil {
			return err
		}
	}
	// Stop the server so the registry is saved to the template's files.
	if out, err := runCmd(e, w.Server, "-k"); err != nil && !isExit(err) {
		return fmt.Errorf("wineserver -k: %v\n%s", err, out)
	}
	if out, err := runCmd(e, w.Server, "-w"); err != nil && !isExit(err) {
		return fmt.Errorf("wineserver -w: %v\n%s", err, out)
	}
	return nil
}

func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// BuildShim writes a bcryptprimitives.dll that forwards ProcessPrng to
// advapi32.SystemFunction036 (RtlGenRandom): Go 1.22+ programs need
// ProcessPrng, which Wine has only since 8.13. It is built with
// binutils-mingw-w64-x86-64 (as, ld) in work, a scratch folder. Go loads
// it from system32 only, so that is where it must go.
func BuildShim(dll, work string) error {
	as, err := exec.LookPath("x86_64-w64-mingw32-as")
	if err != nil {
		return fmt.Errorf("building the bcryptprimitives.dll shim needs binutils-mingw-w64-x86-64: %w", err)
	}
	ld, err := exec.LookPath("x86_64-w64-mingw32-ld")
	if err != nil {
		return fmt.Errorf("building the bcryptprimitives.dll shim needs binutils-mingw-w64-x86-64: %w", err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	def := filepath.Join(work, "bp.def")
	src := filepath.Join(work, "empty.s")
	obj := filepath.Join(work, "empty.o")
	if err := os.WriteFile(def, []byte("LIBRARY bcryptprimitives.dll\nEXPORTS\n    ProcessPrng = advapi32.SystemFunction036\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(src, nil, 0o644); err != nil {
		return err
	}
	if out, err := exec.Command(as, "-o", obj, src).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", as, err, out)
	}
	if out, err := exec.Command(ld, "--dll", "--entry=0", "--no-insert-timestamp", "-o", dll, obj, def).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", ld, err, out)
	}
	return nil
}

func runCmd(env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	// A wineserver started on the way inherits the output pipes and
	// outlives the command: do not wait for it to close them.
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out, err
}

// Prefix is one test's Wine prefix, a copy of the template, with its own
// persistent wineserver (started here, killed at the test's end).
type Prefix struct {
	Dir string // WINEPREFIX
	Tmp string // TMPDIR for Wine
	w   *Wine
	t   testing.TB
}

// NewPrefix copies the template for t and starts its wineserver. The copy
// hard-links the files under C:\windows (687 MB that tests never change in
// place) and copies the rest, so it takes well under a second.
func (w *Wine) NewPrefix(t testing.TB) *Prefix {
	t.Helper()
	base := t.TempDir()
	p := &Prefix{Dir: filepath.Join(base, "prefix"), Tmp: filepath.Join(base, "tmp"), w: w, t: t}
	if err := os.MkdirAll(p.Tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := copyPrefix(w.tmpl, p.Dir); err != nil {
		t.Fatalf("copying the template prefix: %v", err)
	}
	p.startServer()
	t.Cleanup(p.Stop)
	return p
}

func (p *Prefix) startServer() {
	p.t.Helper()
	// wineserver -p detaches and stays until -k; its output goes nowhere,
	// so that nothing waits for it to close a pipe.
	cmd := exec.Command(p.w.Server, "-p")
	cmd.Env = p.Environ()
	if err := cmd.Run(); err != nil {
		p.t.Fatalf("wineserver -p: %v", err)
	}
}

// Stop kills every process of the prefix and its wineserver, and waits for
// them to end.
func (p *Prefix) Stop() {
	_, _ = runCmd(p.Environ(), p.w.Server, "-k")
	_, _ = runCmd(p.Environ(), p.w.Server, "-w")
}

// copyPrefix copies src to dst: directories are made, symbolic links
// recreated, files under drive_c/windows hard-linked, other files copied.
func copyPrefix(src, dst string) error {
	windir := filepath.Join(src, "drive_c", "windows") + string(filepath.Separator)
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case strings.HasPrefix(path, windir):
			return os.Link(path, to)
		}
		return copyFile(path, to, info)
	})
}

func copyFile(from, to string, info fs.FileInfo) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// wine compares .update-timestamp with its own files' times.
	return os.Chtimes(to, info.ModTime(), info.ModTime())
}

// Environ is the environment for running Wine in this prefix, plus extra
// KEY=VALUE entries.
func (p *Prefix) Environ(extra ...string) []string { return env(p.Dir, p.Tmp, extra...) }

// Result is what a finished Wine command left.
type Result struct {
	Stdout, Stderr string
	// Status is the Linux exit status: only the low 8 bits of the Windows
	// exit code.
	Status int
}

// Command returns `wine program args...` for this prefix.
func (p *Prefix) Command(ctx context.Context, program string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.w.Wine, append([]string{program}, args...)...)
	cmd.Env = p.Environ()
	// Wine's helper processes may inherit the output pipes and outlive
	// the program: do not wait for them to close them.
	cmd.WaitDelay = time.Second
	return cmd
}

// Run runs `wine program args...` and waits, within CommandTimeout. It
// fails the test only when the program cannot be run at all.
func (p *Prefix) Run(program string, args ...string) Result {
	p.t.Helper()
	return p.RunEnv(nil, program, args...)
}

// RunEnv is Run with extra environment entries.
func (p *Prefix) RunEnv(extra []string, program string, args ...string) Result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := p.Command(ctx, program, args...)
	cmd.Env = append(cmd.Env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		p.t.Fatalf("wine %s %q: still running after %s\nstdout:\n%s\nstderr:\n%s", program, args, CommandTimeout, r.Stdout, r.Stderr)
	case errors.As(err, &ee):
		r.Status = ee.ExitCode()
	case err != nil:
		p.t.Fatalf("wine %s: %v", program, err)
	}
	return r
}

// C returns the host path of C:\ followed by the elements given.
func (p *Prefix) C(elem ...string) string {
	return filepath.Join(append([]string{p.Dir, "drive_c"}, elem...)...)
}

// HostPath maps an absolute Windows path to the host, through the
// prefix's drive links (C: is drive_c, Z: is /, others from MapDrive).
func (p *Prefix) HostPath(win string) string {
	p.t.Helper()
	drive, rest, ok := strings.Cut(win, `:\`)
	if !ok || len(drive) != 1 {
		p.t.Fatalf("HostPath(%q): not an absolute Windows path", win)
	}
	dd := filepath.Join(p.Dir, "dosdevices")
	target, err := os.Readlink(filepath.Join(dd, strings.ToLower(drive)+":"))
	if err != nil {
		p.t.Fatalf("HostPath(%q): drive %s: is not mapped", win, drive)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(dd, target)
	}
	return filepath.Join(target, filepath.FromSlash(strings.ReplaceAll(rest, `\`, "/")))
}

// WinPath maps a host path to Windows: C:\... inside drive_c, else Z:\....
func (p *Prefix) WinPath(host string) string {
	abs, err := filepath.Abs(host)
	if err != nil {
		p.t.Fatal(err)
	}
	if rel, err := filepath.Rel(filepath.Join(p.Dir, "drive_c"), abs); err == nil && !strings.HasPrefix(rel, "..") {
		if rel == "." {
			return `C:\`
		}
		return `C:\` + strings.ReplaceAll(rel, "/", `\`)
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// MapDrive makes hostDir appear as drive letter (a USB stick, say) in the
// prefix, as Wine's dosdevices symlink does.
func (p *Prefix) MapDrive(letter, hostDir string) {
	p.t.Helper()
	abs, err := filepath.Abs(hostDir)
	if err != nil {
		p.t.Fatal(err)
	}
	link := filepath.Join(p.Dir, "dosdevices", strings.ToLower(letter)+":")
	_ = os.Remove(link)
	if err := os.Symlink(abs, link); err != nil {
		p.t.Fatal(err)
	}
}

// SetWindowsVersion makes the prefix report a Windows version: "win10",
// "win81", "win7", "winxp64", ... (winecfg /v: both RtlGetVersion and the
// CurrentVersion registry values change). Wine 8.0 does not know "win11";
// 64-bit Wine has no "winxp" (the legacy tests' xpPrefix makes one from
// winxp64 and the registry's version values).
func (p *Prefix) SetWindowsVersion(v string) {
	p.t.Helper()
	if r := p.Run("winecfg", "/v", v); r.Status != 0 {
		p.t.Fatalf("winecfg /v %s: status %d\n%s", v, r.Status, r.Stderr)
	}
}

func viewFlag(view int) []string {
	switch view {
	case 32:
		return []string{"/reg:32"}
	case 64:
		return []string{"/reg:64"}
	}
	return nil
}

// RegAdd writes a registry value with `wine reg add` (typ: REG_SZ,
// REG_DWORD, ...; view 32 or 64, 0 for the default).
func (p *Prefix) RegAdd(key, value, typ, data string, view int) {
	p.t.Helper()
	args := append([]string{"add", key, "/v", value, "/t", typ, "/d", data, "/f"}, viewFlag(view)...)
	if r := p.Run("reg", args...); r.Status != 0 {
		p.t.Fatalf("reg add %s\\%s: status %d\n%s%s", key, value, r.Status, r.Stdout, r.Stderr)
	}
}

// RegDelete deletes a value, or the whole key when value is "".
func (p *Prefix) RegDelete(key, value string, view int) {
	p.t.Helper()
	args := []string{"delete", key, "/f"}
	if value != "" {
		args = []string{"delete", key, "/v", value, "/f"}
	}
	p.Run("reg", append(args, viewFlag(view)...)...)
}

// RegQuery reads a value with `wine reg query`: its data as reg prints it
// (a DWORD as 0x...), and whether it exists.
func (p *Prefix) RegQuery(key, value string, view int) (string, bool) {
	p.t.Helper()
	args := append([]string{"query", key, "/v", value}, viewFlag(view)...)
	r := p.Run("reg", args...)
	if r.Status != 0 {
		return "", false
	}
	for _, line := range strings.Split(strings.ReplaceAll(r.Stdout, "\r", ""), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], value) && strings.HasPrefix(f[1], "REG_") {
			// the data is what follows the type, spaces kept
			_, data, _ := strings.Cut(line, f[1])
			return strings.TrimSpace(data), true
		}
	}
	return "", false
}

// PowerCut kills every process of the prefix at once, as a power cut
// would (no RunOnce is run), and starts its persistent server again.
func (p *Prefix) PowerCut() {
	p.t.Helper()
	p.Stop()
	p.startServer()
}

// Reboot simulates a restart: every Wine process is killed (as a real
// restart would), then `wineboot -r` runs the machine-wide RunOnce entries
// and waits for them; the prefix's persistent server is started again.
func (p *Prefix) Reboot() Result {
	p.t.Helper()
	p.Stop()
	r := p.Run("wineboot", "-r")
	// wineboot returns when its RunOnce commands have ended, but the
	// first process of a new server may start a wineboot of its own, and
	// under load that one can be the one that takes the RunOnce entry:
	// killing the prefix now would kill the resumed run half-way. Wait
	// instead for every process to end (the server started on the way is
	// not persistent: it exits a few seconds after its last client), then
	// stop what is left so the next command finds a persistent server.
	_, _ = runCmd(p.Environ(), p.w.Server, "-w")
	p.Stop()
	p.startServer()
	return r
}
