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
	Outcome  string       `json:"outcome"` // success | reboot-required | failed | refused
	Reason   string       `json:"reason,omitempty"`
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
)

// ReportStep is one step's line in the report.
type ReportStep struct {
	ID       string `json:"id"`
	Status   string `json:"status"` // succeeded | skipped | failed | reboot-required | not-run
	ExitCode *int64 `json:"exit_code,omitempty"`
	ExitHex  string `json:"exit_hex,omitempty"` // 0x643
	Reason   string `json:"reason,omitempty"`
	Log      string `json:"log,omitempty"` // the installer's log, when it writes one
}

// Step statuses in a report.
const (
	StatusSucceeded      = "succeeded"
	StatusSkipped        = "skipped"
	StatusFailed         = "failed"
	StatusRebootRequired = "reboot-required"
	StatusNotRun         = "not-run"
)
