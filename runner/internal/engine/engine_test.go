package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

func ptr[T any](v T) *T { return &v }

// a bundle of three programs and a detect step, with conditions.
func conditionalBundle(t *testing.T) string {
	record := payload.LockStep{ID: "record", Kind: payload.KindDetect, Detect: payload.DetectNetFx, Reboot: payload.RebootIfNeeded}
	a := exeStep("a", "payloads/a/a.exe")
	b := exeStep("b", "payloads/b/b.exe")
	b.When = &payload.Condition{Recorded: "netfx35"}
	c := exeStep("c", "payloads/c/c.exe")
	c.Unless = &payload.Condition{Registry: &payload.RegistryCond{Key: `HKLM\SOFTWARE\Fix`, Value: "Done", Equals: ptr("1"), View: 32}}
	d := payload.LockStep{ID: "d", Kind: payload.KindMSI, Program: "payloads/d/d.msi", Args: "PROP=1", Reboot: payload.RebootIfNeeded}
	d.When = &payload.Condition{All: []payload.Condition{
		{OS: &payload.OSCond{Min: "6.1", Arch: "x64"}},
		{Any: []payload.Condition{{File: &payload.FileCond{Path: `%SystemRoot%\x.dll`, MinVersion: "2.0"}}, {Not: &payload.Condition{Recorded: "netfx11"}}}},
	}}
	return writeBundle(t, []payload.LockStep{record, a, b, c, d},
		bundleFile{"payloads/a/a.exe", "AAA"}, bundleFile{"payloads/b/b.exe", "BBB"},
		bundleFile{"payloads/c/c.exe", "CCC"}, bundleFile{"payloads/d/d.msi", "DDD"}, bundleFile{"runner.exe", "RUNNER"})
}

func TestRunConditionsAndOrder(t *testing.T) {
	dir := conditionalBundle(t)
	sys := newFakeSys(t)
	sys.setReg(64, payload.NetFxKeyRoot+`v3.5`, "Install", RegValue{Num: 1, IsNum: true, Numeric: true})
	sys.setReg(32, `HKLM\SOFTWARE\Fix`, "Done", RegValue{Num: 1, IsNum: true, Numeric: true})
	sys.files[`C:\Windows\x.dll`] = "2.0.1.0"
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != payload.ReportSuccess {
		t.Fatalf("outcome %s: %s", rep.Outcome, rep.Reason)
	}
	if got, want := statuses(rep), "record=succeeded a=succeeded b=succeeded c=skipped d=succeeded"; got != want {
		t.Errorf("statuses\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(rep.Facts, ","); got != "netfx35" {
		t.Errorf("facts %q", got)
	}
	if !strings.Contains(rep.Steps[3].Reason, `HKLM\SOFTWARE\Fix\Done equals 1 (32-bit view)`) {
		t.Errorf("skip reason %q", rep.Steps[3].Reason)
	}
	p, _ := e.PathsFor(bundleID(t, dir))
	wantCmds := []string{
		`"` + filepath.Join(p.Bundle, "payloads", "a", "a.exe") + `"`,
		`"` + filepath.Join(p.Bundle, "payloads", "b", "b.exe") + `"`,
		`"C:\Windows\System32\msiexec.exe" /i "` + filepath.Join(p.Bundle, "payloads", "d", "d.msi") + `" /qn /norestart /l*v "` + filepath.Join(p.Logs, "d.log") + `" PROP=1`,
	}
	if strings.Join(sys.cmdlines, "\n") != strings.Join(wantCmds, "\n") {
		t.Errorf("command lines\n got %q\nwant %q", sys.cmdlines, wantCmds)
	}
	// each program from its own empty working folder inside the private folder
	for i, d := range sys.dirs {
		if !strings.HasPrefix(d, p.Work) {
			t.Errorf("run %d: working folder %s outside %s", i, d, p.Work)
		}
	}
	if sys.dirs[0] == sys.dirs[1] {
		t.Errorf("two steps shared a working folder")
	}
	if !sys.startedOK {
		t.Errorf("the payload was not held open until the process started")
	}
	if len(sys.privDirs) < 2 || sys.privDirs[1] != p.Root {
		t.Errorf("private folder not created through MkdirPrivate: %v", sys.privDirs)
	}
	// the report is in the private folder and in the bundle folder
	var r1, r2 payload.Report
	readJSON(t, p.Report, &r1)
	readJSON(t, filepath.Join(dir, "reports", "PC-17", "report.json"), &r2)
	if r1.Outcome != "success" || r2.Outcome != "success" {
		t.Errorf("reports: %s, %s", r1.Outcome, r2.Outcome)
	}
	// and the runner copied itself
	if _, err := os.Stat(filepath.Join(dir, "reports", "PC-17", "runner.log")); err != nil {
		t.Error(err)
	}

	// A second run finds everything done and runs nothing.
	n := len(sys.cmdlines)
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != payload.ReportSuccess || len(sys.cmdlines) != n {
		t.Errorf("second run: err %v, outcome %s, %d programs ran", err, rep.Outcome, len(sys.cmdlines)-n)
	}
}

func TestRunConditionFalse(t *testing.T) {
	dir := conditionalBundle(t)
	sys := newFakeSys(t)
	sys.setReg(64, payload.NetFxKeyRoot+`v1.1.4322`, "Install", RegValue{Num: 1, IsNum: true, Numeric: true})
	sys.osInfo = OSInfo{Major: 6, Minor: 1, Arch: "x86"}
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(rep), "record=succeeded a=succeeded b=skipped c=succeeded d=skipped"; got != want {
		t.Errorf("statuses\n got %s\nwant %s", got, want)
	}
	if want := "runs only if " + (payload.Condition{Recorded: "netfx35"}).String() + ", which is not the case"; rep.Steps[2].Reason != want {
		t.Errorf("reason %q", rep.Steps[2].Reason)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		code      uint32
		override  payload.ExitCodes
		reboot    payload.Reboot
		outcome   string
		status    string
		reason    string
		runOnce   bool
		rebooted  int
		secondRan bool
	}{
		{name: "success", code: 0, outcome: "success", status: "succeeded", secondRan: true},
		{name: "failure 1603", code: 1603, outcome: "failed", status: "failed", reason: "1603 (0x643): fatal error during installation"},
		{name: "crash", code: 0xC0000005, outcome: "failed", status: "failed", reason: "3221225477 (0xC0000005): the program crashed (access violation)"},
		{name: "unknown code", code: 0x80070005, outcome: "failed", status: "failed", reason: "2147942405 (0x80070005): the installer reported an error this bundle does not know"},
		{name: "reboot 3010", code: 3010, outcome: "reboot-required", status: "reboot-required", runOnce: true},
		{name: "reboot initiated 1641", code: 1641, outcome: "reboot-required", status: "reboot-required", runOnce: true},
		{name: "already installed", code: 0x00240006, override: payload.ExitCodes{0x00240006: {Outcome: payload.OutcomeAlreadyInstalled}},
			outcome: "success", status: "succeeded", reason: "already-installed", secondRan: true},
		{name: "custom failure text", code: 4, override: payload.ExitCodes{4: {Outcome: payload.OutcomeFailure, Text: "the tool found nothing to remove"}},
			outcome: "failed", status: "failed", reason: "4 (0x4): the tool found nothing to remove"},
		{name: "reboot after", code: 0, reboot: payload.RebootAfter, outcome: "reboot-required", status: "reboot-required", runOnce: true},
		{name: "reboot never", code: 3010, reboot: payload.RebootNever, outcome: "success", status: "succeeded", reason: "not to restart", secondRan: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			one := exeStep("one", "payloads/one/one.exe")
			one.ExitCodes = tc.override.Merge()
			if tc.reboot != "" {
				one.Reboot = tc.reboot
			}
			dir := writeBundle(t, []payload.LockStep{one, exeStep("two", "payloads/two/two.exe")},
				bundleFile{"payloads/one/one.exe", "1"}, bundleFile{"payloads/two/two.exe", "2"})
			sys := newFakeSys(t)
			sys.programs["one.exe"] = exitWith(tc.code)
			e, _, _ := newEngine(t, sys)
			rep, err := openRun(t, e, dir, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Outcome != tc.outcome || rep.Steps[0].Status != tc.status {
				t.Fatalf("outcome %s, status %s; want %s, %s (%s)", rep.Outcome, rep.Steps[0].Status, tc.outcome, tc.status, rep.Reason)
			}
			if !strings.Contains(rep.Steps[0].Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", rep.Steps[0].Reason, tc.reason)
			}
			if *rep.Steps[0].ExitCode != int64(tc.code) || rep.Steps[0].ExitHex != fmt.Sprintf("0x%X", tc.code) {
				t.Errorf("exit code %d %s", *rep.Steps[0].ExitCode, rep.Steps[0].ExitHex)
			}
			if (len(sys.runOnce) == 1) != tc.runOnce {
				t.Errorf("RunOnce: %v", sys.runOnce)
			}
			if sys.reboots != tc.rebooted {
				t.Errorf("rebooted %d times", sys.reboots)
			}
			if (sys.runs["two.exe"] == 1) != tc.secondRan {
				t.Errorf("second step ran %d times", sys.runs["two.exe"])
			}
			if tc.status == "failed" && rep.Steps[1].Status != "not-run" {
				t.Errorf("step after the failure: %s", rep.Steps[1].Status)
			}
		})
	}
}

func TestFailureMSIExplainsLog(t *testing.T) {
	st := payload.LockStep{ID: "fixit", Kind: payload.KindMSI, Program: "payloads/fixit/fix it.msi", Reboot: payload.RebootIfNeeded}
	dir := writeBundle(t, []payload.LockStep{st}, bundleFile{"payloads/fixit/fix it.msi", "MSI"})
	sys := newFakeSys(t)
	sys.programs["fix it.msi"] = exitWith(1603)
	e, out, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.PathsFor(bundleID(t, dir))
	want := "1603 (0x643): fatal error during installation; read the installer's log; log: " + filepath.Join(p.Logs, "fixit.log")
	if rep.Steps[0].Reason != want {
		t.Errorf("reason\n got %q\nwant %q", rep.Steps[0].Reason, want)
	}
	if !strings.Contains(rep.Reason, "step fixit failed: 1603 (0x643)") {
		t.Errorf("report reason %q", rep.Reason)
	}
	if rep.Steps[0].Log == "" || !strings.Contains(out.String(), "failed: 1603 (0x643)") {
		t.Errorf("log %q; output:\n%s", rep.Steps[0].Log, out)
	}
}

func TestRetry(t *testing.T) {
	st := exeStep("one", "payloads/one/one.exe")
	dir := writeBundle(t, []payload.LockStep{st}, bundleFile{"payloads/one/one.exe", "1"})

	t.Run("then success", func(t *testing.T) {
		sys := newFakeSys(t)
		n := 0
		sys.programs["one.exe"] = func(context.Context, ExecSpec) (uint32, error) {
			if n++; n <= 3 {
				return 1618, nil
			}
			return 0, nil
		}
		e, _, clk := newEngine(t, sys)
		rep, err := openRun(t, e, dir, RunOptions{})
		if err != nil || rep.Outcome != "success" {
			t.Fatalf("%v %s %s", err, rep.Outcome, rep.Reason)
		}
		if n != 4 || fmt.Sprint(clk.slept) != "[15s 30s 1m0s]" {
			t.Errorf("ran %d times, slept %v", n, clk.slept)
		}
		// every attempt gets a fresh working folder
		if len(sys.dirs) != 4 || filepath.Base(sys.dirs[0]) != "1" || filepath.Base(sys.dirs[3]) != "1.4" {
			t.Errorf("working folders %v", sys.dirs)
		}
		var j Journal
		p, _ := e.PathsFor(bundleID(t, dir))
		readJSON(t, p.Journal, &j)
		if j.Steps[0].Attempts != 4 {
			t.Errorf("attempts %d", j.Steps[0].Attempts)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		sys := newFakeSys(t)
		sys.programs["one.exe"] = exitWith(1618)
		e, _, clk := newEngine(t, sys)
		rep, err := openRun(t, e, dir, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, d := range clk.slept {
			total += int64(d)
		}
		if rep.Outcome != "failed" || !strings.Contains(rep.Steps[0].Reason, "1618 (0x652): another installation is already in progress; still so after retrying for 20m0s") {
			t.Errorf("%s: %s", rep.Outcome, rep.Steps[0].Reason)
		}
		if total > int64(DefaultRetryFor) || sys.runs["one.exe"] < 5 {
			t.Errorf("slept %v in all, ran %d times", clk.slept, sys.runs["one.exe"])
		}
	})
}

func TestTimeout(t *testing.T) {
	st := exeStep("hang", "payloads/hang/hang.exe")
	st.Timeout = 1
	dir := writeBundle(t, []payload.LockStep{st}, bundleFile{"payloads/hang/hang.exe", "H"})
	sys := newFakeSys(t)
	sys.programs["hang.exe"] = func(ctx context.Context, _ ExecSpec) (uint32, error) {
		<-ctx.Done() // a hung installer: only the timeout ends it
		return 0, ctx.Err()
	}
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "failed" || rep.Steps[0].Reason != "did not finish within 1s; the runner stopped it and its child processes" {
		t.Errorf("%s: %q", rep.Outcome, rep.Steps[0].Reason)
	}
}

func TestRebootResume(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	sys.programs["one.exe"] = exitWith(3010)
	e, _, _ := newEngine(t, sys)
	asked := ""
	rep, err := openRun(t, e, dir, RunOptions{Confirm: func(q string) bool { asked = q; return true }})
	if err != nil || rep.Outcome != "reboot-required" {
		t.Fatalf("%v %s", err, rep.Outcome)
	}
	p, _ := e.PathsFor(bundleID(t, dir))
	cmd := sys.runOnce[runOnceName(bundleID(t, dir))]
	want := fmt.Sprintf(`"%s" run --yes --after-reboot --bundle "%s"`, p.Runner, p.Bundle)
	if cmd != want || asked == "" || sys.reboots != 1 {
		t.Fatalf("RunOnce %q (want %q), asked %q, rebooted %d", cmd, want, asked, sys.reboots)
	}
	if data, err := os.ReadFile(p.Runner); err != nil || string(data) != "RUNNER" {
		t.Fatalf("runner copy: %q %v", data, err)
	}

	// Without the restart, and with Windows still saying one is pending,
	// a manual run stops.
	sys.pending = []string{"PendingFileRenameOperations"}
	rep, err = openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != "reboot-required" || sys.runs["two.exe"] != 0 {
		t.Fatalf("run before the restart: %v %s, two ran %d", err, rep.Outcome, sys.runs["two.exe"])
	}

	// The RunOnce entry runs the private copy after the restart.
	sys.pending = nil
	sys.restart()
	delete(sys.runOnce, runOnceName(bundleID(t, dir)))
	rep, err = openRun(t, e, p.Bundle, RunOptions{AfterReboot: true})
	if err != nil || rep.Outcome != "success" {
		t.Fatalf("%v %s %s", err, rep.Outcome, rep.Reason)
	}
	if sys.runs["one.exe"] != 1 || sys.runs["two.exe"] != 1 {
		t.Errorf("runs %v", sys.runs)
	}
	if got := statuses(rep); got != "one=succeeded two=succeeded" || !strings.Contains(rep.Steps[0].Reason, "restarted afterwards") {
		t.Errorf("%s; %q", got, rep.Steps[0].Reason)
	}
	// the report also reaches the stick the first run came from
	var r payload.Report
	readJSON(t, filepath.Join(dir, "reports", "PC-17", "report.json"), &r)
	if r.Outcome != "success" {
		t.Errorf("bundle report %s", r.Outcome)
	}
}

func TestRebootLoopBound(t *testing.T) {
	steps := []payload.LockStep{exeStep("loop", "payloads/loop/loop.exe"), exeStep("two", "payloads/two/two.exe")}
	steps[0].Reboot = payload.RebootAfter
	dir := writeBundle(t, steps, bundleFile{"payloads/loop/loop.exe", "1"}, bundleFile{"payloads/two/two.exe", "2"})
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	e.MaxReboots = 3
	p, _ := e.PathsFor(bundleID(t, dir))
	var rep *payload.Report
	for i := 0; i < 5; i++ {
		// Someone keeps resetting the step (like an installer that keeps
		// asking): the journal's reboot count still grows.
		sys.restart()
		rep, _ = openRun(t, e, dir, RunOptions{AfterReboot: true, Reboot: true})
		j, err := LoadJournal(p.Journal)
		if err != nil {
			t.Fatal(err)
		}
		j.Steps = nil
		data, _ := j.marshal()
		if err := os.WriteFile(p.Journal, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if rep.Outcome != "failed" || !strings.Contains(rep.Reason, "more than 3 restarts") || sys.reboots != 3 {
		t.Errorf("%s: %s; rebooted %d", rep.Outcome, rep.Reason, sys.reboots)
	}
}

// TestJournalCrashPoints kills the runner between any two journal writes
// (the write itself fails, and the engine stops at once, as after a power
// cut) and then resumes: nothing finished is run again, and the end is the
// same as an uninterrupted run.
func TestJournalCrashPoints(t *testing.T) {
	steps := []payload.LockStep{
		{ID: "record", Kind: payload.KindDetect, Detect: payload.DetectNetFx, Reboot: payload.RebootIfNeeded},
		exeStep("one", "payloads/one/one.exe"),
		exeStep("two", "payloads/two/two.exe"),
		exeStep("three", "payloads/three/three.exe"),
	}
	steps[2].When = &payload.Condition{Not: &payload.Condition{Recorded: "netfx20"}}
	dir := writeBundle(t, steps, bundleFile{"payloads/one/one.exe", "1"}, bundleFile{"payloads/two/two.exe", "2"},
		bundleFile{"payloads/three/three.exe", "3"})
	killed := errors.New("killed")
	for n := 1; ; n++ {
		sys := newFakeSys(t)
		sys.programs["two.exe"] = exitWith(3010)
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
		_, err = e.Run(context.Background(), b, RunOptions{})
		if !errors.Is(err, killed) {
			if n < 5 {
				t.Fatalf("n=%d: the run made only %d journal writes", n, writes)
			}
			break // n is past the last write: every crash point was tried
		}
		before := map[string]int{}
		for k, v := range sys.runs {
			before[k] = v
		}
		j, _ := LoadJournal(filepath.Join(sys.root, "ProgramData", "fixstick", bundleID(t, dir), JournalName))
		done := map[string]bool{}
		if j != nil {
			for _, s := range j.Steps {
				done[s.ID] = s.State == StateDone
			}
		}

		// Resume until the bundle ends, restarting when asked.
		e.save = nil
		var rep *payload.Report
		for i := 0; i < 3; i++ {
			sys.restart()
			rep, err = openRun(t, e, dir, RunOptions{AfterReboot: true})
			if err != nil {
				t.Fatalf("n=%d: resume: %v", n, err)
			}
			if rep.Outcome != payload.ReportRebootRequired {
				break
			}
		}
		if rep.Outcome != "success" || statuses(rep) != "record=succeeded one=succeeded two=succeeded three=succeeded" {
			t.Fatalf("n=%d: %s %s: %s", n, rep.Outcome, statuses(rep), rep.Reason)
		}
		for _, id := range []string{"one", "two", "three"} {
			runs := sys.runs[id+".exe"]
			switch {
			case done[id] && runs != before[id+".exe"]:
				t.Errorf("n=%d: %s was done before the crash and ran again", n, id)
			case runs < 1 || runs > 2:
				t.Errorf("n=%d: %s ran %d times", n, id, runs)
			case runs == 2 && before[id+".exe"] != 1:
				t.Errorf("n=%d: %s ran twice but was not interrupted", n, id)
			}
		}
	}
}

func TestRefuseTamperedPrivateCopy(t *testing.T) {
	dir := twoStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	// step one swaps step two's private copy
	sys.programs["one.exe"] = func(context.Context, ExecSpec) (uint32, error) {
		return 0, os.WriteFile(filepath.Join(p.Bundle, "payloads", "two", "two.exe"), []byte("X"), 0o600)
	}
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != "failed" || sys.runs["two.exe"] != 0 || !strings.Contains(rep.Steps[1].Reason, "the private copy changed before it ran") {
		t.Errorf("%s; two ran %d; %q", rep.Outcome, sys.runs["two.exe"], rep.Steps[1].Reason)
	}
}

func TestOpenRefusesTamperedBundle(t *testing.T) {
	dir := conditionalBundle(t)
	if err := os.WriteFile(filepath.Join(dir, "payloads", "b", "b.exe"), []byte("BBX"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "payloads", "c", "c.exe")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "payloads", "a", "version.dll"), []byte("planted"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "reports", "PC-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "reports", "PC-1", "report.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"payloads/b/b.exe: sha256 ", "payloads/c/c.exe: missing", "nothing was run"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Join(b.Extras, ",") != "payloads/a/version.dll" {
		t.Errorf("extras %v", b.Extras)
	}
	rep := e.Refuse(dir, b.Lock, err)
	var r payload.Report
	readJSON(t, filepath.Join(dir, "reports", "PC-17", "report.json"), &r)
	if r.Outcome != "refused" || rep.Outcome != "refused" || len(r.Steps) != 5 || r.Steps[0].Status != "not-run" {
		t.Errorf("report %+v", r)
	}
}

func TestExtraFilesNoted(t *testing.T) {
	dir := oneStepBundle(t)
	if err := os.WriteFile(filepath.Join(dir, "payloads", "one", "setup.bat"), []byte("echo"), 0o644); err != nil {
		t.Fatal(err)
	}
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != "success" || !strings.Contains(rep.Reason, "payloads/one/setup.bat") {
		t.Fatalf("%v %s %q", err, rep.Outcome, rep.Reason)
	}
	p, _ := e.PathsFor(bundleID(t, dir))
	if _, err := os.Stat(filepath.Join(p.Bundle, "payloads", "one", "setup.bat")); err == nil {
		t.Errorf("an unlisted file was copied into the private folder")
	}
}

func TestPlan(t *testing.T) {
	dir := conditionalBundle(t)
	sys := newFakeSys(t)
	sys.setReg(32, payload.NetFxKeyRoot+`v3.5`, "Install", RegValue{Num: 1, IsNum: true, Numeric: true})
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	items, facts, err := e.Plan(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Step.ID+"="+it.Action)
	}
	if strings.Join(got, " ") != "record=run a=run b=run c=run d=run" || strings.Join(facts, ",") != "netfx35" {
		t.Errorf("plan %v, facts %v", got, facts)
	}
	if items[4].Reason != "msiexec /i d.msi PROP=1" {
		t.Errorf("reason %q", items[4].Reason)
	}
	if len(sys.cmdlines) != 0 {
		t.Errorf("plan ran programs")
	}
	var sb strings.Builder
	PrintPlan(&sb, b, items, []string{"CBS RebootPending"})
	for _, want := range []string{"  4. RUN  c: step c", "condition: unless the registry value", "pending restart"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, sb.String())
		}
	}
}

func TestCheckElevated(t *testing.T) {
	sys := newFakeSys(t)
	sys.elevated = false
	e, _, _ := newEngine(t, sys)
	if err := e.CheckElevated(); !errors.Is(err, ErrNotElevated) || !strings.Contains(err.Error(), "Run as administrator") {
		t.Errorf("err %v", err)
	}
}

func TestDamagedJournal(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	if err := os.MkdirAll(p.Root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Journal, []byte(`{"journal": 1, "bundle": "`+bundleID(t, dir)+`", "steps": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Run(context.Background(), b, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "is damaged") || sys.runs["one.exe"] != 0 {
		t.Errorf("err %v; runs %v", err, sys.runs)
	}
}

func TestOneRunnerAtATime(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	p, _ := e.PathsFor(bundleID(t, dir))
	// a second runner starts while the first runs step one
	var second error
	sys.programs["one.exe"] = func(context.Context, ExecSpec) (uint32, error) {
		e2, _, _ := newEngine(t, sys)
		b, err := e2.Open(dir)
		if err != nil {
			return 1, err
		}
		_, second = e2.Run(context.Background(), b, RunOptions{})
		return 0, nil
	}
	rep, err := openRun(t, e, dir, RunOptions{})
	if err != nil || rep.Outcome != "success" || sys.runs["one.exe"] != 1 {
		t.Fatalf("%v %s, runs %v", err, rep.Outcome, sys.runs)
	}
	if second == nil || !strings.Contains(second.Error(), "another runner is already working on bundle") {
		t.Errorf("second runner: %v", second)
	}
	if sys.locked[filepath.Join(p.Root, "run.lock")] {
		t.Errorf("the lock was not released")
	}
}

func TestCopyFailureReported(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// the stick is pulled out after the check
	if err := os.Remove(filepath.Join(dir, "payloads", "one", "one.exe")); err != nil {
		t.Fatal(err)
	}
	rep, err := e.Run(context.Background(), b, RunOptions{})
	if err == nil || rep == nil || rep.Outcome != "failed" || !strings.Contains(rep.Reason, "copying the bundle into") || sys.runs["one.exe"] != 0 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
}

func TestPrivateLockIsTheCheckedOne(t *testing.T) {
	dir := oneStepBundle(t)
	sys := newFakeSys(t)
	e, _, _ := newEngine(t, sys)
	b, err := e.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checked, _ := os.ReadFile(filepath.Join(dir, payload.LockName))
	// the lock on the stick changes after the check
	swapped := strings.Replace(string(checked), `"Test bundle"`, `"Swapped"`, 1)
	if err := os.WriteFile(filepath.Join(dir, payload.LockName), []byte(swapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), b, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ := e.PathsFor(b.Lock.Bundle)
	if got, _ := os.ReadFile(filepath.Join(p.Bundle, payload.LockName)); string(got) != string(checked) {
		t.Errorf("the private lock is not the one checked:\n%s", got)
	}
}

// The command RunOnce starts holds the bundle id twice; Windows ignores
// RunOnce commands of MAX_PATH (260) characters or more. For the longest
// bundle id, with --reboot, under the usual %ProgramData%, it fits (the
// Wine test runs such a bundle through a restart).
func TestResumeCommandOfLongestID(t *testing.T) {
	id := strings.Repeat("a", payload.MaxBundleIDLen)
	root := `C:\ProgramData\fixstick\` + id
	r := &run{p: Paths{Runner: root + `\runner.exe`, Bundle: root + `\b`}, opt: RunOptions{Reboot: true}}
	if n := len(r.resumeCommand()); n >= 260 {
		t.Errorf("the resume command of the longest bundle id is %d characters: %s", n, r.resumeCommand())
	}
}
