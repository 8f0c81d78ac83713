package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fixstick/payload"
)

func lockFile(l *payload.Lock, p string) payload.LockFile {
	for _, f := range l.Files {
		if f.Path == p {
			return f
		}
	}
	return payload.LockFile{Path: p}
}

func writeReport(name string, rep *payload.Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(name, append(data, '\n'))
}

// reportFolder is the folder name for a computer's reports; a name Windows
// would not accept as a folder becomes "unknown".
func reportFolder(computer string) string {
	if payload.CheckName(computer) != nil {
		return "unknown"
	}
	return computer
}

// Refuse writes a "refused" report into the bundle's reports folder (the
// private folder may not exist, or the runner may not reach it) and returns
// it. l may be nil when the lock could not be read.
func (e *Engine) Refuse(dir string, l *payload.Lock, reason error) *payload.Report {
	rep := &payload.Report{Computer: e.Sys.ComputerName(), Runner: e.Runner, Outcome: payload.ReportRefused,
		Reason: reason.Error(), Started: e.now(), Finished: e.now(), Steps: []payload.ReportStep{}}
	if l != nil {
		rep.Bundle = l.Bundle
		for _, st := range l.Steps {
			rep.Steps = append(rep.Steps, payload.ReportStep{ID: st.ID, Status: payload.StatusNotRun})
		}
	}
	out := filepath.Join(dir, payload.ReportsDir, reportFolder(rep.Computer))
	if err := os.MkdirAll(out, 0o755); err == nil {
		err = writeReport(filepath.Join(out, payload.ReportName), rep)
		if err != nil {
			fmt.Fprintf(e.Out, "note: could not write the report: %v\n", err)
		}
	}
	return rep
}

// Summary writes what a person needs after a run: each step's end, and
// what to do next.
func Summary(w io.Writer, rep *payload.Report, privateReport string) {
	fmt.Fprintf(w, "\nSummary for %s on %s:\n", rep.Bundle, rep.Computer)
	for _, s := range rep.Steps {
		line := fmt.Sprintf("  %-16s %s", s.ID, s.Status)
		if s.Reason != "" {
			line += ": " + s.Reason
		}
		fmt.Fprintln(w, line)
	}
	switch rep.Outcome {
	case payload.ReportSuccess:
		fmt.Fprintln(w, "Result: success. Every step that applies to this computer is done.")
	case payload.ReportNotNeeded:
		fmt.Fprintln(w, "Result: not needed. This computer is already in the state the bundle exists to reach; nothing was changed.")
	case payload.ReportRebootRequired:
		fmt.Fprintln(w, "Result: a restart is required.")
	case payload.ReportFailed:
		if !stepFailed(rep) {
			fmt.Fprintln(w, "Result: FAILED. Every step ran, and the computer is still not in the state the bundle exists to reach.")
			break
		}
		fmt.Fprintln(w, "Result: FAILED. Nothing after the failed step ran. Fix the cause above, then run the bundle again: the failed step runs again, finished steps do not.")
	case payload.ReportRefused:
		fmt.Fprintln(w, "Result: REFUSED. Nothing was run.")
	}
	if g := rep.Goal; g != nil {
		fmt.Fprintf(w, "  Goal: %s: %s at the start", g.Text, holds(g.Before))
		if g.After != nil {
			fmt.Fprintf(w, ", %s at the end", holds(*g.After))
		}
		fmt.Fprintln(w, ".")
	}
	if rep.Reason != "" {
		fmt.Fprintf(w, "  %s\n", rep.Reason)
	}
	if privateReport != "" {
		fmt.Fprintf(w, "Report: %s\n", privateReport)
	}
}

func holds(b bool) string {
	if b {
		return "held"
	}
	return "did not hold"
}

// stepFailed reports whether a step failed and stopped the run.
func stepFailed(rep *payload.Report) bool {
	for _, s := range rep.Steps {
		if s.Status == payload.StatusFailed && !s.Tolerated {
			return true
		}
	}
	return false
}
