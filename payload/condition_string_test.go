package payload

import "testing"

func TestConditionString(t *testing.T) {
	one, s1 := uint64(378389), "1"
	yes, no := true, false
	tests := []struct {
		c    Condition
		want string
	}{
		{Condition{Recorded: "netfx11sp1"}, ".NET Framework 1.1 SP1 was recorded as installed (netfx11sp1)"},
		{Condition{Recorded: "netfx99"}, "the fact netfx99 was recorded"},
		{Condition{Registry: &RegistryCond{Key: `HKLM\SOFTWARE\M979906`, Value: "Installed", Equals: &s1, View: 32}},
			`the registry value HKLM\SOFTWARE\M979906\Installed equals 1 (32-bit view)`},
		{Condition{Registry: &RegistryCond{Key: `HKLM\K`, Value: "Release", Min: &one}},
			`the registry value HKLM\K\Release is at least 378389 (64-bit view)`},
		{Condition{Registry: &RegistryCond{Key: `HKLM\K`, Exists: &yes}}, `the registry key HKLM\K exists (64-bit view)`},
		{Condition{Registry: &RegistryCond{Key: `HKLM\K`, Value: "V", Exists: &no}}, `the registry value HKLM\K\V does not exist (64-bit view)`},
		{Condition{OS: &OSCond{Min: "5.1", Max: "5.1"}}, "Windows is version 5.1 (Windows XP)"},
		{Condition{OS: &OSCond{Min: "6.1", Arch: "x64"}}, "Windows is version 6.1 (Windows 7 / Server 2008 R2) or later, 64-bit (x64)"},
		{Condition{OS: &OSCond{Max: "9.9"}}, "Windows is version 9.9 or earlier"},
		{Condition{File: &FileCond{Path: `%SystemRoot%\a.dll`, MinVersion: "1.1.4322.2503"}},
			`the file %SystemRoot%\a.dll exists with version 1.1.4322.2503 or later`},
		{Condition{All: []Condition{{Recorded: "netfx11"}, {Any: []Condition{{Recorded: "netfx20"}, {Recorded: "netfx30"}}}}},
			".NET Framework 1.1 was recorded as installed (netfx11) and (.NET Framework 2.0 was recorded as installed (netfx20) or .NET Framework 3.0 was recorded as installed (netfx30))"},
		{Condition{Any: []Condition{{Recorded: "netfx40"}}}, ".NET Framework 4 was recorded as installed (netfx40)"},
		{Condition{Not: &Condition{OS: &OSCond{Arch: "x86"}}}, "not (Windows is 32-bit (x86))"},
		{Condition{}, "(empty condition)"},
	}
	for _, tc := range tests {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	w, u := &Condition{Recorded: "netfx11"}, &Condition{OS: &OSCond{Arch: "x64"}}
	tests := []struct {
		when, unless *Condition
		want         string
	}{
		{nil, nil, "always"},
		{w, nil, "only if .NET Framework 1.1 was recorded as installed (netfx11)"},
		{nil, u, "unless Windows is 64-bit (x64)"},
		{w, u, "only if .NET Framework 1.1 was recorded as installed (netfx11), and unless Windows is 64-bit (x64)"},
	}
	for _, tc := range tests {
		if got := Describe(tc.when, tc.unless); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestFacts(t *testing.T) {
	fs := Facts(DetectNetFx)
	if len(fs) != 19 || fs[0].Name != "netfx10" || fs[len(fs)-1].Name != "netfx481" {
		t.Fatalf("netfx facts: %v", fs)
	}
	fs[0].Name = "changed"
	if Facts(DetectNetFx)[0].Name != "netfx10" {
		t.Error("Facts returns the package's own slice")
	}
	if Facts("java") != nil {
		t.Error("unknown family has facts")
	}
	if f, fam, ok := LookupFact("netfx35sp1"); !ok || fam != DetectNetFx || f.Title != ".NET Framework 3.5 SP1" {
		t.Errorf("LookupFact(netfx35sp1) = %v %q %v", f, fam, ok)
	}
	if _, _, ok := LookupFact("NETFX11"); ok {
		t.Error("facts are matched without regard to case")
	}
}
