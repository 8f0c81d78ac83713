package payload

// ReportName is the report's file name, in the runner's private folder and
// under reports/<COMPUTERNAME>/ in the bundle folder.
const ReportName = "report.json"

// Report is what a run leaves behind (format in docs/manifest.md). Both
// runners, the Go one and the legacy script, write this shape.
type Report struct {
	Bundle   string       `json:"bundle"`
	Computer string       `json:"computer"`
	Runner   string       `json:"runner"`  // "runner.exe 1.2.3" or "legacy"
	Outcome  string       `json:"outcome"` // success | reboot-required | failed | refused | not-needed
	Reason   string       `json:"reason,omitempty"`
	Goal     *ReportGoal  `json:"goal,omitempty"` // when the lock has a goal
	Started  string       `json:"started,omitempty"`
	Finished string       `json:"finished,omitempty"`
	Facts    []string     `json:"facts,omitempty"` // recorded by detect steps
	Steps    []ReportStep `json:"steps"`
}

// Report outcomes.
const (
	ReportSuccess        = "success"
	ReportRebootRequired = "reboot-required"
	ReportFailed         = "failed"
	ReportRefused        = "refused"
	ReportNotNeeded      = "not-needed" // the goal held before anything ran
)

// ReportGoal is the goal in words and whether it held before the run and
// after it. After is nil until the run is final.
type ReportGoal struct {
	Text   string `json:"text"`
	Before bool   `json:"before"`
	After  *bool  `json:"after,omitempty"`
}

// ReportStep is one step's line in the report.
type ReportStep struct {
	ID     string `json:"id"`
	Status string `json:"status"` // succeeded | skipped | failed | reboot-required | not-run
	// Tolerated marks a failed step whose failure did not stop the run
	// (on_failure: continue).
	Tolerated bool   `json:"tolerated,omitempty"`
	ExitCode  *int64 `json:"exit_code,omitempty"`
	ExitHex   string `json:"exit_hex,omitempty"` // 0x643
	Reason    string `json:"reason,omitempty"`
	Log       string `json:"log,omitempty"` // the installer's log, when it writes one
}

// Step statuses in a report.
const (
	StatusSucceeded      = "succeeded"
	StatusSkipped        = "skipped"
	StatusFailed         = "failed"
	StatusRebootRequired = "reboot-required"
	StatusNotRun         = "not-run"
)
