package winetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fixstick/payload"
)

// The behaviour both executors share (requires, goal, probing steps,
// finish_if_goal_met, --force and /force) is proven by one table: the
// runner's and the legacy executor's Wine tests each build every scenario's
// bundle with the real builder and run it, and check the same report, so
// the two cannot drift apart.
//
// The goal is made true by the real test MSI (runner/testdata/fixture.wxs),
// which both suites install: it writes HKLM\SOFTWARE\FixstickFixture
// Installed=1 and Prop=[FIXPROP]. A healthy machine has Installed=1
// already and no Prop, so Prop says whether the MSI ran. The other
// programs are each suite's stand-in installer, called ID_exitN.exe and
// exiting with N; what ran is read from the command lines they record.

// FixtureKey is the registry key the test MSI writes (32-bit view).
const FixtureKey = `HKLM\SOFTWARE\FixstickFixture`

// Installer is a stand-in installer of a scenario: artifact ID, file
// ID_exitN.exe, exiting with Exit.
type Installer struct {
	ID   string
	Exit uint32
}

// File is the installer's file name in the bundle.
func (i Installer) File() string { return fmt.Sprintf("%s_exit%d.exe", i.ID, i.Exit) }

// Scenario is one bundle and the runs made with it on one machine.
type Scenario struct {
	Name string
	// Top is top-level manifest YAML (requires, goal).
	Top string
	// Installers are the stand-ins; MSI adds the test MSI as artifact
	// "fixture".
	Installers []Installer
	MSI        bool
	// Steps is the manifest's steps list (YAML).
	Steps string
	// Healthy sets FixstickFixture\Installed=1 before the first run.
	Healthy bool
	// Files are made (empty) on drive C: before the first run, as
	// slash-separated paths under C:\.
	Files []string
	Runs  []ScenarioRun
}

// ScenarioRun is one run of the executor and what it must leave.
type ScenarioRun struct {
	Force   bool
	Outcome string
	// Reason is a regular expression the report's reason must match.
	Reason string
	// Steps is every step's status, tolerated flag and reason (a regular
	// expression), in order.
	Steps []StepWant
	// GoalBefore and GoalAfter are the report's goal; GoalAfter nil means
	// absent.
	GoalBefore bool
	GoalAfter  *bool
	// Ran lists, in order, the installers that have run on the machine so
	// far (all runs); MSIRan says whether the MSI has.
	Ran    []string
	MSIRan bool
}

// StepWant is what a report says of one step.
type StepWant struct {
	ID, Status string
	Tolerated  bool
	Reason     string // a regular expression
}

var (
	yes, no = true, false
)

const (
	fixtureGoal = `goal: {registry: {key: 'HKLM\SOFTWARE\FixstickFixture', value: Installed, equals: 1, view: 32}}`
	goalText    = `the registry value HKLM\SOFTWARE\FixstickFixture\Installed equals 1 (32-bit view)`
	notNeeded   = `^not needed: the goal already holds$`
	failed1603  = `^1603 \(0x643\): `
	exitZero    = `^exit code 0 \(0x0\): success$`
	recorded    = `^recorded: `
)

// Scenarios is the table both executors' Wine tests run.
var Scenarios = []Scenario{
	{
		Name:       "healthy-then-force",
		Top:        fixtureGoal,
		Installers: []Installer{{"probe", 1603}, {"cleanup", 0}},
		MSI:        true,
		Steps: `
  - id: record
    detect: netfx
  - id: probe
    exe: probe
    on_failure: continue
    finish_if_goal_met: true
  - id: fix
    msi: fixture
    args: FIXPROP=fixed
    finish_if_goal_met: true
  - id: cleanup
    exe: cleanup
`,
		Healthy: true,
		Runs: []ScenarioRun{{
			Outcome: payload.ReportNotNeeded,
			Reason:  `^the goal already holds \(` + regexp.QuoteMeta(goalText) + `\): nothing was changed \(.*force runs the steps anyway\)$`,
			Steps: []StepWant{
				{ID: "record", Status: payload.StatusSucceeded, Reason: recorded},
				{ID: "probe", Status: payload.StatusSkipped, Reason: notNeeded},
				{ID: "fix", Status: payload.StatusSkipped, Reason: notNeeded},
				{ID: "cleanup", Status: payload.StatusSkipped, Reason: notNeeded},
			},
			GoalBefore: true, GoalAfter: &yes,
		}, {
			Force:   true,
			Outcome: payload.ReportSuccess,
			Reason:  `the goal already held \(` + regexp.QuoteMeta(goalText) + `\); the steps run anyway \(.*force\)`,
			Steps: []StepWant{
				{ID: "record", Status: payload.StatusSucceeded, Reason: recorded},
				{ID: "probe", Status: payload.StatusFailed, Tolerated: true, Reason: failed1603},
				{ID: "fix", Status: payload.StatusSkipped, Reason: `^the goal was met after step probe$`},
				{ID: "cleanup", Status: payload.StatusSkipped, Reason: `^the goal was met after step probe$`},
			},
			GoalBefore: true, GoalAfter: &yes,
			Ran: []string{"probe"},
		}},
	},
	{
		Name: "probe-fails-fix-meets-goal",
		// A damaged .NET 1.1: its registry key is gone, its runtime is
		// there. Both executors record netfx11 from the file alone.
		Files:      []string{"windows/Microsoft.NET/Framework/v1.1.4322/mscorwks.dll"},
		Top:        "requires: {all: [{os: {min: \"5.1\"}}, {recorded: netfx11}]}\n" + fixtureGoal,
		Installers: []Installer{{"probe", 1603}, {"cleanup", 0}, {"reinstall", 0}},
		MSI:        true,
		Steps: `
  - id: record
    detect: netfx
  - id: probe
    exe: probe
    on_failure: continue
    finish_if_goal_met: true
  - id: fix
    msi: fixture
    args: FIXPROP=fixed
    finish_if_goal_met: true
  - id: cleanup
    exe: cleanup
  - id: reinstall
    exe: reinstall
`,
		Runs: []ScenarioRun{{
			Outcome: payload.ReportSuccess,
			Reason:  `^$`,
			Steps: []StepWant{
				{ID: "record", Status: payload.StatusSucceeded, Reason: `^recorded: \.NET Framework 1\.1 \(netfx11\)$`},
				{ID: "probe", Status: payload.StatusFailed, Tolerated: true, Reason: failed1603},
				{ID: "fix", Status: payload.StatusSucceeded, Reason: exitZero},
				{ID: "cleanup", Status: payload.StatusSkipped, Reason: `^the goal was met after step fix$`},
				{ID: "reinstall", Status: payload.StatusSkipped, Reason: `^the goal was met after step fix$`},
			},
			GoalBefore: false, GoalAfter: &yes,
			Ran: []string{"probe"}, MSIRan: true,
		}},
	},
	{
		Name:       "goal-never-met",
		Top:        `goal: {registry: {key: 'HKLM\SOFTWARE\FixstickNever', value: Installed, equals: 1, view: 32}}`,
		Installers: []Installer{{"probe", 1603}, {"cleanup", 0}},
		Steps: `
  - id: record
    detect: netfx
  - id: probe
    exe: probe
    on_failure: continue
    finish_if_goal_met: true
  - id: cleanup
    exe: cleanup
`,
		Runs: []ScenarioRun{{
			Outcome: payload.ReportFailed,
			Reason:  `^every step ran, but the registry value HKLM\\SOFTWARE\\FixstickNever\\Installed equals 1 \(32-bit view\) does not hold$`,
			Steps: []StepWant{
				{ID: "record", Status: payload.StatusSucceeded, Reason: recorded},
				{ID: "probe", Status: payload.StatusFailed, Tolerated: true, Reason: failed1603},
				{ID: "cleanup", Status: payload.StatusSucceeded, Reason: exitZero},
			},
			GoalBefore: false, GoalAfter: &no,
			Ran: []string{"probe", "cleanup"},
		}},
	},
	{
		Name:       "requires-false",
		Top:        "requires: {all: [{os: {min: \"5.1\"}}, {recorded: netfx11}]}\n" + fixtureGoal,
		Installers: []Installer{{"cleanup", 0}},
		Steps: `
  - id: record
    detect: netfx
  - id: cleanup
    exe: cleanup
`,
		Runs: []ScenarioRun{{
			Force:   true, // force does not override requires
			Outcome: payload.ReportRefused,
			Reason: `^this bundle is for computers where Windows is version 5\.1 \(Windows XP\) or later and \.NET Framework 1\.1 was recorded as installed \(netfx11\); ` +
				`this computer is Windows [0-9]+\.[0-9]+ x64.*; recorded: .*: nothing was changed$`,
			Steps: []StepWant{
				{ID: "record", Status: payload.StatusSucceeded, Reason: recorded},
				{ID: "cleanup", Status: payload.StatusSkipped, Reason: `^the bundle is not for this computer$`},
			},
			GoalBefore: false,
		}},
	},
}

// Prepare makes the scenario's machine: c is the host path of a Windows
// path under C:\ (Prefix.C), regAdd writes a registry value.
func (s Scenario) Prepare(t testing.TB, c func(elem ...string) string, regAdd func(key, value, typ, data string, view int)) {
	t.Helper()
	if s.Healthy {
		regAdd(FixtureKey, "Installed", "REG_DWORD", "1", 32)
	}
	for _, f := range s.Files {
		p := c(strings.Split(f, "/")...)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// A new file, never a write into one the prefix hard-links to the
		// template (NewPrefix).
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("MZ stand-in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Artifacts are the scenario's payloads: installer builds the stand-in for
// one Installer, msi is the test MSI.
func (s Scenario) Artifacts(installer func(Installer) []byte, msi []byte) []Artifact {
	var arts []Artifact
	for _, in := range s.Installers {
		arts = append(arts, Artifact{ID: in.ID, File: in.File(), Data: installer(in)})
	}
	if s.MSI {
		arts = append(arts, Artifact{ID: "fixture", File: "fixture.msi", Data: msi})
	}
	return arts
}

// payloadRE finds the artifact id in a recorded command line: the program
// runs from ...\payloads\ID\FILE in the private copy.
var payloadRE = regexp.MustCompile(`\\payloads\\([a-z0-9._-]+)\\`)

// RanIDs turns the command lines the stand-ins recorded into artifact ids.
func RanIDs(cmdlines []string) []string {
	ids := []string{}
	for _, c := range cmdlines {
		if m := payloadRE.FindStringSubmatch(c); m != nil {
			ids = append(ids, m[1])
		} else {
			ids = append(ids, "?"+c)
		}
	}
	return ids
}

// Check compares a run's report, the installers that have run so far
// (from RanIDs) and whether the MSI has run with what the scenario says.
func (r ScenarioRun) Check(t testing.TB, rep *payload.Report, ran []string, msiRan bool) {
	t.Helper()
	if rep.Outcome != r.Outcome {
		t.Errorf("outcome %s, want %s (reason %q)", rep.Outcome, r.Outcome, rep.Reason)
	}
	if !regexp.MustCompile(r.Reason).MatchString(rep.Reason) {
		t.Errorf("reason %q does not match %q", rep.Reason, r.Reason)
	}
	if len(rep.Steps) != len(r.Steps) {
		t.Errorf("%d steps in the report, want %d: %+v", len(rep.Steps), len(r.Steps), rep.Steps)
	}
	for i := range min(len(rep.Steps), len(r.Steps)) {
		got, want := rep.Steps[i], r.Steps[i]
		if got.ID != want.ID || got.Status != want.Status || got.Tolerated != want.Tolerated || !regexp.MustCompile(want.Reason).MatchString(got.Reason) {
			t.Errorf("step %d: got %s %s tolerated=%v %q\n            want %s %s tolerated=%v %q", i, got.ID, got.Status, got.Tolerated, got.Reason,
				want.ID, want.Status, want.Tolerated, want.Reason)
		}
	}
	switch g := rep.Goal; {
	case g == nil:
		t.Errorf("the report has no goal")
	case !strings.Contains(g.Text, FixtureKey[len(`HKLM\SOFTWARE\`):]) && !strings.Contains(g.Text, "FixstickNever"):
		t.Errorf("goal text %q", g.Text)
	case g.Before != r.GoalBefore:
		t.Errorf("goal before %v, want %v", g.Before, r.GoalBefore)
	case (g.After == nil) != (r.GoalAfter == nil) || g.After != nil && *g.After != *r.GoalAfter:
		t.Errorf("goal after %v, want %v", g.After, r.GoalAfter)
	}
	if want := append([]string{}, r.Ran...); !slices.Equal(ran, want) {
		t.Errorf("installers that ran: %v, want %v", ran, want)
	}
	if msiRan != r.MSIRan {
		t.Errorf("the MSI ran: %v, want %v", msiRan, r.MSIRan)
	}
}
