package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"fixstick/builder/internal/manifest"
)

// TestPlanSeed checks the plan of the shipped procedure: the command lines
// the runner will pass, in order, and the totals.
func TestPlanSeed(t *testing.T) {
	m, err := manifest.Load("../manifests/netfx11sp1-kb979906.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := makePlan(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"",
		`"%SystemRoot%\System32\msiexec.exe" /i "<BUNDLE>\payloads\fixit50123\MicrosoftFixit50123.msi" /qn /norestart /l*v "<LOGS>\fixit.log"`,
		`"<BUNDLE>\payloads\kb979906\NDP1.1sp1-KB979906-X86.exe" /q /norestart`,
		`"<BUNDLE>\payloads\cleanup-tool\cleanup_tool.exe" /q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`,
		`"<BUNDLE>\payloads\cleanup-tool\cleanup_tool.exe" /q:a /c:"cleanup.exe /p .NET Framework - All Versions (Tablet PC and Media Center) /u"`,
		`"<BUNDLE>\payloads\netfx35sp1\dotnetfx35.exe" /q /norestart /lang:ENU`,
		`"<BUNDLE>\payloads\netfx11\dotnetfx.exe" /q:a /c:"install /l /q"`,
		`"<BUNDLE>\payloads\netfx11sp1\NDP1.1sp1-KB867460-X86.exe" /q`,
		`"<BUNDLE>\payloads\netfx40\dotNetFx40_Full_x86_x64.exe" /q /norestart`,
		`"<BUNDLE>\payloads\kb979906\NDP1.1sp1-KB979906-X86.exe" /q /norestart`,
		`"<BUNDLE>\payloads\kb2833941\NDP1.1sp1-KB2833941-X86.exe" /q /norestart`,
	}
	if len(p.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(p.Steps), len(want))
	}
	for i, s := range p.Steps {
		if s.CommandLine != want[i] {
			t.Errorf("step %d (%s):\n got %s\nwant %s", i+1, s.ID, s.CommandLine, want[i])
		}
	}
	if s := p.Steps[3]; s.Reboot != "after" || s.TimeoutSeconds != 1800 || s.Skip != "" || s.Artifact.Status != "required, pinned" {
		t.Errorf("cleanup: %+v", s)
	}
	for i, s := range p.Steps {
		skipped := s.ID == "fixit" || s.ID == "kb2833941" // optional and unpinned
		if (s.Skip != "") != skipped {
			t.Errorf("step %d %s: skip %q", i+1, s.ID, s.Skip)
		}
	}
	if p.Requires == "" || p.RequiresCond == nil || len(p.GoalCond.Any) != 2 || !strings.Contains(p.Goal, `M2833941\Installed equals 1`) {
		t.Errorf("requires %q, goal %q", p.Requires, p.Goal)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"requires_condition":{"all":[{"os":{"min":"5.1","max":"5.1","arch":"x86"}},{"recorded":"netfx11"}]}`,
		`"goal":"the registry value`, `"on_failure":"continue"`, `"finish_if_goal_met":true`} {
		if !strings.Contains(string(js), s) {
			t.Errorf("plan --json lacks %s", s)
		}
	}
	if s := p.Steps[2]; s.ID != "try-kb979906" || s.OnFailure != "continue" || !s.FinishIfGoalMet {
		t.Errorf("probe: %+v", s)
	}
	tt := p.Totals
	if tt.Downloads != 6 || tt.DownloadBytes != 242743296 || len(tt.UnknownSize) != 5 || strings.Join(tt.LeftOut, ",") != "fixit50123,kb2833941" {
		t.Errorf("totals: %+v", tt)
	}
	var out bytes.Buffer
	if err := p.write(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"For: only where Windows is version 5.1 (Windows XP), 32-bit (x86) and .NET Framework 1.1 was recorded as installed (netfx11).\n",
		"Goal: the registry value HKLM\\SOFTWARE\\Microsoft\\Updates\\.NETFramework\\1.1\\M979906\\Installed equals 1 (32-bit view) or the registry value HKLM\\SOFTWARE\\Microsoft\\Updates\\.NETFramework\\1.1\\M2833941\\Installed equals 1 (32-bit view).\n",
		"   failure:  continue: a failure is expected here; it is reported as tolerated and the run goes on\n" +
			"   then:     if the goal holds when this step ends, the run is finished and the later steps are skipped\n",
		"\n4. Remove all .NET Framework versions with the cleanup tool (KB923100, method 2)  [cleanup]\n",
		"   reboot:   after: the computer always restarts after this step\n",
		`unless the registry value HKLM\SOFTWARE\Microsoft\Updates\.NETFramework\1.1\M979906\Installed equals 1 (32-bit view)`,
		"Left out until pinned (builder pin): fixit50123, kb2833941; their steps are skipped\n",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("plan text lacks %q", s)
		}
	}
}
