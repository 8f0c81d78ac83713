package payload

import (
	"strings"
	"testing"
)

// TestCheckNameInvisible checks that names holding characters a person
// cannot see are refused, and that the error names the code point: a
// right-to-left override makes "exe.txt" read as "txt.exe".
func TestCheckNameInvisible(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"setup\u202etxt.exe", "U+202E"}, // right-to-left override
		{"a\u2066b.exe", "U+2066"},       // left-to-right isolate
		{"a\u200bb.exe", "U+200B"},       // zero width space
		{"\ufeffsetup.exe", "U+FEFF"},    // byte order mark
		{"a\u00adb.exe", "U+00AD"},       // soft hyphen
		{"a\u0085b.exe", "U+0085"},       // C1 control (NEL)
		{"a\u009fb.exe", "U+009F"},
		{"a\x01b.exe", "U+0001"},
		{"a\x7fb.exe", "U+007F"},
	} {
		err := CheckName(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckName(%q) = %v, want an error naming %s", tc.name, err, tc.want)
		}
		if err := CheckPath("payloads/" + tc.name); err == nil {
			t.Errorf("CheckPath accepts %q", tc.name)
		}
	}
	for _, ok := range []string{"setup.exe", "Überprüfung.exe", "日本語.msi", "a\u00a0b.exe"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
	}
}
