package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fixstick/payload"
)

var created = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

type zipEntry struct {
	name string
	data string
	mode os.FileMode
}

func makeZip(t testing.TB, es ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			fh.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) Source {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return Source{Path: p, SHA256: sha(data), Size: int64(len(data))}
}

var setupData = []byte("MZ pretend installer\x00\x01\x02")

// fixture is a manifest with a plain installer, an archive with one
// extracted tool, and an optional artifact that was not supplied.
func fixture(t testing.TB) Options {
	t.Helper()
	cache := t.TempDir()
	tool := "MZ cleanup tool"
	arch := makeZip(t, zipEntry{name: "readme.txt", data: "hello"}, zipEntry{name: "bin/"}, zipEntry{name: "bin/tool.exe", data: tool})
	m := &payload.Manifest{
		Path: "demo.yaml", SHA256: strings.Repeat("ab", 32), Version: 1, ID: "demo", Title: "Demo fix",
		Description: "Repairs the demo.",
		Artifacts: []payload.Artifact{
			{ID: "setup", File: "setup.exe", SHA256: sha(setupData), Size: int64(len(setupData))},
			{ID: "tools", File: "tools.zip", Extract: []payload.ExtractEntry{{Path: "bin/tool.exe", SHA256: sha([]byte(tool)), Size: int64(len(tool))}}},
			{ID: "fixit", File: "fixit.msi", Optional: true},
		},
		Steps: []payload.Step{
			{ID: "record", Title: "Record .NET", Kind: payload.KindDetect, Detect: "netfx"},
			{ID: "fixit", Title: "Fix it", Kind: payload.KindMSI, Artifact: "fixit"},
			{ID: "clean", Title: "Clean", Kind: payload.KindExe, Artifact: "tools/bin/tool.exe", Args: `/q:a /c:"x.exe /u"`,
				ExitCodes: payload.ExitCodes{3: {Outcome: payload.OutcomeFailure}}, Reboot: payload.RebootAfter, Timeout: 30 * time.Minute},
			{ID: "setup", Kind: payload.KindExe, Artifact: "setup", Args: "/q", When: &payload.Condition{Recorded: "netfx35"}},
		},
	}
	return Options{
		Manifest: m,
		Sources: map[string]Source{
			"setup": writeFile(t, cache, "setup", setupData),
			"tools": writeFile(t, cache, "tools", arch),
		},
		Runners: []File{{Path: payload.RunnerAMD64, Data: []byte("MZ amd64")}, {Path: payload.RunnerX86, Data: []byte("MZ x86")}},
		Legacy: func(l *payload.Lock) (map[string][]byte, error) {
			return map[string][]byte{"legacy/run.cmd": []byte("@echo off\r\nrem " + l.Bundle + "\r\n")}, nil
		},
		Builder: "test",
		Created: created,
	}
}

func build(t *testing.T, o Options, out string) string {
	t.Helper()
	b, err := Prepare(context.Background(), o, filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sum, _, err := b.WriteZip(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestLock(t *testing.T) {
	o := fixture(t)
	var notes []string
	o.Note = func(s string) { notes = append(notes, s) }
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l := b.Lock
	var paths []string
	for _, f := range l.Files {
		paths = append(paths, f.Path)
	}
	want := "README.txt START.cmd legacy/run.cmd payloads/setup/setup.exe payloads/tools/bin/tool.exe runner-x86.exe runner.exe"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("files:\n got %s\nwant %s", got, want)
	}
	if !strings.HasPrefix(l.Bundle, "demo-") || len(l.Bundle) != len("demo-")+12 {
		t.Errorf("bundle id %q", l.Bundle)
	}
	if l.Created != "2024-05-01T12:00:00Z" {
		t.Errorf("created %q", l.Created)
	}
	if len(notes) != 1 || notes[0] != "skipping step fixit: optional artifact fixit not supplied (builder --add fixit=PATH)" {
		t.Errorf("notes %q", notes)
	}
	fixit, clean, setup := l.Steps[1], l.Steps[2], l.Steps[3]
	if fixit.Skip == "" || fixit.Program != "" {
		t.Errorf("fixit step %+v", fixit)
	}
	if clean.Program != "payloads/tools/bin/tool.exe" || clean.Args != `/q:a /c:"x.exe /u"` || clean.Timeout != 1800 ||
		clean.Reboot != payload.RebootAfter || clean.ExitCodes[3010].Outcome != payload.OutcomeReboot || clean.ExitCodes[3].Outcome != payload.OutcomeFailure {
		t.Errorf("clean step %+v", clean)
	}
	if setup.Timeout != 3600 || setup.Reboot != payload.RebootIfNeeded || setup.When == nil {
		t.Errorf("setup step %+v", setup)
	}
	if probs := payload.CheckLock(b.LockJSON, l); len(probs) > 0 {
		t.Errorf("fresh lock has problems: %q", probs)
	}
	// Any change to the content changes the id.
	l2 := *l
	l2.Steps = append([]payload.LockStep(nil), l.Steps...)
	l2.Steps[3].Args = "/q /norestart"
	if id, _ := payload.BundleID(&l2); id == l.Bundle {
		t.Error("bundle id did not change with the steps")
	}
}

func TestZipReproducible(t *testing.T) {
	o := fixture(t)
	a := build(t, o, filepath.Join(t.TempDir(), "a.zip"))
	out := filepath.Join(t.TempDir(), "sub", "b.zip")
	os.MkdirAll(filepath.Dir(out), 0o755)
	b := build(t, fixture(t), out)
	if a != b {
		t.Fatalf("two builds differ: %s %s", a, b)
	}
	side, err := os.ReadFile(out + ".sha256")
	if err != nil || string(side) != b+"  b.zip\n" {
		t.Fatalf("sidecar %q %v", side, err)
	}
	got, _, _ := payload.HashFile(out)
	if got != b {
		t.Fatalf("sidecar says %s, zip is %s", b, got)
	}
	// Only the output and its sidecar are left: no temp file.
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 2 {
		t.Errorf("left in the output folder: %v", ents)
	}
	r, err := Verify(out)
	if err != nil || !r.OK() {
		t.Fatalf("verify: %v %q", err, r.Problems)
	}
	// Entries are sorted, dated `created`, payloads stored, text deflated.
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i, f := range zr.File {
		if i > 0 && zr.File[i-1].Name >= f.Name {
			t.Errorf("entry %s out of order", f.Name)
		}
		if !f.Modified.Equal(created) {
			t.Errorf("%s dated %s", f.Name, f.Modified)
		}
		stored := strings.HasSuffix(f.Name, ".exe")
		if stored != (f.Method == zip.Store) {
			t.Errorf("%s method %d", f.Name, f.Method)
		}
	}
}

func TestStartCmdAndReadme(t *testing.T) {
	o := fixture(t)
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var start, rd []byte
	for _, e := range b.entries {
		switch e.path {
		case payload.StartCmd:
			start = e.data
		case payload.ReadmeTxt:
			rd = e.data
		}
	}
	for name, s := range map[string][]byte{"START.cmd": start, "README.txt": rd} {
		if bytes.Count(s, []byte("\n")) != bytes.Count(s, []byte("\r\n")) {
			t.Errorf("%s has bare LF line endings", name)
		}
	}
	// The stick's folder may hold ^ or % (Wine's cmd mangles those in %~dp0
	// itself, so this is checked on the text): START.cmd must never pass
	// it through a variable or call, which parse it again.
	if bytes.Contains(start, []byte("HERE")) || bytes.Contains(start, []byte(`call "%`)) {
		t.Errorf("START.cmd passes its folder through a variable:\n%s", start)
	}
	// START.cmd runs on XP SP3 too: nothing that came later.
	for _, bad := range []string{"timeout", "choice", "where ", "setx", "forfiles", "robocopy", "powershell", "icacls", "mklink", "wmic", "/v:on", "!"} {
		if bytes.Contains(bytes.ToLower(start), []byte(bad)) {
			t.Errorf("START.cmd uses %q, which Windows XP SP3 does not have (or delayed expansion)", bad)
		}
	}
	for _, want := range []string{`pushd "%~dp0"`, "call legacy\\run.cmd %*", `.\%RUNNER% %*`, `set "RUNNER=runner.exe"`, "PROCESSOR_ARCHITEW6432", "if %MAJOR% GEQ 10 goto modern"} {
		if !bytes.Contains(start, []byte(want)) {
			t.Errorf("START.cmd lacks %q", want)
		}
	}
	for _, want := range []string{"Demo fix", "START.cmd", "Run as administrator", "3. Clean  [clean]", `payloads\tools\bin\tool.exe`,
		`with: /q:a /c:"x.exe /u"`, "Only if ", "The computer restarts after this step.", "Stopped if it runs longer than 30 minutes.", "NOT IN THIS BUNDLE, skipped", "reports\\<COMPUTER NAME>\\report.json",
		"published\r\n   beside it", "about 1 min for this", `All Users\Application Data\fixstick`} {
		if !bytes.Contains(rd, []byte(want)) {
			t.Errorf("README.txt lacks %q:\n%s", want, rd)
		}
	}
	if bytes.Contains(rd, []byte("minisign")) {
		t.Errorf("README.txt of an unsigned bundle speaks of a signature:\n%s", rd)
	}
}

// A signed bundle's README.txt names the key and says how to check it.
func TestReadmeSigned(t *testing.T) {
	o := fixture(t)
	o.SignKeyID = "0123456789ABCDEF"
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var rd []byte
	for _, e := range b.entries {
		if e.path == payload.ReadmeTxt {
			rd = e.data
		}
	}
	for _, want := range []string{"Signed with minisign key ID 0123456789ABCDEF", "never with one found on the stick",
		"minisign -Vm BUNDLE.zip -p KEY.pub", "runner.exe verify --key KEY.pub --bundle FOLDER", "On XP to 8.1 nothing checks the signature"} {
		if !bytes.Contains(rd, []byte(want)) {
			t.Errorf("README.txt lacks %q:\n%s", want, rd)
		}
	}
}

func TestPrepareRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(o *Options)
		want string
	}{
		"required artifact missing": {func(o *Options) { delete(o.Sources, "setup") }, "artifact setup is required"},
		"pin mismatch":              {func(o *Options) { s := o.Sources["setup"]; s.SHA256 = strings.Repeat("0", 64); o.Sources["setup"] = s }, "does not match the manifest's pin"},
		"no runner":                 {func(o *Options) { o.Runners = o.Runners[:1] }, "runner program runner-x86.exe missing"},
		"extract pin mismatch": {func(o *Options) {
			o.Manifest.Artifacts[1].Extract[0].SHA256 = strings.Repeat("1", 64)
			o.Manifest.Artifacts[1].Extract[0].Size = 0
		}, "checksum mismatch"},
		"extract size mismatch": {func(o *Options) { o.Manifest.Artifacts[1].Extract[0].Size = 3 }, "the manifest pins 3"},
		"legacy outside": {func(o *Options) {
			o.Legacy = func(*payload.Lock) (map[string][]byte, error) { return map[string][]byte{"runner.exe": nil}, nil }
		}, "not under legacy/"},
		"legacy collides": {func(o *Options) {
			o.Legacy = func(*payload.Lock) (map[string][]byte, error) {
				return map[string][]byte{"legacy/run.cmd": nil, "legacy/RUN.cmd": nil}, nil
			}
		}, "same file on Windows"},
	} {
		t.Run(name, func(t *testing.T) {
			o := fixture(t)
			tc.edit(&o)
			tmp := t.TempDir()
			_, err := Prepare(context.Background(), o, tmp)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

func TestHostileArchives(t *testing.T) {
	ok := zipEntry{name: "bin/tool.exe", data: "MZ cleanup tool"}
	for name, tc := range map[string]struct {
		archive func(t *testing.T) []byte
		want    string
	}{
		"traversal":         {zips(ok, zipEntry{name: "../../evil.exe", data: "x"}), `".."`},
		"backslash":         {zips(ok, zipEntry{name: `..\..\evil.exe`, data: "x"}), "backslash"},
		"absolute":          {zips(ok, zipEntry{name: "/abs", data: "x"}), "absolute"},
		"drive letter":      {zips(ok, zipEntry{name: "C:/x.exe", data: "x"}), "drive letter"},
		"drive relative":    {zips(ok, zipEntry{name: "C:x.exe", data: "x"}), "drive letter"},
		"colon in name":     {zips(ok, zipEntry{name: "ab:c", data: "x"}), `contains ':'`},
		"one-letter colon":  {zips(ok, zipEntry{name: "1:b", data: "x"}), `contains ':'`},
		"reserved":          {zips(ok, zipEntry{name: "nul.txt", data: "x"}), "reserved device name"},
		"stream":            {zips(ok, zipEntry{name: "x.txt:hidden", data: "x"}), `contains ':'`},
		"trailing dot":      {zips(ok, zipEntry{name: "setup.exe.", data: "x"}), "ends in a dot"},
		"trailing space":    {zips(ok, zipEntry{name: "setup.exe ", data: "x"}), "ends in a dot or space"},
		"case collision":    {zips(ok, zipEntry{name: "BIN/Tool.exe", data: "x"}), "differ only in case"},
		"duplicate":         {zips(ok, ok), "appears twice"},
		"dir then file":     {zips(zipEntry{name: "a/"}, zipEntry{name: "a", data: "x"}, ok), "both a file and a folder"},
		"file then subpath": {zips(zipEntry{name: "bin", data: "x"}, ok), "both a file and a folder"},
		"symlink":           {zips(zipEntry{name: "ok/link", data: "/etc", mode: os.ModeSymlink | 0o777}, ok), "link"},
		"invalid utf8":      {zips(ok, zipEntry{name: "bad\xff.exe", data: "x"}), "not valid UTF-8"},
		"control char":      {zips(ok, zipEntry{name: "a\x01b", data: "x"}), "control character"},
		"short name":        {zips(ok, zipEntry{name: "PROGRA~1/x", data: "x"}), "8.3 short name"},
		"tar":               {tars(&tar.Header{Name: "bin/tool.exe", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}), "it is a tar archive; the builder extracts zip archives only"},
		"missing entry":     {zips(zipEntry{name: "bin/other.exe", data: "x"}), `has no entry "bin/tool.exe"`},
		"case of wanted":    {zips(zipEntry{name: "bin/TOOL.exe", data: "MZ cleanup tool"}), `it has "bin/TOOL.exe"`},
		"not an archive":    {func(*testing.T) []byte { return []byte("just text, not an archive at all") }, "not a zip archive"},
		"truncated":         {func(t *testing.T) []byte { z := zips(ok)(t); return z[:len(z)-30] }, "refused"},
	} {
		t.Run(name, func(t *testing.T) {
			o := fixture(t)
			o.Sources["tools"] = writeFile(t, t.TempDir(), "tools.zip", tc.archive(t))
			tmp := t.TempDir()
			_, err := Prepare(context.Background(), o, tmp)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

func zips(es ...zipEntry) func(t *testing.T) []byte {
	return func(t *testing.T) []byte { return makeZip(t, es...) }
}

func tars(hs ...*tar.Header) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range hs {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
		}
		tw.Close()
		return b.Bytes()
	}
}

func TestArchiveLimits(t *testing.T) {
	o := fixture(t)
	es := []zipEntry{{name: "bin/tool.exe", data: "MZ cleanup tool"}}
	for i := 0; i < 20; i++ {
		es = append(es, zipEntry{name: "f" + strings.Repeat("x", i), data: strings.Repeat("y", 100)})
	}
	o.Sources["tools"] = writeFile(t, t.TempDir(), "tools.zip", makeZip(t, es...))
	for name, lim := range map[string]Limits{
		"entries":    {Entries: 10, EntrySize: 1 << 20, TotalSize: 1 << 20, PathLen: 100, PathDepth: 5},
		"entry size": {Entries: 100, EntrySize: 50, TotalSize: 1 << 20, PathLen: 100, PathDepth: 5},
		"total":      {Entries: 100, EntrySize: 1 << 20, TotalSize: 1000, PathLen: 100, PathDepth: 5},
		"path len":   {Entries: 100, EntrySize: 1 << 20, TotalSize: 1 << 20, PathLen: 10, PathDepth: 5},
		"depth":      {Entries: 100, EntrySize: 1 << 20, TotalSize: 1 << 20, PathLen: 100, PathDepth: 1},
	} {
		o.Limits = lim
		if _, err := Prepare(context.Background(), o, t.TempDir()); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	o.Limits = Limits{Entries: 100, EntrySize: 1 << 20, TotalSize: 1 << 20, PathLen: 100, PathDepth: 5}
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatalf("within limits: %v", err)
	}
	b.Close()
}

// An entry that holds more than it declares is refused, whatever the
// format's reader checks: copyEntry reads at most declared+1 bytes and
// says so. (Go's zip reader stops such an entry itself, with ErrFormat,
// so the entry here comes from a reader that does not check.)
func TestEntryLongerThanDeclared(t *testing.T) {
	data := "MZ cleanup tool"
	e := openerFunc(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil })
	dst := filepath.Join(t.TempDir(), "x")
	_, err := copyEntry(e, "bin/tool.exe", int64(len(data)-4), dst)
	want := fmt.Sprintf(`entry "bin/tool.exe" declares %d bytes but holds more`, len(data)-4)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	// The same bytes under their true size are taken.
	if _, err := copyEntry(e, "bin/tool.exe", int64(len(data)), dst+"2"); err != nil {
		t.Fatalf("the true size: %v", err)
	}
}

type openerFunc func() (io.ReadCloser, error)

func (f openerFunc) Open() (io.ReadCloser, error) { return f() }

func TestResolveCreated(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	m := &payload.Manifest{Path: "m.yaml"}
	if c, note, err := ResolveCreated(m, env("1700000000")); err != nil || note != "" || c.Format(time.RFC3339) != "2023-11-14T22:13:20Z" {
		t.Errorf("SOURCE_DATE_EPOCH: %v %q %v", c, note, err)
	}
	if c, note, err := ResolveCreated(m, env("")); err != nil || note == "" || !c.Equal(FallbackCreated) {
		t.Errorf("fallback: %v %q %v", c, note, err)
	}
	m.Created = "2024-05-01T14:00:00+02:00"
	if c, _, err := ResolveCreated(m, env("1700000000")); err != nil || c.Format(time.RFC3339) != "2024-05-01T12:00:00Z" {
		t.Errorf("manifest created: %v %v", c, err)
	}
	for _, bad := range []string{"yesterday", "1970-01-01T00:00:00Z"} {
		m.Created = bad
		if _, _, err := ResolveCreated(m, env("")); err == nil {
			t.Errorf("created %q accepted", bad)
		}
	}
	m.Created = ""
	if _, _, err := ResolveCreated(m, env("soon")); err == nil {
		t.Error("SOURCE_DATE_EPOCH=soon accepted")
	}
}

func TestDuration(t *testing.T) {
	for sec, want := range map[int64]string{1: "1 second", 45: "45 seconds", 60: "1 minute", 90: "90 seconds",
		1800: "30 minutes", 3600: "60 minutes", 7200: "2 hours", 5400: "90 minutes"} {
		if got := duration(sec); got != want {
			t.Errorf("duration(%d) = %q, want %q", sec, got, want)
		}
	}
}
