package payload

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText refuses what makes a string read differently from what it
// holds, in every string a person reads or a program receives (names,
// titles, arguments, registry names): invalid UTF-8, control characters
// (C0, DEL, and C1: "\x9b" is a terminal's CSI), and characters that do not
// show (see Hidden).
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("%q contains the control character %U", s, r)
		case Hidden(r):
			return fmt.Errorf("%q contains the invisible character %U", s, r)
		}
	}
	return nil
}

// Hidden reports whether r changes how text reads without showing itself,
// or is a C1 control: format characters (bidi overrides and isolates,
// zero-width spaces, the BOM, soft hyphens) and line and paragraph
// separators. U+202E makes "setup\u202etxt.exe" read as "setupexe.txt".
func Hidden(r rune) bool {
	return r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// MaxNameLen is the longest file name element we accept (NTFS allows 255
// UTF-16 units; we count bytes, which is stricter).
const MaxNameLen = 255

// CheckName reports whether name is safe as one file name element on
// Windows, whatever host checks it: archive entries and manifest names are
// attacker-controlled, and Linux would happily create "CON" or "a:b".
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q refers to a directory", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	case len(name) > MaxNameLen:
		return fmt.Errorf("name %.20q... is longer than %d bytes", name, MaxNameLen)
	}
	if err := CheckText(name); err != nil {
		return fmt.Errorf("name %w", err)
	}
	if i := strings.IndexAny(name, `/\:*?"<>|`); i >= 0 {
		return fmt.Errorf("name %q contains %q, which Windows does not allow in a file name", name, name[i])
	}
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return fmt.Errorf("name %q ends in a dot or space, which Windows strips", name)
	}
	if strings.HasPrefix(name, " ") {
		return fmt.Errorf("name %q starts with a space", name)
	}
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	if isReserved(base) {
		return fmt.Errorf("name %q is a reserved device name on Windows", name)
	}
	if i := strings.IndexByte(name, '~'); i >= 0 && i+1 < len(name) && name[i+1] >= '0' && name[i+1] <= '9' {
		return fmt.Errorf("name %q looks like an 8.3 short name, which may alias another file", name)
	}
	return nil
}

func isReserved(base string) bool {
	u := strings.ToUpper(base)
	switch u {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$":
		return true
	}
	if len(u) == 4 && (strings.HasPrefix(u, "COM") || strings.HasPrefix(u, "LPT")) {
		return u[3] >= '0' && u[3] <= '9'
	}
	// COM¹ COM² COM³ and LPT¹.. are reserved too.
	for _, p := range []string{"COM", "LPT"} {
		if rest, ok := strings.CutPrefix(u, p); ok && (rest == "¹" || rest == "²" || rest == "³") {
			return true
		}
	}
	return false
}

// CheckPath reports whether p is a safe relative path inside a bundle: slash
// separated, no empty, "." or ".." elements, every element a safe name.
func CheckPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if strings.Contains(p, `\`) {
		return fmt.Errorf("path %q contains a backslash; use /", p)
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q is absolute", p)
	}
	for _, el := range strings.Split(p, "/") {
		if err := CheckName(el); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

// FoldName returns the key under which Windows considers two names the
// same, for detecting case collisions.
func FoldName(p string) string {
	return strings.ToLower(strings.ToUpper(p))
}
