// Package legacy renders a bundle's lock into the executor that runs it on
// Windows XP to 8.1, where runner.exe (Go 1.21 and later) cannot start: a
// batch file (legacy/run.cmd) that starts a JScript program
// (legacy/fixstick.js) under the Windows Script Host every Windows since XP
// has. The script holds the bundle's plan, written out one labelled section
// per step so that a technician can read what will run, followed by an
// engine that does what runner.exe does: copy the payloads into a private
// folder and check their SHA-256, evaluate each step's conditions, run the
// installers with the same command lines, classify their exit codes with
// the same tables, keep a journal, continue after a restart through RunOnce,
// and write report.json.
//
// Render is pure: a lock in, files out. The builder adds the files to the
// bundle and to the lock's file list.
package legacy

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"fixstick/payload"
	"fixstick/runner/legacy"
)

// Bundle paths of the files Render returns.
var (
	RunCmd      = path.Join(payload.LegacyDir, "run.cmd")     // the entry point START.cmd calls
	Script      = path.Join(payload.LegacyDir, "fixstick.js") // plan and engine
	Calibration = path.Join(payload.LegacyDir, "bytes.bin")   // the 256 byte values, to read files as bytes
)

// engine is the fixed part of the script, shared by every bundle.
var engine = legacy.Engine

// root stands for the private folder in a rendered command line; the
// script joins the pieces with the real folder. Lock arguments cannot hold
// it: Render refuses NUL, which no Windows command line can carry either.
const root = "\x00"

// Render returns the legacy executor's files for lock, keyed by bundle
// path.
func Render(lock *payload.Lock) (map[string][]byte, error) {
	if err := check(lock); err != nil {
		return nil, fmt.Errorf("legacy executor: %w", err)
	}
	var b strings.Builder
	w := &writer{b: &b}
	w.header(lock)
	if err := w.files(lock); err != nil {
		return nil, fmt.Errorf("legacy executor: %w", err)
	}
	for i := range lock.Steps {
		if err := w.step(lock, i); err != nil {
			return nil, fmt.Errorf("legacy executor: step %s: %w", lock.Steps[i].ID, err)
		}
	}
	w.tables()
	b.WriteString(engine)
	cal := make([]byte, 256)
	for i := range cal {
		cal[i] = byte(i)
	}
	return map[string][]byte{
		RunCmd:      crlf(runCmd(lock)),
		Script:      crlf(b.String()),
		Calibration: cal,
	}, nil
}

// check refuses what the script could not carry through unchanged. Names
// end up inside cmd.exe and reg.exe command lines, where % and " change
// meaning.
func check(l *payload.Lock) error {
	// The builder renders before the bundle id exists: l.Bundle holds the
	// manifest id, whose limit (payload.MaxIDLen) keeps the command that
	// continues the bundle after a restart within RunOnce's (a test
	// proves it for the longest id).
	if err := payload.CheckID(l.Bundle); err != nil {
		return fmt.Errorf("manifest id: %w", err)
	}
	for name, c := range map[string]*payload.Condition{"requires": l.Requires, "goal": l.Goal} {
		if err := checkCond(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, s := range l.Steps {
		if strings.ContainsRune(s.Args, 0) {
			return fmt.Errorf("step %s: the arguments hold a NUL character", s.ID)
		}
		if strings.ContainsAny(s.Args, "\t\r\n") {
			// the helper's requests are tab-separated lines
			return fmt.Errorf("step %s: the arguments hold a tab or line break, which the legacy executor cannot pass on", s.ID)
		}
		for _, c := range []*payload.Condition{s.When, s.Unless} {
			if err := checkCond(c); err != nil {
				return fmt.Errorf("step %s: %w", s.ID, err)
			}
		}
	}
	return nil
}

func checkCond(c *payload.Condition) error {
	if c == nil {
		return nil
	}
	if r := c.Registry; r != nil {
		if strings.ContainsAny(r.Key+r.Value, `%"`) {
			return fmt.Errorf("registry key %s\\%s: the legacy executor reads the registry through reg.exe and cannot pass %% or \"", r.Key, r.Value)
		}
		if r.Min != nil && *r.Min > 1<<53 {
			return fmt.Errorf("registry minimum %d: JScript numbers are exact only up to 2^53", *r.Min)
		}
	}
	for _, cs := range [][]payload.Condition{c.All, c.Any} {
		for i := range cs {
			if err := checkCond(&cs[i]); err != nil {
				return err
			}
		}
	}
	return checkCond(c.Not)
}

// maxRunOnce is the longest command a RunOnce value may hold: "Commands
// are limited to 260 characters" (Microsoft, "Run and RunOnce Registry
// Keys").
const maxRunOnce = 260

// resumeMargin leaves room for folders longer than the English defaults
// resumeCommand assumes: "Dokumente und Einstellungen" is 5 characters
// longer than "Documents and Settings", and Windows may live elsewhere
// than C:\WINDOWS.
const resumeMargin = 24

// resumeCommand is the command the executor writes to RunOnce before a
// restart (engine.js, reboot) on XP with English folder names, where it
// is longest: the private folder is under All Users\Application Data, and
// the bundle id is the manifest id plus "-" and 12 hex digits.
func resumeCommand(manifestID string) string {
	return `"C:\WINDOWS\System32\cmd.exe" /d /v:off /c ""C:\Documents and Settings\All Users\Application Data\fixstick\` +
		manifestID + "-" + strings.Repeat("0", 12) + `\b\legacy\run.cmd" /resume /quiet /reboot"`
}

type writer struct{ b *strings.Builder }

func (w *writer) p(format string, args ...any) { fmt.Fprintf(w.b, format+"\n", args...) }

func (w *writer) header(l *payload.Lock) {
	w.p("// fixstick legacy executor for bundle %s", comment(l.Bundle))
	w.p("//   %s", comment(l.Title))
	w.p("//")
	w.p("// Generated by builder %s from bundle.lock.json (manifest %s). Do not edit:", comment(l.Builder), comment(l.Manifest.ID))
	w.p("// the lock lists this file's SHA-256, and `builder verify` checks it.")
	w.p("//")
	w.p("// HOW TO RUN: double-click START.cmd at the bundle's root, or run legacy\\run.cmd")
	w.p("// as an administrator. Options: /reboot restarts the computer without asking")
	w.p("// when a step needs it; /quiet asks nothing; /force runs the steps although")
	w.p("// the goal already holds; /sha256 FILE prints a file's SHA-256 as this script")
	w.p("// computes it, and how long that took.")
	w.p("//")
	if l.Requires != nil {
		w.p("// FOR: only where %s;", comment(l.Requires.String()))
		w.p("// on any other computer nothing changes (outcome refused).")
	}
	if l.Goal != nil {
		w.p("// GOAL: %s.", comment(l.Goal.String()))
		w.p("// Already so at the start: nothing changes (outcome not-needed). At the end it")
		w.p("// decides the outcome: success only if it holds.")
	}
	if l.Requires != nil || l.Goal != nil {
		w.p("//")
	}
	w.p("// WHAT IT DOES, in this order:")
	w.p("//  1. copies every payload into the private folder (on XP %%ALLUSERSPROFILE%%\\")
	w.p("//     Application Data\\fixstick\\<bundle>, on Vista and later %%ProgramData%%\\fixstick\\")
	w.p("//     <bundle>; only SYSTEM and Administrators may enter) and checks each copy's")
	w.p("//     SHA-256 against the list below; if any differs, nothing runs;")
	w.p("//  2. runs the steps below in order, each only if its conditions hold (each")
	w.p("//     program's SHA-256 is checked again, through a handle that keeps it")
	w.p("//     from changing, before it starts);")
	w.p("//  3. after a step that needs a restart, registers itself in HKLM RunOnce and")
	w.p("//     continues after the restart (at most %d restarts);", payload.MaxReboots)
	w.p("//  4. writes report.json and legacy.log in the private folder and in")
	w.p("//     reports\\<COMPUTERNAME>\\ next to START.cmd.")
	w.p("//")
	w.p("// The Windows API is reached through the native helper next to this file")
	w.p("// (legacy\\fixhelp.exe, fixhelp-x86.exe on 32-bit Windows), which this script")
	w.p("// checks against its SHA-256 below before it runs it. Where CryptoAPI has no")
	w.p("// SHA-256 (XP before SP3), files are checked in JScript, which takes minutes")
	w.p("// for large files.")
	w.p("")
	w.p("var BUNDLE = {")
	w.p("    id: %s,", js(l.Bundle))
	w.p("    title: %s,", js(l.Title))
	w.p("    builder: %s,", js(l.Builder))
	w.p("    created: %s,", js(l.Created))
	w.p("    requires: %s,", cond(l.Requires))
	w.p("    requiresText: %s,", js(condText(l.Requires)))
	w.p("    goal: %s,", cond(l.Goal))
	w.p("    goalText: %s", js(condText(l.Goal)))
	w.p("};")
	w.p("")
}

func (w *writer) files(l *payload.Lock) error {
	w.p("// The payloads, with the SHA-256 and size the lock pins.")
	w.p("var FILES = [")
	var lines []string
	for _, f := range l.Files {
		if !strings.HasPrefix(f.Path, payload.PayloadDir+"/") {
			continue // runner.exe, START.cmd, README.txt and this executor are not run from here
		}
		if err := payload.CheckPath(f.Path); err != nil || strings.Contains(f.Path, "%") {
			return fmt.Errorf("file %q cannot be copied by the legacy executor", f.Path)
		}
		if !payload.IsHex(f.SHA256, 64) || f.Size < 0 || f.Size > 1<<53 {
			return fmt.Errorf("file %s: invalid sha256 or size in the lock", f.Path)
		}
		lines = append(lines, fmt.Sprintf("    { path: %s, sha256: %s, size: %d }", js(f.Path), js(f.SHA256), f.Size))
	}
	w.b.WriteString(strings.Join(lines, ",\n"))
	if len(lines) > 0 {
		w.b.WriteString("\n")
	}
	w.p("];")
	w.p("// The executor's own files, copied next to the payloads so that the run")
	w.p("// after a restart starts from the private folder; each is checked against")
	w.p("// the lock first (this script cannot hold its own SHA-256: it reads it there).")
	w.p("var LEGACY_FILES = [%s, %s, %s, %s, %s];", js(path.Base(RunCmd)), js(path.Base(Script)), js(path.Base(Calibration)),
		js(path.Base(payload.LegacyHelperAMD64)), js(path.Base(payload.LegacyHelperX86)))
	w.p("// The native helper, for 64-bit and 32-bit Windows: checked in JScript")
	w.p("// before its first use, then trusted with everything else.")
	w.p("var HELPERS = {")
	for i, h := range []string{payload.LegacyHelperAMD64, payload.LegacyHelperX86} {
		f := lockFile(l, h)
		if f == nil || !payload.IsHex(f.SHA256, 64) || f.Size <= 0 || f.Size > 1<<53 {
			return fmt.Errorf("the bundle lacks the legacy helper %s (make helper builds it)", h)
		}
		sep := ","
		if i == 1 {
			sep = ""
		}
		w.p("    %s: { path: %s, sha256: %s, size: %d }%s", js([]string{"x64", "x86"}[i]), js(f.Path), js(f.SHA256), f.Size, sep)
	}
	w.p("};")
	w.p("")
	w.p("var STEPS = [];")
	return nil
}

func (w *writer) step(l *payload.Lock, i int) error {
	s := l.Steps[i]
	var cmd []string
	var logName string
	if s.Kind != payload.KindDetect && s.Skip == "" {
		if !lockHas(l, s.Program) || !strings.HasPrefix(s.Program, payload.PayloadDir+"/") {
			return fmt.Errorf("program %q is not a payload of the bundle", s.Program)
		}
		var logPath string
		if s.Kind == payload.KindMSI || s.Kind == payload.KindMSP {
			logName = s.ID + ".log"
			logPath = root + `\logs\` + logName
		}
		_, line, err := payload.CommandLine(s.Kind, root+`\b\`+winPath(s.Program), s.Args, logPath)
		if err != nil {
			return err
		}
		cmd = strings.Split(line, root)
	}
	w.p("")
	w.p("// %s", strings.Repeat("-", 74))
	w.p("// Step %d of %d: %s", i+1, len(l.Steps), comment(s.ID))
	if s.Title != "" {
		w.p("//   %s", comment(s.Title))
	}
	switch {
	case s.Skip != "":
		w.p("//   Skipped on every computer: %s", comment(s.Skip))
	case s.Kind == payload.KindDetect:
		w.p("//   Records which versions are installed (%s), once, for later steps.", comment(s.Detect))
	default:
		w.p("//   Runs:    %s", comment(strings.Join(cmd, `<private folder>`)))
	}
	w.p("//   When:    %s", comment(payload.Describe(s.When, s.Unless)))
	if s.OnFailure == payload.OnFailureContinue {
		w.p("//   Failure: expected on some computers: reported as tolerated, and the run goes on")
	}
	if s.FinishIfGoalMet {
		w.p("//   Then:    if the goal holds, the run is finished and the later steps are skipped")
	}
	if s.Kind != payload.KindDetect && s.Skip == "" {
		w.p("//   Reboot:  %s", comment(rebootText(s.Reboot)))
		w.p("//   Timeout: %s", secondsText(s.Timeout))
	}
	w.p("// %s", strings.Repeat("-", 74))
	w.p("STEPS.push({")
	w.p("    id: %s,", js(s.ID))
	w.p("    title: %s,", js(s.Title))
	w.p("    kind: %s,", js(string(s.Kind)))
	w.p("    skip: %s,", js(s.Skip))
	w.p("    onFailure: %s,", js(string(s.OnFailure)))
	w.p("    finishIfGoalMet: %t,", s.FinishIfGoalMet)
	if s.Kind != payload.KindDetect {
		w.p("    program: %s,", js(s.Program))
		w.p("    // the command line, in pieces joined by the private folder")
		w.p("    cmd: [%s],", jsList(cmd))
		w.p("    log: %s,", js(logName))
		w.p("    reboot: %s,", js(string(s.Reboot)))
		w.p("    timeout: %d,", s.Timeout)
		w.p("    codes: {")
		codes := s.ExitCodes
		if len(codes) == 0 {
			codes = payload.DefaultExitCodes()
		}
		var lines []string
		for _, c := range codes.Codes() {
			r := codes[c]
			lines = append(lines, fmt.Sprintf("        %s: [%s, %s]", js(strconv.FormatUint(uint64(c), 10)), js(string(r.Outcome)), js(r.Text)))
		}
		w.b.WriteString(strings.Join(lines, ",\n") + "\n")
		w.p("    },")
	}
	w.p("    when: %s,", cond(s.When))
	w.p("    whenText: %s,", js(condText(s.When)))
	w.p("    unless: %s,", cond(s.Unless))
	w.p("    unlessText: %s", js(condText(s.Unless)))
	w.p("});")
	return nil
}

// tables writes what the engine shares with runner.exe: the .NET
// detection rules, fact names and the explanations of exit codes.
func (w *writer) tables() {
	w.p("")
	w.p("// %s", strings.Repeat("-", 74))
	w.p("// Shared with runner.exe (package payload).")
	w.p("// %s", strings.Repeat("-", 74))
	w.p("// KB318785: the registry evidence for each .NET Framework version.")
	w.p("var NETFX_RULES = [")
	var lines []string
	for _, r := range payload.NetFxRules() {
		lines = append(lines, fmt.Sprintf("    { fact: %s, key: %s, value: %s, min: %d }", js(r.Fact), js(r.Key), js(r.Value), r.Min))
	}
	w.b.WriteString(strings.Join(lines, ",\n") + "\n")
	w.p("];")
	w.p("// Files that show a version whose registry key is gone (a damaged one).")
	w.p("var NETFX_FILES = [")
	lines = lines[:0]
	for _, r := range payload.NetFxFileRules() {
		lines = append(lines, fmt.Sprintf("    { fact: %s, path: %s }", js(r.Fact), js(r.Path)))
	}
	w.b.WriteString(strings.Join(lines, ",\n") + "\n")
	w.p("];")
	w.p("var FACT_TITLES = {")
	lines = lines[:0]
	for _, fam := range payload.DetectFamilies() {
		for _, f := range payload.Facts(fam) {
			lines = append(lines, fmt.Sprintf("    %s: %s", js(f.Name), js(f.Title)))
		}
	}
	w.b.WriteString(strings.Join(lines, ",\n") + "\n")
	w.p("};")
	w.p("// What exit codes mean, for codes a step's table does not explain.")
	w.p("var KNOWN_CODES = {")
	lines = lines[:0]
	for _, c := range knownCodes() {
		lines = append(lines, fmt.Sprintf("    %s: %s", js(strconv.FormatUint(uint64(c), 10)), js(payload.Explain(c))))
	}
	w.b.WriteString(strings.Join(lines, ",\n") + "\n")
	w.p("};")
	w.p("var GENERIC_CODE_TEXT = %s;", js(genericText()))
	w.p("// Policy (payload/policy.go), in seconds.")
	w.p("var MAX_REBOOTS = %d;        // stop a restart loop", payload.MaxReboots)
	w.p("var RETRY_FOR = %d;        // keep retrying exit code 1618 and the like", int(payload.RetryFor.Seconds()))
	w.p("var RETRY_FIRST = %d, RETRY_MAX_WAIT = %d;", int(payload.RetryFirst.Seconds()), int(payload.RetryMaxWait.Seconds()))
	w.p("var DEFAULT_TIMEOUT = %d;  // when the lock gives none", int(payload.DefaultTimeout.Seconds()))
	w.p("")
}

// genericText is what payload.Explain says of a code it does not know.
func genericText() string { return payload.Explain(0xDEADBEEF) }

// knownCodes lists the codes payload.Explain knows. Its table is not
// exported, so the codes are found by asking: every Win32 code, and every
// HRESULT of the facilities installers report (Win32, Windows Update,
// servicing, and their success forms).
func knownCodes() []uint32 {
	generic := genericText()
	var out []uint32
	for _, base := range []uint32{0, 0x80070000, 0x80240000, 0x800F0000, 0x00240000} {
		for c := uint32(0); c < 0x10000; c++ {
			if payload.Explain(base|c) != generic {
				out = append(out, base|c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func lockHas(l *payload.Lock, p string) bool { return lockFile(l, p) != nil }

func lockFile(l *payload.Lock, p string) *payload.LockFile {
	for i := range l.Files {
		if l.Files[i].Path == p {
			return &l.Files[i]
		}
	}
	return nil
}

func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

func rebootText(r payload.Reboot) string {
	switch r {
	case payload.RebootAfter:
		return "after (always restart after this step)"
	case payload.RebootNever:
		return "never (go on without a restart even when the installer asks)"
	}
	return "if-needed (restart when the exit code asks for it)"
}

func secondsText(s int64) string {
	if s <= 0 {
		return "default"
	}
	if s%60 == 0 {
		return strconv.FormatInt(s/60, 10) + "m"
	}
	return strconv.FormatInt(s, 10) + "s"
}

func condText(c *payload.Condition) string {
	if c == nil {
		return ""
	}
	return c.String()
}

// cond writes a condition as a JScript object of the lock's shape.
func cond(c *payload.Condition) string {
	if c == nil {
		return "null"
	}
	var f []string
	switch {
	case c.Recorded != "":
		return "{ recorded: " + js(c.Recorded) + " }"
	case c.Registry != nil:
		r := c.Registry
		f = append(f, "key: "+js(r.Key), "value: "+js(r.Value))
		switch {
		case r.Equals != nil:
			f = append(f, "equals: "+js(*r.Equals))
		case r.Min != nil:
			f = append(f, "min: "+strconv.FormatUint(*r.Min, 10))
		case r.Exists != nil:
			f = append(f, "exists: "+strconv.FormatBool(*r.Exists))
		}
		if r.View == 32 {
			f = append(f, "view: 32")
		}
		return "{ registry: { " + strings.Join(f, ", ") + " } }"
	case c.OS != nil:
		if c.OS.Min != "" {
			f = append(f, "min: "+js(c.OS.Min))
		}
		if c.OS.Max != "" {
			f = append(f, "max: "+js(c.OS.Max))
		}
		if c.OS.Arch != "" {
			f = append(f, "arch: "+js(c.OS.Arch))
		}
		return "{ os: { " + strings.Join(f, ", ") + " } }"
	case c.File != nil:
		f = append(f, "path: "+js(c.File.Path))
		if c.File.MinVersion != "" {
			f = append(f, "min_version: "+js(c.File.MinVersion))
		}
		return "{ file: { " + strings.Join(f, ", ") + " } }"
	case c.All != nil:
		return "{ all: [" + condList(c.All) + "] }"
	case c.Any != nil:
		return "{ any: [" + condList(c.Any) + "] }"
	case c.Not != nil:
		return "{ not: " + cond(c.Not) + " }"
	}
	return "{}" // the engine refuses an empty condition, as runner.exe does
}

func condList(cs []payload.Condition) string {
	parts := make([]string, len(cs))
	for i := range cs {
		parts[i] = cond(&cs[i])
	}
	return strings.Join(parts, ", ")
}

// js writes s as a JScript string literal of ASCII characters: WSH reads a
// script in the ANSI code page, which differs between computers.
func js(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r >= 0x7f:
			writeUnits(&b, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func jsList(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = js(p)
	}
	return strings.Join(out, ", ")
}

// writeUnits writes r as \uXXXX escapes (a surrogate pair above U+FFFF).
func writeUnits(b *strings.Builder, r rune) {
	if r > 0xFFFF {
		r -= 0x10000
		fmt.Fprintf(b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		return
	}
	fmt.Fprintf(b, `\u%04x`, r)
}

// comment makes text safe inside a // comment: a line break would end the
// comment and turn the rest into code.
func comment(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ')
		case r >= 0x80:
			writeUnits(&b, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}

func runCmd(l *payload.Lock) string {
	return `@echo off
rem fixstick legacy executor for bundle ` + batchSafe(l.Bundle) + `: Windows XP to 8.1.
rem Runs fixstick.js, next to this file, with the Windows Script Host that
rem comes with Windows. Run it as an administrator. Options:
rem   /reboot  restart the computer without asking when a step needs it
rem   /quiet   ask nothing
rem   /force   run the steps although the bundle's goal already holds
rem   /sha256 FILE  print a file's SHA-256 as this script computes it, and
rem            how long it took (needs no administrator rights)
rem START.cmd, which calls this file, waits for a key at the end.
setlocal DisableDelayedExpansion
rem Without this, ShellExecute on XP SP2 and later asks before it starts an
rem installer marked as downloaded (unzipped from a downloaded zip), and the
rem run waits for a click (KB889815).
set SEE_MASK_NOZONECHECKS=1
set "FIXSTICK_CSCRIPT=%SystemRoot%\System32\cscript.exe"
rem A 32-bit program that starts this file on 64-bit Windows gets the 32-bit
rem cscript, which sees the 32-bit registry: use the native one instead.
if defined PROCESSOR_ARCHITEW6432 if exist "%SystemRoot%\Sysnative\cscript.exe" set "FIXSTICK_CSCRIPT=%SystemRoot%\Sysnative\cscript.exe"
"%FIXSTICK_CSCRIPT%" //nologo "%~dp0fixstick.js" %*
set FIXSTICK_EXIT=%ERRORLEVEL%
endlocal & exit /b %FIXSTICK_EXIT%
`
}

// batchSafe keeps a name from doing anything in a rem line.
func batchSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || strings.ContainsRune(`%&|<>^"`, r) {
			return '_'
		}
		return r
	}, s)
}
