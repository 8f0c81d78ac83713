package legacy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"fixstick/internal/winetest"
	"fixstick/payload"
)

func TestMain(m *testing.M) { winetest.Main(m) }

// xpPrefix is a Wine prefix that reports Windows XP SP3 (wine.md,
// addendum): 64-bit Wine has no "winxp", so winxp64 first, then the API
// version and the registry values XP has.
func xpPrefix(t *testing.T) *winetest.Prefix {
	p := winetest.Get(t).NewPrefix(t)
	p.SetWindowsVersion("winxp64")
	p.RegAdd(`HKCU\Software\Wine`, "Version", "REG_SZ", "winxp", 0)
	const cv = `HKLM\Software\Microsoft\Windows NT\CurrentVersion`
	p.RegAdd(cv, "CurrentVersion", "REG_SZ", "5.1", 0)
	p.RegAdd(cv, "CurrentBuildNumber", "REG_SZ", "2600", 0)
	p.RegAdd(cv, "CSDVersion", "REG_SZ", "Service Pack 3", 0)
	p.RegDelete(cv, "CurrentMajorVersionNumber", 0)
	p.RegDelete(cv, "CurrentMinorVersionNumber", 0)
	return p
}

// replaceSystemProgram puts a stand-in for one of Wine's own programs in
// System32 and makes Wine run it instead of its built-in one.
func replaceSystemProgram(t *testing.T, p *winetest.Prefix, name string, data []byte) {
	t.Helper()
	dst := p.C("windows", "system32", name)
	// The prefix hard-links C:\windows to the template: a new file, not
	// a write into the shared one.
	if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	p.RegAdd(`HKCU\Software\Wine\DllOverrides`, name, "REG_SZ", "native", 0)
}

// fixture is what every test builds once: the builder, stand-in runner
// programs (the legacy path never starts them; the builder wants files
// that start with MZ), the stand-in installers and a real MSI.
type fixture struct {
	w         *winetest.Wine
	builder   string
	runnerDir string
	fakes     string // folder of fakeNNNN.exe, one per exit code
	msi       []byte
	mu        sync.Mutex
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func getFixture(t *testing.T) *fixture {
	t.Helper()
	w := winetest.Get(t)
	winetest.RequireWixl(t)
	fixOnce.Do(func() { fix, fixErr = makeFixture(w) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func makeFixture(w *winetest.Wine) (*fixture, error) {
	f := &fixture{w: w, runnerDir: w.Scratch("legacy-runners"), fakes: w.Scratch("legacy-fakes")}
	for _, n := range []string{payload.RunnerAMD64, payload.RunnerX86} {
		if err := os.WriteFile(filepath.Join(f.runnerDir, n), []byte("MZ stand-in: the legacy path never starts it"), 0o644); err != nil {
			return nil, err
		}
	}
	if err := winetest.AddHelpers(f.runnerDir); err != nil {
		return nil, err
	}
	var err error
	if f.builder, err = w.BuildBuilder(); err != nil {
		return nil, err
	}
	// The runner's end-to-end tests install the same package.
	if f.msi, err = w.BuildMSI(filepath.Join("..", "..", "..", "runner", "testdata", "fixture.wxs")); err != nil {
		return nil, err
	}
	return f, nil
}

// fake returns a stand-in installer that exits with code. The runner's
// tests use a Go program; the legacy executor hashes every payload in
// JScript (about 200-300 KB/s under Wine), so these are a few KB of
// assembly instead (testdata/fixture.s): each appends its raw command line
// and working folder to C:\fixstick-test\cmdlines.txt.
func (f *fixture) fake(t *testing.T, code uint32) []byte {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	exe := filepath.Join(f.fakes, fmt.Sprintf("fake%d.exe", code))
	if _, err := os.Stat(exe); err != nil {
		if err := buildFake(exe, code); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func buildFake(exe string, code uint32) error {
	dir := filepath.Dir(exe)
	def := filepath.Join(dir, "kernel32.def")
	lib := filepath.Join(dir, "libk32.a")
	obj := exe + ".o"
	src, err := filepath.Abs(filepath.Join("testdata", "fixture.s"))
	if err != nil {
		return err
	}
	exports := "LIBRARY kernel32.dll\nEXPORTS\n GetCommandLineW\n GetCurrentDirectoryW\n CreateDirectoryW\n CreateFileW\n WriteFile\n CloseHandle\n ExitProcess\n"
	if err := os.WriteFile(def, []byte(exports), 0o644); err != nil {
		return err
	}
	for _, step := range [][]string{
		{"dlltool", "-d", def, "-l", lib},
		{"as", "--defsym", fmt.Sprintf("CODE=%d", code), "-o", obj, src},
		{"ld", "--subsystem", "console", "-e", "start", "--no-insert-timestamp", "-o", exe, obj, lib},
	} {
		tool, err := exec.LookPath("x86_64-w64-mingw32-" + step[0])
		if err != nil {
			return fmt.Errorf("the legacy Wine tests build their installers with binutils-mingw-w64-x86-64: %w", err)
		}
		if out, err := exec.Command(tool, step[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", step[0], err, out)
		}
	}
	return nil
}

// artifact is a payload the test server serves: a winetest.Artifact that
// the tests below can write without keys.
type artifact struct {
	id, file string
	data     []byte
}

// build makes a bundle of arts and steps (YAML) with the real `builder
// build --dir`, which renders this package's executor into the bundle; it
// returns the bundle folder.
func (f *fixture) build(t *testing.T, arts []artifact, steps string) string {
	t.Helper()
	var as []winetest.Artifact
	for _, a := range arts {
		as = append(as, winetest.Artifact{ID: a.id, File: a.file, Data: a.data})
	}
	b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: "legacy-e2e", Title: "Legacy executor end-to-end test"}
	return b.Build(t, as, steps)
}

// machine is a prefix that reports Windows XP SP3, with the bundle as
// drive D: (a USB stick).
type machine struct {
	*winetest.Prefix
	t      *testing.T
	bundle string
	lock   *payload.Lock
}

func newMachine(t *testing.T, bundle string) *machine {
	p := xpPrefix(t)
	p.MapDrive("d", bundle)
	data, err := os.ReadFile(filepath.Join(bundle, payload.LockName))
	if err != nil {
		t.Fatal(err)
	}
	var l payload.Lock
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	return &machine{Prefix: p, t: t, bundle: bundle, lock: &l}
}

// private is a Windows path in the bundle's private folder, under the
// all-users application data folder (SHGetFolderPath): Wine's is
// C:\ProgramData, also when it reports XP.
func (m *machine) private(elem ...string) string {
	return strings.Join(append([]string{`C:\ProgramData\fixstick\` + m.lock.Bundle}, elem...), `\`)
}

// legacy starts the executor as START.cmd does on XP: cmd running run.cmd
// by its full path (`wine cmd /c START.cmd` would run cmd's START built-in,
// see wine.md).
func (m *machine) legacy(args ...string) winetest.Result {
	m.t.Helper()
	r := m.Run("cmd", append([]string{"/c", `D:\legacy\run.cmd`, "/quiet"}, args...)...)
	m.t.Logf("run.cmd: status %d\n%s%s", r.Status, r.Stdout, r.Stderr)
	return r
}

// report reads reports\<COMPUTERNAME>\report.json from the stick, strictly:
// the script writes JSON by hand, and it must be a payload.Report exactly.
func (m *machine) report() *payload.Report {
	m.t.Helper()
	found, _ := filepath.Glob(filepath.Join(m.bundle, payload.ReportsDir, "*", payload.ReportName))
	if len(found) != 1 {
		m.t.Fatalf("want one report in the stick's reports folder, found %v", found)
	}
	return readReport(m.t, found[0])
}

func readReport(t *testing.T, name string) *payload.Report {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r payload.Report
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s is not a payload.Report: %v\n%s", name, err, data)
	}
	if dec.More() {
		t.Fatalf("%s: data after the report", name)
	}
	return &r
}

// fakeRun is one record of a stand-in installer.
type fakeRun struct{ CmdLine, Cwd string }

func (m *machine) fakeRuns() []fakeRun {
	m.t.Helper()
	data, err := os.ReadFile(m.C("fixstick-test", "cmdlines.txt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		m.t.Fatal(err)
	}
	u := make([]uint16, len(data)/2)
	for i := range u {
		u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
	}
	var runs []fakeRun
	for _, line := range strings.Split(strings.TrimSuffix(string(utf16.Decode(u)), "\r\n"), "\r\n") {
		if line == "" {
			continue
		}
		c, d, _ := strings.Cut(line, "\t")
		runs = append(runs, fakeRun{c, d})
	}
	return runs
}

func statuses(r *payload.Report) string {
	var s []string
	for _, st := range r.Steps {
		s = append(s, st.ID+"="+st.Status)
	}
	return strings.Join(s, " ")
}

func stepOf(r *payload.Report, id string) payload.ReportStep {
	for _, s := range r.Steps {
		if s.ID == id {
			return s
		}
	}
	return payload.ReportStep{ID: id, Status: "(missing)"}
}

const cleanupArgs = `/q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`

// The runner's success bundle, on XP, through the legacy path: facts read
// in both registry views, conditions on facts, the OS and the registry, a
// verbatim IExpress command line from the private copy and an empty
// working folder, a real MSI through msiexec with the step's args.
func TestWineLegacySuccess(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{
		{"cleanup", "cleanup_exit0.exe", f.fake(t, 0)},
		{"netfx35", "netfx35_exit0.exe", f.fake(t, 0)},
		{"netfx11", "netfx11_exit0.exe", f.fake(t, 0)},
		{"win7", "win7_exit0.exe", f.fake(t, 0)},
		{"fixture", "fixture.msi", f.msi},
	}, `
  - id: record
    detect: netfx
  - id: cleanup
    exe: cleanup
    args: '`+cleanupArgs+`'
    when: {os: {min: "5.1", max: "5.1"}}
  - id: netfx35
    exe: netfx35
    when: {recorded: netfx35}
  - id: netfx11
    exe: netfx11
    when: {recorded: netfx11}
  - id: fixture
    msi: fixture
    args: FIXPROP=hello
    unless: {registry: {key: 'HKLM\SOFTWARE\FixstickFixture', value: Installed, equals: "1", view: 32}}
  - id: win7only
    exe: win7
    when: {os: {min: "6.1"}}
`)
	m := newMachine(t, bundle)
	// .NET 3.5 "installed" by a 32-bit installer: only the 32-bit view.
	m.RegAdd(payload.NetFxKeyRoot+`v3.5`, "Install", "REG_DWORD", "1", 32)

	r := m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || r.Status != 0 {
		t.Fatalf("outcome %s (status %d): %s", rep.Outcome, r.Status, rep.Reason)
	}
	if got, want := statuses(rep), "record=succeeded cleanup=succeeded netfx35=succeeded netfx11=skipped fixture=succeeded win7only=skipped"; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if strings.Join(rep.Facts, " ") != "netfx35" || rep.Bundle != m.lock.Bundle || rep.Runner != "legacy devel" {
		t.Errorf("facts %v, bundle %s, runner %q", rep.Facts, rep.Bundle, rep.Runner)
	}
	for id, want := range map[string]string{
		"record":   "recorded: .NET Framework 3.5 (netfx35)",
		"cleanup":  "exit code 0 (0x0): success",
		"netfx11":  "runs only if .NET Framework 1.1 was recorded as installed (netfx11), which is not the case",
		"win7only": "runs only if Windows is version 6.1 (Windows 7 / Server 2008 R2) or later, which is not the case",
	} {
		if got := stepOf(rep, id).Reason; got != want {
			t.Errorf("step %s reason\n got %q\nwant %q", id, got, want)
		}
	}

	// The command line reached the installer verbatim, from the private
	// copy, run from an empty working folder of its own.
	runs := m.fakeRuns()
	if len(runs) != 2 {
		t.Fatalf("fake runs: %+v", runs)
	}
	if want := `"` + m.private(`b\payloads\cleanup\cleanup_exit0.exe`) + `" ` + cleanupArgs; runs[0].CmdLine != want {
		t.Errorf("command line\n got %s\nwant %s", runs[0].CmdLine, want)
	}
	if !strings.EqualFold(runs[0].Cwd, m.private(`w\2`)) {
		t.Errorf("working folder %s, want %s", runs[0].Cwd, m.private(`w\2`))
	}

	// The real MSI was installed by msiexec, with the step's args and log.
	if v, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickFixture`, "Prop", 32); !ok || v != "hello" {
		t.Errorf("MSI registry value Prop = %q, %v", v, ok)
	}
	if _, err := os.Stat(m.HostPath(m.private(`logs\fixture.log`))); err != nil {
		t.Errorf("msiexec log: %v", err)
	}
	if got := stepOf(rep, "fixture").Log; got != m.private(`logs\fixture.log`) {
		t.Errorf("report log %q", got)
	}
	priv := readReport(t, m.HostPath(m.private("report.json")))
	if priv.Outcome != payload.ReportSuccess || priv.Computer != rep.Computer {
		t.Errorf("private report %+v", priv)
	}
	log, err := os.ReadFile(filepath.Join(filepath.Dir(m.reportPath()), "legacy.log"))
	if err != nil {
		t.Errorf("the log was not copied next to the report: %v", err)
	}
	// the helper says the program is alive, against its timeout
	if !strings.Contains(string(log), " step fixture running for 0s of 1h0m0s\r\n") {
		t.Errorf("no heartbeat in legacy.log:\n%s", log)
	}

	// A second run does nothing more; the MSI now counts as installed.
	m.legacy()
	if n := len(m.fakeRuns()); n != 2 {
		t.Errorf("the second run ran %d programs", n-2)
	}
	if rep := m.report(); rep.Outcome != payload.ReportSuccess {
		t.Errorf("second run: %s: %s", rep.Outcome, rep.Reason)
	}
}

func (m *machine) reportPath() string {
	found, _ := filepath.Glob(filepath.Join(m.bundle, payload.ReportsDir, "*", payload.ReportName))
	if len(found) != 1 {
		m.t.Fatalf("reports: %v", found)
	}
	return found[0]
}

func TestWineLegacyRebootResume(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit3010.exe", f.fake(t, 3010)}, {"two", "two_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
  - id: two
    exe: two
    args: /after
`)
	m := newMachine(t, bundle)
	r := m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportRebootRequired || statuses(rep) != "one=reboot-required two=not-run" || r.Status != 3010&0xff {
		t.Fatalf("before the restart: %s %s (status %d): %s", rep.Outcome, statuses(rep), r.Status, rep.Reason)
	}
	cmd, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64)
	if want := `"C:\windows\System32\cmd.exe" /d /v:off /c ""` + m.private(`b\legacy\run.cmd`) + `" /resume /quiet"`; !ok || cmd != want {
		t.Fatalf("RunOnce\n got %q\nwant %q", cmd, want)
	}

	// wineboot -r runs HKLM RunOnce: the executor continues from its
	// private copy, not from D:.
	rb := m.Reboot()
	rep = m.report()
	if rep.Outcome != payload.ReportSuccess || statuses(rep) != "one=succeeded two=succeeded" {
		left, still := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64)
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(m.reportPath()), "legacy.log"))
		t.Fatalf("after the restart: %s %s: %s\nRunOnce entry left: %v %q\nwineboot -r: status %d\nstdout:\n%s\nstderr:\n%s\nlegacy.log:\n%s",
			rep.Outcome, statuses(rep), rep.Reason, still, left, rb.Status, rb.Stdout, rb.Stderr, log)
	}
	if got, want := stepOf(rep, "one").Reason, "exit code 3010 (0xBC2): reboot (the computer was restarted afterwards)"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	runs := m.fakeRuns()
	if len(runs) != 2 || !strings.Contains(runs[0].CmdLine, `one_exit3010.exe"`) ||
		runs[1].CmdLine != `"`+m.private(`b\payloads\two\two_exit0.exe`)+`" /after` {
		t.Errorf("runs %+v", runs)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64); ok {
		t.Errorf("the RunOnce entry is still there")
	}
	// The run after the restart starts from the private copy (which the
	// helper hashes again, through the handle it holds, before each run).
	log, err := os.ReadFile(filepath.Join(filepath.Dir(m.reportPath()), "legacy.log"))
	if err != nil {
		t.Fatal(err)
	}
	first, resumed, ok := strings.Cut(string(log), "continuing after the restart")
	if !ok || !strings.Contains(first, "step one running for 0s of 1h0m0s") || !strings.Contains(resumed, "step two running for 0s of 1h0m0s") {
		t.Errorf("legacy.log:\n%s", log)
	}
}

func TestWineLegacyFailureExplained(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"broken", "broken_exit1603.exe", f.fake(t, 1603)}, {"after", "after_exit0.exe", f.fake(t, 0)}}, `
  - id: broken
    exe: broken
  - id: after
    exe: after
`)
	m := newMachine(t, bundle)
	// runner.exe's words, as START.cmd passes them on, are understood;
	// others are refused before anything happens.
	if r := m.Run("cmd", "/c", `D:\legacy\run.cmd`, "plan"); r.Status != 2 || !strings.Contains(r.Stdout, "unknown option plan") {
		t.Errorf("run.cmd plan: status %d\n%s", r.Status, r.Stdout)
	}
	r := m.Run("cmd", "/c", `D:\legacy\run.cmd`, "run", "--yes")
	t.Logf("run.cmd run --yes: status %d\n%s%s", r.Status, r.Stdout, r.Stderr)
	rep := m.report()
	if rep.Outcome != payload.ReportFailed || statuses(rep) != "broken=failed after=not-run" || r.Status != 1 {
		t.Fatalf("%s %s (status %d): %s", rep.Outcome, statuses(rep), r.Status, rep.Reason)
	}
	st := rep.Steps[0]
	if st.ExitCode == nil || *st.ExitCode != 1603 || st.ExitHex != "0x643" ||
		st.Reason != "1603 (0x643): fatal error during installation; read the installer's log" {
		t.Errorf("step report %+v", st)
	}
	if rep.Reason != "step broken failed: "+st.Reason {
		t.Errorf("report reason %q", rep.Reason)
	}
	if !strings.Contains(r.Stdout, "FAILED") || !strings.Contains(r.Stdout, "1603 (0x643)") {
		t.Errorf("summary:\n%s", r.Stdout)
	}
	if runs := m.fakeRuns(); len(runs) != 1 {
		t.Errorf("runs %+v", runs)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64); ok {
		t.Errorf("a RunOnce entry was left after a failure")
	}
}

func TestWineLegacyTamperedRefused(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}, {"two", "two_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
  - id: two
    exe: two
`)
	// one byte of the second payload changes on the stick
	name := filepath.Join(bundle, "payloads", "two", "two_exit0.exe")
	flipByte(t, name)
	m := newMachine(t, bundle)
	r := m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportRefused || r.Status != 1 || !strings.Contains(rep.Reason, "payloads/two/two_exit0.exe: sha256 ") ||
		!strings.Contains(rep.Reason, "nothing was run") || statuses(rep) != "one=not-run two=not-run" {
		t.Fatalf("%s %s (status %d): %s", rep.Outcome, statuses(rep), r.Status, rep.Reason)
	}
	if runs := m.fakeRuns(); len(runs) != 0 {
		t.Errorf("a program ran: %+v", runs)
	}
	if _, err := os.Stat(m.HostPath(m.private(`b\payloads\two\two_exit0.exe`))); !os.IsNotExist(err) {
		t.Errorf("the changed file is in the private folder: %v", err)
	}
}

// Where the code page cannot read bytes one for one, hashes cannot be
// checked: the executor refuses, loudly, and says what to do instead.
func TestWineLegacyCannotHashRefused(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
`)
	// Two byte values that read as the same character, as a code page with
	// two-byte characters would make them.
	cal := filepath.Join(bundle, "legacy", "bytes.bin")
	data, err := os.ReadFile(cal)
	if err != nil {
		t.Fatal(err)
	}
	data[0x42] = 0x41
	if err := os.WriteFile(cal, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, bundle)
	r := m.legacy()
	if r.Status != 1 || !strings.Contains(r.Stdout, "REFUSED: this computer cannot check the bundle's SHA-256 hashes") ||
		!strings.Contains(r.Stdout, "builder verify") {
		t.Fatalf("status %d:\n%s", r.Status, r.Stdout)
	}
	// Without a checked helper nothing is written to the stick: the
	// report's write-back is the helper's (junctions, the lock).
	if found, _ := filepath.Glob(filepath.Join(bundle, payload.ReportsDir, "*")); len(found) != 0 {
		t.Errorf("written without the helper: %v", found)
	}
	if runs := m.fakeRuns(); len(runs) != 0 {
		t.Errorf("a program ran: %+v", runs)
	}
}

// editScript replaces each old text in the bundle's fixstick.js with its
// new one (pairs of strings) and pins the result in the lock, as a
// builder that rendered it so would have.
func editScript(t *testing.T, bundle string, pairs ...string) {
	t.Helper()
	script := filepath.Join(bundle, "legacy", "fixstick.js")
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i < len(pairs); i += 2 {
		edited := strings.Replace(text, pairs[i], pairs[i+1], 1)
		if edited == text {
			t.Fatalf("no %q in the script", pairs[i])
		}
		text = edited
	}
	if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(bundle, payload.LockName)
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	old, now := sha256.Sum256(data), sha256.Sum256([]byte(text))
	entry := func(sum [32]byte, n int) string {
		return fmt.Sprintf("\"sha256\": \"%x\",\n      \"size\": %d", sum, n)
	}
	edited := strings.Replace(string(lock), entry(old, len(data)), entry(now, len(text)), 1)
	if edited == string(lock) {
		t.Fatalf("legacy/fixstick.js is not in the lock as expected:\n%s", lock)
	}
	if err := os.WriteFile(lockPath, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, name string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Exit code 1618 (another installation in progress) is retried, after a
// wait, as runner.exe retries it. The runner's fake installer counts its
// runs: it answers 1618 once, then 0.
func TestWineLegacyRetry(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	busy, err := os.ReadFile(f.w.GoBuild(t, "fixstick/internal/winetest/fixtures/fakeinstaller", "amd64", "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := f.build(t, []artifact{{"busy", "busy_busy1_exit0.exe", busy}}, `
  - id: busy
    exe: busy
    args: /q
`)
	m := newMachine(t, bundle)
	r := m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || statuses(rep) != "busy=succeeded" {
		t.Fatalf("%s %s: %s", rep.Outcome, statuses(rep), rep.Reason)
	}
	if !strings.Contains(r.Stdout, "exit code 1618 (0x652): another installation is already in progress; trying again in 15s") {
		t.Errorf("no retry announced:\n%s", r.Stdout)
	}
	if n, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickTest\busy_busy1_exit0`, "Runs", 64); !ok || n != "0x2" {
		t.Errorf("the installer ran %q times, want 2", n)
	}
}

// START.cmd sends Windows Vista to 8.1 to the legacy executor too: there
// the private folder is %ProgramData%\fixstick, as runner.exe's (Windows
// names it: SHGetFolderPath, CSIDL_COMMON_APPDATA).
func TestWineLegacyWin81(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
    when: {os: {min: "6.3", max: "6.3"}}
`)
	p := winetest.Get(t).NewPrefix(t)
	p.SetWindowsVersion("win81")
	p.MapDrive("d", bundle)
	m := &machine{Prefix: p, t: t, bundle: bundle}
	data, err := os.ReadFile(filepath.Join(bundle, payload.LockName))
	if err != nil {
		t.Fatal(err)
	}
	m.lock = &payload.Lock{}
	if err := json.Unmarshal(data, m.lock); err != nil {
		t.Fatal(err)
	}
	r := m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || statuses(rep) != "one=succeeded" {
		t.Fatalf("%s %s: %s", rep.Outcome, statuses(rep), rep.Reason)
	}
	if !strings.Contains(r.Stdout, "Windows 6.3.9600") {
		t.Errorf("the executor did not see Windows 8.1:\n%s", r.Stdout)
	}
	priv := `C:\ProgramData\fixstick\` + m.lock.Bundle
	if runs := m.fakeRuns(); len(runs) != 1 || runs[0].CmdLine != `"`+priv+`\b\payloads\one\one_exit0.exe"` {
		t.Errorf("runs %+v", runs)
	}
}

// A program still running at its timeout is stopped, and the step fails
// with the runner's words. The runner's fake installer hangs when its
// name says so.
func TestWineLegacyTimeoutStops(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	hang, err := os.ReadFile(f.w.GoBuild(t, "fixstick/internal/winetest/fixtures/fakeinstaller", "amd64", "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := f.build(t, []artifact{{"stuck", "stuck_hang.exe", hang}, {"after", "after_exit0.exe", f.fake(t, 0)}}, `
  - id: stuck
    exe: stuck
    timeout: 1m
  - id: after
    exe: after
`)
	// A manifest's shortest timeout is a minute; the test shortens it, and
	// the heartbeat's interval, in the script, and pins the edited script
	// in the lock (the executor checks its own files against the lock).
	editScript(t, bundle, "    timeout: 60,\r\n", "    timeout: 3,\r\n", "var HEARTBEAT = 60;", "var HEARTBEAT = 1; ")
	m := newMachine(t, bundle)
	m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportFailed || statuses(rep) != "stuck=failed after=not-run" ||
		rep.Steps[0].Reason != "did not finish within 3s; the executor stopped it and every process it started" {
		t.Fatalf("%s %s: %q", rep.Outcome, statuses(rep), rep.Steps[0].Reason)
	}
	log, err := os.ReadFile(filepath.Join(filepath.Dir(m.reportPath()), "legacy.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" step stuck running for 0s of 3s\r\n",
		" the timeout passed: the program and every process it started were stopped\r\n"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("legacy.log lacks %q:\n%s", want, log)
		}
	}
	// A later beat, whichever second a loaded machine wakes the helper in:
	// the heartbeat promises a line per interval, not the exact second.
	if !regexp.MustCompile(` step stuck running for [1-9]s of 3s\r\n`).Match(log) {
		t.Errorf("legacy.log has no heartbeat after the first:\n%s", log)
	}
	if n, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickTest\stuck_hang`, "Runs", 64); !ok || n != "0x1" {
		t.Errorf("the stuck installer ran %q times, want once", n)
	}
}

// `reboot: after` restarts even on exit code 0, and 1641 (the installer
// restarts the computer itself) is resumed from like 3010.
func TestWineLegacyRebootAfterAndInitiated(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{
		{"a", "a_exit0.exe", f.fake(t, 0)}, {"b", "b_exit1641.exe", f.fake(t, 1641)}, {"c", "c_exit0.exe", f.fake(t, 0)},
	}, `
  - id: a
    exe: a
    reboot: after
  - id: b
    exe: b
  - id: c
    exe: c
`)
	m := newMachine(t, bundle)
	r := m.legacy()
	if rep := m.report(); statuses(rep) != "a=reboot-required b=not-run c=not-run" {
		t.Fatalf("first run: %s: %s", statuses(rep), rep.Reason)
	}
	if !strings.Contains(r.Stdout, "exit code 0 (0x0): success; the step restarts the computer afterwards") {
		t.Errorf("first run:\n%s", r.Stdout)
	}
	// wineboot runs a RunOnce entry written while it processes RunOnce in
	// the same pass (Windows keeps it for the next logon): the restart b
	// asks for is taken at once, and the run goes on to c.
	m.Reboot()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || statuses(rep) != "a=succeeded b=succeeded c=succeeded" {
		t.Fatalf("after the restarts: %s %s: %s", rep.Outcome, statuses(rep), rep.Reason)
	}
	if got := stepOf(rep, "b").Reason; got != "exit code 1641 (0x669): reboot-initiated (the computer was restarted afterwards)" {
		t.Errorf("b: %q", got)
	}
	log, err := os.ReadFile(filepath.Join(filepath.Dir(m.reportPath()), "legacy.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "continuing after the restart"); n != 2 {
		t.Errorf("%d runs after a restart, want 2:\n%s", n, log)
	}
	if !strings.Contains(string(log), "the installer is restarting the computer; the runner continues after the restart") {
		t.Errorf("1641 not said:\n%s", log)
	}
	if runs := m.fakeRuns(); len(runs) != 3 {
		t.Errorf("runs %+v", runs)
	}
}

// The private folder is taken over on every run, with Wine's own cacls
// and no stand-in (the take-over is the helper's, by SID, proven against
// a fake security layer in runner/legacy): a file the lock does not list,
// planted in the private copy, is deleted before anything runs, and the
// report says so.
func TestWineLegacyPrivateFolderCleaned(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
`)
	m := newMachine(t, bundle)
	planted := m.HostPath(m.private(`b\payloads\one\version.dll`))
	if err := os.MkdirAll(filepath.Dir(planted), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planted, []byte("MZ planted"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.legacy()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || !strings.Contains(rep.Reason, `removed `+m.private(`b\payloads\one\version.dll`)+
		` from the private copy: the lock does not list it`) {
		t.Fatalf("%s: %s", rep.Outcome, rep.Reason)
	}
	if _, err := os.Stat(planted); !os.IsNotExist(err) {
		t.Errorf("the planted DLL is still there: %v", err)
	}
}

// The executor's own files and its helper are checked against the lock
// before they are used or copied into the private folder: a changed
// script (which RunOnce would start after a restart) or helper is refused
// and nothing runs.
func TestWineLegacyOwnFilesChecked(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	for _, name := range []string{"fixstick.js", "fixhelp.exe"} {
		t.Run(name, func(t *testing.T) {
			bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
`)
			target := filepath.Join(bundle, "legacy", name)
			data, err := os.ReadFile(target)
			if err != nil {
				t.Fatal(err)
			}
			if name == "fixstick.js" {
				data = append(data, []byte("// changed\r\n")...) // still runs, as a changed script would
			} else {
				data[len(data)-1] ^= 1
			}
			if err := os.WriteFile(target, data, 0o644); err != nil {
				t.Fatal(err)
			}
			m := newMachine(t, bundle)
			r := m.legacy()
			if r.Status != 1 || !strings.Contains(r.Stdout, "REFUSED") || !strings.Contains(r.Stdout, "legacy/"+name+": ") {
				t.Fatalf("status %d:\n%s", r.Status, r.Stdout)
			}
			if runs := m.fakeRuns(); len(runs) != 0 {
				t.Errorf("a program ran: %+v", runs)
			}
			if _, err := os.Stat(m.HostPath(m.private(`b\legacy\` + name))); !os.IsNotExist(err) {
				t.Errorf("the changed file is in the private folder: %v", err)
			}
		})
	}
}

// The administrator check needs real administrator rights (fsutil
// answers only administrators; XP's Power Users may write HKLM\SOFTWARE),
// and removes only what it wrote.
func TestWineLegacyAdminCheck(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	bundle := f.build(t, []artifact{{"one", "one_exit0.exe", f.fake(t, 0)}}, `
  - id: one
    exe: one
`)
	m := newMachine(t, bundle)
	m.RegAdd(`HKLM\SOFTWARE\fixstick`, "kept", "REG_SZ", "yes", 64)
	m.legacy()
	if rep := m.report(); rep.Outcome != payload.ReportSuccess {
		t.Fatalf("%s: %s", rep.Outcome, rep.Reason)
	}
	if v, ok := m.RegQuery(`HKLM\SOFTWARE\fixstick`, "kept", 64); !ok || v != "yes" {
		t.Errorf("the check removed a value it did not write: %q %v", v, ok)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\fixstick`, "elevation-check", 64); ok {
		t.Errorf("the check left its value")
	}

	// fsutil refuses, as it does for a Power User on XP.
	m2 := newMachine(t, bundle)
	replaceSystemProgram(t, m2.Prefix, "fsutil.exe", f.fake(t, 1))
	os.RemoveAll(filepath.Join(bundle, payload.ReportsDir))
	r := m2.legacy()
	rep := m2.report()
	if rep.Outcome != payload.ReportRefused || r.Status != 1 || !strings.Contains(rep.Reason, "needs administrator rights") {
		t.Fatalf("%s (status %d): %s", rep.Outcome, r.Status, rep.Reason)
	}
	runs := m2.fakeRuns()
	if len(runs) != 1 || !strings.Contains(runs[0].CmdLine, "dirty query C:") {
		t.Errorf("runs %+v, want only fsutil dirty query", runs)
	}
}

// TestWineLegacyScenarios runs the scenario table runner.exe's Wine tests
// run too (internal/winetest.Scenarios), on the XP prefix: requires, goal,
// a probing step, finish_if_goal_met and /force behave the same in both.
func TestWineLegacyScenarios(t *testing.T) {
	t.Parallel()
	f := getFixture(t)
	for _, sc := range winetest.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			// Each scenario has its own bundle and prefix; Wine waits
			// more than it computes, so they run side by side.
			t.Parallel()
			b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: "legacy-e2e", Title: "Legacy executor end-to-end test", Top: sc.Top}
			bundle := b.Build(t, sc.Artifacts(func(in winetest.Installer) []byte { return f.fake(t, in.Exit) }, f.msi), sc.Steps)
			m := newMachine(t, bundle)
			sc.Prepare(t, m.C, m.RegAdd)
			for i, want := range sc.Runs {
				var args []string
				if want.Force {
					args = append(args, "/force")
				}
				m.legacy(args...)
				var cmdlines []string
				for _, r := range m.fakeRuns() {
					cmdlines = append(cmdlines, r.CmdLine)
				}
				_, msiRan := m.RegQuery(winetest.FixtureKey, "Prop", 32)
				t.Logf("run %d (%s)", i+1, strings.Join(args, " "))
				want.Check(t, m.report(), winetest.RanIDs(cmdlines), msiRan)
			}
		})
	}
}
