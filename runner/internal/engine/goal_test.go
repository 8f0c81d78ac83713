package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"fixstick/payload"
)

// The seed procedure's shape: record, a probe whose failure is expected,
// a fix after which the goal may hold, then the destructive part.
var (
	goalKey  = `HKLM\SOFTWARE\Microsoft\Updates\Test\M1`
	testGoal = &payload.Condition{Registry: &payload.RegistryCond{Key: goalKey, Value: "Installed", Equals: ptr("1"), View: 32}}
	testReq  = &payload.Condition{All: []payload.Condition{
		{OS: &payload.OSCond{Min: "5.1", Max: "5.1", Arch: "x86"}},
		{Recorded: "netfx11"},
	}}
)

func ladderBundle(t *testing.T) string {
	t.Helper()
	record := payload.LockStep{ID: "record", Kind: payload.KindDetect, Detect: payload.DetectNetFx, Reboot: payload.RebootNever}
	probe := exeStep("probe", "payloads/probe/probe.exe")
	probe.OnFailure, probe.FinishIfGoalMet = payload.OnFailureContinue, true
	fix := exeStep("fix", "payloads/fix/fix.exe")
	fix.FinishIfGoalMet = true
	l := payload.Lock{Requires: testReq, Goal: testGoal,
		Steps: []payload.LockStep{record, probe, fix, exeStep("cleanup", "payloads/cleanup/cleanup.exe"), exeStep("reinstall", "payloads/reinstall/reinstall.exe")}}
	var files []bundleFile
	for _, s := range l.Steps[1:] {
		files = append(files, bundleFile{s.Program, s.ID})
	}
	return writeLockBundle(t, l, files...)
}

// xpWithNetFx11 is the machine the ladder is for.
func xpWithNetFx11(t *testing.T) *fakeSys {
	sys := newFakeSys(t)
	sys.osInfo = OSInfo{Major: 5, Minor: 1, Build: 2600, ServicePack: "Service Pack 3", Arch: "x86"}
	sys.setReg(64, payload.NetFxKeyRoot+`v1.1.4322`, "Install", RegValue{Num: 1, IsNum: true, Numeric: true})
	return sys
}

func (f *fakeSys) setGoal() {
	f.setReg(32, goalKey, "Installed", RegValue{Num: 1, IsNum: true, Numeric: true})
}

// setsGoal is a program that makes the goal hold, then exits with code.
func setsGoal(f *fakeSys, code uint32) func(context.Context, ExecSpec) (uint32, error) {
	return func(context.Context, ExecSpec) (uint32, error) { f.setGoal(); return code, nil }
}

func reasons(rep *payload.Report) map[string]string {
	m := map[string]string{}
	for _, s := range rep.Steps {
		m[s.ID] = s.Reason
	}
	return m
}

func checkGoal(t *testing.T, rep *payload.Report, before bool, after *bool) {
	t.Helper()
	g := rep.Goal
	switch {
	case g == nil:
		t.Fatalf("report has no goal")
	case !strings.Contains(g.Text, goalKey):
		t.Errorf("goal text %q", g.Text)
	case g.Before != before:
		t.Errorf("goal before %v, want %v", g.Before, before)
	case (g.After == nil) != (after == nil) || (after != nil && *g.After != *after):
		t.Errorf("goal after %v, want %v", g.After, after)
	}
}

func TestGoalHoldsAtStartNotNeeded(t *testing.T) {
	dir := ladderBundle(t)
	sys := xpWithNetFx11(t)
	sys.setGoal()
	e, out, _ := newEngine(t, sys)
	for run := 1; run <= 2; run++ { // the journal is forgotten: the second run checks afresh
		rep, err := openRun(t, e, dir, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Outcome != payload.ReportNotNeeded || !strings.Contains(rep.Reason, "the goal already holds") {
			t.Fatalf("run %d: %s: %s", run, rep.Outcome, rep.Reason)
		}
		if got, want := statuses(rep), "record=succeeded probe=skipped fix=skipped cleanup=skipped reinstall=skipped"; got != want {
			t.Errorf("run %d: statuses %s, want %s", run, got, want)
		}
		if r := reasons(rep)["cleanup"]; r != "not needed: the goal already holds" {
			t.Errorf("cleanup reason %q", r)
		}
		checkGoal(t, rep, true, ptr(true))
		if len(sys.cmdlines) != 0 {
			t.Fatalf("run %d: programs ran: %v", run, sys.cmdlines)
		}
	}
	if !strings.Contains(out.String(), "--force") {
		t.Errorf("the output does not say how to run anyway:\n%s", out)
	}
	if len(sys.runOnce) != 0 {
		t.Errorf("RunOnce left: %v", sys.runOnce)
	}

	// --force runs anyway; the goal still holds after the probe, so the
	// run finishes there.
	rep, err := openRun(t, e, dir, RunOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != payload.ReportSuccess || sys.runs["probe.exe"] != 1 || sys.runs["fix.exe"] != 0 {
		t.Fatalf("--force: %s %s: %s; runs %v", rep.Outcome, statuses(rep), rep.Reason, sys.runs)
	}
	if r := reasons(rep)["fix"]; r != "the goal was met after step probe" {
		t.Errorf("fix reason %q", r)
	}
	checkGoal(t, rep, true, ptr(true))
}

func TestProbeFailsGoalMetAfterFix(t *testing.T) {
	dir := ladderBundle(t)
	sys := xpWithNetFx11(t)
	sys.programs["probe.exe"] = exitWith(1603)
	sys.programs["fix.exe"] = setsGoal(sys, 0)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != payload.ReportSuccess {
		t.Fatalf("%s: %s", rep.Outcome, rep.Reason)
	}
	if got, want := statuses(rep), "record=succeeded probe=failed fix=succeeded cleanup=skipped reinstall=skipped"; got != want {
		t.Errorf("statuses %s, want %s", got, want)
	}
	probe := rep.Steps[1]
	if !probe.Tolerated || !strings.HasPrefix(probe.Reason, "1603 (0x643)") || probe.ExitHex != "0x643" {
		t.Errorf("probe: %+v", probe)
	}
	for _, id := range []string{"cleanup", "reinstall"} {
		if r := reasons(rep)[id]; r != "the goal was met after step fix" {
			t.Errorf("%s reason %q", id, r)
		}
		if sys.runs[id+".exe"] != 0 {
			t.Errorf("%s ran", id)
		}
	}
	checkGoal(t, rep, false, ptr(true))

	// The next run changes nothing: the tolerated failure is finished.
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportSuccess || sys.runs["probe.exe"] != 1 {
		t.Errorf("second run: %v %s: %s; probe ran %d times", err, rep.Outcome, rep.Reason, sys.runs["probe.exe"])
	}
}

func TestGoalNeverMet(t *testing.T) {
	dir := ladderBundle(t)
	sys := xpWithNetFx11(t)
	sys.programs["probe.exe"] = exitWith(1603)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "every step ran, but the registry value " + goalKey + `\Installed equals 1 (32-bit view) does not hold`
	if rep.Outcome != payload.ReportFailed || rep.Reason != want {
		t.Fatalf("%s: %q\nwant reason %q", rep.Outcome, rep.Reason, want)
	}
	if got := statuses(rep); got != "record=succeeded probe=failed fix=succeeded cleanup=succeeded reinstall=succeeded" {
		t.Errorf("statuses %s", got)
	}
	checkGoal(t, rep, false, ptr(false))
	if len(sys.runOnce) != 0 {
		t.Errorf("RunOnce left after a final run: %v", sys.runOnce)
	}
	// Final: a second run runs nothing and says the same.
	n := len(sys.cmdlines)
	rep, _ = openRun(t, e, dir, RunOptions{})
	if rep.Outcome != payload.ReportFailed || rep.Reason != want || len(sys.cmdlines) != n {
		t.Errorf("second run: %s %q, %d programs ran", rep.Outcome, rep.Reason, len(sys.cmdlines)-n)
	}
}

func TestRequiresRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sys     func(*testing.T) *fakeSys
		machine string
	}{
		{"xp-x64", func(t *testing.T) *fakeSys {
			s := xpWithNetFx11(t)
			s.osInfo = OSInfo{Major: 5, Minor: 2, Build: 3790, Arch: "x64"}
			return s
		}, "this computer is Windows 5.2 x64; recorded: .NET Framework 1.1 (netfx11)"},
		{"no-netfx11", func(t *testing.T) *fakeSys {
			s := newFakeSys(t)
			s.osInfo = OSInfo{Major: 5, Minor: 1, Build: 2600, ServicePack: "Service Pack 3", Arch: "x86"}
			return s
		}, "this computer is Windows 5.1 x86 (Service Pack 3); recorded: none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ladderBundle(t)
			sys := tc.sys(t)
			e, _, _ := newEngine(t, sys)
			rep, err := openRun(t, e, dir, RunOptions{Force: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Outcome != payload.ReportRefused || !strings.Contains(rep.Reason, "this bundle is for computers where Windows is version 5.1 (Windows XP), 32-bit (x86) and .NET Framework 1.1 was recorded") ||
				!strings.Contains(rep.Reason, tc.machine) {
				t.Fatalf("%s: %s", rep.Outcome, rep.Reason)
			}
			if got := statuses(rep); got != "record=succeeded probe=skipped fix=skipped cleanup=skipped reinstall=skipped" {
				t.Errorf("statuses %s", got)
			}
			if r := reasons(rep)["fix"]; r != "the bundle is not for this computer" {
				t.Errorf("fix reason %q", r)
			}
			if len(sys.cmdlines) != 0 {
				t.Errorf("programs ran: %v", sys.cmdlines)
			}
			checkGoal(t, rep, false, nil)
		})
	}
}

// TestGoalAcrossRestartAndCrashes: the fix asks for a restart (3010) and
// makes the goal hold. The runner is killed at every journal write in
// turn, then resumed (restarting when asked) until the bundle ends: the
// end is always the same, and the destructive steps never run.
func TestGoalAcrossRestartAndCrashes(t *testing.T) {
	dir := ladderBundle(t)
	killed := errors.New("killed")
	for n := 1; ; n++ {
		sys := xpWithNetFx11(t)
		sys.programs["probe.exe"] = exitWith(1603)
		sys.programs["fix.exe"] = setsGoal(sys, 3010)
		e, _, _ := newEngine(t, sys)
		writes := 0
		e.save = func(name string, data []byte) error {
			if writes++; writes == n {
				return killed
			}
			return writeFileAtomic(name, data)
		}
		b, err := e.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Run(context.Background(), b, RunOptions{})
		crashed := errors.Is(err, killed)
		if !crashed && n < 4 {
			t.Fatalf("n=%d: the run made only %d journal writes", n, writes)
		}
		e.save = nil
		for i := 0; i < 3 && (crashed || rep.Outcome == payload.ReportRebootRequired); i++ {
			crashed = false
			sys.restart()
			rep, err = openRun(t, e, dir, RunOptions{AfterReboot: true})
			if err != nil {
				t.Fatalf("n=%d: resume: %v", n, err)
			}
		}
		if rep.Outcome != payload.ReportSuccess || statuses(rep) != "record=succeeded probe=failed fix=succeeded cleanup=skipped reinstall=skipped" {
			t.Fatalf("n=%d: %s %s: %s", n, rep.Outcome, statuses(rep), rep.Reason)
		}
		if r := reasons(rep)["cleanup"]; r != "the goal was met after step fix" {
			t.Errorf("n=%d: cleanup reason %q", n, r)
		}
		if sys.runs["cleanup.exe"] != 0 || sys.runs["reinstall.exe"] != 0 {
			t.Errorf("n=%d: destructive steps ran: %v", n, sys.runs)
		}
		checkGoal(t, rep, false, ptr(true))
		if writes < n {
			break // n is past the last write: every crash point was tried
		}
	}
}

// TestToleratedFailureWithoutGoal: on_failure: continue alone reports the
// failure as tolerated, and the run is a success.
func TestToleratedFailureWithoutGoal(t *testing.T) {
	steps := []payload.LockStep{exeStep("one", "payloads/one/one.exe"), exeStep("two", "payloads/two/two.exe")}
	steps[0].OnFailure = payload.OnFailureContinue
	dir := writeBundle(t, steps, bundleFile{"payloads/one/one.exe", "1"}, bundleFile{"payloads/two/two.exe", "2"})
	sys := newFakeSys(t)
	sys.programs["one.exe"] = exitWith(1603)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != payload.ReportSuccess || statuses(rep) != "one=failed two=succeeded" || !rep.Steps[0].Tolerated || rep.Steps[1].Tolerated || rep.Goal != nil {
		t.Errorf("%s %s: %s; %+v", rep.Outcome, statuses(rep), rep.Reason, rep.Steps)
	}
}

// TestHeartbeat: while a program runs, the runner says it is alive, in the
// title and the log. The program ends only once it has seen three beats,
// so the test waits for behaviour, not for time.
func TestHeartbeat(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, out, _ := newEngine(t, sys)
	e.Heartbeat = 1 // as often as the ticker allows
	var beats atomic.Int32
	three := make(chan struct{})
	var titles []string
	e.Title = func(s string) {
		titles = append(titles, s)
		if strings.Contains(s, "one running") && beats.Add(1) == 4 { // the first is set at the start
			close(three)
		}
	}
	sys.programs["one.exe"] = func(ctx context.Context, _ ExecSpec) (uint32, error) {
		<-three
		return 0, nil
	}
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportSuccess {
		t.Fatalf("%v %s", err, rep.Outcome)
	}
	if !strings.Contains(titles[0], "fixstick: one running, 0s of 10m") || titles[len(titles)-1] != "fixstick" {
		t.Errorf("titles %q", titles)
	}
	if !strings.Contains(out.String(), "    still running one: 0s elapsed of its 10m timeout") {
		t.Errorf("no heartbeat line in:\n%s", out)
	}
	p, _ := e.PathsFor(bundleID(t, dir))
	log, err := os.ReadFile(filepath.Join(p.Root, "runner.log"))
	if err != nil || !strings.Contains(string(log), "still running one") {
		t.Errorf("the log has no heartbeat line")
	}
}
