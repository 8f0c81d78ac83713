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
	for name, data := range map[string]string{payload.RunnerAMD64: amd64, payload.RunnerX86: x86} {
		if data != "" {
			os.WriteFile(filepath.Join(d, name), []byte(data), 0o644)
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
	fs, err := Load(flagDir, env)
	if err != nil || len(fs) != 2 || string(fs[0].Data) != "MZ flag amd64" || fs[0].Path != payload.RunnerAMD64 || fs[1].Path != payload.RunnerX86 {
		t.Fatalf("--runner-dir: %v %v", fs, err)
	}
	fs, err = Load("", env)
	if err != nil || string(fs[1].Data) != "MZ env x86" {
		t.Fatalf("%s: %v %v", EnvDir, fs, err)
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
		if _, err := Load(tc.dir, none); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
	bad := func(k string) string {
		if k == EnvDir {
			return t.TempDir()
		}
		return ""
	}
	if _, err := Load("", bad); err == nil || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("bad %s: error %v", EnvDir, err)
	}
}
