package engine

import (
	"fmt"
	"io"
	"path"

	"fixstick/payload"
)

// PlanItem says what Run would do with one step on this machine.
type PlanItem struct {
	Step   payload.LockStep
	Action string // "run", "skip", "done" (finished in an earlier run), "decided-later"
	Reason string
}

// Plan predicts the run on this machine: the journal tells which steps are
// done; facts not yet recorded are detected now (the detect step records
// them again when it runs). Reading the journal needs administrator
// rights; without them the plan starts from the beginning.
func (e *Engine) Plan(b *Bundle) (items []PlanItem, facts []string, err error) {
	var j *Journal
	if p, err := e.PathsFor(b.Lock.Bundle); err == nil {
		j, _ = LoadJournal(p.Journal)
	}
	if j == nil {
		j = &Journal{}
	}
	ev := &evaluator{sys: e.Sys, facts: factSet(j.Facts), factsKnown: j.FactsRecorded}
	facts = j.Facts
	for _, st := range b.Lock.Steps {
		it := PlanItem{Step: st, Action: "run"}
		js := j.find(st.ID)
		switch {
		case js != nil && js.finished():
			it.Action, it.Reason = "done", js.Status+prefixed(": ", js.Reason)
		case st.Skip != "":
			it.Action, it.Reason = "skip", st.Skip
		case st.Kind == payload.KindDetect:
			if !ev.factsKnown {
				facts, err = DetectNetFx(e.Sys)
				if err != nil {
					return nil, nil, err
				}
				ev.facts, ev.factsKnown = factSet(facts), true
			}
			it.Reason = "records what is installed now: " + DescribeFacts(facts)
		default:
			run, why, err := (&run{ev: ev}).decide(st)
			switch {
			case err != nil:
				it.Action, it.Reason = "decided-later", err.Error()
			case !run:
				it.Action, it.Reason = "skip", why
			default:
				it.Reason = commandSummary(st)
			}
		}
		if js != nil && js.State == StateStarted {
			it.Reason += " (it was interrupted in an earlier run: it runs again)"
		}
		if js != nil && js.Status == payload.StatusFailed {
			it.Reason += " (it failed in an earlier run: " + js.Reason + ")"
		}
		items = append(items, it)
	}
	return items, facts, nil
}

func commandSummary(st payload.LockStep) string {
	name := path.Base(st.Program)
	switch st.Kind {
	case payload.KindMSI:
		return "msiexec /i " + name + prefixed(" ", st.Args)
	case payload.KindMSP:
		return "msiexec /update " + name + prefixed(" ", st.Args)
	case payload.KindMSU:
		return "wusa " + name + prefixed(" ", st.Args)
	}
	return name + prefixed(" ", st.Args)
}

// PrintPlan writes a plan for a person.
func PrintPlan(w io.Writer, b *Bundle, items []PlanItem, pending []string) {
	fmt.Fprintf(w, "Bundle %s: %s\n", b.Lock.Bundle, b.Lock.Title)
	if len(b.Extras) > 0 {
		fmt.Fprintf(w, "Note: %d file(s) in the bundle folder are not in the lock and will not be used: %v\n", len(b.Extras), b.Extras)
	}
	if len(pending) > 0 {
		fmt.Fprintf(w, "Note: Windows reports a pending restart (%v); installers may fail until you restart.\n", pending)
	}
	if r := b.Lock.Requires; r != nil {
		fmt.Fprintf(w, "For: only where %s (otherwise nothing changes).\n", r)
	}
	if g := b.Lock.Goal; g != nil {
		fmt.Fprintf(w, "Goal: %s (when it already holds, nothing changes; --force runs anyway).\n", g)
	}
	fmt.Fprintln(w, "Steps on this computer:")
	for i, it := range items {
		fmt.Fprintf(w, "%3d. %-4s %s\n", i+1, map[string]string{"run": "RUN", "skip": "skip", "done": "done", "decided-later": "?"}[it.Action], stepName(it.Step))
		if it.Reason != "" {
			fmt.Fprintf(w, "          %s\n", it.Reason)
		}
		// A skipped step's reason already names its condition.
		if (it.Step.When != nil || it.Step.Unless != nil) && it.Action != "skip" {
			fmt.Fprintf(w, "          condition: %s\n", payload.Describe(it.Step.When, it.Step.Unless))
		}
	}
}
