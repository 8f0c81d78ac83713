package legacy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fixstick/payload"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The rendered seed executor is reviewed as text: any change to it shows
// in the golden files' diff.
func TestRenderSeedGolden(t *testing.T) {
	files, err := Render(seedLock())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(files), 3; got != want {
		t.Fatalf("Render returned %d files, want %d", got, want)
	}
	for _, name := range []string{RunCmd, Script} {
		golden := filepath.Join("testdata", "seed."+filepath.Base(name)+".golden")
		if *update {
			if err := os.WriteFile(golden, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(files[name], want) {
			t.Errorf("%s differs from %s; run go test -update and review the diff", name, golden)
		}
	}
	cal := files[Calibration]
	for i, c := range cal {
		if int(c) != i {
			t.Fatalf("bytes.bin[%d] = %d", i, c)
		}
	}
	if len(cal) != 256 {
		t.Fatalf("bytes.bin has %d bytes", len(cal))
	}
}

// Every rendered file is ASCII with CRLF line ends: WSH reads a script in
// the ANSI code page, and cmd.exe misreads labels in LF-only batch files.
func TestRenderASCIIAndCRLF(t *testing.T) {
	l := seedLock()
	l.Title = "Réparer «.NET» \u2028 next line"
	files, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{RunCmd, Script} {
		data := files[name]
		for i, c := range data {
			if c >= 0x80 {
				t.Fatalf("%s: non-ASCII byte at %d", name, i)
			}
			if c == '\n' && (i == 0 || data[i-1] != '\r') {
				t.Fatalf("%s: bare LF at %d", name, i)
			}
		}
	}
	if !bytes.Contains(files[Script], []byte(`title: "R\u00e9parer \u00ab.NET\u00bb \u2028 next line"`)) {
		t.Errorf("title not escaped as expected")
	}
}

// The step sections are what a technician reads: one per step, in order,
// with the command line runner.exe would run.
func TestRenderStepSections(t *testing.T) {
	l := seedLock()
	files, err := Render(l)
	if err != nil {
		t.Fatal(err)
	}
	s := string(files[Script])
	last := 0
	for i, st := range l.Steps {
		head := "// Step " + strconv.Itoa(i+1) + " of " + strconv.Itoa(len(l.Steps)) + ": " + st.ID + "\r\n"
		at := strings.Index(s, head)
		if at < last {
			t.Fatalf("section %q missing or out of order", head)
		}
		last = at
	}
	for _, want := range []string{
		`//   Runs:    "<private folder>\b\payloads\cleanup-tool\cleanup_tool.exe" /q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`,
		`cmd: ["\"", "\\b\\payloads\\cleanup-tool\\cleanup_tool.exe\" /q:a /c:\"cleanup.exe /p .NET Framework - All Versions /u\""],`,
		`//   Skipped on every computer: optional artifact fixit50123 not supplied`,
		`unlessText: "the registry value HKLM\\SOFTWARE\\Microsoft\\Updates\\.NETFramework\\1.1\\M979906\\Installed equals 1 (32-bit view)"`,
		`"100": ["failure", "the cleanup failed; read %TEMP%\\cleanup_errors.log"]`,
		`"1603": "fatal error during installation; read the installer's log"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %s", want)
		}
	}
}

// The command line in the script is payload.CommandLine's, piece for
// piece, for every kind: joined with a private folder it is what
// runner.exe would start.
func TestRenderCommandLines(t *testing.T) {
	for _, k := range []payload.Kind{payload.KindExe, payload.KindMSI, payload.KindMSP, payload.KindMSU} {
		ext := map[payload.Kind]string{payload.KindExe: "exe", payload.KindMSI: "msi", payload.KindMSP: "msp", payload.KindMSU: "msu"}[k]
		prog := "payloads/p/setup." + ext
		l := &payload.Lock{Version: 1, Bundle: "b1",
			Files: []payload.LockFile{{Path: prog, SHA256: strings.Repeat("a", 64), Size: 1},
				{Path: payload.LegacyHelperAMD64, SHA256: strings.Repeat("b", 64), Size: 1},
				{Path: payload.LegacyHelperX86, SHA256: strings.Repeat("c", 64), Size: 1}},
			Steps: []payload.LockStep{{ID: "s1", Kind: k, Program: prog, Args: `/q:a /c:"x y" %NOPE%`, Reboot: payload.RebootIfNeeded}}}
		files, err := Render(l)
		if err != nil {
			t.Fatal(err)
		}
		priv := `C:\ProgramData\fixstick\b1`
		log := ""
		if k == payload.KindMSI || k == payload.KindMSP {
			log = priv + `\logs\s1.log`
		}
		_, want, err := payload.CommandLine(k, priv+`\b\payloads\p\setup.`+ext, l.Steps[0].Args, log)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^    cmd: \[(.*)\],\r$`).FindStringSubmatch(string(files[Script]))
		if m == nil {
			t.Fatalf("%s: no cmd line in the script", k)
		}
		if got := strings.Join(unquoteList(t, m[1]), priv); got != want {
			t.Errorf("%s: script runs\n%s\nrunner.exe runs\n%s", k, got, want)
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(l *payload.Lock)
		want string
	}{
		"percent in a registry key": {func(l *payload.Lock) {
			l.Steps[9].Unless.Registry.Key = `HKLM\SOFTWARE\%X%`
		}, "cannot pass %"},
		"quote in a value name": {func(l *payload.Lock) {
			l.Steps[9].Unless.Registry.Value = `a"b`
		}, "cannot pass %"},
		"NUL in args": {func(l *payload.Lock) { l.Steps[2].Args = "a\x00b" }, "NUL"},
		"program not in the lock": {func(l *payload.Lock) {
			l.Steps[2].Program = "payloads/cleanup-tool/other.exe"
		}, "not a payload of the bundle"},
		"program outside payloads": {func(l *payload.Lock) { l.Steps[2].Program = "runner.exe" }, "not a payload"},
		"bundle id with a space":   {func(l *payload.Lock) { l.Bundle = "a b" }, "invalid id"},
		"no helper":                {func(l *payload.Lock) { l.Files = l.Files[:1] }, "lacks the legacy helper legacy/fixhelp.exe"},
		"tab in args": {func(l *payload.Lock) {
			l.Steps[2].Args = "/q\tx"
		}, "a tab or line break"},
		"huge minimum": {func(l *payload.Lock) {
			l.Steps[9].Unless.Registry.Equals, l.Steps[9].Unless.Registry.Min = nil, ptr(uint64(1)<<60)
		}, "2^53"},
	} {
		t.Run(name, func(t *testing.T) {
			l := seedLock()
			c.edit(l)
			_, err := Render(l)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// The RunOnce command that continues a bundle after a restart holds the
// bundle id; Windows runs such commands only up to 260 characters. The
// longest manifest id the format allows fits, with room for longer
// folder names than the English defaults, and a longer one is refused
// when the bundle is built, not after its first restart.
func TestRenderLongestID(t *testing.T) {
	if n := len(resumeCommand("x")); n < 150 || n > 170 {
		t.Fatalf("resume command of a one-letter id is %d characters: %s", n, resumeCommand("x"))
	}
	longest := strings.Repeat("a", payload.MaxIDLen)
	if n := len(resumeCommand(longest)) + resumeMargin; n > maxRunOnce {
		t.Errorf("the longest id gives a resume command of %d characters (with the margin); RunOnce runs at most %d", n, maxRunOnce)
	}
	l := seedLock()
	l.Bundle = longest
	if _, err := Render(l); err != nil {
		t.Fatalf("an id of %d characters: %v", payload.MaxIDLen, err)
	}
	l.Bundle += "a"
	if _, err := Render(l); err == nil || !strings.Contains(err.Error(), "longer than "+strconv.Itoa(payload.MaxIDLen)) {
		t.Fatalf("an id of %d characters: err = %v", payload.MaxIDLen+1, err)
	}
}
