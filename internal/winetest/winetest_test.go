package winetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// readRuns returns the fake installer's records in p.
func readRuns(t *testing.T, p *Prefix) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(p.C("fixstick-test", "runs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var runs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	return runs
}

func TestHarness(t *testing.T) {
	w := Get(t)
	p := w.NewPrefix(t)
	fake := w.GoBuild(t, "fixstick/internal/winetest/fixtures/fakeinstaller", "amd64", "-s -w")

	// A Go 1.26 program starts (the shim works) and its name picks the
	// exit code; Linux sees only the low 8 bits.
	exe := p.C("tools", "setup_exit1603.exe")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fake)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	r := p.Run(p.WinPath(exe))
	if r.Status != 1603&0xff {
		t.Fatalf("status %d, want %d\n%s", r.Status, 1603&0xff, r.Stderr)
	}
	runs := readRuns(t, p)
	if len(runs) != 1 || runs[0]["exit"] != float64(1603) || runs[0]["path"] != `C:\tools\setup_exit1603.exe` {
		t.Errorf("runs %v", runs)
	}
	if got, ok := p.RegQuery(`HKLM\SOFTWARE\FixstickTest\setup_exit1603`, "Runs", 64); !ok || got != "0x1" {
		t.Errorf("Runs = %q, %v", got, ok)
	}

	// The registry views are separate.
	p.RegAdd(`HKLM\SOFTWARE\WinetestProbe`, "V", "REG_SZ", "thirty two", 32)
	if got, ok := p.RegQuery(`HKLM\SOFTWARE\WinetestProbe`, "V", 32); !ok || got != "thirty two" {
		t.Errorf("32-bit view: %q, %v", got, ok)
	}
	if _, ok := p.RegQuery(`HKLM\SOFTWARE\WinetestProbe`, "V", 64); ok {
		t.Errorf("a 32-bit value is visible in the 64-bit view")
	}
	p.RegDelete(`HKLM\SOFTWARE\WinetestProbe`, "", 32)
	if _, ok := p.RegQuery(`HKLM\SOFTWARE\WinetestProbe`, "V", 32); ok {
		t.Errorf("RegDelete left the value")
	}

	// A restart runs the machine-wide RunOnce entries, once.
	p.RegAdd(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "probe", "REG_SZ", `C:\tools\setup_exit1603.exe /after "reboot"`, 64)
	p.Reboot()
	runs = readRuns(t, p)
	if len(runs) != 2 || runs[1]["cmdline"] != `C:\tools\setup_exit1603.exe /after "reboot"` {
		t.Fatalf("runs after the restart: %v", runs)
	}
	if _, ok := p.RegQuery(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "probe", 64); ok {
		t.Errorf("the RunOnce entry is still there")
	}
	if got := p.HostPath(`C:\tools\setup_exit1603.exe`); got != exe {
		t.Errorf("HostPath %q", got)
	}
}
