package payload

import (
	"fmt"
	"strings"
)

// SystemRoot is the placeholder that CommandLine writes in front of system
// programs. Both executors replace it, in the program path only, with the
// real Windows directory before they call CreateProcess (the legacy
// executor through its helper), so both start the very same program and
// pass the arguments verbatim.
const SystemRoot = "%SystemRoot%"

// System programs that steps of kind msi, msp and msu run. They are named by
// full path so that nothing on PATH or in the bundle folder can stand in
// for them.
const (
	MsiexecPath = SystemRoot + `\System32\msiexec.exe`
	WusaPath    = SystemRoot + `\System32\wusa.exe`
)

// CommandLine composes what a step starts: app is the program to execute
// (for CreateProcess's lpApplicationName) and cmdline the whole command line
// (its lpCommandLine), exactly as the runner and the legacy executor pass
// them:
//
//	exe: app = PROGRAM
//	     "PROGRAM" ARGS
//	msi: app = %SystemRoot%\System32\msiexec.exe
//	     "%SystemRoot%\System32\msiexec.exe" /i "PROGRAM" /qn /norestart /l*v "LOG" ARGS
//	msp: "%SystemRoot%\System32\msiexec.exe" /update "PROGRAM" /qn /norestart /l*v "LOG" ARGS
//	msu: "%SystemRoot%\System32\wusa.exe" "PROGRAM" /quiet /norestart ARGS
//
// program is the payload's full Windows path and logPath the Windows
// Installer log to write; an empty logPath leaves out `/l*v "LOG"`. wusa
// gets no log switch: /log: does not exist before Windows 7. args is
// appended verbatim after one space, and nothing at all when it is empty:
// IExpress wrappers and old installers parse the raw line themselves, so it
// is never re-quoted. Windows file names cannot contain a double quote, so
// quoting program and logPath is enough. Detect steps run nothing: for them
// CommandLine returns an error.
func CommandLine(kind Kind, program, args, logPath string) (app, cmdline string, err error) {
	if program == "" {
		return "", "", fmt.Errorf("command line: empty program path")
	}
	if strings.Contains(program, `"`) || strings.Contains(logPath, `"`) {
		return "", "", fmt.Errorf("command line: path contains a double quote")
	}
	var parts []string
	switch kind {
	case KindExe:
		app = program
		parts = []string{quote(program)}
	case KindMSI, KindMSP:
		app = MsiexecPath
		op := "/i"
		if kind == KindMSP {
			op = "/update"
		}
		parts = []string{quote(app), op, quote(program), "/qn", "/norestart"}
		if logPath != "" {
			parts = append(parts, "/l*v", quote(logPath))
		}
	case KindMSU:
		app = WusaPath
		parts = []string{quote(app), quote(program), "/quiet", "/norestart"}
	default:
		return "", "", fmt.Errorf("command line: a %q step runs no program", kind)
	}
	if args != "" {
		parts = append(parts, args)
	}
	return app, strings.Join(parts, " "), nil
}

func quote(s string) string { return `"` + s + `"` }
