package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"fixstick/builder/internal/manifest"
	"fixstick/payload"
)

// Placeholders for the parts of a command line that are only known on the
// machine: where the bundle was copied to, and the runner's log folder.
const (
	planBundle = `<BUNDLE>`
	planLogs   = `<LOGS>`
)

// plan is what `builder plan` shows: the procedure a manifest encodes, in
// the order the runner follows it.
type plan struct {
	Manifest    string   `json:"manifest"` // the file, as given
	SHA256      string   `json:"sha256"`
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	References  []string `json:"references,omitempty"`
	// Requires and Goal, in words and as data.
	Requires     string             `json:"requires,omitempty"`
	RequiresCond *payload.Condition `json:"requires_condition,omitempty"`
	Goal         string             `json:"goal,omitempty"`
	GoalCond     *payload.Condition `json:"goal_condition,omitempty"`
	Steps        []planStep         `json:"steps"`
	Totals       planTotals         `json:"totals"`
	Placeholder  planPlaceholders   `json:"placeholders"`
}

type planPlaceholders struct {
	Bundle string `json:"bundle"`
	Logs   string `json:"logs"`
}

type planStep struct {
	N     int          `json:"n"`
	ID    string       `json:"id"`
	Title string       `json:"title,omitempty"`
	Kind  payload.Kind `json:"kind"`
	// Detect steps: the family and the facts it records.
	Detect  string   `json:"detect,omitempty"`
	Records []string `json:"records,omitempty"`
	// Program steps: the payload's path in the bundle, and what the runner
	// starts (application, and the whole command line).
	Program     string `json:"program,omitempty"`
	Application string `json:"application,omitempty"`
	CommandLine string `json:"command_line,omitempty"`
	Log         string `json:"log,omitempty"`
	// Conditions, in words and as data.
	Runs   string             `json:"runs"`
	When   *payload.Condition `json:"when,omitempty"`
	Unless *payload.Condition `json:"unless,omitempty"`
	// What a failure does, and whether the goal may end the run here.
	OnFailure       string `json:"on_failure"`
	OnFailureText   string `json:"on_failure_text"`
	FinishIfGoalMet bool   `json:"finish_if_goal_met,omitempty"`
	FinishText      string `json:"finish_text,omitempty"`
	// ExitCodes is the complete table (defaults merged with the step's).
	ExitCodes      []planCode     `json:"exit_codes,omitempty"`
	Reboot         payload.Reboot `json:"reboot"`
	RebootText     string         `json:"reboot_text"`
	TimeoutSeconds int64          `json:"timeout_seconds,omitempty"`
	Artifact       *planArtifact  `json:"artifact,omitempty"`
	Skip           string         `json:"skip,omitempty"` // why the step is skipped in any bundle built now

	timeout time.Duration
	extract *payload.ExtractEntry // the file run, when it comes out of an archive
}

type planCode struct {
	Code    uint32          `json:"code"`
	Hex     string          `json:"hex"`
	Outcome payload.Outcome `json:"outcome"`
	Text    string          `json:"text,omitempty"`
}

type planArtifact struct {
	ID       string   `json:"id"`
	File     string   `json:"file"`
	Extract  string   `json:"extract,omitempty"` // the file taken out of the archive
	Size     int64    `json:"size,omitempty"`    // of the download; 0: unknown
	SHA256   string   `json:"sha256,omitempty"`
	SHA1     string   `json:"sha1,omitempty"`
	Pinned   bool     `json:"pinned"`
	Optional bool     `json:"optional"`
	URLs     []string `json:"urls"`
	Status   string   `json:"status"`
}

type planTotals struct {
	Steps int `json:"steps"`
	// Downloads: artifacts with URLs that a build fetches now.
	Downloads     int      `json:"downloads"`
	DownloadBytes int64    `json:"download_bytes"` // sum of the declared sizes
	UnknownSize   []string `json:"unknown_size,omitempty"`
	// Supplied: artifacts without URLs, given with --add.
	Supplied []string `json:"supplied,omitempty"`
	// LeftOut: optional artifacts not pinned, left out of the bundle.
	LeftOut []string `json:"left_out,omitempty"`
}

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "plan")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder plan [--json] FILE\n\nPrint the procedure a manifest encodes: each step, its command line as the runner\nwill pass it, its conditions, reboot policy, timeout and artifact, then the totals.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("plan takes exactly one manifest file")
	}
	m, err := manifest.Load(fs.Arg(0))
	var list manifest.ErrorList
	if errors.As(err, &list) {
		fmt.Fprintln(e.stderr, list.Error())
		fmt.Fprintf(e.stderr, "builder: error: %s is invalid: %d %s\n", fs.Arg(0), len(list), plural(len(list), "problem", "problems"))
		return &invalidError{err}
	}
	if err != nil {
		return err
	}
	p, err := makePlan(m)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(p)
	}
	return p.write(e.stdout)
}

// makePlan resolves every step of a valid manifest.
func makePlan(m *payload.Manifest) (*plan, error) {
	p := &plan{
		Manifest: m.Path, SHA256: m.SHA256, ID: m.ID, Title: m.Title,
		Description: strings.TrimSpace(m.Description), References: m.References,
		Steps:       []planStep{},
		Placeholder: planPlaceholders{Bundle: planBundle + ": the folder the bundle is copied to", Logs: planLogs + ": the runner's log folder on the machine"},
	}
	if m.Requires != nil {
		p.Requires, p.RequiresCond = m.Requires.String(), m.Requires
	}
	if m.Goal != nil {
		p.Goal, p.GoalCond = m.Goal.String(), m.Goal
	}
	arts := map[string]*payload.Artifact{}
	for i := range m.Artifacts {
		arts[m.Artifacts[i].ID] = &m.Artifacts[i]
	}
	for i, s := range m.Steps {
		ps := planStep{
			N: i + 1, ID: s.ID, Title: s.Title, Kind: s.Kind, When: s.When, Unless: s.Unless,
			Runs: payload.Describe(s.When, s.Unless), Reboot: s.Reboot, timeout: s.Timeout,
			OnFailure: string(payload.OnFailureStop), OnFailureText: "stop: a failure ends the run",
			FinishIfGoalMet: s.FinishIfGoalMet,
		}
		if s.OnFailure == payload.OnFailureContinue {
			ps.OnFailure = string(payload.OnFailureContinue)
			ps.OnFailureText = "continue: a failure is expected here; it is reported as tolerated and the run goes on"
		}
		if s.FinishIfGoalMet {
			ps.FinishText = "if the goal holds when this step ends, the run is finished and the later steps are skipped"
		}
		if s.Kind == payload.KindDetect {
			ps.Detect = s.Detect
			for _, f := range payload.Facts(s.Detect) {
				ps.Records = append(ps.Records, f.Name)
			}
			ps.RebootText = "none: nothing runs"
			p.Steps = append(p.Steps, ps)
			continue
		}
		ps.TimeoutSeconds = int64(s.Timeout / time.Second)
		ps.RebootText = rebootText(s.Reboot)
		artID, inner, _ := strings.Cut(s.Artifact, "/")
		a := arts[artID]
		if a == nil {
			return nil, fmt.Errorf("step %s: artifact %s not found", s.ID, artID)
		}
		name := a.File
		if inner != "" {
			name = inner
			for j := range a.Extract {
				if a.Extract[j].Path == inner {
					ps.extract = &a.Extract[j]
				}
			}
		}
		ps.Program = payload.PayloadPath(a.ID, name)
		winProgram := planBundle + `\` + strings.ReplaceAll(ps.Program, "/", `\`)
		var logPath string
		if s.Kind == payload.KindMSI || s.Kind == payload.KindMSP {
			logPath = planLogs + `\` + s.ID + ".log"
			ps.Log = logPath
		}
		app, line, err := payload.CommandLine(s.Kind, winProgram, s.Args, logPath)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", s.ID, err)
		}
		ps.Application, ps.CommandLine = app, line
		table := s.ExitCodes.Merge()
		for _, c := range table.Codes() {
			ps.ExitCodes = append(ps.ExitCodes, planCode{Code: c, Hex: fmt.Sprintf("0x%X", c), Outcome: table[c].Outcome, Text: table[c].Text})
		}
		ps.Artifact = artifactPlan(a, inner)
		if a.Optional && !a.Pinned() {
			ps.Skip = fmt.Sprintf("optional artifact %s is not pinned, so it is left out of the bundle: run builder pin %s", a.ID, m.Path)
			if len(a.URLs) == 0 {
				ps.Skip += fmt.Sprintf(" --add %s=PATH", a.ID)
			}
		}
		p.Steps = append(p.Steps, ps)
	}
	p.Totals = totals(m)
	return p, nil
}

func artifactPlan(a *payload.Artifact, inner string) *planArtifact {
	pa := &planArtifact{ID: a.ID, File: a.File, Extract: inner, Size: a.Size, SHA256: a.SHA256, SHA1: a.SHA1,
		Pinned: a.Pinned(), Optional: a.Optional, URLs: []string{}}
	for _, u := range a.URLs {
		s := u.URL
		if u.InsecureHTTP {
			s += " (plain http: trusted only through the pin)"
		}
		pa.URLs = append(pa.URLs, s)
	}
	switch {
	case a.Optional && !a.Pinned():
		pa.Status = "optional, NOT PINNED: left out of the bundle until `builder pin` records its SHA-256"
	case a.Optional && len(a.URLs) == 0:
		pa.Status = "optional, pinned, no URL: supply it with --add " + a.ID + "=PATH, or its steps are skipped"
	case a.Optional:
		pa.Status = "optional, pinned"
	case len(a.URLs) == 0:
		pa.Status = "required, pinned, no URL: supply it with --add " + a.ID + "=PATH"
	default:
		pa.Status = "required, pinned"
	}
	return pa
}

func totals(m *payload.Manifest) planTotals {
	t := planTotals{Steps: len(m.Steps)}
	for _, a := range m.Artifacts {
		switch {
		case a.Optional && !a.Pinned():
			t.LeftOut = append(t.LeftOut, a.ID)
		case len(a.URLs) == 0:
			t.Supplied = append(t.Supplied, a.ID)
		default:
			t.Downloads++
			if a.Size > 0 {
				t.DownloadBytes += a.Size
			} else {
				t.UnknownSize = append(t.UnknownSize, a.ID)
			}
		}
	}
	return t
}

func rebootText(r payload.Reboot) string {
	switch r {
	case payload.RebootAfter:
		return "after: the computer always restarts after this step"
	case payload.RebootNever:
		return "never: no restart after this step, even if the installer asks (restart when the run ends)"
	}
	return "if-needed: restart when the exit code asks for it (3010, 1641)"
}

// write prints the plan for a person.
func (p *plan) write(w io.Writer) error {
	var b strings.Builder
	pf := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	pf("%s\n", p.Title)
	pf("manifest %s: %s (sha256 %s)\n", p.ID, p.Manifest, p.SHA256)
	if p.Description != "" {
		pf("\n%s\n", indent(p.Description, ""))
	}
	if len(p.References) > 0 {
		pf("\nReferences:\n")
		for _, r := range p.References {
			pf("  %s\n", r)
		}
	}
	if p.Requires != "" {
		pf("\nFor: only where %s.\n    On any other computer nothing changes (outcome refused).\n", p.Requires)
	}
	if p.Goal != "" {
		pf("\nGoal: %s.\n    Already so at the start: nothing changes (outcome not-needed; --force runs anyway).\n    At the end it decides the outcome: success only if it holds.\n", p.Goal)
	}
	pf("\nSteps, in order (%s is where the bundle is, %s the runner's log folder):\n", planBundle, planLogs)
	for _, s := range p.Steps {
		if s.Title != "" {
			pf("\n%d. %s  [%s]\n", s.N, s.Title, s.ID)
		} else {
			pf("\n%d. %s\n", s.N, s.ID)
		}
		if s.Kind == payload.KindDetect {
			pf("   detect %s: records which of these are installed: %s\n", s.Detect, strings.Join(s.Records, " "))
			pf("   runs:     %s\n", s.Runs)
			continue
		}
		pf("   %-9s %s\n", string(s.Kind)+":", s.Program)
		pf("   command:  %s\n", s.CommandLine)
		pf("   runs:     %s\n", s.Runs)
		if s.Skip != "" {
			pf("   SKIPPED:  %s\n", s.Skip)
		}
		if s.OnFailure == string(payload.OnFailureContinue) {
			pf("   failure:  %s\n", s.OnFailureText)
		}
		if s.FinishIfGoalMet {
			pf("   then:     %s\n", s.FinishText)
		}
		var codes []string
		for _, c := range s.ExitCodes {
			t := fmt.Sprintf("%d %s", c.Code, c.Outcome)
			if c.Code >= 10 {
				t = payload.CodeString(c.Code) + " " + string(c.Outcome)
			}
			if c.Text != "" {
				t += " (" + c.Text + ")"
			}
			codes = append(codes, t)
		}
		pf("   exit:     %s; any other code: failure\n", strings.Join(codes, ", "))
		pf("   reboot:   %s\n", s.RebootText)
		pf("   timeout:  %s\n", formatDuration(s.timeout))
		a := s.Artifact
		pf("   artifact: %s (%s)\n", a.ID, a.Status)
		file := a.File
		if a.Extract != "" {
			file = a.Extract + " from " + a.File
		}
		pf("             file %s, %s\n", file, sizeText(a.Size))
		switch {
		case s.extract != nil && s.extract.SHA256 != "":
			pf("             pin sha256 %s (the extracted file)\n", s.extract.SHA256)
		case a.SHA256 != "":
			pf("             pin sha256 %s\n", a.SHA256)
		case a.SHA1 != "":
			pf("             pin sha1 %s (SHA-256 recorded in the lock at build)\n", a.SHA1)
		default:
			pf("             no pin\n")
		}
		if len(a.URLs) == 0 {
			pf("             no URL\n")
		}
		for _, u := range a.URLs {
			pf("             from %s\n", u)
		}
	}
	t := p.Totals
	pf("\nTotals: %d %s; %d %s to download, %s known", t.Steps, plural(t.Steps, "step", "steps"),
		t.Downloads, plural(t.Downloads, "file", "files"), byteText(t.DownloadBytes))
	if len(t.UnknownSize) > 0 {
		pf(", plus %d of unknown size (%s)", len(t.UnknownSize), strings.Join(t.UnknownSize, ", "))
	}
	pf("\n")
	if len(t.Supplied) > 0 {
		pf("Supplied by you with --add ID=PATH (no URL): %s\n", strings.Join(t.Supplied, ", "))
	}
	if len(t.LeftOut) > 0 {
		pf("Left out until pinned (builder pin): %s; their steps are skipped\n", strings.Join(t.LeftOut, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func sizeText(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return byteText(n)
}

// byteText shows a byte count exactly, and in MiB when that helps.
func byteText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d %s", n, plural(int(n), "byte", "bytes"))
}

// formatDuration writes 1h30m rather than 1h30m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
