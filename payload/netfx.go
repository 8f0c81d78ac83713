package payload

// NetFxKeyRoot is where .NET Framework setup records each version.
const NetFxKeyRoot = `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\`

// NetFxRule is registry evidence for one netfx fact (KB318785, and
// Microsoft's "How to: Determine which .NET Framework versions are
// installed" for the Release values): the value must read as a number (a
// DWORD, or a string of decimal digits) of at least Min. Both executors,
// the Go runner and the legacy script, read it from the same table.
type NetFxRule struct {
	Fact  string
	Key   string
	Value string
	Min   uint64
}

// NetFxRules returns the evidence for every fact `detect: netfx` records,
// in the order of Facts(DetectNetFx). A fact is recorded when any of its
// rules holds in either registry view: a 32-bit installer on a 64-bit
// Windows may have written only the Wow6432Node copy. netfx40 has two
// rules: the 4.0 Client Profile alone also counts as 4.0 installed.
func NetFxRules() []NetFxRule {
	const ndp = NetFxKeyRoot
	return []NetFxRule{
		{"netfx10", `HKLM\SOFTWARE\Microsoft\.NETFramework\Policy\v1.0\3705`, "Install", 1}, // REG_SZ "1"
		{"netfx11", ndp + `v1.1.4322`, "Install", 1},
		{"netfx11sp1", ndp + `v1.1.4322`, "SP", 1},
		{"netfx20", ndp + `v2.0.50727`, "Install", 1},
		{"netfx30", ndp + `v3.0\Setup`, "InstallSuccess", 1},
		{"netfx35", ndp + `v3.5`, "Install", 1},
		{"netfx35sp1", ndp + `v3.5`, "SP", 1},
		{"netfx40", ndp + `v4\Full`, "Install", 1},
		{"netfx40", ndp + `v4\Client`, "Install", 1},
		{"netfx45", ndp + `v4\Full`, "Release", 378389},
		{"netfx451", ndp + `v4\Full`, "Release", 378675},
		{"netfx452", ndp + `v4\Full`, "Release", 379893},
		{"netfx46", ndp + `v4\Full`, "Release", 393295},
		{"netfx461", ndp + `v4\Full`, "Release", 394254},
		{"netfx462", ndp + `v4\Full`, "Release", 394802},
		{"netfx47", ndp + `v4\Full`, "Release", 460798},
		{"netfx471", ndp + `v4\Full`, "Release", 461308},
		{"netfx472", ndp + `v4\Full`, "Release", 461808},
		{"netfx48", ndp + `v4\Full`, "Release", 528040},
		{"netfx481", ndp + `v4\Full`, "Release", 533320},
	}
}

// NetFxFileRule is file evidence for a netfx fact: a file that only that
// version installs. It finds a version whose registry key is gone (a
// damaged or half-removed installation), which the cleanup tool would
// remove and nothing would put back. Path starts with %SystemRoot%.
type NetFxFileRule struct {
	Fact string
	Path string
}

// NetFxFileRules returns the file evidence `detect: netfx` also accepts;
// both executors read it from this table. .NET 1.1 is 32-bit only and
// always lives under Framework (never Framework64); its runtime is
// mscorwks.dll there (the MS13-052 checks of KB2833941 read files in that
// folder: Tenable's smb_nt_ms13-052.nasl).
func NetFxFileRules() []NetFxFileRule {
	return []NetFxFileRule{
		{"netfx11", `%SystemRoot%\Microsoft.NET\Framework\v1.1.4322\mscorwks.dll`},
	}
}
