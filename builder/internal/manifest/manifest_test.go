package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fixstick/payload"
)

const seedPath = "../../../manifests/netfx11sp1-kb979906.yaml"

// TestSeedManifest checks that the shipped procedure says what it should:
// the order of the steps, the cleanup command line, the reboot after it,
// and the registry checks that skip installed updates.
func TestSeedManifest(t *testing.T) {
	m, err := Load(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(seedPath)
	sum := sha256.Sum256(data)
	if m.Path != seedPath || m.SHA256 != hex.EncodeToString(sum[:]) || m.Version != 1 {
		t.Errorf("Path %q SHA256 %q Version %d", m.Path, m.SHA256, m.Version)
	}
	var order []string
	steps := map[string]payload.Step{}
	for _, s := range m.Steps {
		order = append(order, s.ID)
		steps[s.ID] = s
	}
	// The ladder: record, the Fix it and the update again; the cleanup only
	// after; then the reinstalls and the updates.
	if got := strings.Join(order, " "); got != "record fixit try-kb979906 cleanup cleanup-tablet-media-center netfx35sp1 netfx11 netfx11sp1 netfx40 kb979906 kb2833941" {
		t.Errorf("step order: %s", got)
	}
	if p := steps["try-kb979906"]; p.Artifact != "kb979906" || p.OnFailure != payload.OnFailureContinue || !p.FinishIfGoalMet {
		t.Errorf("probe step: %+v", p)
	}
	if k := steps["kb979906"]; k.OnFailure != payload.OnFailureContinue || k.FinishIfGoalMet {
		t.Errorf("kb979906 must not stop the run before kb2833941: %+v", k)
	}
	if r := m.Requires; r == nil || len(r.All) != 2 || r.All[0].OS == nil || *r.All[0].OS != (payload.OSCond{Min: "5.1", Max: "5.1", Arch: "x86"}) || r.All[1].Recorded != "netfx11" {
		t.Errorf("requires: %v", r)
	}
	if g := m.Goal; g == nil || len(g.Any) != 2 || !strings.HasSuffix(g.Any[0].Registry.Key, `\M979906`) || !strings.HasSuffix(g.Any[1].Registry.Key, `\M2833941`) {
		t.Errorf("goal: %v", g)
	}
	c := steps["cleanup"]
	if c.Artifact != "cleanup-tool/cleanup_tool.exe" || c.Args != `/q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"` ||
		c.Reboot != payload.RebootAfter || c.Timeout != 30*time.Minute {
		t.Errorf("cleanup step: %+v", c)
	}
	for _, code := range []uint32{1, 2, 3, 4, 100, 1602} {
		if r := c.ExitCodes[code]; r.Outcome != payload.OutcomeFailure || r.Text == "" {
			t.Errorf("cleanup exit code %d: %+v", code, r)
		}
	}
	if r := steps["record"]; r.Kind != payload.KindDetect || r.Detect != "netfx" || r.Reboot != payload.RebootNever {
		t.Errorf("record step: %+v", r)
	}
	for _, id := range []string{"kb979906", "kb2833941"} {
		u := steps[id].Unless
		if u == nil || u.Registry == nil || u.Registry.View != 32 || u.Registry.Equals == nil || *u.Registry.Equals != "1" ||
			!strings.HasPrefix(u.Registry.Key, `HKLM\SOFTWARE\Microsoft\Updates\.NETFramework\1.1\M`) {
			t.Errorf("%s: unless %+v", id, u)
		}
		if steps[id].Reboot != payload.RebootIfNeeded || steps[id].Timeout != payload.DefaultTimeout {
			t.Errorf("%s: defaults not filled in: %+v", id, steps[id])
		}
	}
	arts := map[string]payload.Artifact{}
	for _, a := range m.Artifacts {
		arts[a.ID] = a
	}
	if a := arts["cleanup-tool"]; len(a.Extract) != 1 || a.Extract[0].Size != 298496 || !a.Pinned() || a.Optional {
		t.Errorf("cleanup-tool: %+v", a)
	}
	if a := arts["netfx40"]; a.Optional || a.SHA256 != "65e064258f2e418816b304f646ff9e87af101e4c9552ab064bb74d281c38659f" {
		t.Errorf("netfx40 must be required and pinned: %+v", a)
	}
	if a := arts["cleanup-tool"]; a.URLs[0].URL != "https://msdnshared.blob.core.windows.net/media/2018/05/dotnetfx_cleanup_tool.zip" {
		t.Errorf("cleanup-tool's first URL: %v", a.URLs[0])
	}
	for _, id := range []string{"fixit50123", "kb2833941"} {
		if a := arts[id]; !a.Optional || a.Pinned() || len(a.URLs) != 0 || a.URLs == nil {
			t.Errorf("%s must be optional, unpinned, with an empty URL list: %+v", id, a)
		}
	}
	if m.Created != "2026-11-25T00:00:00Z" {
		t.Errorf("created %q", m.Created)
	}
	if s := steps["kb979906"]; s.Pos.Line == 0 || s.Pos.Col == 0 || s.Unless.Pos.Line == 0 || arts["netfx11"].Pos.Line == 0 || arts["cleanup-tool"].Extract[0].Pos.Line == 0 {
		t.Error("positions not filled in")
	}
}

func mustParse(t *testing.T, src string) *payload.Manifest {
	t.Helper()
	m, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return m
}

func parseErrors(t *testing.T, data []byte) []string {
	t.Helper()
	_, err := Parse("t.yaml", data)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Error())
	}
	return out
}

const minimal = "manifest: 1\nid: t\ntitle: T\nsteps:\n  - id: r\n    detect: netfx\n"

func TestFileLevel(t *testing.T) {
	// Exactly 1 MiB is accepted; one byte more is refused.
	pad := MaxFileSize - len(minimal)
	ok := minimal + "#" + strings.Repeat("x", pad-2) + "\n"
	if len(ok) != MaxFileSize {
		t.Fatalf("bad test: %d bytes", len(ok))
	}
	mustParse(t, ok)
	got := parseErrors(t, []byte(ok+"\n"))
	if len(got) != 1 || !strings.HasPrefix(got[0], "t.yaml: the file is larger than 1 MiB") {
		t.Errorf("over 1 MiB: %v", got)
	}
	// Load reads no more than the limit and one byte.
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#"), 3*MaxFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("Load of a big file: %v", err)
	}

	// A BOM is tolerated and does not shift positions.
	bad := "manifest: 1\nid: T\ntitle: T\nsteps:\n  - id: r\n    detect: netfx\n"
	withBOM := parseErrors(t, append([]byte("\xef\xbb\xbf"), bad...))
	without := parseErrors(t, []byte(bad))
	if strings.Join(withBOM, "\n") != strings.Join(without, "\n") || !strings.HasPrefix(without[0], "t.yaml:2:5: id:") {
		t.Errorf("BOM changes the errors:\n%v\n%v", withBOM, without)
	}
	mustParse(t, "\xef\xbb\xbf"+minimal)

	for src, want := range map[string]string{
		"":                      "t.yaml: the file is empty",
		"# just a comment\n":    "t.yaml: the file",
		"- manifest: 1\n":       "t.yaml:1:1: must be a mapping of manifest fields",
		"manifest: 1\x01\n":     "t.yaml:1:12: the file holds the control character U+0001",
		"title: a\u2028b\n":     "t.yaml:1:9: the file holds the control character U+2028",
		"a: [1,\n":              "t.yaml:1: YAML syntax error:",
		"a:\n\t- b\n":           "t.yaml:2: YAML syntax error:",
		minimal + "---\n" + "x": "t.yaml:7:1: a manifest is one YAML document",
		// CR alone and CRLF end lines, as they do for the YAML library.
		"manifest: 1\rid: t\rtitle: a\x01\r":                                   "t.yaml:3:9: the file holds the control character U+0001",
		"manifest: 1\r\nid: t\r\ntitle: a\x01\r\n":                             "t.yaml:3:9: the file holds the control character U+0001",
		"manifest: 1\rid: T\rtitle: T\rsteps:\r  - id: r\r    detect: netfx\r": "t.yaml:2:5: id:",
	} {
		got := parseErrors(t, []byte(src))
		if !strings.HasPrefix(got[0], want) {
			t.Errorf("%q: got %v, want %s...", src, got, want)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var list ErrorList
	if err == nil || errors.As(err, &list) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

// TestNormalized checks the values the parser rewrites into the one form
// the runner reads.
func TestNormalized(t *testing.T) {
	m := mustParse(t, `manifest: 1
id: t
title: T
artifacts:
  - id: a
    file: a.exe
    sha1: 642ace45800ffefd77231150a07a2bdfe170732c
    urls: []
steps:
  - id: s
    exe: a
    exit_codes: {-1: failure, 0x80070643: "failure: HRESULT", 3010: success, "4": retry, 010: reboot}
    unless:
      any:
        - registry: {key: 'HKEY_LOCAL_MACHINE\SOFTWARE\X', value: V, equals: 0x10}
        - registry: {key: 'hklm\SOFTWARE\X', value: V, equals: "0x10"}
        - registry: {key: 'HKLM\SOFTWARE\X', value: '', min: 0x10}
        - os: {min: 5.1, max: 10.0}
        - registry: {key: 'HKLM\SOFTWARE\X', value: V, equals: 010}
        - registry: {key: 'HKLM\SOFTWARE\X', value: V, min: 010}
`)
	s := m.Steps[0]
	want := map[uint32]payload.Result{
		0xFFFFFFFF: {Outcome: payload.OutcomeFailure},
		0x80070643: {Outcome: payload.OutcomeFailure, Text: "HRESULT"},
		3010:       {Outcome: payload.OutcomeSuccess},
		4:          {Outcome: payload.OutcomeRetry},
		10:         {Outcome: payload.OutcomeReboot}, // 010: a leading zero is not octal
	}
	if len(s.ExitCodes) != len(want) {
		t.Errorf("exit codes %v", s.ExitCodes)
	}
	for c, r := range want {
		if s.ExitCodes[c] != r {
			t.Errorf("exit code %d: %+v, want %+v", c, s.ExitCodes[c], r)
		}
	}
	any := s.Unless.Any
	if r := any[0].Registry; r.Key != `HKLM\SOFTWARE\X` || *r.Equals != "16" || r.View != 64 {
		t.Errorf("registry 0: %+v", r)
	}
	if r := any[1].Registry; r.Key != `HKLM\SOFTWARE\X` || *r.Equals != "0x10" {
		t.Errorf("a quoted value stays text: %+v", r)
	}
	if r := any[2].Registry; r.Value != "" || *r.Min != 16 {
		t.Errorf("registry 2: %+v", r)
	}
	if o := any[3].OS; o.Min != "5.1" || o.Max != "10.0" {
		t.Errorf("unquoted versions are read as written: %+v", o)
	}
	// A leading zero is decimal, as a person reads it, not octal (8).
	if r := any[4].Registry; *r.Equals != "10" {
		t.Errorf("equals: 010 is %q, want 10", *r.Equals)
	}
	if r := any[5].Registry; *r.Min != 10 {
		t.Errorf("min: 010 is %d, want 10", *r.Min)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "m.yaml", Line: 3, Col: 7, Field: "steps[0].exe", Msg: "bad"}, "m.yaml:3:7: steps[0].exe: bad"},
		{Error{File: "m.yaml", Line: 3, Msg: "YAML syntax error: x"}, "m.yaml:3: YAML syntax error: x"},
		{Error{File: "m.yaml", Msg: "the file is empty"}, "m.yaml: the file is empty"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	l := ErrorList{&tests[0].e, &tests[1].e}
	if l.Error() != tests[0].want+"\n"+tests[1].want {
		t.Errorf("list: %q", l.Error())
	}
	var one *Error
	if !errors.As(error(l), &one) || one != &tests[0].e {
		t.Error("errors.As does not find an *Error in the list")
	}
}

// BenchmarkParseSeed measures parsing the shipped procedure (about 13 KB).
func BenchmarkParseSeed(b *testing.B) {
	data, err := os.ReadFile(seedPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(seedPath, data); err != nil {
			b.Fatal(err)
		}
	}
}
