package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args   []string
		status int
		out    string // in stdout or stderr
	}{
		{[]string{"version"}, 0, "runner.exe devel (fixstick)"},
		{[]string{"--help"}, 0, "usage: runner [COMMAND] [flags]"},
		{[]string{"help"}, 0, "detect    list the installed .NET Framework versions"},
		{[]string{"frobnicate"}, 2, `runner: error: unknown command "frobnicate"`},
		{[]string{"run", "--bogus"}, 2, "runner: error: unknown flag: --bogus"},
		{[]string{"plan", "extra"}, 2, `runner: error: unexpected argument "extra"`},
		// each command takes only its own flags
		{[]string{"verify", "--reboot"}, 2, "runner: error: verify does not take --reboot"},
		{[]string{"plan", "--yes"}, 2, "runner: error: plan does not take --yes"},
		{[]string{"status", "--without-restart"}, 2, "runner: error: status does not take --without-restart"},
		{[]string{"status", "--key", "k.pub"}, 2, "runner: error: status does not take --key"},
		{[]string{"detect", "--bundle", "x"}, 2, "runner: error: detect does not take --bundle"},
		{[]string{"version", "-y"}, 2, "runner: error: version does not take --yes"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		status := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
		if status != tc.status || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
			t.Errorf("runner %v: status %d\nstdout: %s\nstderr: %s\nwant status %d and %q", tc.args, status, &stdout, &stderr, tc.status, tc.out)
		}
	}
}
