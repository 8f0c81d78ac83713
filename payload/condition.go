package payload

import (
	"fmt"
	"strconv"
	"strings"
)

// Condition decides whether a step runs (`when`) or is skipped (`unless`).
// Exactly one field is set. The same shape appears in the manifest and in
// the lock, so the runner evaluates what the person reviewed.
type Condition struct {
	Recorded string        `json:"recorded,omitempty"` // a fact a detect step recorded
	Registry *RegistryCond `json:"registry,omitempty"`
	OS       *OSCond       `json:"os,omitempty"`
	File     *FileCond     `json:"file,omitempty"`
	All      []Condition   `json:"all,omitempty"`
	Any      []Condition   `json:"any,omitempty"`
	Not      *Condition    `json:"not,omitempty"`

	Pos Pos `json:"-"`
}

// RegistryCond tests a registry value. Exactly one of Equals, Min, Exists is
// set. Equals compares a DWORD/QWORD numerically when it reads as a number,
// and a string value as text; Min compares numerically.
type RegistryCond struct {
	Key    string  `json:"key"`             // HKLM\SOFTWARE\...
	Value  string  `json:"value,omitempty"` // "" is the key's default value
	Equals *string `json:"equals,omitempty"`
	Min    *uint64 `json:"min,omitempty"`
	Exists *bool   `json:"exists,omitempty"`
	View   int     `json:"view,omitempty"` // 64 (default) or 32
}

// OSCond tests the Windows version ("major.minor") and architecture.
type OSCond struct {
	Min  string `json:"min,omitempty"`
	Max  string `json:"max,omitempty"`
	Arch string `json:"arch,omitempty"` // x86 | x64
}

// FileCond tests that a file exists and, optionally, its version.
type FileCond struct {
	Path       string `json:"path"` // starts with one of FileConditionRoots
	MinVersion string `json:"min_version,omitempty"`
}

// FileConditionRoots are the folders a file condition may look in: those
// only administrators can write. A file a local user can create flips a
// `when` or an `unless` (a planted C:\x.dll could skip a security update),
// so a drive root, %SystemDrive%, %ProgramData% and %ALLUSERSPROFILE% are
// refused: users may create files and folders there. (%ProgramFiles(x86)%
// and %CommonProgramFiles(x86)% exist on 64-bit Windows only; on 32-bit
// Windows the condition reads as false.)
var FileConditionRoots = []string{
	"%SystemRoot%", "%windir%",
	"%ProgramFiles%", "%ProgramFiles(x86)%",
	"%CommonProgramFiles%", "%CommonProgramFiles(x86)%",
}

// userWritableUnderWindows are folders under the Windows folder that
// users may write by default ("users have write and execute permissions
// in C:\Windows\Temp by default", Helge Klein, "AppLocker - Security
// Problems", 2012; Tasks, tracing and the spool's color folder are in the
// same published AppLocker bypass lists). A file condition may not look
// there.
var userWritableUnderWindows = []string{`Temp`, `Tasks`, `tracing`, `System32\Tasks`, `System32\spool\drivers\color`, `SysWOW64\Tasks`}

// CheckFileConditionPath checks a file condition's path: one of
// FileConditionRoots, a backslash, then names Windows keeps as written,
// outside the folders users can write.
func CheckFileConditionPath(s string) error {
	root, rest, ok := strings.Cut(s, `\`)
	known := false
	for _, r := range FileConditionRoots {
		if strings.EqualFold(root, r) {
			known = true
		}
	}
	if !ok || !known {
		return fmt.Errorf(`path %s must start with a folder only administrators can write (%s), then \: any user can put a file in a drive root, %%ProgramData%% or %%ALLUSERSPROFILE%%`,
			winQuote(s), strings.Join(FileConditionRoots, ", "))
	}
	if rest == "" {
		return fmt.Errorf("path %s names no file", winQuote(s))
	}
	for _, el := range strings.Split(rest, `\`) {
		if err := CheckName(el); err != nil {
			return fmt.Errorf("path %s: %v", winQuote(s), err)
		}
	}
	if strings.EqualFold(root, "%SystemRoot%") || strings.EqualFold(root, "%windir%") {
		for _, w := range userWritableUnderWindows {
			if strings.EqualFold(rest, w) || len(rest) > len(w) && strings.EqualFold(rest[:len(w)+1], w+`\`) {
				return fmt.Errorf("path %s is in %s\\%s, where any user can put a file", winQuote(s), root, w)
			}
		}
	}
	return nil
}

// winQuote quotes a Windows path as Go does, but keeps its backslashes
// single.
func winQuote(s string) string {
	return strings.ReplaceAll(strconv.Quote(s), `\\`, `\`)
}
