package payload

import (
	"fmt"
	"sort"
	"strings"
)

// Outcome is what an exit code means for a step.
type Outcome string

const (
	OutcomeSuccess          Outcome = "success"
	OutcomeReboot           Outcome = "reboot"           // success; reboot before the next step
	OutcomeRebootInitiated  Outcome = "reboot-initiated" // success; the installer is rebooting
	OutcomeRetry            Outcome = "retry"            // wait and run again, bounded
	OutcomeAlreadyInstalled Outcome = "already-installed"
	OutcomeFailure          Outcome = "failure"
)

// Valid reports whether o is one of the outcomes a manifest may name.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeSuccess, OutcomeReboot, OutcomeRebootInitiated, OutcomeRetry,
		OutcomeAlreadyInstalled, OutcomeFailure:
		return true
	}
	return false
}

// Succeeded reports whether the step's work is done (a reboot may follow).
func (o Outcome) Succeeded() bool {
	switch o {
	case OutcomeSuccess, OutcomeReboot, OutcomeRebootInitiated, OutcomeAlreadyInstalled:
		return true
	}
	return false
}

// Result is one entry of an exit-code table: an outcome, and for failures
// an optional text that explains the code to the technician.
type Result struct {
	Outcome Outcome `json:"outcome"`
	Text    string  `json:"text,omitempty"`
}

// ParseResult parses a manifest value such as "success" or
// "failure: the product is part of the OS".
func ParseResult(s string) (Result, error) {
	o, text, _ := strings.Cut(s, ":")
	r := Result{Outcome: Outcome(strings.TrimSpace(o)), Text: strings.TrimSpace(text)}
	if !r.Outcome.Valid() {
		return Result{}, fmt.Errorf("unknown outcome %q (want success, reboot, reboot-initiated, retry, already-installed or failure)", o)
	}
	return r, nil
}

// ExitCodes maps a process exit code (as the unsigned 32-bit value Windows
// reports) to its result. encoding/json writes it with sorted decimal keys.
type ExitCodes map[uint32]Result

// DefaultExitCodes is the table every step starts from.
func DefaultExitCodes() ExitCodes {
	return ExitCodes{
		0:    {Outcome: OutcomeSuccess},
		3010: {Outcome: OutcomeReboot},
		1641: {Outcome: OutcomeRebootInitiated},
		1618: {Outcome: OutcomeRetry},
	}
}

// Merge returns the defaults with the step's overrides laid over them.
func (over ExitCodes) Merge() ExitCodes {
	t := DefaultExitCodes()
	for c, r := range over {
		t[c] = r
	}
	return t
}

// Classify returns the result for code: the table's entry, or a failure.
// A failure always carries an explanation when one is known.
func (t ExitCodes) Classify(code uint32) Result {
	r, ok := t[code]
	if !ok {
		r = Result{Outcome: OutcomeFailure}
	}
	if r.Outcome == OutcomeFailure && r.Text == "" {
		r.Text = Explain(code)
	}
	return r
}

// Codes returns the table's codes in ascending order.
func (t ExitCodes) Codes() []uint32 {
	cs := make([]uint32, 0, len(t))
	for c := range t {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	return cs
}

// CodeString names a code in both forms the report uses: "1603 (0x643)".
func CodeString(code uint32) string {
	return fmt.Sprintf("%d (0x%X)", code, code)
}

// knownCodes explains exit codes installers return. Sources: Windows
// Installer error codes (MsiExec.exe and InstMsi.exe error messages),
// winget's and Chocolatey's tables, the .NET setup documentation, and the
// .NET Framework Cleanup Tool's readme.
var knownCodes = map[uint32]string{
	1:          "incorrect function; for the .NET cleanup tool, not run as an administrator",
	2:          "file not found; for the .NET cleanup tool, cleanup.ini is missing",
	5:          "access denied",
	87:         "invalid parameter: check the step's command line",
	112:        "the disk is full",
	1602:       "cancelled by the user",
	1603:       "fatal error during installation; read the installer's log",
	1605:       "this product is not installed",
	1612:       "the installation source is not available",
	1614:       "the product is uninstalled",
	1618:       "another installation is already in progress",
	1619:       "the installation package could not be opened",
	1620:       "the installation package is not a valid Windows Installer package",
	1622:       "the installer could not write its log file",
	1623:       "this language is not supported by the system",
	1625:       "the installation is forbidden by system policy",
	1627:       "a function failed during execution (Windows Installer)",
	1632:       "the Temp folder is full or cannot be reached",
	1633:       "this package is not supported on this processor type",
	1635:       "the patch package could not be opened",
	1636:       "the patch package could not be opened (invalid patch)",
	1638:       "another version of this product is already installed",
	1639:       "invalid command-line argument",
	1640:       "installation from a Terminal Server client session is not permitted",
	1641:       "the installer has started a reboot",
	1642:       "the patch does not apply: the program to be upgraded is missing or is another version",
	1643:       "the patch package is not permitted by system policy",
	1644:       "customizations are not permitted by system policy",
	1649:       "the patch is not permitted by system policy",
	3010:       "a reboot is required to complete the installation",
	3011:       "a restart is required to complete the installation",
	5100:       "the computer does not meet the system requirements",
	0x00240006: "the update is already installed (WU_S_ALREADY_INSTALLED)",
	0x80070643: "fatal error during installation (HRESULT form of 1603)",
	0x80240017: "the update does not apply to this computer (WU_E_NOT_APPLICABLE)",
	0x80070422: "the Windows Update service is disabled",
	0x800F081F: "the source files could not be found",
	// NTSTATUS codes: the process crashed or was stopped, and never
	// reported an outcome of its own.
	0xC0000005: "the program crashed (access violation)",
	0xC0000409: "the program crashed (stack buffer overrun)",
	0xC0000135: "the program could not start: a DLL it needs was not found",
	0xC000013A: "the program was stopped with Ctrl+C or by closing its window",
}

// Explain returns a person's reading of an exit code, or a generic text.
func Explain(code uint32) string {
	if s, ok := knownCodes[code]; ok {
		return s
	}
	return "the installer reported an error this bundle does not know; read its log"
}
