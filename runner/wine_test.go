package main

// End-to-end tests under Wine: the real builder builds a bundle from a
// manifest whose payloads an httptest server serves (the fake installer
// under several names, and a real MSI made by wixl), the bundle appears as
// drive D: in a fresh prefix, and the real runner.exe runs it. Results are
// read from report.json, the journal, the registry and the fake
// installer's records: Wine passes only 8 bits of an exit code to Linux.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fixstick/internal/winetest"
	"fixstick/payload"
	"fixstick/runner/internal/engine"
)

func TestMain(m *testing.M) { winetest.Main(m) }

// fixture holds what every test builds once.
type fixture struct {
	w         *winetest.Wine
	runnerDir string // runner.exe and runner-x86.exe
	builder   string
	fake, msi []byte
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
	fixOnce.Do(func() { fix, fixErr = makeFixture(t, w) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func makeFixture(t *testing.T, w *winetest.Wine) (*fixture, error) {
	f := &fixture{w: w, runnerDir: w.Scratch("runners")}
	ld := "-s -w -X main.version=wine-test"
	amd64 := w.GoBuild(t, "fixstick/runner", "amd64", ld)
	// 386 cannot run here (no 32-bit Wine), but the bundle carries it.
	x86 := w.GoBuild(t, "fixstick/runner", "386", ld)
	for src, name := range map[string]string{amd64: payload.RunnerAMD64, x86: payload.RunnerX86} {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(f.runnerDir, name), data, 0o755); err != nil {
			return nil, err
		}
	}
	// every bundle carries the legacy executor's helpers
	if err := winetest.AddHelpers(f.runnerDir); err != nil {
		return nil, err
	}
	fake, err := os.ReadFile(w.GoBuild(t, "fixstick/internal/winetest/fixtures/fakeinstaller", "amd64", "-s -w"))
	if err != nil {
		return nil, err
	}
	f.fake = fake
	if f.builder, err = w.BuildBuilder(); err != nil {
		return nil, err
	}
	if f.msi, err = w.BuildMSI(filepath.Join("testdata", "fixture.wxs")); err != nil {
		return nil, err
	}
	return f, nil
}

type artifact = winetest.Artifact

// build makes a bundle of arts and steps (YAML) with the real builder; it
// returns the bundle folder.
func (f *fixture) build(t *testing.T, arts []artifact, steps string) string {
	t.Helper()
	b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: "wine-e2e", Title: "Wine end-to-end test"}
	return b.Build(t, arts, steps)
}

func (f *fixture) fakeAs(id, name string) artifact { return artifact{ID: id, File: name, Data: f.fake} }

// machine is a prefix with the bundle as drive D:.
type machine struct {
	*winetest.Prefix
	t      *testing.T
	bundle string
	lock   *payload.Lock
}

func newMachine(t *testing.T, f *fixture, bundle string) *machine {
	p := f.w.NewPrefix(t)
	p.MapDrive("d", bundle)
	l, err := engine.ReadLock(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return &machine{Prefix: p, t: t, bundle: bundle, lock: l}
}

// private is the Windows path of the bundle's private folder.
func (m *machine) private(elem ...string) string {
	return strings.Join(append([]string{`C:\ProgramData\fixstick\` + m.lock.Bundle}, elem...), `\`)
}

func (m *machine) runner(args ...string) winetest.Result {
	m.t.Helper()
	r := m.Run(`D:\runner.exe`, args...)
	m.t.Logf("runner %s: status %d\n%s%s", strings.Join(args, " "), r.Status, r.Stdout, r.Stderr)
	return r
}

// report reads the report the runner left in the bundle folder.
func (m *machine) report() payload.Report {
	m.t.Helper()
	matches, _ := filepath.Glob(filepath.Join(m.bundle, payload.ReportsDir, "*", payload.ReportName))
	if len(matches) != 1 {
		m.t.Fatalf("reports in the bundle: %v", matches)
	}
	var r payload.Report
	readJSONFile(m.t, matches[0], &r)
	return r
}

func readJSONFile(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// fakeRun is one record of the fake installer.
type fakeRun struct {
	Exe        string   `json:"exe"`
	Path       string   `json:"path"`
	CmdLine    string   `json:"cmdline"`
	Cwd        string   `json:"cwd"`
	CwdEntries []string `json:"cwd_entries"`
	Run        int      `json:"run"`
	Exit       uint32   `json:"exit"`
}

func (m *machine) fakeRuns() []fakeRun {
	m.t.Helper()
	data, err := os.ReadFile(m.C("fixstick-test", "runs.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		m.t.Fatal(err)
	}
	var runs []fakeRun
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r fakeRun
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			m.t.Fatal(err)
		}
		runs = append(runs, r)
	}
	return runs
}

func stepStatuses(r payload.Report) string {
	var s []string
	for _, st := range r.Steps {
		s = append(s, st.ID+"="+st.Status)
	}
	return strings.Join(s, " ")
}

const cleanupArgs = `/q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`

func TestWineRunSuccess(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{
		f.fakeAs("cleanup", "cleanup_exit0.exe"),
		f.fakeAs("netfx35", "netfx35_exit0.exe"),
		f.fakeAs("netfx11", "netfx11_exit0.exe"),
		{ID: "fixture", File: "fixture.msi", Data: f.msi},
	}, `
  - id: record
    detect: netfx
  - id: cleanup
    exe: cleanup
    args: '`+cleanupArgs+`'
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
`)
	// Someone planted a DLL beside an installer on the stick: it is
	// reported, and never copied next to the installer that runs.
	if err := os.WriteFile(filepath.Join(bundle, "payloads", "cleanup", "version.dll"), []byte("MZ planted"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, f, bundle)
	// Someone made the private folder first and planted a DLL where the
	// copy of the cleanup tool goes: it is removed before anything runs.
	planted := m.HostPath(m.private(`b\payloads\cleanup\version.dll`))
	if err := os.MkdirAll(filepath.Dir(planted), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planted, []byte("MZ planted"), 0o666); err != nil {
		t.Fatal(err)
	}
	// .NET 3.5 "installed" by a 32-bit installer: only the 32-bit view.
	m.RegAdd(`HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v3.5`, "Install", "REG_DWORD", "1", 32)

	if r := m.runner("plan"); r.Status != 0 || !strings.Contains(r.Stdout, "skip netfx11") || !strings.Contains(r.Stdout, "RUN  netfx35") {
		t.Errorf("plan: status %d\n%s%s", r.Status, r.Stdout, r.Stderr)
	}
	r := m.runner("run", "--yes")
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || r.Status != 0 {
		t.Fatalf("outcome %s (status %d): %s\n%s%s", rep.Outcome, r.Status, rep.Reason, r.Stdout, r.Stderr)
	}
	if got, want := stepStatuses(rep), "record=succeeded cleanup=succeeded netfx35=succeeded netfx11=skipped fixture=succeeded"; got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	if strings.Join(rep.Facts, " ") != "netfx35" {
		t.Errorf("facts %v", rep.Facts)
	}
	if !strings.Contains(rep.Reason, "files not listed in the lock were ignored: payloads/cleanup/version.dll") {
		t.Errorf("report reason %q", rep.Reason)
	}
	if _, err := os.Stat(planted); !os.IsNotExist(err) {
		t.Errorf("the planted DLL is in the private folder: %v", err)
	}
	if !strings.Contains(rep.Reason, "removed from the private copy what the lock does not list: payloads/cleanup/version.dll") {
		t.Errorf("report reason %q", rep.Reason)
	}

	// The command line reached the installer verbatim, from the private
	// copy, run from an empty working folder of its own.
	runs := m.fakeRuns()
	if len(runs) != 2 {
		t.Fatalf("fake runs: %+v", runs)
	}
	prog := m.private(`b\payloads\cleanup\cleanup_exit0.exe`)
	if want := `"` + prog + `" ` + cleanupArgs; runs[0].CmdLine != want {
		t.Errorf("command line\n got %s\nwant %s", runs[0].CmdLine, want)
	}
	if !strings.EqualFold(runs[0].Path, prog) || !strings.EqualFold(runs[0].Cwd, m.private(`w\2`)) || len(runs[0].CwdEntries) != 0 {
		t.Errorf("run: %+v", runs[0])
	}
	// and the installers' own work is in the registry
	for name, want := range map[string]string{"cleanup_exit0": `"` + prog + `" ` + cleanupArgs, "netfx35_exit0": `"` + m.private(`b\payloads\netfx35\netfx35_exit0.exe`) + `"`} {
		key := `HKLM\SOFTWARE\FixstickTest\` + name
		if n, ok := m.RegQuery(key, "Runs", 64); !ok || n != "0x1" {
			t.Errorf("%s Runs = %q, %v", key, n, ok)
		}
		if c, ok := m.RegQuery(key, "CmdLine", 64); !ok || c != want {
			t.Errorf("%s CmdLine\n got %q\nwant %q", key, c, want)
		}
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickTest\netfx11_exit0`, "Runs", 64); ok {
		t.Errorf("the skipped installer ran")
	}

	// The real MSI was installed by msiexec, with the step's args.
	if v, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickFixture`, "Prop", 32); !ok || v != "hello" {
		t.Errorf("MSI registry value Prop = %q, %v", v, ok)
	}
	if _, err := os.Stat(m.C("Program Files (x86)", "FixstickFixture", "fixture.txt")); err != nil {
		t.Errorf("MSI file: %v", err)
	}
	if _, err := os.Stat(m.HostPath(m.private(`logs\fixture.log`))); err != nil {
		t.Errorf("msiexec log: %v", err)
	}

	// The journal and the private report agree.
	var j engine.Journal
	readJSONFile(t, m.HostPath(m.private("journal.json")), &j)
	for _, s := range j.Steps {
		if s.State != engine.StateDone {
			t.Errorf("journal step %s: %s", s.ID, s.State)
		}
	}
	var priv payload.Report
	readJSONFile(t, m.HostPath(m.private("report.json")), &priv)
	if priv.Outcome != payload.ReportSuccess || priv.Computer != rep.Computer {
		t.Errorf("private report %+v", priv)
	}

	// A second run does nothing more; the MSI now counts as installed.
	m.runner("run", "--yes")
	if n := len(m.fakeRuns()); n != 2 {
		t.Errorf("the second run ran %d programs", n-2)
	}
	detect := map[string]string{}
	for _, line := range strings.Split(m.runner("detect").Stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "netfx") {
			detect[f[0]] = line
		}
	}
	if len(detect) != len(payload.Facts(payload.DetectNetFx)) || !strings.HasSuffix(detect["netfx35"], "installed [32-bit view]") || !strings.HasSuffix(detect["netfx35sp1"], " -") {
		t.Errorf("detect: %v", detect)
	}
	if st := m.runner("status"); !strings.Contains(st.Stdout, "fixture") || !strings.Contains(st.Stdout, "succeeded") {
		t.Errorf("status:\n%s%s", st.Stdout, st.Stderr)
	}
}

func TestWineRebootResume(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("one", "one_exit3010.exe"), f.fakeAs("two", "two_exit0.exe")}, `
  - id: one
    exe: one
  - id: two
    exe: two
    args: /after
`)
	m := newMachine(t, f, bundle)
	m.runner("run", "--yes")
	rep := m.report()
	if rep.Outcome != payload.ReportRebootRequired || stepStatuses(rep) != "one=reboot-required two=not-run" {
		t.Fatalf("before the restart: %s %s: %s", rep.Outcome, stepStatuses(rep), rep.Reason)
	}
	cmd, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64)
	if want := `"` + m.private("runner.exe") + `" run --yes --after-reboot --bundle "` + m.private("b") + `"`; !ok || cmd != want {
		t.Fatalf("RunOnce\n got %q\nwant %q", cmd, want)
	}

	// Run again before any restart: the runner sees the same boot, says
	// so, and runs nothing.
	r := m.runner("run", "--yes")
	rep = m.report()
	if rep.Outcome != payload.ReportRebootRequired || !strings.Contains(rep.Reason, "has not restarted since") || strings.Contains(r.Stdout, "continuing after the restart") {
		t.Fatalf("before the restart, again: %s: %s\n%s", rep.Outcome, rep.Reason, r.Stdout)
	}
	if runs := m.fakeRuns(); len(runs) != 1 {
		t.Fatalf("runs before the restart: %+v", runs)
	}

	// wineboot -r runs HKLM RunOnce: the runner continues from its
	// private copy, not from D:.
	m.Reboot()
	rep = m.report()
	if rep.Outcome != payload.ReportSuccess || stepStatuses(rep) != "one=succeeded two=succeeded" {
		t.Fatalf("after the restart: %s %s: %s", rep.Outcome, stepStatuses(rep), rep.Reason)
	}
	runs := m.fakeRuns()
	if len(runs) != 2 || runs[0].Exe != "one_exit3010.exe" || runs[1].Exe != "two_exit0.exe" || !strings.HasSuffix(runs[1].CmdLine, `" /after`) {
		t.Errorf("runs %+v", runs)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64); ok {
		t.Errorf("the RunOnce entry is still there")
	}
}

func TestWineFailureExplained(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("broken", "broken_exit1603.exe"), f.fakeAs("after", "after_exit0.exe")}, `
  - id: broken
    exe: broken
  - id: after
    exe: after
`)
	m := newMachine(t, f, bundle)
	r := m.runner("run", "--yes")
	rep := m.report()
	if rep.Outcome != payload.ReportFailed || stepStatuses(rep) != "broken=failed after=not-run" || r.Status != 1 {
		t.Fatalf("%s %s (status %d): %s", rep.Outcome, stepStatuses(rep), r.Status, rep.Reason)
	}
	st := rep.Steps[0]
	if st.ExitCode == nil || *st.ExitCode != 1603 || st.ExitHex != "0x643" || !strings.HasPrefix(st.Reason, "1603 (0x643): fatal error during installation") {
		t.Errorf("step report %+v", st)
	}
	if !strings.Contains(r.Stdout, "FAILED") || !strings.Contains(r.Stdout, "1603 (0x643)") {
		t.Errorf("summary:\n%s", r.Stdout)
	}
	if runs := m.fakeRuns(); len(runs) != 1 {
		t.Errorf("runs %+v", runs)
	}
	// A failed step is not done: the next run runs it again, and it is
	// still a failure.
	r = m.runner("run", "--yes")
	rep = m.report()
	if rep.Outcome != payload.ReportFailed || r.Status != 1 || stepStatuses(rep) != "broken=failed after=not-run" ||
		!strings.Contains(rep.Steps[0].Reason, "run again after 1 failed run(s)") {
		t.Errorf("second run: %s %s (status %d): %s", rep.Outcome, stepStatuses(rep), r.Status, rep.Steps[0].Reason)
	}
	if runs := m.fakeRuns(); len(runs) != 2 {
		t.Errorf("runs %+v", runs)
	}
}

// TestWineMSIFailure: a real MSI whose launch condition is false ends
// msiexec with 1603; the report explains it and names msiexec's log.
func TestWineMSIFailure(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{{ID: "fixture", File: "fixture.msi", Data: f.msi}}, `
  - id: fixture
    msi: fixture
    args: FIXFAIL=1
`)
	m := newMachine(t, f, bundle)
	// --yes without a command does not ask either
	r := m.runner("--yes")
	if strings.Contains(r.Stdout, "(y/N)") {
		t.Errorf("runner --yes asked:\n%s", r.Stdout)
	}
	rep := m.report()
	logPath := m.private(`logs\fixture.log`)
	st := rep.Steps[0]
	if rep.Outcome != payload.ReportFailed || r.Status != 1 || st.ExitCode == nil || *st.ExitCode != 1603 || st.Log != logPath ||
		st.Reason != "1603 (0x643): fatal error during installation; read the installer's log; log: "+logPath {
		t.Fatalf("%s (status %d): %+v", rep.Outcome, r.Status, st)
	}
	if fi, err := os.Stat(m.HostPath(logPath)); err != nil || fi.Size() == 0 {
		t.Errorf("msiexec's log: %v", err)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\FixstickFixture`, "Installed", 32); ok {
		t.Errorf("the package was installed")
	}
}

func TestWineTamperedRefused(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("one", "one_exit0.exe"), f.fakeAs("two", "two_exit0.exe")}, `
  - id: one
    exe: one
  - id: two
    exe: two
`)
	// one byte of the second payload changes on the stick
	name := filepath.Join(bundle, "payloads", "two", "two_exit0.exe")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, f, bundle)
	r := m.runner("run", "--yes")
	rep := m.report()
	if rep.Outcome != payload.ReportRefused || r.Status != 1 || !strings.Contains(rep.Reason, "payloads/two/two_exit0.exe: sha256") {
		t.Fatalf("%s (status %d): %s", rep.Outcome, r.Status, rep.Reason)
	}
	if runs := m.fakeRuns(); len(runs) != 0 {
		t.Errorf("a program ran: %+v", runs)
	}
	if _, err := os.Stat(m.HostPath(m.private())); !os.IsNotExist(err) {
		t.Errorf("the private folder was made: %v", err)
	}
	if v := m.runner("verify"); v.Status != 1 || !strings.Contains(v.Stderr, "two_exit0.exe") {
		t.Errorf("verify: %d\n%s", v.Status, v.Stderr)
	}
}

func TestWineTimeoutKills(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("stuck", "stuck_hangchild.exe"), f.fakeAs("after", "after_exit0.exe")}, `
  - id: stuck
    exe: stuck
    timeout: 1m
  - id: after
    exe: after
`)
	// A manifest's shortest timeout is a minute; the test shortens it in
	// the lock (the runner trusts the lock, and checks files against it).
	lockName := filepath.Join(bundle, payload.LockName)
	data, err := os.ReadFile(lockName)
	if err != nil {
		t.Fatal(err)
	}
	l, err := payload.ParseLock(data)
	if err != nil || l.Steps[0].Timeout != 60 {
		t.Fatalf("no 60 s timeout in the lock (%v):\n%s", err, data)
	}
	// As the builder would have written it: the runner refuses a lock
	// whose bundle id does not match its content.
	l.Steps[0].Timeout = 2
	if l.Bundle, err = payload.BundleID(l); err != nil {
		t.Fatal(err)
	}
	short, err := payload.MarshalLock(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockName, short, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newMachine(t, f, bundle)
	m.runner("run", "--yes")
	rep := m.report()
	if rep.Outcome != payload.ReportFailed || stepStatuses(rep) != "stuck=failed after=not-run" ||
		rep.Steps[0].Reason != "did not finish within 2s; the runner stopped it and its child processes" {
		t.Fatalf("%s %s: %q", rep.Outcome, stepStatuses(rep), rep.Steps[0].Reason)
	}
	if runs := m.fakeRuns(); len(runs) != 1 || runs[0].Exe != "stuck_hangchild.exe" {
		t.Errorf("runs %+v", runs)
	}
	// The hung installer's child would write a file 3 s after it started:
	// the timeout killed it too.
	time.Sleep(5 * time.Second)
	if _, err := os.Stat(m.C("fixstick-test", "late.txt")); !os.IsNotExist(err) {
		t.Errorf("a child of the hung installer lived on: %v", err)
	}
}

// TestWineInteractive double-clicks: no arguments, a person answers.
func TestWineInteractive(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("one", "one_exit0.exe")}, `
  - id: one
    exe: one
`)
	m := newMachine(t, f, bundle)
	ask := func(answer string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), winetest.CommandTimeout)
		defer cancel()
		cmd := m.Command(ctx, `D:\runner.exe`)
		cmd.Stdin = strings.NewReader(answer)
		out, _ := cmd.CombinedOutput()
		t.Logf("runner, answering %q:\n%s", answer, out)
		return string(out)
	}
	if out := ask("n\n"); !strings.Contains(out, "Run these steps now? (y/N)") || !strings.Contains(out, "Nothing was run.") {
		t.Errorf("declined: %s", out)
	}
	if runs := m.fakeRuns(); len(runs) != 0 {
		t.Fatalf("a program ran after no: %+v", runs)
	}
	out := ask("y\n")
	if rep := m.report(); rep.Outcome != payload.ReportSuccess || !strings.Contains(out, "Result: success") {
		t.Errorf("accepted: %s: %s", rep.Outcome, out)
	}
	if runs := m.fakeRuns(); len(runs) != 1 {
		t.Errorf("runs %+v", runs)
	}
}

// TestWinePowerCut kills every process while an installer runs (the
// journal says "started"), then starts Windows again: the RunOnce entry
// registered before the step continues the bundle, the interrupted step
// runs again, the finished one does not, and the report says so.
func TestWinePowerCut(t *testing.T) {
	f := getFixture(t)
	bundle := f.build(t, []artifact{f.fakeAs("first", "first_exit0.exe"), f.fakeAs("second", "second_hangonce.exe")}, `
  - id: first
    exe: first
  - id: second
    exe: second
`)
	m := newMachine(t, f, bundle)
	ctx, cancel := context.WithTimeout(context.Background(), winetest.CommandTimeout)
	defer cancel()
	cmd := m.Command(ctx, `D:\runner.exe`, "run", "--yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for len(m.fakeRuns()) < 2 {
		select {
		case err := <-done:
			t.Fatalf("the runner ended (%v) before the second step started", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	m.PowerCut()
	<-done
	var j engine.Journal
	readJSONFile(t, m.HostPath(m.private("journal.json")), &j)
	if len(j.Steps) != 2 || j.Steps[0].State != engine.StateDone || j.Steps[1].State != engine.StateStarted {
		t.Fatalf("journal after the power cut: %+v", j.Steps)
	}

	// The power comes back: Windows starts, and the entry registered
	// before the step ran continues the bundle.
	m.Reboot()
	rep := m.report()
	if rep.Outcome != payload.ReportSuccess || stepStatuses(rep) != "first=succeeded second=succeeded" ||
		!strings.Contains(rep.Steps[1].Reason, "run again after 1 interrupted run") || !strings.Contains(rep.Reason, "step second was interrupted") {
		t.Fatalf("%s %s: %s / %s", rep.Outcome, stepStatuses(rep), rep.Reason, rep.Steps[1].Reason)
	}
	runs := m.fakeRuns()
	if len(runs) != 3 || runs[0].Exe != "first_exit0.exe" || runs[1].Exe != "second_hangonce.exe" || runs[2].Exe != "second_hangonce.exe" {
		t.Errorf("runs %+v", runs)
	}
}

// The longest id a manifest may have builds, and runner.exe runs its
// bundle through a restart: the bundle id (manifest id and 13 characters)
// names the private folder and appears twice in the RunOnce command.
func TestWineLongestID(t *testing.T) {
	f := getFixture(t)
	b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: strings.Repeat("l", payload.MaxIDLen), Title: "Longest id"}
	bundle := b.Build(t, []artifact{f.fakeAs("one", "one_exit3010.exe"), f.fakeAs("two", "two_exit0.exe")}, `
  - id: one
    exe: one
  - id: two
    exe: two
`)
	m := newMachine(t, f, bundle)
	if len(m.lock.Bundle) != payload.MaxBundleIDLen {
		t.Fatalf("bundle id %q: %d characters, want %d", m.lock.Bundle, len(m.lock.Bundle), payload.MaxBundleIDLen)
	}
	m.runner("run", "--yes")
	if rep := m.report(); rep.Outcome != payload.ReportRebootRequired {
		t.Fatalf("before the restart: %s: %s", rep.Outcome, rep.Reason)
	}
	if _, ok := m.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "fixstick-"+m.lock.Bundle, 64); !ok {
		t.Fatal("no RunOnce entry")
	}
	m.Reboot()
	if rep := m.report(); rep.Outcome != payload.ReportSuccess || stepStatuses(rep) != "one=succeeded two=succeeded" {
		t.Fatalf("after the restart: %s %s: %s", rep.Outcome, stepStatuses(rep), rep.Reason)
	}
}

// TestWineScenarios runs the scenario table the legacy executor's Wine
// tests run too (internal/winetest.Scenarios): requires, goal, a probing
// step, finish_if_goal_met and --force behave the same in both.
func TestWineScenarios(t *testing.T) {
	f := getFixture(t)
	for _, sc := range winetest.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			// Each scenario has its own bundle and prefix; Wine waits
			// more than it computes, so they run side by side.
			t.Parallel()
			b := winetest.Bundle{Builder: f.builder, RunnerDir: f.runnerDir, ID: "wine-e2e", Title: "Wine end-to-end test", Top: sc.Top}
			bundle := b.Build(t, sc.Artifacts(func(winetest.Installer) []byte { return f.fake }, f.msi), sc.Steps)
			m := newMachine(t, f, bundle)
			sc.Prepare(t, m.C, m.RegAdd)
			for i, want := range sc.Runs {
				args := []string{"run", "--yes"}
				if want.Force {
					args = append(args, "--force")
				}
				m.runner(args...)
				var cmdlines []string
				for _, r := range m.fakeRuns() {
					cmdlines = append(cmdlines, r.CmdLine)
				}
				_, msiRan := m.RegQuery(winetest.FixtureKey, "Prop", 32)
				t.Logf("run %d (%s)", i+1, strings.Join(args, " "))
				want.Check(t, ptrReport(m.report()), winetest.RanIDs(cmdlines), msiRan)
			}
		})
	}
}

func ptrReport(r payload.Report) *payload.Report { return &r }
