package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"fixstick/internal/signature"
	"fixstick/payload"
)

// Defaults for the bounds an Engine applies when its fields are zero.
const (
	DefaultRetryFor   = payload.RetryFor   // how long "retry" (1618) outcomes are retried
	DefaultRetryFirst = payload.RetryFirst // the first wait; it doubles up to RetryMaxWait
	RetryMaxWait      = payload.RetryMaxWait
	DefaultMaxReboots = payload.MaxReboots
	DefaultHeartbeat  = time.Minute
)

// Engine runs bundles. Set Sys and Out; the rest has defaults.
type Engine struct {
	Sys System
	// Out is what the person at the machine reads; the same lines go to
	// the human log in the private folder.
	Out io.Writer
	// Runner names this program in reports ("runner.exe 1.2.3").
	Runner string
	Clock  Clock
	// RetryFor bounds how long a step whose outcome is "retry" is run again;
	// RetryFirst is the first wait between tries.
	RetryFor, RetryFirst time.Duration
	// MaxReboots bounds the restarts one bundle may ask for.
	MaxReboots int
	// Keys are the minisign public keys this computer trusts (--key, or
	// the provisioned trusted-keys folder). With any, Open refuses a
	// bundle whose lock is not signed by one of them. KeySource says
	// where they came from, for messages.
	Keys      []signature.PublicKey
	KeySource string
	// Heartbeat is how often a running program is said to be alive, with
	// its elapsed time against its timeout (default DefaultHeartbeat).
	Heartbeat time.Duration
	// Title, when set, shows a short status in the console's title bar.
	Title func(string)
	// save writes the journal; tests replace it to simulate a crash between
	// two writes.
	save func(name string, data []byte) error

	log io.Writer // the human log while Run runs
}

func (e *Engine) clock() Clock {
	if e.Clock == nil {
		return realClock{}
	}
	return e.Clock
}

func (e *Engine) now() string { return e.clock().Now().UTC().Format(time.RFC3339) }

func (e *Engine) say(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(e.Out, msg)
	if e.log != nil {
		fmt.Fprintf(e.log, "%s %s\n", e.clock().Now().Format("2006-01-02 15:04:05"), msg)
	}
}

// ErrNotElevated is returned when the runner lacks administrator rights.
var ErrNotElevated = errors.New("the runner needs administrator rights: right-click START.cmd and choose \"Run as administrator\"")

// CheckElevated refuses to go on without administrator rights.
func (e *Engine) CheckElevated() error {
	ok, err := e.Sys.Elevated()
	if err != nil {
		return fmt.Errorf("checking for administrator rights: %w", err)
	}
	if !ok {
		return ErrNotElevated
	}
	return nil
}

// Bundle is a bundle folder whose files all matched its lock.
type Bundle struct {
	Dir    string
	Lock   *payload.Lock
	Extras []string // files the lock does not list; never run
	Notes  []string // folders that could not be listed (never run either)
	// Signer is the key id of the lock's signature: checked against a
	// trusted key when Engine.Keys has any (SignerTrusted), else only read.
	Signer        string
	SignerTrusted bool
	raw           []byte // the lock's bytes, as checked
	sig           []byte // bundle.lock.json.minisig as read, nil if none
}

// Open reads dir's lock, checks its signature when the engine has
// trusted keys (before the lock is even parsed), and verifies every file
// against it.
func (e *Engine) Open(dir string) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	raw, err := readLockBytes(abs)
	if err != nil {
		return nil, err
	}
	sig, err := readLockSig(abs)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Dir: abs, raw: raw, sig: sig}
	if len(e.Keys) > 0 {
		s, err := signature.Verify(e.Keys, payload.LockName, raw, sig)
		if err != nil {
			return nil, &SignatureError{Err: err, KeySource: e.KeySource}
		}
		b.Signer, b.SignerTrusted = s.KeyID, true
	} else if sig != nil {
		b.Signer, _ = signature.SignerKeyID(sig)
	}
	if b.Lock, err = ParseLock(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(abs, payload.LockName), err)
	}
	b.Extras, b.Notes, err = verify(abs, b.Lock)
	return b, err
}

// SignatureError is a bundle refused because its lock is not signed by a
// trusted key: nothing in it is used.
type SignatureError struct {
	Err       error
	KeySource string // where the trusted keys came from
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("the bundle is not signed by a key this computer trusts (%s); nothing was run: %v", e.KeySource, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// readLockSig reads dir's bundle.lock.json.minisig, nil when there is none.
func readLockSig(dir string) ([]byte, error) {
	name := filepath.Join(dir, payload.LockSigName)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, signature.MaxSigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > signature.MaxSigSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a signature", name, signature.MaxSigSize)
	}
	return data, nil
}

// Paths are the places a bundle uses in its private folder. The names are
// short on purpose: installers still break on paths near MAX_PATH.
type Paths struct {
	Root    string // %ProgramData%\fixstick\<bundle-id>
	Bundle  string // Root\b: the verified copy of the bundle
	Runner  string // Root\runner.exe: what RunOnce starts after a reboot
	Journal string
	Report  string
	Log     string // the human log
	Logs    string // Root\logs: installers' own logs
	Work    string // Root\w\<n>: each step's empty working folder
}

// PathsFor returns the private paths of a bundle.
func (e *Engine) PathsFor(bundleID string) (Paths, error) {
	base, err := e.Sys.PrivateRoot()
	if err != nil {
		return Paths{}, err
	}
	root := filepath.Join(base, bundleID)
	return Paths{
		Root:    root,
		Bundle:  filepath.Join(root, "b"),
		Runner:  filepath.Join(root, "runner.exe"),
		Journal: filepath.Join(root, JournalName),
		Report:  filepath.Join(root, payload.ReportName),
		Log:     filepath.Join(root, "runner.log"),
		Logs:    filepath.Join(root, "logs"),
		Work:    filepath.Join(root, "w"),
	}, nil
}

// RunOptions say how much the runner may do on its own.
type RunOptions struct {
	// Reboot restarts the machine without asking when a step needs it.
	Reboot bool
	// Confirm asks the person a yes/no question; nil means nobody is there.
	Confirm func(question string) bool
	// AfterReboot is set by the RunOnce entry: the restart a step asked for
	// should have happened (RunOnce also runs at a logon without one).
	AfterReboot bool
	// WithoutRestart goes on although the restart a step asked for has not
	// happened (the person knows it is not needed, or did it another way).
	WithoutRestart bool
	// Force runs the steps although the goal already holds.
	Force bool
}

// ExitRebootRequired is the runner's exit status when the bundle stopped for
// a restart (the same code installers use).
const ExitRebootRequired = 3010

// errStop ends a run after a journal write failed: the run must stop at
// once, as if the power had gone, so it does nothing more.
type errStop struct{ err error }

func (e *errStop) Error() string { return "writing the journal: " + e.err.Error() }
func (e *errStop) Unwrap() error { return e.err }

// run is one Run's state.
type run struct {
	e    *Engine
	b    *Bundle
	p    Paths
	j    *Journal
	opt  RunOptions
	ev   *evaluator
	rep  payload.Report
	note []string // said in the report's reason
	// restart the machine once the report is written
	restart bool
	// resumeFailed: RunOnce could not be written (said once)
	resumeFailed bool
	// gateSkip, when set, is why no step ran: the bundle was refused or not
	// needed. Steps that did not run are reported skipped with it.
	gateSkip string
	// goalBefore and goalAfter are the goal's value at the start of the run
	// and once the run is final, when known.
	goalBefore, goalAfter *bool
}

func (r *run) save() error {
	data, err := r.j.marshal()
	if err == nil {
		save := r.e.save
		if save == nil {
			save = writeFileAtomic
		}
		err = save(r.p.Journal, data)
	}
	if err != nil {
		return &errStop{err}
	}
	return nil
}

// Run runs an opened bundle on this machine and returns its report, which
// it has also written into the private folder and, when it can, into the
// bundle's reports folder. The caller has checked elevation.
func (e *Engine) Run(ctx context.Context, b *Bundle, opt RunOptions) (*payload.Report, error) {
	l := b.Lock
	p, err := e.PathsFor(l.Bundle)
	if err != nil {
		return nil, err
	}
	var aside []string
	for _, dir := range []string{filepath.Dir(p.Root), p.Root} {
		moved, err := e.Sys.MkdirPrivate(dir)
		if err != nil {
			return nil, fmt.Errorf("creating the private folder %s: %w", dir, err)
		}
		if moved != "" {
			aside = append(aside, fmt.Sprintf("%s was not made by an administrator: it was moved to %s and nothing in it is trusted", dir, moved))
		}
	}
	lock, err := e.Sys.LockFile(filepath.Join(p.Root, "run.lock"))
	if err != nil {
		return nil, fmt.Errorf("another runner is already working on bundle %s on this computer (%v): wait for it to end", l.Bundle, err)
	}
	defer lock.Close()
	logf, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the log: %w", err)
	}
	defer logf.Close()
	e.log = logf
	defer func() { e.log = nil }()

	j, err := LoadJournal(p.Journal)
	if err != nil {
		return nil, err
	}
	if j == nil {
		j = &Journal{Version: journalVersion, Bundle: l.Bundle, Created: e.now(), Facts: []string{}}
	}
	if j.Bundle != l.Bundle {
		return nil, fmt.Errorf("journal %s belongs to bundle %q, not %q", p.Journal, j.Bundle, l.Bundle)
	}
	r := &run{e: e, b: b, p: p, j: j, opt: opt}
	r.ev = &evaluator{sys: e.Sys, facts: factSet(j.Facts), factsKnown: j.FactsRecorded}
	r.goalBefore = j.GoalBefore
	r.rep = payload.Report{Bundle: l.Bundle, Computer: e.Sys.ComputerName(), Runner: e.Runner, Started: e.now()}
	for _, a := range aside {
		r.notef("%s", a)
	}
	fromStick := !samePath(b.Dir, p.Bundle)
	if fromStick {
		// Reports go where the bundle is now: the stick's letter may
		// differ from the last run's.
		j.Origin = b.Dir
	}
	if r.allDone() {
		e.say("every step finished in an earlier run (the first run began %s); nothing to do", j.Created)
		return r.finish(nil)
	}
	if fromStick {
		if err := r.copyBundle(); err != nil {
			return r.finish(fmt.Errorf("copying the bundle into %s (nothing was run): %w", p.Bundle, err))
		}
		if len(b.Extras) > 0 {
			r.notef("files not listed in the lock were ignored: %s", strings.Join(b.Extras, ", "))
		}
	}
	for _, n := range b.Notes {
		r.notef("%s", n)
	}
	// Only what the lock lists may be in the private copy, on every run:
	// a file planted there (a DLL beside an installer) would be loaded.
	if err := r.cleanPrivate(); err != nil {
		return r.finish(fmt.Errorf("the private copy %s holds files the lock does not list, and the runner could not remove them (nothing was run): %w", p.Bundle, err))
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	if stop, err := r.checkReboot(); err != nil || stop {
		return r.finish(err)
	}
	return r.finish(r.steps(ctx))
}

// allDone reports whether the journal holds every step as done and not
// failed, with no restart awaited.
func (r *run) allDone() bool {
	if r.j.AwaitingReboot {
		return false
	}
	for _, st := range r.b.Lock.Steps {
		if js := r.j.find(st.ID); js == nil || !js.finished() {
			return false
		}
	}
	return true
}

func (r *run) notef(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.e.say("note: %s", msg)
	r.note = append(r.note, msg)
}

// copyBundle copies every file of the lock into the private folder,
// checking each one as it is copied, and the runner itself.
func (r *run) copyBundle() error {
	e, l := r.e, r.b.Lock
	e.say("copying the bundle to %s", r.p.Bundle)
	for _, f := range l.Files {
		dst := filepath.Join(r.p.Bundle, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := copyVerified(filepath.Join(r.b.Dir, filepath.FromSlash(f.Path)), dst, f.Path, f.SHA256, f.Size); err != nil {
			return err
		}
	}
	// The very bytes that were checked, not the stick's file again; the
	// signature too, so that a resume on a machine with a trusted key
	// finds the private copy signed.
	if r.b.sig != nil {
		if err := writeFileAtomic(filepath.Join(r.p.Bundle, payload.LockSigName), r.b.sig); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(r.p.Bundle, payload.LockName), r.b.raw); err != nil {
		return err
	}
	// What RunOnce starts after a restart: the bundle's own runner for
	// this architecture, as just verified into the private copy, and
	// never the running program's bytes (os.Executable), which no lock
	// lists.
	name := runnerName()
	f := lockFile(l, name)
	if f.SHA256 == "" {
		return fmt.Errorf("the lock lists no %s, so the runner cannot continue by itself after a restart", name)
	}
	if err := copyVerified(filepath.Join(r.p.Bundle, name), r.p.Runner, name, f.SHA256, f.Size); err != nil {
		return fmt.Errorf("copying the runner: %w", err)
	}
	return nil
}

// runnerName is the bundle's runner for the architecture this program
// was built for.
func runnerName() string {
	if runtime.GOARCH == "386" {
		return payload.RunnerX86
	}
	return payload.RunnerAMD64
}

// checkReboot handles a restart that a step asked for and Windows' own
// pending restarts. stop means the run must end here.
func (r *run) checkReboot() (stop bool, err error) {
	pending := r.e.Sys.PendingReboot()
	if r.j.AwaitingReboot {
		restarted, known := r.restarted()
		after := " (the computer was restarted afterwards)"
		switch {
		case known && !restarted && r.opt.WithoutRestart:
			after = " (the computer was not restarted: --without-restart)"
			r.notef("going on without the restart a step asked for (--without-restart)")
		case known && !restarted:
			r.rep.Outcome = payload.ReportRebootRequired
			r.rep.Reason = fmt.Sprintf("a step asked for a restart at %s, and the computer has not restarted since: restart it; the runner continues by itself after the restart (to go on without it: runner run --without-restart)", r.j.RestartAsked)
			r.e.say("%s", r.rep.Reason)
			r.reboot(false)
			return true, nil
		case !known && !r.opt.AfterReboot && len(pending) > 0:
			r.rep.Outcome = payload.ReportRebootRequired
			r.rep.Reason = "a step asked for a restart and Windows still has one pending (" + strings.Join(pending, "; ") +
				"): restart the computer; the runner continues by itself after the restart"
			r.e.say("%s", r.rep.Reason)
			r.reboot(false)
			return true, nil
		}
		r.j.AwaitingReboot, r.j.RestartAsked, r.j.BootTime = false, "", ""
		for i := range r.j.Steps {
			if s := &r.j.Steps[i]; s.Status == payload.StatusRebootRequired {
				s.Status = payload.StatusSucceeded
				s.Reason = strings.TrimSpace(s.Reason + after)
			}
		}
		if restarted || !known {
			r.e.say("continuing after the restart")
		}
		return false, r.save()
	}
	if len(pending) > 0 {
		r.notef("Windows reports a pending restart before any step ran (%s); installers may fail until the computer is restarted", strings.Join(pending, "; "))
	}
	return false, nil
}

// steps runs the steps in order, from where the journal says.
func (r *run) steps(ctx context.Context) error {
	l := r.b.Lock
	gate := (l.Requires != nil || l.Goal != nil) && !r.j.Gated
	for i, st := range l.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		// requires and goal are decided once the leading detect steps
		// have recorded their facts, before anything else runs.
		if gate && st.Kind != payload.KindDetect {
			gate = false
			if stop, err := r.gate(); err != nil || stop {
				return err
			}
		}
		js := r.j.step(st.ID)
		if js.finished() {
			if stop, err := r.finishIfGoalMet(i, st, js); err != nil || stop {
				return err
			}
			continue
		}
		if js.State == StateDone {
			// A failed step runs again: its cause may have been fixed.
			js.Failures++
			r.notef("step %s failed in an earlier run (%s); running it again", st.ID, js.Reason)
			*js = JournalStep{ID: js.ID, Attempts: js.Attempts, Interrupted: js.Interrupted, Failures: js.Failures}
		}
		if js.State == StateStarted {
			js.Interrupted++
			r.notef("step %s was interrupted while it ran (the runner was stopped or the power went); running it again", st.ID)
		}
		r.e.say("[%d/%d] %s", i+1, len(l.Steps), stepName(st))
		stop, err := r.step(ctx, i, st, js)
		if err != nil || stop {
			return err
		}
		if stop, err := r.finishIfGoalMet(i, st, js); err != nil || stop {
			return err
		}
	}
	if gate {
		// Only detect steps: the gate still decides the outcome.
		_, err := r.gate()
		return err
	}
	return nil
}

// gate checks, at the start of a fresh run, that the bundle is for this
// computer (requires) and still needed (goal). stop means nothing more
// runs: the report says refused or not-needed, and finish forgets the
// journal, so that the next run starts afresh.
func (r *run) gate() (stop bool, err error) {
	l := r.b.Lock
	if l.Requires != nil {
		ok, err := r.ev.Eval(l.Requires)
		if err != nil {
			return true, fmt.Errorf("checking which computers the bundle is for: %w", err)
		}
		if !ok {
			if l.Goal != nil {
				// For the report only; on the wrong computer it may not be
				// readable, and that changes nothing.
				if met, err := r.ev.Eval(l.Goal); err == nil {
					r.goalBefore = &met
				}
			}
			r.rep.Outcome = payload.ReportRefused
			r.rep.Reason = fmt.Sprintf("this bundle is for computers where %s; this computer is %s: nothing was changed", l.Requires, r.describeComputer())
			r.gateSkip = "the bundle is not for this computer"
			r.e.say("%s", r.rep.Reason)
			return true, nil
		}
	}
	if l.Goal != nil {
		met, err := r.ev.Eval(l.Goal)
		if err != nil {
			return true, fmt.Errorf("checking the goal (%s): %w", l.Goal, err)
		}
		r.goalBefore = &met
	}
	if r.goalBefore != nil && *r.goalBefore {
		if !r.opt.Force {
			r.rep.Outcome = payload.ReportNotNeeded
			r.rep.Reason = fmt.Sprintf("the goal already holds (%s): nothing was changed (runner run --force runs the steps anyway)", l.Goal)
			r.gateSkip = "not needed: the goal already holds"
			r.goalAfter = r.goalBefore
			r.e.say("%s", r.rep.Reason)
			return true, nil
		}
		r.notef("the goal already held (%s); the steps run anyway (--force)", l.Goal)
	}
	r.j.Gated, r.j.GoalBefore = true, r.goalBefore
	return false, r.save()
}

// describeComputer says what this computer is, in the terms requires
// uses: "Windows 5.2 x64 (Service Pack 2); recorded: none".
func (r *run) describeComputer() string {
	s := "of unknown Windows version"
	if info, err := r.e.Sys.OSVersion(); err == nil {
		s = fmt.Sprintf("Windows %d.%d %s", info.Major, info.Minor, info.Arch)
		if info.ServicePack != "" {
			s += " (" + info.ServicePack + ")"
		}
	}
	if r.j.FactsRecorded {
		s += "; recorded: " + DescribeFacts(r.j.Facts)
	}
	return s
}

// finishIfGoalMet ends the run after a finish_if_goal_met step when the
// goal holds: every later step is skipped, in one journal write. The goal
// is checked once per step (a later run must not credit this step with
// what later steps did), and not while the step awaits a restart.
func (r *run) finishIfGoalMet(i int, st payload.LockStep, js *JournalStep) (stop bool, err error) {
	l := r.b.Lock
	if !st.FinishIfGoalMet || l.Goal == nil || js.GoalChecked || !js.finished() || js.Status == payload.StatusRebootRequired {
		return false, nil
	}
	met, err := r.ev.Eval(l.Goal)
	if err != nil {
		return true, fmt.Errorf("checking the goal after step %s: %w", st.ID, err)
	}
	js.GoalChecked = true
	if !met {
		r.e.say("    the goal does not hold yet (%s): the run goes on", l.Goal)
		return false, r.save()
	}
	reason := "the goal was met after step " + st.ID
	for _, later := range l.Steps[i+1:] {
		ljs := r.j.step(later.ID)
		*ljs = JournalStep{ID: later.ID, State: StateDone, Status: payload.StatusSkipped, Reason: reason, Finished: r.e.now(),
			Attempts: ljs.Attempts, Interrupted: ljs.Interrupted, Failures: ljs.Failures}
	}
	r.e.say("the goal holds after step %s (%s): the remaining steps are skipped", st.ID, l.Goal)
	return true, r.save()
}

// stepName is "id: title", or the id alone when the step has no title.
func stepName(st payload.LockStep) string {
	if st.Title == "" || st.Title == st.ID {
		return st.ID
	}
	return st.ID + ": " + st.Title
}

// done records a step's end.
func (r *run) done(js *JournalStep, status, reason string) error {
	js.State, js.Status, js.Reason, js.Finished = StateDone, status, reason, r.e.now()
	r.e.say("    %s%s", status, prefixed(": ", reason))
	return r.save()
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// step runs one step. stop ends the run (failure or restart).
func (r *run) step(ctx context.Context, i int, st payload.LockStep, js *JournalStep) (stop bool, err error) {
	if st.Skip != "" {
		return false, r.done(js, payload.StatusSkipped, st.Skip)
	}
	if st.Kind == payload.KindDetect {
		if r.j.FactsRecorded {
			return false, r.done(js, payload.StatusSucceeded, "recorded earlier: "+DescribeFacts(r.j.Facts))
		}
		facts, err := DetectNetFx(r.e.Sys)
		if err != nil {
			return true, r.fail(js, "detection failed: "+err.Error())
		}
		r.j.Facts, r.j.FactsRecorded = facts, true
		r.ev.facts, r.ev.factsKnown = factSet(facts), true
		return false, r.done(js, payload.StatusSucceeded, "recorded: "+DescribeFacts(facts))
	}
	run, why, err := r.decide(st)
	if err != nil {
		return true, r.fail(js, "checking the step's condition: "+err.Error())
	}
	if !run {
		return false, r.done(js, payload.StatusSkipped, why)
	}
	// Registered before the program starts: an installer may restart the
	// computer itself (1641) before the runner hears of it.
	r.registerResume()
	code, res, logPath, err := r.exec(ctx, i, st, js)
	if err != nil {
		var es *errStop
		if errors.As(err, &es) || errors.Is(err, context.Canceled) {
			return true, err
		}
		return r.failStep(st, js, err.Error())
	}
	js.ExitCode, js.Outcome, js.Log = &code, res.Outcome, logPath
	if !res.Outcome.Succeeded() {
		return r.failStep(st, js, explain(code, res.Text, logPath))
	}
	reason := fmt.Sprintf("exit code %s: %s", payload.CodeString(code), res.Outcome)
	wantsReboot := res.Outcome == payload.OutcomeReboot || res.Outcome == payload.OutcomeRebootInitiated
	switch {
	case st.Reboot == payload.RebootAfter:
		wantsReboot = true
		reason += "; the step restarts the computer afterwards"
	case st.Reboot == payload.RebootNever && res.Outcome == payload.OutcomeReboot:
		wantsReboot = false
		reason += "; the step says not to restart now"
		r.notef("step %s asked for a restart, and the bundle goes on without one: restart the computer when the run ends", st.ID)
	}
	if !wantsReboot {
		return false, r.done(js, payload.StatusSucceeded, reason)
	}
	last := i == len(r.b.Lock.Steps)-1
	maxReboots := r.e.MaxReboots
	if maxReboots <= 0 {
		maxReboots = DefaultMaxReboots
	}
	if !last && r.j.Reboots >= maxReboots {
		r.rep.Outcome = payload.ReportFailed
		r.rep.Reason = fmt.Sprintf("the bundle asked for more than %d restarts; the runner stopped to avoid a restart loop: restart the computer and run the bundle again to go on", maxReboots)
		return true, r.done(js, payload.StatusRebootRequired, reason)
	}
	// Recorded in the same write as the step's end, so that a crash in
	// between cannot lose the restart the step asked for. The last step's
	// restart is awaited too: until it happens the bundle is not done.
	r.j.Reboots++
	r.j.AwaitingReboot, r.j.RestartAsked, r.j.BootTime = true, r.e.now(), ""
	if boot, err := r.e.Sys.BootTime(); err == nil {
		r.j.BootTime = boot.UTC().Format(time.RFC3339Nano)
	}
	if err := r.done(js, payload.StatusRebootRequired, reason); err != nil {
		return true, err
	}
	r.rep.Outcome = payload.ReportRebootRequired
	r.rep.Reason = "a restart is needed; the runner continues by itself after the restart"
	if last {
		r.rep.Reason = "all steps ran; restart the computer to complete the last one"
	}
	r.reboot(res.Outcome == payload.OutcomeRebootInitiated)
	return true, nil
}

// restarted reports whether Windows has started again since a step asked
// for a restart; known is false when that cannot be told (no boot time).
func (r *run) restarted() (restarted, known bool) {
	then, err := time.Parse(time.RFC3339Nano, r.j.BootTime)
	if err != nil {
		return false, false
	}
	now, err := r.e.Sys.BootTime()
	if err != nil {
		return false, false
	}
	// The boot time is exact within one boot (a tick-count fallback
	// varies by milliseconds); a restart moves it by seconds at least.
	d := now.Sub(then)
	return d > bootTolerance || d < -bootTolerance, true
}

const bootTolerance = time.Second

// decide evaluates when/unless.
func (r *run) decide(st payload.LockStep) (run bool, why string, err error) {
	if st.When != nil {
		ok, err := r.ev.Eval(st.When)
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, "runs only if " + st.When.String() + ", which is not the case", nil
		}
	}
	if st.Unless != nil {
		ok, err := r.ev.Eval(st.Unless)
		if err != nil {
			return false, "", err
		}
		if ok {
			return false, "not needed: " + st.Unless.String(), nil
		}
	}
	return true, "", nil
}

// explain reads a failing exit code for a person:
// "1603 (0x643): fatal error during installation; log: C:\...".
func explain(code uint32, text, logPath string) string {
	s := payload.CodeString(code) + ": " + text
	if logPath != "" {
		s += "; log: " + logPath
	}
	return s
}

// failStep records a program's failure: it ends the run, unless the step
// tolerates it (on_failure: continue).
func (r *run) failStep(st payload.LockStep, js *JournalStep, reason string) (stop bool, err error) {
	if st.OnFailure != payload.OnFailureContinue {
		return true, r.fail(js, reason)
	}
	js.Tolerated = true
	r.e.say("    (tolerated: on_failure is continue, so the run goes on)")
	return false, r.done(js, payload.StatusFailed, reason)
}

func (r *run) fail(js *JournalStep, reason string) error {
	r.rep.Outcome = payload.ReportFailed
	r.rep.Reason = fmt.Sprintf("step %s failed: %s", js.ID, reason)
	return r.done(js, payload.StatusFailed, reason)
}

// resumeCommand is what RunOnce starts: the private copy of the runner on
// the private copy of the bundle, never a drive letter that may change.
func (r *run) resumeCommand() string {
	cmd := fmt.Sprintf(`"%s" run --yes --after-reboot --bundle "%s"`, r.p.Runner, r.p.Bundle)
	if r.opt.Reboot {
		cmd += " --reboot"
	}
	return cmd
}

// registerResume writes the RunOnce entry that continues the bundle at
// the next logon; finish removes it when nothing is left to continue.
func (r *run) registerResume() error {
	err := r.e.Sys.SetRunOnce(runOnceName(r.b.Lock.Bundle), r.resumeCommand())
	if err != nil && !r.resumeFailed {
		r.resumeFailed = true
		r.notef("the runner could not arrange to continue by itself after a restart (%v): after a restart, run the bundle again", err)
	}
	return err
}

// exec runs a step's program until its outcome is not "retry", or the
// retries run out.
func (r *run) exec(ctx context.Context, i int, st payload.LockStep, js *JournalStep) (uint32, payload.Result, string, error) {
	e := r.e
	program := filepath.Join(r.p.Bundle, filepath.FromSlash(st.Program))
	var logPath string
	if st.Kind == payload.KindMSI || st.Kind == payload.KindMSP {
		logPath = filepath.Join(r.p.Logs, st.ID+".log")
		if err := os.MkdirAll(r.p.Logs, 0o700); err != nil {
			return 0, payload.Result{}, "", err
		}
	}
	app, cmdline, err := payload.CommandLine(st.Kind, program, st.Args, logPath)
	if err != nil {
		return 0, payload.Result{}, "", err
	}
	if sys, ok := strings.CutPrefix(app, payload.SystemRoot); ok {
		// Only the system program's own path: the args go verbatim, even
		// when they hold %SystemRoot% for the installer to read.
		win, err := e.Sys.WindowsDir()
		if err != nil {
			return 0, payload.Result{}, "", err
		}
		quoted := `"` + app + `"`
		if !strings.HasPrefix(cmdline, quoted) {
			return 0, payload.Result{}, "", fmt.Errorf("command line %q does not start with %s", cmdline, quoted)
		}
		app = win + sys
		cmdline = `"` + app + `"` + cmdline[len(quoted):]
	}
	table := st.ExitCodes
	if len(table) == 0 {
		table = payload.DefaultExitCodes()
	}
	timeout := time.Duration(st.Timeout) * time.Second
	if timeout <= 0 {
		timeout = payload.DefaultTimeout
	}
	retryFor, wait := orDefault(e.RetryFor, DefaultRetryFor), orDefault(e.RetryFirst, DefaultRetryFirst)
	first := e.clock().Now()
	for {
		js.State, js.Attempts, js.Started, js.Finished = StateStarted, js.Attempts+1, e.now(), ""
		// A fresh, empty working folder for each attempt: nothing in it
		// can be planted next to the installer (the DLL search order
		// includes the current folder on old systems). w\N, then w\N.2 ...
		work := filepath.Join(r.p.Work, strconv.Itoa(i+1))
		if js.Attempts > 1 {
			work += "." + strconv.Itoa(js.Attempts)
		}
		if err := os.RemoveAll(work); err != nil {
			return 0, payload.Result{}, "", fmt.Errorf("emptying the working folder: %w", err)
		}
		if err := os.MkdirAll(work, 0o700); err != nil {
			return 0, payload.Result{}, "", err
		}
		if err := r.save(); err != nil {
			return 0, payload.Result{}, "", err
		}
		e.say("    running %s", cmdline)
		code, err := r.start(ctx, st, program, app, cmdline, work, timeout)
		if err != nil {
			return 0, payload.Result{}, "", err
		}
		res := table.Classify(code)
		if res.Outcome != payload.OutcomeRetry {
			return code, res, logPath, nil
		}
		if e.clock().Now().Sub(first)+wait > retryFor {
			return code, payload.Result{Outcome: payload.OutcomeFailure,
				Text: fmt.Sprintf("%s; still so after retrying for %s", payload.Explain(code), retryFor)}, logPath, nil
		}
		e.say("    exit code %s: %s; trying again in %s", payload.CodeString(code), payload.Explain(code), wait)
		if err := e.clock().Sleep(ctx, wait); err != nil {
			return 0, payload.Result{}, "", err
		}
		wait = min(2*wait, RetryMaxWait)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// start re-verifies the private copy through a handle that stops anyone
// from changing it, keeps that handle until the process exists, and waits
// for the process within the step's timeout.
func (r *run) start(ctx context.Context, st payload.LockStep, program, app, cmdline, work string, timeout time.Duration) (uint32, error) {
	f := lockFile(r.b.Lock, st.Program)
	h, err := r.e.Sys.OpenShared(program)
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", program, err)
	}
	var once sync.Once
	release := func() { once.Do(func() { h.Close() }) }
	defer release()
	if err := verifyReader(h, st.Program, f.SHA256, f.Size); err != nil {
		return 0, fmt.Errorf("the private copy changed before it ran: %w", err)
	}
	started := release
	if st.Kind != payload.KindExe {
		// msiexec and wusa open the package while they run, long after
		// they start: it stays held (readers are still let in) until
		// they end, so nobody can swap it in between.
		started = func() {}
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stopBeat := r.heartbeat(st, timeout)
	code, err := r.e.Sys.Exec(tctx, ExecSpec{App: app, CmdLine: cmdline, Dir: work, Started: started})
	stopBeat()
	switch {
	case err == nil:
		return code, nil
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return 0, fmt.Errorf("did not finish within %s; the runner stopped it and its child processes", timeout)
	}
	return 0, fmt.Errorf("could not run %s: %w", app, err)
}

// heartbeat says, while a program runs, that it is alive: its elapsed
// time against its timeout, in the console title and as a log line, every
// Engine.Heartbeat. A long installer (.NET 3.5 SP1 on an old XP machine)
// is otherwise silent for an hour, and a technician takes that for a hang
// and cuts the power. The returned func stops it and waits for it.
func (r *run) heartbeat(st payload.LockStep, timeout time.Duration) (stop func()) {
	e := r.e
	every := orDefault(e.Heartbeat, DefaultHeartbeat)
	begin := e.clock().Now()
	title := func(elapsed time.Duration) {
		if e.Title != nil {
			e.Title(fmt.Sprintf("%s: %s running, %s of %s", payload.Product, st.ID, formatMinutes(elapsed), formatMinutes(timeout)))
		}
	}
	title(0)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				elapsed := e.clock().Now().Sub(begin)
				title(elapsed)
				e.say("    still running %s: %s elapsed of its %s timeout", st.ID, formatMinutes(elapsed), formatMinutes(timeout))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		if e.Title != nil {
			e.Title(payload.Product)
		}
	}
}

// formatMinutes shows a duration to the second, without a trailing 0s:
// "12m5s", "1h0m", "30m".
func formatMinutes(d time.Duration) string {
	d = d.Round(time.Second)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	return s
}

// reboot registers the run after the restart and restarts when allowed.
// The caller has set the report's outcome and reason.
func (r *run) reboot(initiated bool) {
	e := r.e
	if err := r.registerResume(); err != nil {
		r.rep.Reason = fmt.Sprintf("a restart is needed, and the runner could not arrange to continue after it (%v): restart, then run the bundle again", err)
	}
	switch {
	case initiated:
		e.say("the installer is restarting the computer; the runner continues after the restart")
	case r.opt.Reboot || (r.opt.Confirm != nil && r.opt.Confirm("Restart the computer now?")):
		r.restart = true // by finish, once the report is written
	default:
		e.say("restart the computer to continue; the runner continues by itself after the restart")
	}
}

// runOnceName is the RunOnce value that resumes a bundle.
func runOnceName(bundle string) string { return payload.Product + "-" + bundle }

// finish completes the report from the journal, writes it, and returns it.
func (r *run) finish(runErr error) (*payload.Report, error) {
	var es *errStop
	if errors.As(runErr, &es) {
		// The journal could not be written: report nothing that the
		// journal does not hold.
		return nil, runErr
	}
	if runErr != nil && r.rep.Outcome == "" {
		r.rep.Outcome = payload.ReportFailed
		r.rep.Reason = runErr.Error()
		if errors.Is(runErr, context.Canceled) {
			r.rep.Reason = "interrupted by the user"
		}
	}
	r.rep.Steps = reportSteps(r.b.Lock, r.j)
	r.outcomeFromJournal()
	r.finalGoal()
	if r.gateSkip != "" {
		for i := range r.rep.Steps {
			if s := &r.rep.Steps[i]; s.Status == payload.StatusNotRun {
				s.Status, s.Reason = payload.StatusSkipped, r.gateSkip
			}
		}
		// Nothing changed: the next run starts afresh and records again.
		fresh := &Journal{Version: journalVersion, Bundle: r.j.Bundle, Origin: r.j.Origin, Created: r.j.Created, Facts: []string{}}
		r.j, fresh = fresh, r.j
		if err := r.save(); err != nil {
			return nil, err
		}
		r.rep.Facts = fresh.Facts
	}
	if g := r.b.Lock.Goal; g != nil && r.goalBefore != nil {
		r.rep.Goal = &payload.ReportGoal{Text: g.String(), Before: *r.goalBefore, After: r.goalAfter}
	}
	switch r.rep.Outcome {
	case payload.ReportSuccess, payload.ReportFailed, payload.ReportRefused, payload.ReportNotNeeded:
		// Nothing to continue: a stale entry must not start the runner at
		// the next logon.
		_ = r.e.Sys.SetRunOnce(runOnceName(r.b.Lock.Bundle), "")
	}
	if len(r.note) > 0 {
		r.rep.Reason = strings.TrimPrefix(r.rep.Reason+"; "+strings.Join(r.note, "; "), "; ")
	}
	r.rep.Finished = r.e.now()
	if r.gateSkip == "" {
		r.rep.Facts = r.j.Facts
	}
	r.writeReport()
	if r.restart {
		r.e.say("restarting the computer; the runner continues after the restart")
		if err := r.e.Sys.Reboot(payload.Product + ": " + r.b.Lock.Title); err != nil {
			r.e.say("the runner could not restart the computer (%v): restart it yourself; the runner continues by itself after the restart", err)
		}
	}
	return &r.rep, runErr
}

// outcomeFromJournal makes the report's outcome agree with the steps: a
// run is never a success while a step is failed, not run, or waiting for
// a restart.
func (r *run) outcomeFromJournal() {
	switch r.rep.Outcome {
	case payload.ReportFailed, payload.ReportRefused, payload.ReportNotNeeded:
		return
	}
	for _, s := range r.rep.Steps {
		if s.Status == payload.StatusFailed && !s.Tolerated {
			r.rep.Outcome, r.rep.Reason = payload.ReportFailed, fmt.Sprintf("step %s failed: %s", s.ID, s.Reason)
			return
		}
	}
	if r.rep.Outcome != "" {
		return
	}
	if r.j.AwaitingReboot {
		r.rep.Outcome, r.rep.Reason = payload.ReportRebootRequired, "a step asked for a restart that has not happened yet: restart the computer"
		return
	}
	for _, s := range r.rep.Steps {
		if s.Status == payload.StatusNotRun {
			r.rep.Outcome, r.rep.Reason = payload.ReportFailed, fmt.Sprintf("step %s did not run", s.ID)
			return
		}
	}
	r.rep.Outcome = payload.ReportSuccess
}

// finalGoal lets the goal decide a run that is final: every step ran (or
// was skipped), and none failed or waits for a restart.
func (r *run) finalGoal() {
	g := r.b.Lock.Goal
	if g == nil || r.rep.Outcome != payload.ReportSuccess {
		return
	}
	met, err := r.ev.Eval(g)
	if err != nil {
		r.rep.Outcome, r.rep.Reason = payload.ReportFailed, fmt.Sprintf("every step ran, but the goal could not be checked: %v", err)
		return
	}
	r.goalAfter = &met
	if !met {
		r.rep.Outcome, r.rep.Reason = payload.ReportFailed, fmt.Sprintf("every step ran, but %s does not hold", g)
	}
}

func reportSteps(l *payload.Lock, j *Journal) []payload.ReportStep {
	steps := make([]payload.ReportStep, 0, len(l.Steps))
	for _, st := range l.Steps {
		rs := payload.ReportStep{ID: st.ID, Status: payload.StatusNotRun}
		if js := j.find(st.ID); js != nil {
			if js.State == StateDone {
				rs.Status = js.Status
			} else if js.State == StateStarted {
				rs.Reason = "started, not finished"
			}
			if js.Reason != "" {
				rs.Reason = js.Reason
			}
			if js.ExitCode != nil {
				c := int64(*js.ExitCode)
				rs.ExitCode = &c
				rs.ExitHex = fmt.Sprintf("0x%X", *js.ExitCode)
			}
			rs.Log = js.Log
			rs.Tolerated = js.Tolerated && js.Status == payload.StatusFailed
			if js.Interrupted > 0 {
				rs.Reason = strings.TrimPrefix(rs.Reason+fmt.Sprintf("; run again after %d interrupted run(s)", js.Interrupted), "; ")
			}
			if js.Failures > 0 {
				rs.Reason = strings.TrimPrefix(rs.Reason+fmt.Sprintf("; run again after %d failed run(s)", js.Failures), "; ")
			}
		}
		steps = append(steps, rs)
	}
	return steps
}

// writeReport writes report.json into the private folder, and with the
// human log under reports/<COMPUTERNAME>/ in the bundle folder the run
// started from, when that folder is still there and writable.
func (r *run) writeReport() {
	if err := writeReport(r.p.Report, &r.rep); err != nil {
		r.e.say("warning: writing %s: %v", r.p.Report, err)
	}
	origin := r.j.Origin
	if origin == "" {
		return
	}
	// Only into the same bundle, and through no link (writeIntoBundle).
	// Never create the bundle folder if it is gone.
	files := map[string][]byte{}
	data, err := reportJSON(&r.rep)
	if err != nil {
		r.e.say("note: could not write the report into the bundle folder (%v); it is in %s", err, r.p.Report)
		return
	}
	files[payload.ReportName] = data
	if log, err := os.ReadFile(r.p.Log); err == nil {
		files["runner.log"] = log
	}
	switch err := writeIntoBundle(origin, r.b.raw, r.rep.Computer, files); {
	case errors.Is(err, errOtherBundle) || errors.Is(err, fs.ErrNotExist):
		r.e.say("note: the bundle folder %s is not there any more (or holds another bundle); the report is in %s", origin, r.p.Report)
	case err != nil:
		r.e.say("note: could not write the report into the bundle folder (%v); it is in %s", err, r.p.Report)
	}
}

func factSet(facts []string) map[string]bool {
	m := map[string]bool{}
	for _, f := range facts {
		m[f] = true
	}
	return m
}

// samePath compares Windows paths, which ignore case.
func samePath(a, b string) bool {
	return strings.EqualFold(filepath.Clean(a), filepath.Clean(b))
}
