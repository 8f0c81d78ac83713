package payload

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
	for _, r := range name {
		switch {
		case unicode.IsControl(r): // C0, DEL and C1
			return fmt.Errorf("name %q contains the control character %U", name, r)
		// Format characters (bidi overrides and isolates, zero-width
		// spaces, the BOM, soft hyphens) and line separators do not show:
		// U+202E makes "setup\u202etxt.exe" read as "setupexe.txt".
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			return fmt.Errorf("name %q contains the invisible character %U", name, r)
		case strings.ContainsRune(`/\:*?"<>|`, r):
			return fmt.Errorf("name %q contains %q, which Windows does not allow in a file name", name, r)
		}
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
