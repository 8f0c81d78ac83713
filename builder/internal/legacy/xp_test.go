package legacy

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Programs that Windows XP SP3 lacks (or has only in Support Tools or
// Professional): the executor must not call them. icacls is allowed only
// behind the Vista check, with cacls as the XP path, and taskkill (not on
// XP Home) only with tskill as the other path.
var missingOnXP = []string{
	"powershell", "certutil", "timeout.exe", "timeout /", "choice.exe", "choice /", "where.exe", "setx",
	"forfiles", "robocopy", "mklink", "bitsadmin", "wmic", "takeown", "fciv",
	"mshta", // present on XP, but not needed: keep the surface small
}

// JScript 5.7 is ECMAScript 3 with Microsoft's extensions: none of these
// exist there.
var notInJScript57 = []*regexp.Regexp{
	regexp.MustCompile(`\bJSON\b`),
	regexp.MustCompile(`\.(forEach|map|filter|reduce|reduceRight|some|every|lastIndexOf|trim|trimLeft|trimRight|bind|toISOString|startsWith|endsWith|includes|repeat)\(`),
	regexp.MustCompile(`\b(Array\.isArray|Object\.keys|Object\.create|Object\.defineProperty|Object\.freeze|Date\.now)\b`),
	regexp.MustCompile(`\b(const|let|class|yield|async|await)\s`),
	regexp.MustCompile("=>|`"),
	regexp.MustCompile(`"use strict"`),
	regexp.MustCompile(`\bget\s+\w+\s*\(\)\s*\{`),
	// String.prototype.indexOf is ES3; Array.prototype.indexOf is not. The
	// executor calls indexOf only with a string literal, on strings.
	regexp.MustCompile(`\.indexOf\([^"]`),
	// A trailing comma is a syntax error in a JScript object literal and
	// an extra element in an array literal.
	regexp.MustCompile(`,\s*[\]}]`),
}

// ES3 reserves these words: JScript 5.7 refuses them as names and as
// property names written with a dot or as object literal keys.
var reserved = strings.Fields(`abstract boolean break byte case catch char class const continue debugger default delete do
double else enum export extends final finally float for function goto if implements import in instanceof int interface
long native new package private protected public return short static super switch synchronized this throw throws
transient try typeof var void volatile while with`)

func TestScriptUsesOnlyXP(t *testing.T) {
	files, err := Render(seedLock())
	if err != nil {
		t.Fatal(err)
	}
	script, cmd := string(files[Script]), string(files[RunCmd])
	// Comments may name what is missing; code and strings may not.
	for name, text := range map[string]string{Script: stripJSComments(t, script), RunCmd: stripRem(cmd)} {
		low := strings.ToLower(text)
		for _, bad := range missingOnXP {
			if strings.Contains(low, bad) {
				t.Errorf("%s uses %q, which Windows XP SP3 does not have", name, bad)
			}
		}
	}
	code := stripJS(t, script)
	for _, re := range notInJScript57 {
		if m := re.FindString(code); m != "" {
			t.Errorf("%s uses %q, which JScript 5.7 (ECMAScript 3) does not have; near: %s", Script, m, around(code, re))
		}
	}
	if m := arrayIndexOf(code); m != "" {
		t.Errorf("%s calls indexOf on an array (%s), which JScript 5.7 does not have", Script, m)
	}
	for _, w := range reserved {
		switch w {
		case "break", "case", "catch", "continue", "default", "delete", "do", "else", "finally", "for", "function", "if",
			"in", "instanceof", "new", "return", "switch", "this", "throw", "try", "typeof", "var", "void", "while", "with":
			// keywords: legal as keywords, not as property names
			re := regexp.MustCompile(`\.\s*` + w + `\b|[{,]\s*` + w + `\s*:`)
			if m := re.FindString(code); m != "" {
				t.Errorf("%s uses the keyword %q as a property name: %q", Script, w, m)
			}
		default:
			if m := regexp.MustCompile(`\b` + w + `\b`).FindString(code); m != "" {
				t.Errorf("%s uses %q, a reserved word in ECMAScript 3, as a name", Script, w)
			}
		}
	}
	// The Windows API is the helper's: no ACL tool (their output is in the
	// local language, and Wine's print nothing), no WMI, and no stopping
	// programs by image name (taskkill /IM stops every setup.exe).
	code0 := strings.ToLower(stripJSComments(t, script))
	for _, tool := range []string{"cacls", "taskkill", "tskill", "winmgmts"} {
		if strings.Contains(code0, tool) {
			t.Errorf("the script uses %s", tool)
		}
	}
	for _, want := range []string{"//nologo", `%~dp0fixstick.js`, "Sysnative", "exit /b"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("%s lacks %q", RunCmd, want)
		}
	}
}

// The denylist test must be able to fail: each construct it looks for is
// found in a script that uses it.
func TestXPCheckFindsViolations(t *testing.T) {
	for _, src := range []string{
		"var a = JSON.stringify(x);", "a.forEach(f);", "var k = Object.keys(o);", "const x = 1;", "let y = 2;",
		"f(x => x);", "var s = `t`;", "var i = list.indexOf(x);", "var o = { a: 1, };", "var a = [1, 2,];",
		"var t = s.trim();", "var d = Date.now();",
		`var i = ["a", "b"].indexOf("a");`, `var list = ["a"]; var i = list.indexOf("a");`,
	} {
		code := stripJS(t, src)
		found := arrayIndexOf(code) != ""
		for _, re := range notInJScript57 {
			if re.MatchString(code) {
				found = true
			}
		}
		if !found {
			t.Errorf("the check misses %q", src)
		}
	}
	// what looks like a violation inside a string, comment or regex is not one
	for _, src := range []string{`var s = "JSON, ]";`, "// a.forEach(f)\nvar x = 1;", `var r = /,\s*]/;`, `var i = s.indexOf("x");`} {
		code := stripJS(t, src)
		for _, re := range notInJScript57 {
			if re.MatchString(code) {
				t.Errorf("false alarm %v on %q (stripped: %q)", re, src, code)
			}
		}
	}
}

// arrayIndexOf finds indexOf called on an array literal or on a name
// assigned one anywhere in code (the string form, indexOf("x"), passes
// the pattern above).
func arrayIndexOf(code string) string {
	if m := regexp.MustCompile(`\]\s*\.indexOf\(`).FindString(code); m != "" {
		return m
	}
	for _, a := range regexp.MustCompile(`\b(\w+)\s*=\s*\[`).FindAllStringSubmatch(code, -1) {
		if m := regexp.MustCompile(`\b` + a[1] + `\.indexOf\(`).FindString(code); m != "" {
			return m
		}
	}
	return ""
}

// stripJS blanks out comments, string literals and regular expression
// literals, so that only code is checked.
func stripJS(t *testing.T, s string) string { return strip(t, s, false) }

// stripJSComments blanks out comments only.
func stripJSComments(t *testing.T, s string) string { return strip(t, s, true) }

func stripRem(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "rem ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func strip(t *testing.T, s string, keepLiterals bool) string {
	var b strings.Builder
	prev := byte('(') // the last significant character, to tell a regex from a division
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				t.Fatalf("unterminated comment")
			}
			i += end + 3
			b.WriteByte(' ')
			continue
		case c == '"' || c == '\'':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' {
					j++
				}
				if j < len(s) && s[j] == '\n' {
					t.Fatalf("line break in a string literal at %d", i)
				}
			}
			if keepLiterals {
				b.WriteString(s[i:min(j+1, len(s))])
			} else {
				b.WriteString(`""`)
			}
			i = j
			prev = '"'
			continue
		case c == '/' && strings.IndexByte("(,=:[!&|?{};+-*%<>~^", prev) >= 0:
			j, class := i+1, false
			for ; j < len(s); j++ {
				switch {
				case s[j] == '\\':
					j++
				case s[j] == '[':
					class = true
				case s[j] == ']':
					class = false
				case s[j] == '/' && !class:
					goto endRegex
				case s[j] == '\n':
					t.Fatalf("line break in a regular expression at %d", i)
				}
			}
		endRegex:
			for j+1 < len(s) && strings.IndexByte("gim", s[j+1]) >= 0 {
				j++
			}
			if keepLiterals {
				b.WriteString(s[i:min(j+1, len(s))])
			} else {
				b.WriteString("/re/")
			}
			i = j
			prev = '/'
			continue
		}
		b.WriteByte(c)
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			prev = c
			if isWordByte(c) {
				// "return /x/" starts a regex; "a / b" does not
				w := lastWord(b.String())
				if w == "return" || w == "typeof" {
					prev = '('
				}
			}
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func lastWord(s string) string {
	i := len(s)
	for i > 0 && isWordByte(s[i-1]) {
		i--
	}
	return s[i:]
}

func around(s string, re *regexp.Regexp) string {
	loc := re.FindStringIndex(s)
	lo, hi := max(loc[0]-60, 0), min(loc[1]+60, len(s))
	return strconv.Quote(s[lo:hi])
}

// unquoteList reads a list of JScript string literals: "a", "b".
func unquoteList(t *testing.T, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(s, -1) {
		u, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			t.Fatalf("literal %q: %v", m[1], err)
		}
		out = append(out, u)
	}
	return out
}
