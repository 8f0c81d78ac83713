package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fixstick/payload"
)

// fakeSys is a machine for the engine: a registry in a map, programs that
// are Go functions, a clock that does not wait.
type fakeSys struct {
	mu        sync.Mutex
	root      string
	elevated  bool
	reg       map[string]RegValue // view|KEY|value (key upper-cased)
	keys      map[string]bool     // view|KEY
	osInfo    OSInfo
	files     map[string]string // path -> version
	pending   []string
	runOnce   map[string]string
	reboots   int
	programs  map[string]func(ctx context.Context, spec ExecSpec) (uint32, error) // by base name
	runs      map[string]int                                                      // base name -> times started
	cmdlines  []string
	dirs      []string
	privDirs  []string
	locked    map[string]bool
	heldOpen  bool // a file is held by OpenShared while the program starts
	startedOK bool // Started was called before the program ran
	heldRun   bool // the file was still held while the program ran
	boot      time.Time
	untrusted map[string]bool // folders MkdirPrivate finds made by someone else
}

func newFakeSys(t *testing.T) *fakeSys {
	return &fakeSys{
		root:     t.TempDir(),
		elevated: true,
		reg:      map[string]RegValue{},
		keys:     map[string]bool{},
		osInfo:   OSInfo{Major: 10, Minor: 0, Build: 19045, Arch: "x64"},
		files:    map[string]string{},
		runOnce:  map[string]string{},
		programs: map[string]func(context.Context, ExecSpec) (uint32, error){},
		runs:     map[string]int{},
		boot:     time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC),
	}
}

func (f *fakeSys) setReg(view int, key, value string, v RegValue) {
	f.reg[regKey(view, key, value)] = v
	f.keys[regKey(view, key, "")] = true
}

func regKey(view int, key, value string) string {
	return string(rune('0'+view/32)) + "|" + strings.ToUpper(key) + "|" + strings.ToUpper(value)
}

func (f *fakeSys) Elevated() (bool, error) { return f.elevated, nil }
func (f *fakeSys) ComputerName() string    { return "PC-17" }
func (f *fakeSys) PrivateRoot() (string, error) {
	return filepath.Join(f.root, "ProgramData", "fixstick"), nil
}
func (f *fakeSys) WindowsDir() (string, error) { return `C:\Windows`, nil }
func (f *fakeSys) ExpandEnv(s string) string {
	return strings.ReplaceAll(s, "%SystemRoot%", `C:\Windows`)
}
func (f *fakeSys) PendingReboot() []string    { return f.pending }
func (f *fakeSys) OSVersion() (OSInfo, error) { return f.osInfo, nil }
func (f *fakeSys) Reboot(string) error        { f.reboots++; return nil }
func (f *fakeSys) KeyExists(k string, view int) (bool, error) {
	return f.keys[regKey(view, k, "")], nil
}

func (f *fakeSys) MkdirPrivate(dir string) (string, error) {
	f.privDirs = append(f.privDirs, dir)
	if f.untrusted[dir] {
		delete(f.untrusted, dir)
		aside := dir + ".untrusted"
		if err := os.Rename(dir, aside); err != nil {
			return "", err
		}
		return aside, os.MkdirAll(dir, 0o700)
	}
	return "", os.MkdirAll(dir, 0o700)
}

// BootTime is boot; restart moves it on, as a restart of Windows does.
func (f *fakeSys) BootTime() (time.Time, error) { return f.boot, nil }

func (f *fakeSys) restart() { f.boot = f.boot.Add(time.Hour) }

func (f *fakeSys) ReadRegistry(key, value string, view int) (RegValue, error) {
	v, ok := f.reg[regKey(view, key, value)]
	if !ok {
		return RegValue{}, ErrNotFound
	}
	return v, nil
}

func (f *fakeSys) FileVersion(p string) (string, error) {
	v, ok := f.files[p]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

type heldFile struct {
	*os.File
	f *fakeSys
}

func (h heldFile) Close() error {
	h.f.heldOpen = false
	return h.File.Close()
}

func (f *fakeSys) OpenShared(p string) (io.ReadCloser, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	f.heldOpen = true
	return heldFile{fh, f}, nil
}

// LockFile fails while the fake holds the path.
func (f *fakeSys) LockFile(p string) (io.Closer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locked == nil {
		f.locked = map[string]bool{}
	}
	if f.locked[p] {
		return nil, errors.New("sharing violation")
	}
	f.locked[p] = true
	return closerFunc(func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.locked, p)
		return nil
	}), nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

func (f *fakeSys) Exec(ctx context.Context, spec ExecSpec) (uint32, error) {
	if !filepath.IsAbs(spec.App) && !strings.HasPrefix(spec.App, `C:\`) {
		panic("relative program " + spec.App)
	}
	wasHeld := f.heldOpen
	spec.Started()
	base := path.Base(strings.ReplaceAll(spec.App, `\`, "/"))
	f.heldRun = f.heldOpen
	if base == "msiexec.exe" || base == "wusa.exe" {
		// the package is the first quoted path after the program
		parts := strings.Split(spec.CmdLine, `"`)
		base = path.Base(filepath.ToSlash(parts[3]))
	} else {
		f.startedOK = wasHeld && !f.heldOpen
	}
	f.mu.Lock()
	f.runs[base]++
	f.cmdlines = append(f.cmdlines, spec.CmdLine)
	f.dirs = append(f.dirs, spec.Dir)
	prog := f.programs[base]
	f.mu.Unlock()
	if prog == nil {
		return 0, nil
	}
	return prog(ctx, spec)
}

func (f *fakeSys) SetRunOnce(name, command string) error {
	if command == "" {
		delete(f.runOnce, name)
	} else {
		f.runOnce[name] = command
	}
	return nil
}

func exitWith(code uint32) func(context.Context, ExecSpec) (uint32, error) {
	return func(context.Context, ExecSpec) (uint32, error) { return code, nil }
}

// fakeClock moves on by the time asked, without waiting.
type fakeClock struct {
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

// bundleFile is a file to put in a test bundle.
type bundleFile struct {
	path    string
	content string
}

// oneStepBundle is a bundle of one program, one.exe.
func oneStepBundle(t *testing.T) string {
	t.Helper()
	return writeBundle(t, []payload.LockStep{exeStep("one", "payloads/one/one.exe")}, bundleFile{"payloads/one/one.exe", "1"})
}

// twoStepBundle is a bundle of two programs, one.exe then two.exe.
func twoStepBundle(t *testing.T) string {
	t.Helper()
	steps := []payload.LockStep{exeStep("one", "payloads/one/one.exe"), exeStep("two", "payloads/two/two.exe")}
	return writeBundle(t, steps, bundleFile{"payloads/one/one.exe", "1"}, bundleFile{"payloads/two/two.exe", "2"})
}

// writeBundle writes files and a lock listing them, with the given steps.
func writeBundle(t *testing.T, steps []payload.LockStep, files ...bundleFile) string {
	t.Helper()
	return writeLockBundle(t, payload.Lock{Steps: steps}, files...)
}

// writeLockBundle writes files and a lock listing them; l gives the steps,
// and requires and goal.
func writeLockBundle(t *testing.T, l payload.Lock, files ...bundleFile) string {
	t.Helper()
	dir := t.TempDir()
	l.Version, l.Title, l.Manifest, l.Builder, l.Created = payload.LockVersion, "Test bundle", payload.LockManifest{ID: "test-bundle"}, "test", "2026-01-01T00:00:00Z"
	// Every bundle carries its runner, which the run copies for RunOnce.
	if !slices.ContainsFunc(files, func(f bundleFile) bool { return f.path == payload.RunnerAMD64 }) {
		files = append(files, bundleFile{payload.RunnerAMD64, "RUNNER"})
	}
	for _, f := range files {
		name := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(f.content))
		l.Files = append(l.Files, payload.LockFile{Path: f.path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.content))})
	}
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
	writeLock(t, dir, &l)
	return dir
}

// writeLock writes l into dir as the builder does: with its bundle id, in
// canonical form.
func writeLock(t *testing.T, dir string, l *payload.Lock) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, payload.LockName), canonical(t, l), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bundleID is the bundle id of the lock writeBundle wrote into dir.
func bundleID(t *testing.T, dir string) string {
	t.Helper()
	l, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l.Bundle
}

func exeStep(id, program string) payload.LockStep {
	return payload.LockStep{ID: id, Title: "step " + id, Kind: payload.KindExe, Program: program,
		ExitCodes: payload.ExitCodes(nil).Merge(), Reboot: payload.RebootIfNeeded, Timeout: 600}
}

func newEngine(t *testing.T, sys *fakeSys) (*Engine, *bytes.Buffer, *fakeClock) {
	var out bytes.Buffer
	clk := &fakeClock{t: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	return &Engine{Sys: sys, Out: &out, Runner: "runner.exe test", Clock: clk}, &out, clk
}

func openRun(t *testing.T, e *Engine, dir string, opt RunOptions) (*payload.Report, error) {
	t.Helper()
	b, err := e.Open(dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e.Run(context.Background(), b, opt)
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func statuses(rep *payload.Report) string {
	var s []string
	for _, st := range rep.Steps {
		s = append(s, st.ID+"="+st.Status)
	}
	return strings.Join(s, " ")
}
