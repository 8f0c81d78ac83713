package runnerbin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

func runnerDir(t *testing.T, amd64, x86 string) string {
	t.Helper()
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, payload.LegacyDir), 0o755)
	for name, data := range map[string]string{payload.RunnerAMD64: amd64, payload.RunnerX86: x86,
		payload.LegacyHelperAMD64: "MZ helper", payload.LegacyHelperX86: "MZ helper x86"} {
		if data != "" {
			os.WriteFile(filepath.Join(d, filepath.FromSlash(name)), []byte(data), 0o644)
		}
	}
	return d
}

func TestLoad(t *testing.T) {
	flagDir := runnerDir(t, "MZ flag amd64", "MZ flag x86")
	envDir := runnerDir(t, "MZ env amd64", "MZ env x86")
	env := func(k string) string {
		if k == EnvDir {
			return envDir
		}
		return ""
	}
	fs, from, err := Load(flagDir, env)
	if err != nil || len(fs) != 4 || string(fs[0].Data) != "MZ flag amd64" || fs[0].Path != payload.RunnerAMD64 || fs[1].Path != payload.RunnerX86 || from != flagDir {
		t.Fatalf("--runner-dir: %v %q %v", fs, from, err)
	}
	fs, from, err = Load("", env)
	if err != nil || string(fs[1].Data) != "MZ env x86" || from != envDir {
		t.Fatalf("%s: %v %q %v", EnvDir, fs, from, err)
	}
}

func TestLoadRefuses(t *testing.T) {
	none := func(string) string { return "" }
	for name, tc := range map[string]struct {
		dir  string
		want string
	}{
		"missing x86":   {runnerDir(t, "MZ a", ""), "no runner-x86.exe in"},
		"not a program": {runnerDir(t, "MZ a", "#!/bin/sh"), "is not a Windows program"},
		"empty folder":  {t.TempDir(), "run make runner"},
	} {
		if _, _, err := Load(tc.dir, none); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
	bad := func(k string) string {
		if k == EnvDir {
			return t.TempDir()
		}
		return ""
	}
	if _, _, err := Load("", bad); err == nil || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("bad %s: error %v", EnvDir, err)
	}
}

// dist/ is trusted only at the root of this module: the nearest go.mod
// must name fixstick.
func TestModuleDist(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ours := filepath.Join(root, "ours")
	write(filepath.Join(ours, "go.mod"), "// the project\nmodule fixstick // comment\n\ngo 1.26\n")
	other := filepath.Join(root, "other")
	write(filepath.Join(other, "go.mod"), "module example.com/fixstick\n")
	nested := filepath.Join(ours, "vendor", "x")
	write(filepath.Join(nested, "go.mod"), "module \"x\"\n")
	for dir, want := range map[string]string{
		filepath.Join(ours, "builder", "internal"): filepath.Join(ours, "dist"),
		ours:                         filepath.Join(ours, "dist"),
		filepath.Join(other, "sub"):  "",
		filepath.Join(nested, "sub"): "",
		root:                         "",
	} {
		if got := moduleDist(dir); got != want {
			t.Errorf("moduleDist(%s) = %q, want %q", dir, got, want)
		}
	}
}
