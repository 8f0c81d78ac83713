package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"fixstick/payload"
)

// A step that failed runs again on the next run, and the rerun's outcome
// comes from the steps: never success while one is failed.
func TestFailedStepRunsAgain(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	sys.programs["one.exe"] = exitWith(1603)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportFailed {
		t.Fatalf("first run: %v %s", err, rep.Outcome)
	}
	// still failing: the second run runs it again and fails again
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportFailed || sys.runs["one.exe"] != 2 || sys.runs["two.exe"] != 0 {
		t.Fatalf("second run: %v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	// the cause is fixed: the third run completes the bundle
	sys.programs["one.exe"] = exitWith(0)
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportSuccess || statuses(rep) != "one=succeeded two=succeeded" {
		t.Fatalf("third run: %v %s %s: %s", err, rep.Outcome, statuses(rep), rep.Reason)
	}
	if sys.runs["one.exe"] != 3 || !strings.Contains(rep.Steps[0].Reason, "run again after 2 failed run(s)") ||
		!strings.Contains(rep.Reason, "step one failed in an earlier run") {
		t.Errorf("runs %v; step reason %q; reason %q", sys.runs, rep.Steps[0].Reason, rep.Reason)
	}
	var j Journal
	p, _ := e.PathsFor(bundleID(t, dir))
	readJSON(t, p.Journal, &j)
	if j.Steps[0].Attempts != 3 || j.Steps[0].Failures != 2 {
		t.Errorf("journal %+v", j.Steps[0])
	}
}

// A journal that says every step is done, one of them failed, is not a
// success (as a journal from an older runner may say).
func TestOutcomeFromJournal(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.PathsFor(b.Lock.Bundle)
	r := &run{e: e, b: b, p: p, j: &Journal{Steps: []JournalStep{{ID: "one", State: StateDone, Status: payload.StatusFailed, Reason: "boom"}}}}
	r.rep.Steps = reportSteps(b.Lock, r.j)
	r.outcomeFromJournal()
	if r.rep.Outcome != payload.ReportFailed || r.rep.Reason != "step one failed: boom" {
		t.Errorf("%s: %s", r.rep.Outcome, r.rep.Reason)
	}
	r = &run{e: e, b: b, p: p, j: &Journal{AwaitingReboot: true, Steps: []JournalStep{{ID: "one", State: StateDone, Status: payload.StatusRebootRequired}}}}
	r.rep.Steps = reportSteps(b.Lock, r.j)
	r.outcomeFromJournal()
	if r.rep.Outcome != payload.ReportRebootRequired {
		t.Errorf("awaiting a restart: %s", r.rep.Outcome)
	}
}

// Files planted in the private copy (a DLL beside an installer, next to a
// step's payload) are removed before anything runs, on a run from the
// stick and on a resume from the private copy.
func TestPrivateCopyHoldsOnlyTheLock(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	plant := func(rel string) string {
		name := filepath.Join(p.Bundle, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("MZ planted"), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// before the first run, someone made the private folder and planted
	// files where the copy goes
	dll := plant("payloads/one/version.dll")
	extraDir := plant("payloads/evil/x.exe")
	var seen []string
	sys.programs["one.exe"] = func(context.Context, ExecSpec) (uint32, error) {
		for _, n := range []string{dll, extraDir} {
			if _, err := os.Stat(n); err == nil {
				seen = append(seen, n)
			}
		}
		return 3010, nil
	}
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportRebootRequired {
		t.Fatalf("%v %s: %s", err, rep.Outcome, rep.Reason)
	}
	if len(seen) > 0 {
		t.Errorf("planted files were there while the installer ran: %v", seen)
	}
	if !strings.Contains(rep.Reason, "removed from the private copy what the lock does not list: payloads/evil, payloads/one/version.dll") {
		t.Errorf("reason %q", rep.Reason)
	}
	// planted again while waiting for the restart: the resume from the
	// private copy removes it too
	plant("payloads/two/version.dll")
	sys.restart()
	var seen2 bool
	sys.programs["two.exe"] = func(context.Context, ExecSpec) (uint32, error) {
		_, err := os.Stat(filepath.Join(p.Bundle, "payloads", "two", "version.dll"))
		seen2 = err == nil
		return 0, nil
	}
	rep, err = openRun(t, e, p.Bundle, RunOptions{AfterReboot: true})
	if err != nil || rep.Outcome != payload.ReportSuccess || seen2 || !strings.Contains(rep.Reason, "payloads/two/version.dll") {
		t.Errorf("resume: %v %s (seen %v): %s", err, rep.Outcome, seen2, rep.Reason)
	}
}

// A private folder someone else made is moved aside and its journal not
// believed: a planted journal cannot mark steps done.
func TestUntrustedPrivateFolderMovedAside(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	if err := os.MkdirAll(p.Root, 0o777); err != nil {
		t.Fatal(err)
	}
	planted := `{"journal": 1, "bundle": "` + bundleID(t, dir) + `", "created": "x", "facts": [], "facts_recorded": false, "reboots": 0,
	  "steps": [{"id": "one", "state": "done", "status": "succeeded"}]}`
	if err := os.WriteFile(p.Journal, []byte(planted), 0o666); err != nil {
		t.Fatal(err)
	}
	sys.untrusted = map[string]bool{p.Root: true}
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportSuccess || sys.runs["one.exe"] != 1 {
		t.Fatalf("%v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	if !strings.Contains(rep.Reason, "was not made by an administrator: it was moved to "+p.Root+".untrusted") {
		t.Errorf("reason %q", rep.Reason)
	}
}

// Reports go to the folder the bundle runs from now, not the one the
// first run came from; after a restart, only to a folder that still holds
// the same bundle, and a vanished one is never created.
func TestReportOrigin(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	sys.programs["one.exe"] = exitWith(1603)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	if _, err := openRun(t, e, dir, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	// the stick comes back under another letter (a copy elsewhere)
	moved := filepath.Join(t.TempDir(), "E")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(moved, "reports")); err != nil {
		t.Fatal(err)
	}
	sys.programs["one.exe"] = exitWith(3010)
	rep, err := openRun(t, e, moved, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportRebootRequired {
		t.Fatalf("%v %s", err, rep.Outcome)
	}
	var r payload.Report
	readJSON(t, filepath.Join(moved, "reports", "PC-17", "report.json"), &r)
	if r.Outcome != payload.ReportRebootRequired {
		t.Errorf("report on the stick: %s", r.Outcome)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the old path was made again: %v", err)
	}
	// the stick is gone during the restart: nothing is created there
	if err := os.RemoveAll(moved); err != nil {
		t.Fatal(err)
	}
	sys.restart()
	rep, err = openRun(t, e, p.Bundle, RunOptions{AfterReboot: true})
	if err != nil || rep.Outcome != payload.ReportSuccess {
		t.Fatalf("%v %s", err, rep.Outcome)
	}
	if _, err := os.Stat(moved); !os.IsNotExist(err) {
		t.Errorf("a vanished bundle folder was created: %v", err)
	}
	// another bundle under the same path gets no report of ours
	other := writeBundle(t, []payload.LockStep{exeStep("x", "payloads/x/x.exe")}, bundleFile{"payloads/x/x.exe", "x"})
	if err := os.Rename(other, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := openRun(t, e, p.Bundle, RunOptions{AfterReboot: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(moved, "reports")); !os.IsNotExist(err) {
		t.Errorf("a report went into another bundle: %v", err)
	}
}

// A restart asked for by the last step is still asked for (and done when
// allowed); until it has happened, the bundle is not a success.
func TestLastStepRestart(t *testing.T) {
	steps := []payload.LockStep{exeStep("one", "payloads/one/one.exe"), exeStep("last", "payloads/last/last.exe")}
	dir := writeBundle(t, steps, bundleFile{"payloads/one/one.exe", "1"}, bundleFile{"payloads/last/last.exe", "2"})
	sys := newFakeSys(t)
	sys.programs["last.exe"] = exitWith(3010)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{Reboot: true})
	if err != nil || rep.Outcome != payload.ReportRebootRequired || sys.reboots != 1 {
		t.Fatalf("%v %s, rebooted %d: %s", err, rep.Outcome, sys.reboots, rep.Reason)
	}
	if !strings.Contains(rep.Reason, "restart the computer to complete the last one") {
		t.Errorf("reason %q", rep.Reason)
	}
	// the restart did not happen (shut down and up with fast startup, or
	// refused): a later run does not call it a success
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportRebootRequired || sys.runs["last.exe"] != 1 {
		t.Fatalf("before the restart: %v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	sys.restart()
	rep, err = openRun(t, e, dir, RunOptions{AfterReboot: true})
	if err != nil || rep.Outcome != payload.ReportSuccess || statuses(rep) != "one=succeeded last=succeeded" {
		t.Fatalf("after the restart: %v %s %s", err, rep.Outcome, statuses(rep))
	}
	if len(sys.runOnce) != 0 {
		t.Errorf("RunOnce left: %v", sys.runOnce)
	}
}

// RunOnce runs at a logon, which needs no restart: the runner tells from
// the boot time that none happened, says so and stops, unless told to go
// on without it.
func TestNoRestartYet(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	sys.programs["one.exe"] = exitWith(3010)
	e, out, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	if _, err := openRun(t, e, dir, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	delete(sys.runOnce, runOnceName(bundleID(t, dir))) // Windows deletes it before running it
	out.Reset()
	rep, err := openRun(t, e, p.Bundle, RunOptions{AfterReboot: true})
	if err != nil || rep.Outcome != payload.ReportRebootRequired || sys.runs["two.exe"] != 0 {
		t.Fatalf("%v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	if !strings.Contains(rep.Reason, "the computer has not restarted since") || strings.Contains(out.String(), "continuing after the restart") {
		t.Errorf("reason %q; output:\n%s", rep.Reason, out)
	}
	if sys.runOnce[runOnceName(bundleID(t, dir))] == "" {
		t.Errorf("the entry that continues after the restart was not registered again")
	}
	rep, err = openRun(t, e, dir, RunOptions{WithoutRestart: true})
	if err != nil || rep.Outcome != payload.ReportSuccess || sys.runs["two.exe"] != 1 {
		t.Fatalf("--without-restart: %v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	if !strings.Contains(rep.Steps[0].Reason, "not restarted: --without-restart") {
		t.Errorf("step reason %q", rep.Steps[0].Reason)
	}
}

// The entry that continues after a restart exists before a program runs:
// an installer may restart the computer itself (1641) at any moment.
func TestRunOnceBeforeEachProgram(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	want := `"` + p.Runner + `" run --yes --after-reboot --bundle "` + p.Bundle + `" --reboot`
	var seen []string
	for _, n := range []string{"one.exe", "two.exe"} {
		sys.programs[n] = func(context.Context, ExecSpec) (uint32, error) {
			seen = append(seen, sys.runOnce[runOnceName(bundleID(t, dir))])
			return 0, nil
		}
	}
	rep, err := openRun(t, e, dir, RunOptions{Reboot: true})
	if err != nil || rep.Outcome != payload.ReportSuccess {
		t.Fatal(err, rep.Outcome)
	}
	if len(seen) != 2 || seen[0] != want || seen[1] != want {
		t.Errorf("RunOnce while the programs ran: %q, want %q", seen, want)
	}
	if len(sys.runOnce) != 0 {
		t.Errorf("RunOnce left after success: %v", sys.runOnce)
	}
}

// msiexec reads the package while it runs: the verified handle stays open
// until it ends. An exe is released once its process exists.
func TestPackageHeldWhileMsiexecRuns(t *testing.T) {
	st := payload.LockStep{ID: "m", Kind: payload.KindMSI, Program: "payloads/m/m.msi", Reboot: payload.RebootIfNeeded}
	dir := writeBundle(t, []payload.LockStep{st}, bundleFile{"payloads/m/m.msi", "MSI"})
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	if rep, err := openRun(t, e, dir, RunOptions{}); err != nil || rep.Outcome != payload.ReportSuccess {
		t.Fatal(err)
	}
	if !sys.heldRun || sys.heldOpen {
		t.Errorf("held while msiexec ran: %v; still held after: %v", sys.heldRun, sys.heldOpen)
	}
	dir = oneStepBundle(t)
	sys = newFakeSys(t)
	e, _, _ = newEngine(t, sys)
	if _, err := openRun(t, e, dir, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if sys.heldRun || !sys.startedOK {
		t.Errorf("an exe's file stayed held while it ran")
	}
}

// %SystemRoot% is expanded in the system program's path only; the step's
// args reach msiexec verbatim.
func TestSystemRootNotExpandedInArgs(t *testing.T) {
	st := payload.LockStep{ID: "m", Kind: payload.KindMSI, Program: "payloads/m/m.msi", Args: `TARGETDIR="%SystemRoot%\x"`, Reboot: payload.RebootIfNeeded}
	dir := writeBundle(t, []payload.LockStep{st}, bundleFile{"payloads/m/m.msi", "MSI"})
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	if _, err := openRun(t, e, dir, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(sys.cmdlines) != 1 || !strings.HasPrefix(sys.cmdlines[0], `"C:\Windows\System32\msiexec.exe" /i "`) ||
		!strings.HasSuffix(sys.cmdlines[0], ` TARGETDIR="%SystemRoot%\x"`) {
		t.Errorf("command line %q", sys.cmdlines)
	}
}

func TestOSConditionBuild(t *testing.T) {
	sys := newFakeSys(t)
	sys.osInfo = OSInfo{Major: 10, Minor: 0, Build: 17763, Arch: "x64"}
	ev := &evaluator{sys: sys}
	for _, tc := range []struct {
		min, max string
		want     bool
	}{
		{"10.0", "", true},
		{"10.0.17763", "", true},
		{"10.0.17764", "", false},
		{"10.0.19041", "", false},
		{"", "10.0", true}, // every 10.0 build
		{"", "10.0.17762", false},
		{"", "10.0.17763", true},
		{"6.3", "6.3", false},
		{"6.1.7601", "10.0.20348", true},
	} {
		ok, err := ev.Eval(&payload.Condition{OS: &payload.OSCond{Min: tc.min, Max: tc.max}})
		if err != nil || ok != tc.want {
			t.Errorf("min %q max %q on 10.0.17763: %v, %v; want %v", tc.min, tc.max, ok, err, tc.want)
		}
	}
	for _, bad := range []string{"10", "10.0.1.2", "10..0", "10.x", "+10.0"} {
		l := validLock()
		l.Steps[0].When = &payload.Condition{Not: &payload.Condition{OS: &payload.OSCond{Min: bad}}}
		data := canonical(t, &l)
		if _, err := ParseLock(data); err == nil || !strings.Contains(err.Error(), "major.minor") && !strings.Contains(err.Error(), "numbers separated by dots") {
			t.Errorf("os min %q: %v", bad, err)
		}
	}
}

// A bundle at the root of an NTFS stick: Windows' own folders there are
// not walked, and a folder that cannot be read is a note, not a refusal.
func TestUnlistedSkipsSystemFolders(t *testing.T) {
	l := validLock()
	fsys := deniedFS{fstest.MapFS{
		"bundle.lock.json": {Data: []byte("{}")},
		"payloads/a/a.exe": {Data: []byte("a")},
		"System Volume Information/IndexerVolumeGuid": {Data: []byte("x")},
		"$RECYCLE.BIN/S-1-5-21/desktop.ini":           {Data: []byte("x")},
		"private/secret.txt":                          {Data: []byte("x")},
		"notes.txt":                                   {Data: []byte("x")},
	}, "private"}
	extras, notes, err := unlisted(fsys, &l)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(extras, ",") != "notes.txt" {
		t.Errorf("extras %v", extras)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "the folder private could not be read") {
		t.Errorf("notes %v", notes)
	}
	// a folder of the bundle's own files that cannot be read still fails
	fsys.deny = "payloads/a"
	if _, _, err := unlisted(fsys, &l); err == nil {
		t.Errorf("an unreadable payload folder was accepted")
	}
}

// deniedFS refuses to list one folder, as Windows does for System Volume
// Information.
type deniedFS struct {
	fstest.MapFS
	deny string
}

func (d deniedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == d.deny {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.MapFS.ReadDir(name)
}

// Ctrl+C while a program runs: the report says the person interrupted
// the run, not "context canceled".
func TestInterruptedByTheUser(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	ctx, cancel := context.WithCancel(context.Background())
	sys.programs["one.exe"] = func(c context.Context, _ ExecSpec) (uint32, error) {
		cancel()
		<-c.Done()
		return 0, c.Err()
	}
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Run(ctx, b, RunOptions{})
	if err == nil || rep == nil || rep.Outcome != payload.ReportFailed || !strings.HasPrefix(rep.Reason, "interrupted by the user") {
		t.Fatalf("%v; %+v", err, rep)
	}
}

// After a restart the elevated runner writes its report into the bundle
// folder the first run came from. Someone may have prepared that folder
// (a swapped stick, or a bundle unpacked to a local folder; the lock is
// public) with reports\ or the folder itself a link (on Windows a
// junction) into any folder: the runner must write nothing through it.
// Symbolic links stand in for junctions here; Wine 8 cannot make a
// junction (FSCTL_SET_REPARSE_POINT: "Request not supported").
func TestReportWriteBackFollowsNoLink(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, dir, victim string)
	}{
		{"reports is a link", func(t *testing.T, dir, victim string) {
			if err := os.RemoveAll(filepath.Join(dir, "reports")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(dir, "reports")); err != nil {
				t.Fatal(err)
			}
		}},
		{"the computer's folder is a link", func(t *testing.T, dir, victim string) {
			if err := os.RemoveAll(filepath.Join(dir, "reports", "PC-17")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(dir, "reports", "PC-17")); err != nil {
				t.Fatal(err)
			}
		}},
		{"the bundle folder is a link to a prepared one", func(t *testing.T, dir, victim string) {
			prepared := filepath.Join(t.TempDir(), "prepared")
			if err := os.Rename(dir, prepared); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(prepared, "reports")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(victim, filepath.Join(prepared, "reports")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(prepared, dir); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := twoStepBundle(t)
			sys := newFakeSys(t)
			sys.programs["one.exe"] = exitWith(3010)
			e, out, _ := newEngine(t, sys)
			p, _ := e.PathsFor(bundleID(t, dir))
			if rep, err := openRun(t, e, dir, RunOptions{}); err != nil || rep.Outcome != payload.ReportRebootRequired {
				t.Fatalf("first run: %v %+v", err, rep)
			}
			victim := filepath.Join(t.TempDir(), "System32")
			if err := os.Mkdir(victim, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.plant(t, dir, victim)
			sys.restart()
			rep, err := openRun(t, e, p.Bundle, RunOptions{AfterReboot: true})
			if err != nil || rep.Outcome != payload.ReportSuccess {
				t.Fatalf("after the restart: %v %+v", err, rep)
			}
			ents, _ := os.ReadDir(victim)
			for _, e := range ents {
				t.Errorf("written through the link: %s", e.Name())
			}
			if !strings.Contains(out.String(), "is a link or a junction") && !strings.Contains(out.String(), "not there any more") {
				t.Errorf("the runner did not say why the report is not on the stick:\n%s", out.String())
			}
			var r payload.Report
			readJSON(t, p.Report, &r)
			if r.Outcome != payload.ReportSuccess {
				t.Errorf("private report: %s", r.Outcome)
			}
		})
	}
}

// RunOnce starts the private copy of the runner after a restart, as
// administrator: it must be the lock's runner, verified, never the bytes
// of whatever program is running (a runner started from elsewhere with
// --bundle, or a stick's runner.exe swapped after the check). A bundle
// whose lock lists no runner runs nothing.
func TestRunnerCopyIsTheLocksRunner(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// the stick's runner.exe changes after the check
	if err := os.WriteFile(filepath.Join(dir, payload.RunnerAMD64), []byte("EVIL"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Run(context.Background(), b, RunOptions{})
	if err == nil || rep.Outcome != payload.ReportFailed || sys.runs["one.exe"] != 0 {
		t.Fatalf("a changed runner.exe: %v %+v, one ran %d", err, rep, sys.runs["one.exe"])
	}
	p, _ := e.PathsFor(b.Lock.Bundle)
	if data, err := os.ReadFile(p.Runner); err == nil {
		t.Errorf("the private runner holds %q", data)
	}

	// the lock's runner, from the stick unchanged: that is what RunOnce gets
	if err := os.WriteFile(filepath.Join(dir, payload.RunnerAMD64), []byte("RUNNER"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := openRun(t, e, dir, RunOptions{}); err != nil || rep.Outcome != payload.ReportSuccess {
		t.Fatalf("%v %+v", err, rep)
	}
	if data, err := os.ReadFile(p.Runner); err != nil || string(data) != "RUNNER" {
		t.Errorf("the private runner holds %q, %v", data, err)
	}

	// a lock that lists no runner for this architecture
	l := validLock()
	dir = t.TempDir()
	os.MkdirAll(filepath.Join(dir, "payloads", "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "payloads", "a", "a.exe"), []byte("a"), 0o644)
	sum := sha256.Sum256([]byte("a"))
	l.Files[0].SHA256 = hex.EncodeToString(sum[:])
	writeLock(t, dir, &l)
	rep, err = openRun(t, e, dir, RunOptions{})
	if err == nil || !strings.Contains(rep.Reason, "the lock lists no runner.exe") || sys.runs["a.exe"] != 0 {
		t.Fatalf("no runner in the lock: %v %+v", err, rep)
	}
}
