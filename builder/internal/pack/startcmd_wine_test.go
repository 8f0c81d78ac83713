package pack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/internal/winetest"
)

func TestMain(m *testing.M) { winetest.Main(m) }

// START.cmd picks runner.exe or runner-x86.exe on Windows 10 and later and
// legacy\run.cmd before, reading the version Wine's `ver` prints (without
// "[Version"), from a folder whose name has a space, passing its arguments
// on. The runners are a stand-in that prints its name and arguments.
func TestStartCmdUnderWine(t *testing.T) {
	w := winetest.Get(t)
	p := w.NewPrefix(t)
	echo, err := os.ReadFile(w.GoBuild(t, "fixstick/builder/internal/pack/testdata/argsecho", "amd64", "-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	dir := p.C("USB stick", "bundle")
	for name, data := range map[string][]byte{
		"START.cmd":      crlf(startCmd),
		"runner.exe":     echo,
		"runner-x86.exe": echo, // amd64 too: this Wine cannot run 32-bit code; the name is what counts
		"legacy/run.cmd": crlf("@echo off\necho started legacy run.cmd with [%*]\n"),
	} {
		f := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A batch file starts START.cmd, so that Wine does not re-quote the
	// arguments on the way.
	run := func(setArch string) string {
		t.Helper()
		script := "@echo off\n" + setArch + "\ncall \"C:\\USB stick\\bundle\\START.cmd\" /x \"a b\"\n"
		if err := os.WriteFile(p.C("go.cmd"), crlf(script), 0o644); err != nil {
			t.Fatal(err)
		}
		r := p.RunEnv([]string{"FIXSTICK_NOPAUSE=1"}, "cmd", "/c", `C:\go.cmd`)
		return r.Stdout
	}
	for _, tc := range []struct {
		version, arch, want string
	}{
		{"win10", "", "Windows version 10.0\r\nstarted runner.exe with [/x|a b]"},
		{"win10", "set PROCESSOR_ARCHITECTURE=x86\nset PROCESSOR_ARCHITEW6432=", "started runner-x86.exe with [/x|a b]"},
		{"win10", "set PROCESSOR_ARCHITECTURE=x86\nset PROCESSOR_ARCHITEW6432=AMD64", "started runner.exe with [/x|a b]"},
		{"win81", "", "Windows version 6.3\r\nstarted legacy run.cmd with [/x \"a b\"]"},
		{"win7", "", "Windows version 6.1\r\nstarted legacy run.cmd with [/x \"a b\"]"},
		{"winxp64", "", "Windows version 5.2\r\nstarted legacy run.cmd with [/x \"a b\"]"},
	} {
		p.SetWindowsVersion(tc.version)
		if out := run(tc.arch); !strings.Contains(out, tc.want) {
			t.Errorf("%s %q: output\n%s\nwant it to hold %q", tc.version, tc.arch, out, tc.want)
		}
	}
}
