package payload

import (
	"bytes"
	"strings"
	"testing"
)

func testLock(t testing.TB) *Lock {
	t.Helper()
	l := &Lock{Version: LockVersion, Title: "t", Manifest: LockManifest{ID: "m", SHA256: strings.Repeat("b", 64)},
		Builder: "test", Created: "2026-01-01T00:00:00Z",
		Files: []LockFile{{Path: "payloads/a/a.exe", SHA256: strings.Repeat("a", 64), Size: 1}},
		Steps: []LockStep{{ID: "a", Title: "A", Kind: KindExe, Program: "payloads/a/a.exe", Args: "/q",
			ExitCodes: DefaultExitCodes(), Reboot: RebootIfNeeded, Timeout: 60}}}
	return l
}

// sealed gives l its bundle id and returns its canonical bytes.
func sealed(t testing.TB, l *Lock) []byte {
	t.Helper()
	var err error
	if l.Bundle, err = BundleID(l); err != nil {
		t.Fatal(err)
	}
	b, err := MarshalLock(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ParseLock refuses every way of writing a lock that two readers could
// read differently: encoding/json alone keeps the last of two keys and
// matches keys ignoring case.
func TestParseLockStrict(t *testing.T) {
	good := string(sealed(t, testLock(t)))
	if _, err := ParseLock([]byte(good)); err != nil {
		t.Fatalf("good lock: %v", err)
	}
	for name, tc := range map[string]struct{ data, want string }{
		"duplicate key":     {strings.Replace(good, `"title": "t",`, `"title": "t", "title": "u",`, 1), `key "title" appears twice`},
		"case-variant key":  {strings.Replace(good, `"title": "t",`, `"Title": "t",`, 1), `key "Title" is not lowercase`},
		"case-variant twin": {strings.Replace(good, `"title": "t",`, `"title": "t", "TITLE": "u",`, 1), `key "TITLE" is not lowercase`},
		"nested duplicate":  {strings.Replace(good, `"path": "payloads/a/a.exe",`, `"path": "payloads/a/a.exe", "path": "payloads/b/b.exe",`, 1), `key "path" appears twice`},
		"unknown field":     {strings.Replace(good, `"lock": 1,`, `"lock": 1, "signature": "x",`, 1), `unknown field "signature"`},
		"trailing data":     {good + ` {}`, "data after the JSON object"},
		"other version":     {strings.Replace(good, `"lock": 1,`, `"lock": 2,`, 1), "lock format 2"},
		"over the size cap": {good + strings.Repeat(" ", MaxLockSize), "larger than"},
		"not an object":     {`[]`, "cannot unmarshal"},
		"syntax":            {`{"lock": 1,`, "EOF"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLock([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// CheckLock reports every problem, not the first: one lock with two
// faults gives two lines.
func TestCheckLock(t *testing.T) {
	l := testLock(t)
	raw := sealed(t, l)
	if probs := CheckLock(raw, l); len(probs) > 0 {
		t.Fatalf("good lock: %q", probs)
	}
	for name, tc := range map[string]struct {
		edit func(l *Lock)
		want []string
	}{
		"bundle id form": {func(l *Lock) { l.Bundle = ".." }, []string{"bundle id"}},
		"path escape":    {func(l *Lock) { l.Files[0].Path = "../x.exe" }, []string{"refers to a directory"}},
		"case collision": {func(l *Lock) {
			l.Files = append(l.Files, LockFile{Path: "payloads/b/A.exe", SHA256: strings.Repeat("b", 64)}, LockFile{Path: "payloads/b/a.exe", SHA256: strings.Repeat("b", 64)})
		}, []string{"the same file on Windows"}},
		"bad sha":            {func(l *Lock) { l.Files[0].SHA256 = strings.Repeat("A", 64) }, []string{"64 lowercase hex"}},
		"unlisted program":   {func(l *Lock) { l.Steps[0].Program = "payloads/b/b.exe" }, []string{"is not a file of the bundle"}},
		"batch file":         {func(l *Lock) { l.Files[0].Path, l.Steps[0].Program = "payloads/a/a.cmd", "payloads/a/a.cmd" }, []string{"batch file"}},
		"kind and extension": {func(l *Lock) { l.Steps[0].Kind = KindMSI }, []string{"a msi step runs a .msi file"}},
		"duplicate step":     {func(l *Lock) { l.Steps = append(l.Steps, l.Steps[0]) }, []string{"duplicate step id"}},
		"detect family":      {func(l *Lock) { l.Steps[0] = LockStep{ID: "d", Kind: KindDetect, Detect: "java"} }, []string{`unknown detect family "java"`}},
		"outcome":            {func(l *Lock) { l.Steps[0].ExitCodes[7] = Result{Outcome: "ok"} }, []string{`unknown outcome "ok"`}},
		"reports listed": {func(l *Lock) {
			l.Files = append(l.Files, LockFile{Path: "reports/PC/report.json", SHA256: strings.Repeat("b", 64)})
		}, []string{"cannot be a bundle file"}},
		"signature listed": {func(l *Lock) {
			l.Files = append([]LockFile{{Path: LockSigName, SHA256: strings.Repeat("b", 64)}}, l.Files...)
		}, []string{"cannot be a bundle file"}},
		"bidi in title":        {func(l *Lock) { l.Steps[0].Title = "setup\u202etxt.exe" }, []string{"title", "U+202E"}},
		"C1 in args":           {func(l *Lock) { l.Steps[0].Args = "/q \u009b31m" }, []string{"args", "U+009B"}},
		"line separator":       {func(l *Lock) { l.Title = "a\u2028b" }, []string{"title", "U+2028"}},
		"file condition on C:": {func(l *Lock) { l.Steps[0].When = &Condition{File: &FileCond{Path: `C:\x.dll`}} }, []string{"only administrators can write"}},
		"two faults":           {func(l *Lock) { l.Steps[0].Kind = KindMSI; l.Files[0].SHA256 = "x" }, []string{".msi file", "64 lowercase hex"}},
	} {
		t.Run(name, func(t *testing.T) {
			l := testLock(t)
			tc.edit(l)
			raw := sealed(t, l)
			if name == "bundle id form" {
				l.Bundle = ".."
				raw, _ = MarshalLock(l)
			}
			got := strings.Join(CheckLock(raw, l), "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems %q, want %q", got, w)
				}
			}
		})
	}
	// A lock edited after the build: its id no longer matches, and a
	// second way of writing the same content is not the canonical form.
	l = testLock(t)
	raw = sealed(t, l)
	l.Steps[0].Args = "/q /evil"
	edited, _ := MarshalLock(l)
	if got := strings.Join(CheckLock(edited, l), "\n"); !strings.Contains(got, "does not match the lock's content") {
		t.Errorf("edited args: %q", got)
	}
	l = testLock(t)
	raw = sealed(t, l)
	compact := bytes.ReplaceAll(raw, []byte("\n  "), []byte("\n "))
	l2, err := ParseLock(compact)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(CheckLock(compact, l2), "\n"); !strings.Contains(got, "not in the form the builder writes") {
		t.Errorf("re-indented lock: %q", got)
	}
}

// The id limits follow from MaxIDLen: a manifest id of MaxIDLen
// characters gives a bundle id every reader accepts, one more does not.
func TestLongestID(t *testing.T) {
	l := testLock(t)
	l.Manifest.ID = strings.Repeat("m", MaxIDLen)
	raw := sealed(t, l)
	if len(l.Bundle) != MaxBundleIDLen {
		t.Fatalf("bundle id %q: %d characters, want %d", l.Bundle, len(l.Bundle), MaxBundleIDLen)
	}
	if probs := CheckLock(raw, l); len(probs) > 0 {
		t.Fatalf("longest id: %q", probs)
	}
	l.Manifest.ID += "m"
	raw = sealed(t, l)
	got := strings.Join(CheckLock(raw, l), "\n")
	if !strings.Contains(got, "manifest id") || !strings.Contains(got, "longer than") {
		t.Errorf("an id of %d characters: %q", MaxIDLen+1, got)
	}
}

// FuzzLock feeds ParseLock and CheckLock any bytes: they must not panic,
// and a lock that CheckLock finds clean is exactly the canonical form of
// what was parsed (so "edited after the build" cannot be fooled by a
// second way of writing the same lock).
func FuzzLock(f *testing.F) {
	f.Add(sealed(f, testLock(f)))
	f.Add([]byte(`{"lock":1,"bundle":"x-000000000000","files":[{"path":"../x","sha256":"","size":-1}],"steps":[{"id":"a","program":"y"}]}`))
	f.Add([]byte(`{"lock":1,"Lock":1,"bundle":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		if len(CheckLock(data, l)) > 0 {
			return
		}
		c, err := MarshalLock(l)
		if err != nil || !bytes.Equal(c, data) {
			t.Fatalf("a clean lock is not in canonical form: %v\n%q\n%q", err, data, c)
		}
	})
}
