package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"fixstick/payload"
)

// JournalName is the journal's file name in the bundle's private folder.
const JournalName = "journal.json"

const journalVersion = 1

// Journal is what the runner has done on this machine for one bundle. It is
// rewritten atomically at every state change: before a program starts (the
// step is "started") and after it ends ("done"). A crash or a power cut
// therefore loses nothing that finished, and a finished step never runs
// again. A step found "started" on resume ran, or was about to, when the
// runner died: it is run again (installers are made to be rerun, and the
// step's work is not known to be done) and the report says so.
type Journal struct {
	Version int    `json:"journal"`
	Bundle  string `json:"bundle"`
	// Origin is the bundle folder the first run was started from (the USB
	// stick), where reports are copied when it is still there.
	Origin string `json:"origin,omitempty"`
	// Created is when the first run began.
	Created string `json:"created"`
	// Facts are what the detect step recorded; FactsRecorded says whether it
	// has run (the list may be empty).
	Facts         []string `json:"facts"`
	FactsRecorded bool     `json:"facts_recorded"`
	// Reboots counts the restarts the runner asked for, against a bound.
	Reboots int `json:"reboots"`
	// AwaitingReboot is set when a step asked for a restart; the first run
	// after the restart clears it.
	AwaitingReboot bool `json:"awaiting_reboot,omitempty"`
	// RestartAsked is when that step asked, and BootTime when Windows had
	// started then (RFC 3339, UTC): a run that finds the same boot time
	// knows the computer has not restarted yet.
	RestartAsked string `json:"restart_asked,omitempty"`
	BootTime     string `json:"boot_time,omitempty"`
	// Gated is set once the bundle's requires and goal were checked at the
	// start of a fresh run and the run went on; GoalBefore is whether the
	// goal held then (nil without a goal).
	Gated      bool          `json:"gated,omitempty"`
	GoalBefore *bool         `json:"goal_before,omitempty"`
	Steps      []JournalStep `json:"steps"`
}

// Journal step states.
const (
	StateStarted = "started" // the program is about to run, or ran
	StateDone    = "done"    // Status says how it ended
)

// JournalStep is one step's record.
type JournalStep struct {
	ID       string          `json:"id"`
	State    string          `json:"state,omitempty"`
	Status   string          `json:"status,omitempty"` // a payload.Status* once done
	Outcome  payload.Outcome `json:"outcome,omitempty"`
	ExitCode *uint32         `json:"exit_code,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Log      string          `json:"log,omitempty"`
	Started  string          `json:"started,omitempty"`
	Finished string          `json:"finished,omitempty"`
	// Interrupted counts the runs that found this step started but not
	// done (the runner was killed or the power went while it ran).
	Interrupted int `json:"interrupted,omitempty"`
	// Failures counts the earlier runs in which this step failed: a failed
	// step runs again on the next run.
	Failures int `json:"failures,omitempty"`
	// Tolerated marks a failure that did not stop the run (on_failure:
	// continue): the step is finished, and never runs again.
	Tolerated bool `json:"tolerated,omitempty"`
	// GoalChecked is set once the goal was evaluated after this step
	// (finish_if_goal_met), so that a later run does not credit this step
	// with what later steps did.
	GoalChecked bool `json:"goal_checked,omitempty"`
}

// finished reports whether a step has ended for good: done, and not a
// failure that must run again.
func (js *JournalStep) finished() bool {
	return js.State == StateDone && (js.Status != payload.StatusFailed || js.Tolerated)
}

// LoadJournal reads a journal; a missing file gives (nil, nil).
func LoadJournal(name string) (*Journal, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j Journal
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("journal %s is damaged (%v): move it away to start the bundle from the beginning", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("journal %s is damaged (data after the JSON): move it away to start the bundle from the beginning", name)
	}
	if j.Version != journalVersion {
		return nil, fmt.Errorf("journal %s has format %d; this runner reads %d", name, j.Version, journalVersion)
	}
	return &j, nil
}

// step returns the journal's record for id, adding one if needed.
func (j *Journal) step(id string) *JournalStep {
	if js := j.find(id); js != nil {
		return js
	}
	j.Steps = append(j.Steps, JournalStep{ID: id})
	return &j.Steps[len(j.Steps)-1]
}

// find returns the journal's record for id, or nil.
func (j *Journal) find(id string) *JournalStep {
	for i := range j.Steps {
		if j.Steps[i].ID == id {
			return &j.Steps[i]
		}
	}
	return nil
}

func (j *Journal) marshal() ([]byte, error) {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
