// Command runner runs a bundle on the machine to repair: it verifies every
// file against the bundle's lock, shows the plan for this machine, copies
// the payloads into a folder only administrators can reach, runs the steps
// in order with their conditions, survives reboots and power cuts through
// its journal, and leaves a report. See runner/internal/engine.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"fixstick/internal/signature"
	"fixstick/payload"
	"fixstick/runner/internal/engine"
	"fixstick/runner/internal/winsys"
)

// version is set by the Makefile (-ldflags "-X main.version=...").
var version = "devel"

// Exit statuses: 0 done, 1 failed or refused, 2 usage, 3010 a restart is
// needed before the bundle can go on (the code installers use).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

type options struct {
	bundle         string
	yes            bool
	reboot         bool
	afterReboot    bool
	withoutRestart bool
	keys           []string
	force          bool
}

const usage = `%s runner %s: repair this computer with a bundle

usage: runner [COMMAND] [flags]

commands:
  (none)    verify the bundle, show the plan, ask, then run (double-click START.cmd)
  run       the same; with --yes (also without a command) it does not ask
  plan      show which steps would run on this computer, and why
  verify    check every file of the bundle against its lock
  status    show what the runner has done on this computer (the journal)
  detect    list the installed .NET Framework versions (KB318785)
  version   print the runner's version

flags (run, or no command; plan and verify take only --bundle and --key, status only --bundle):
`

// commandFlags lists the flags each command takes: a flag a command would
// ignore (verify --reboot) is a mistake the person should hear about.
var commandFlags = map[string]string{
	"":        "bundle yes reboot without-restart force key after-reboot",
	"run":     "bundle yes reboot without-restart force key after-reboot",
	"plan":    "bundle key",
	"verify":  "bundle key",
	"status":  "bundle",
	"detect":  "",
	"version": "",
	"help":    "",
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := pflag.NewFlagSet("runner", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringVar(&o.bundle, "bundle", "", "the bundle folder (default: the folder runner.exe is in)")
	fs.BoolVarP(&o.yes, "yes", "y", false, "run without asking (unattended)")
	fs.BoolVar(&o.reboot, "reboot", false, "restart the computer without asking when a step needs it")
	fs.BoolVar(&o.withoutRestart, "without-restart", false, "go on although the restart a step asked for has not happened")
	fs.StringArrayVar(&o.keys, "key", nil, "require the bundle to be signed with the minisign public key `FILE` (repeatable; instead of the keys in %ProgramData%\\fixstick\\trusted-keys)")
	fs.BoolVar(&o.force, "force", false, "run the steps although the bundle's goal already holds")
	fs.BoolVar(&o.afterReboot, "after-reboot", false, "set by the entry that continues the bundle after a restart")
	_ = fs.MarkHidden("after-reboot")
	fs.Usage = func() {
		fmt.Fprintf(stderr, usage, payload.Product, version)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "runner: error: %s\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "runner: error: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if allowed, known := commandFlags[cmd]; known {
		var wrong string
		fs.Visit(func(f *pflag.Flag) {
			if wrong == "" && !strings.Contains(" "+allowed+" ", " "+f.Name+" ") {
				wrong = f.Name
			}
		})
		if wrong != "" {
			name := cmd
			if name == "" {
				name = "runner without a command"
			}
			fmt.Fprintf(stderr, "runner: error: %s does not take --%s\n", name, wrong)
			return exitUsage
		}
	}
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "runner.exe %s (%s)\n", version, payload.Product)
		return exitOK
	case "help":
		fs.Usage()
		return exitOK
	case "", "run", "plan", "verify", "status", "detect":
	default:
		fmt.Fprintf(stderr, "runner: error: unknown command %q\n", cmd)
		fs.Usage()
		return exitUsage
	}
	sys, err := winsys.New()
	if err != nil {
		fmt.Fprintf(stderr, "runner: error: %s\n", err)
		return exitFailed
	}
	self, _ := os.Executable()
	if o.bundle == "" {
		o.bundle = filepath.Dir(self)
	}
	e := &engine.Engine{Sys: sys, Out: stdout, Runner: "runner.exe " + version, Title: winsys.SetConsoleTitle}
	c := &cli{e: e, o: o, stdin: bufio.NewReader(stdin), stdout: stdout, stderr: stderr}
	switch cmd {
	case "detect":
		return c.detect()
	case "status":
		return c.status()
	}
	// The keys a bundle must be signed with come from outside the stick:
	// --key, or the folder an organisation provisioned.
	e.Keys, e.KeySource, c.keyErr = trustedKeys(o.keys)
	switch cmd {
	case "verify":
		return c.verify()
	case "plan":
		return c.plan()
	}
	// `runner --yes` is `runner run --yes`: the flag is never ignored.
	return c.run(ctx, !o.yes)
}

type cli struct {
	e              *engine.Engine
	o              options
	keyErr         error // the trusted keys could not be read: nothing runs
	stdin          *bufio.Reader
	stdout, stderr io.Writer
}

func (c *cli) errorf(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "runner: error: "+format+"\n", args...)
	return exitFailed
}

// ask asks a yes/no question; anything but y or yes, or no answer at all
// (no console), is no.
func (c *cli) ask(q string) bool {
	fmt.Fprintf(c.stdout, "%s (y/N) ", q)
	line, _ := c.stdin.ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

func (c *cli) detect() int {
	found, err := engine.DetectNetFxDetail(c.e.Sys)
	if err != nil {
		return c.errorf("%s", err)
	}
	info, _ := c.e.Sys.OSVersion()
	fmt.Fprintf(c.stdout, "Windows %d.%d.%d %s %s\n", info.Major, info.Minor, info.Build, info.ServicePack, info.Arch)
	fmt.Fprintln(c.stdout, ".NET Framework versions (KB318785; registry views 64-bit and 32-bit):")
	for _, f := range found {
		state := "-"
		if f.Installed() {
			state = "installed"
			for _, v := range f.Views {
				state += fmt.Sprintf(" [%d-bit view]", v)
			}
			for _, p := range f.Files {
				state += " [" + p + "]"
			}
		}
		fmt.Fprintf(c.stdout, "  %-11s %-24s %s\n", f.Name, f.Title, state)
	}
	return exitOK
}

func (c *cli) status() int {
	l, err := engine.ReadLock(c.o.bundle)
	if err != nil {
		return c.errorf("%s", err)
	}
	p, err := c.e.PathsFor(l.Bundle)
	if err != nil {
		return c.errorf("%s", err)
	}
	j, err := engine.LoadJournal(p.Journal)
	switch {
	case errors.Is(err, os.ErrPermission):
		return c.errorf("cannot read %s: run as administrator", p.Journal)
	case err != nil:
		return c.errorf("%s", err)
	case j == nil:
		fmt.Fprintf(c.stdout, "Bundle %s has not run on this computer (no %s).\n", l.Bundle, p.Journal)
		return exitOK
	}
	fmt.Fprintf(c.stdout, "Bundle %s, first run %s, %d restart(s); journal %s\n", l.Bundle, j.Created, j.Reboots, p.Journal)
	if j.FactsRecorded {
		fmt.Fprintf(c.stdout, "Recorded: %s\n", engine.DescribeFacts(j.Facts))
	}
	if j.AwaitingReboot {
		fmt.Fprintf(c.stdout, "Waiting for a restart (asked for at %s); the runner continues by itself after it.\n", j.RestartAsked)
	}
	for _, st := range l.Steps {
		line := "not run yet"
		for _, js := range j.Steps {
			if js.ID != st.ID {
				continue
			}
			switch js.State {
			case engine.StateDone:
				line = js.Status + ": " + js.Reason
				if js.Status == payload.StatusFailed {
					line += " (runs again on the next run)"
				}
			case engine.StateStarted:
				line = "started " + js.Started + ", not finished (runs again on the next run)"
			}
		}
		fmt.Fprintf(c.stdout, "  %-16s %s\n", st.ID, line)
	}
	return exitOK
}

// trustedKeys reads the keys given with --key, or else those provisioned
// on this computer, and says where they came from.
func trustedKeys(files []string) ([]signature.PublicKey, string, error) {
	if len(files) > 0 {
		var keys []signature.PublicKey
		for _, f := range files {
			k, err := signature.ReadPublicKey(f)
			if err != nil {
				return nil, "", fmt.Errorf("--key: %w", err)
			}
			keys = append(keys, k)
		}
		return keys, "--key " + strings.Join(files, ", "), nil
	}
	keys, from, err := winsys.TrustedKeys()
	if err != nil {
		return nil, "", err
	}
	return keys, strings.Join(from, ", "), nil
}

// open reads and verifies the bundle; on failure it says why.
func (c *cli) open() (*engine.Bundle, error) {
	if c.keyErr != nil {
		fmt.Fprintf(c.stderr, "runner: error: %s\n", c.keyErr)
		return nil, c.keyErr
	}
	b, err := c.e.Open(c.o.bundle)
	if err != nil {
		fmt.Fprintf(c.stderr, "runner: error: %s\n", err)
		return b, err
	}
	c.printSigner(b)
	return b, nil
}

// printSigner says who signed the bundle, for comparison with the key id
// the organisation published, and whether that was checked.
func (c *cli) printSigner(b *engine.Bundle) {
	switch {
	case b.SignerTrusted:
		fmt.Fprintf(c.stdout, "Signed by key ID %s, a key this computer trusts (%s).\n", b.Signer, c.e.KeySource)
	case b.Signer != "":
		fmt.Fprintf(c.stdout, "Signed by key ID %s: NOT checked, no trusted key on this computer (runner.exe --key FILE, or %%ProgramData%%\\%s\\%s\\).\n", b.Signer, payload.Product, winsys.TrustedKeysDir)
	default:
		fmt.Fprintln(c.stdout, "Not signed; this computer has no trusted key, so none is required.")
	}
}

func (c *cli) verify() int {
	b, err := c.open()
	if err != nil {
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "%s: all %d files match the lock\n", b.Lock.Bundle, len(b.Lock.Files))
	if len(b.Extras) > 0 {
		fmt.Fprintf(c.stdout, "not in the lock (never run): %s\n", strings.Join(b.Extras, ", "))
	}
	return exitOK
}

func (c *cli) plan() int {
	b, err := c.open()
	if err != nil {
		return exitFailed
	}
	items, _, err := c.e.Plan(b)
	if err != nil {
		return c.errorf("%s", err)
	}
	engine.PrintPlan(c.stdout, b, items, c.e.Sys.PendingReboot())
	return exitOK
}

// run is the interactive run (ask) and the unattended one.
func (c *cli) run(ctx context.Context, ask bool) int {
	if err := c.e.CheckElevated(); err != nil {
		l, _ := engine.ReadLock(c.o.bundle) // only to name the bundle in the report
		c.e.Refuse(c.o.bundle, l, err)
		return c.errorf("%s", err)
	}
	b, err := c.open()
	if err != nil {
		var l *payload.Lock
		if b != nil {
			l = b.Lock
		}
		rep := c.e.Refuse(c.o.bundle, l, err)
		engine.Summary(c.stdout, rep, "")
		return exitFailed
	}
	items, _, err := c.e.Plan(b)
	if err != nil {
		return c.errorf("%s", err)
	}
	engine.PrintPlan(c.stdout, b, items, c.e.Sys.PendingReboot())
	opt := engine.RunOptions{Reboot: c.o.reboot, AfterReboot: c.o.afterReboot, WithoutRestart: c.o.withoutRestart, Force: c.o.force}
	if ask && !allDone(items) {
		if !c.ask("Run these steps now?") {
			fmt.Fprintln(c.stdout, "Nothing was run.")
			return exitOK
		}
		opt.Confirm = c.ask
	}
	rep, err := c.e.Run(ctx, b, opt)
	if rep == nil {
		return c.errorf("%s", err)
	}
	p, _ := c.e.PathsFor(b.Lock.Bundle)
	engine.Summary(c.stdout, rep, p.Report)
	switch rep.Outcome {
	case payload.ReportSuccess, payload.ReportNotNeeded:
		return exitOK
	case payload.ReportRebootRequired:
		return engine.ExitRebootRequired
	}
	return exitFailed
}

func allDone(items []engine.PlanItem) bool {
	for _, it := range items {
		if it.Action != "done" {
			return false
		}
	}
	return true
}
