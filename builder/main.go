// Command builder turns a manifest into a bundle: it validates the manifest,
// fetches and verifies every payload into a content-addressed cache, and
// packs them with the runner into a zip or a folder.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"fixstick/payload"
)

// version is set by the Makefile (-ldflags "-X main.version=...").
var version string

func builderVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// env is what a command sees of the world; tests give their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrIsTerminal turns on the progress bar.
	stderrIsTerminal bool
	// readPassword asks for a password on the terminal without echoing
	// it; nil when there is no terminal to ask on.
	readPassword func(prompt string) (string, error)
}

type command struct {
	name, usage, summary string
	run                  func(ctx context.Context, e *env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"validate", "FILE...", "check manifests; report every problem", runValidate},
		{"plan", "FILE", "print the procedure a manifest encodes", runPlan},
		{"fetch", "MANIFEST", "download and verify every artifact into the cache", runFetch},
		{"pin", "MANIFEST", "record the SHA-256 and size of unpinned artifacts (trust on first use)", runPin},
		{"build", "MANIFEST", "fetch, then pack the bundle (zip or folder)", runBuild},
		{"verify", "BUNDLE", "check a bundle (zip or folder) against its lock (and its signature: --key)", runVerify},
		{"keygen", "", "make a minisign key pair for signing bundles", runKeygen},
		{"version", "", "print the builder's version", runVersion},
	}
}

// usageError makes the builder exit with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// invalidError is a failure the command has already reported in full (for
// example every problem of a manifest): main prints nothing more.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrIsTerminal: isTerminal(os.Stderr)}
	if isTerminal(os.Stdin) {
		e.readPassword = readPassword
	}
	os.Exit(run(ctx, e, os.Args[1:]))
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		return exitStatus(e.stderr, c, err)
	}
	fmt.Fprintf(e.stderr, "builder: error: unknown command %q\n", args[0])
	printUsage(e.stderr)
	return 2
}

func exitStatus(stderr io.Writer, c command, err error) int {
	var ue *usageError
	var ie *invalidError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "builder: error: %s\nusage: builder %s %s\n", ue.msg, c.name, c.usage)
		return 2
	case errors.As(err, &ie):
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "builder: interrupted")
		return 130
	default:
		fmt.Fprintf(stderr, "builder: error: %s\n", err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "%s builder %s: build offline remediation bundles\n\nusage: builder COMMAND [flags] ARGS\n\ncommands:\n", payload.Product, builderVersion())
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %-12s %s\n", c.name, c.usage, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'builder COMMAND --help' for a command's flags.")
}

// newFlags returns a flag set whose errors come back as usage errors.
func newFlags(e *env, c string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	return fs
}

// parseFlags parses args and turns pflag's errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%s", strings.TrimSpace(err.Error()))
	}
	return nil
}

func runVersion(ctx context.Context, e *env, args []string) error {
	if len(args) != 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(e.stdout, "%s builder %s\n", payload.Product, builderVersion())
	return nil
}
