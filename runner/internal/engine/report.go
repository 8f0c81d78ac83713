package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"fixstick/internal/atomicfile"
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
	data, err := reportJSON(rep)
	if err != nil {
		return err
	}
	return writeFileAtomic(name, data)
}

func reportJSON(rep *payload.Report) ([]byte, error) {
	data, err := json.MarshalIndent(rep, "", "  ")
	return append(data, '\n'), err
}

// errOtherBundle: the bundle folder no longer holds the lock the run
// checked (another stick in the drive, or nothing).
var errOtherBundle = errors.New("the folder holds another bundle, or none")

// writeIntoBundle writes files under reports\<computer>\ in the bundle
// folder dir, when dir still holds the lock the run checked (lock nil:
// any). The runner is elevated and dir is not its own: after a restart
// the drive letter may name another stick, and anyone may have prepared a
// folder there (the lock is public), with reports\ a junction into a
// system folder. So no link is followed: every folder from the volume
// root to dir must be a plain folder, and below it the writes go through
// an os.Root, which follows no link out of dir, into folders that are not
// links either.
func writeIntoBundle(dir string, lock []byte, computer string, files map[string][]byte) error {
	root, err := openPlainFolder(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if lock != nil {
		if got, err := root.ReadFile(payload.LockName); err != nil || !bytes.Equal(got, lock) {
			return errOtherBundle
		}
	}
	rel := filepath.Join(payload.ReportsDir, reportFolder(computer))
	for _, d := range []string{payload.ReportsDir, rel} {
		if err := mkdirPlain(root, d); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := atomicfile.WriteFileIn(root, filepath.Join(rel, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// openPlainFolder opens dir as an os.Root after checking that dir and
// every folder above it is a plain folder: not a symbolic link, and not a
// junction (since Go 1.23, Lstat reports a mount point, and any reparse
// point but a symbolic link, socket or dedup file, as ModeIrregular:
// os/types_windows.go), and that the folder opened is the one checked.
func openPlainFolder(dir string) (*os.Root, error) {
	dir = filepath.Clean(dir)
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode().Type() != fs.ModeDir {
			return nil, fmt.Errorf("%s is a link or a junction, not a folder: the runner does not follow it", p)
		}
		if filepath.Dir(p) == p {
			break
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	opened, err1 := root.Stat(".")
	checked, err2 := os.Lstat(dir)
	if err1 != nil || err2 != nil || !os.SameFile(opened, checked) {
		root.Close()
		return nil, fmt.Errorf("%s changed while the runner opened it", dir)
	}
	return root, nil
}

// mkdirPlain makes the folder name in root, or checks that it is a plain
// folder (not a link or a junction).
func mkdirPlain(root *os.Root, name string) error {
	err := root.Mkdir(name, 0o755)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := root.Lstat(name)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeDir {
		return fmt.Errorf("%s is a link or a junction, not a folder: the runner does not follow it", filepath.Join(root.Name(), name))
	}
	return nil
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
	data, err := reportJSON(rep)
	if err == nil {
		err = writeIntoBundle(dir, nil, rep.Computer, map[string][]byte{payload.ReportName: data})
	}
	if err != nil {
		fmt.Fprintf(e.Out, "note: could not write the report into %s: %v\n", dir, err)
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
