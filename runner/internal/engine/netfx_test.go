package engine

import (
	"strings"
	"testing"

	"fixstick/payload"
)

func TestDetectNetFx(t *testing.T) {
	sys := newFakeSys(t)
	num := func(n uint64) RegValue { return RegValue{Num: n, IsNum: true, Numeric: true} }
	sys.setReg(64, `HKLM\SOFTWARE\Microsoft\.NETFramework\Policy\v1.0\3705`, "Install", RegValue{String: "1", Num: 1, IsNum: true})
	sys.setReg(32, payload.NetFxKeyRoot+`v1.1.4322`, "Install", num(1))
	sys.setReg(32, payload.NetFxKeyRoot+`v1.1.4322`, "SP", num(1))
	sys.setReg(64, payload.NetFxKeyRoot+`v2.0.50727`, "Install", num(0)) // uninstalled: the value stays, set to 0
	sys.setReg(64, payload.NetFxKeyRoot+`v4\Client`, "Install", num(1))
	sys.setReg(64, payload.NetFxKeyRoot+`v4\Full`, "Release", num(461814)) // 4.7.2 on Windows 10
	facts, err := DetectNetFx(sys)
	if err != nil {
		t.Fatal(err)
	}
	want := "netfx10 netfx11 netfx11sp1 netfx40 netfx45 netfx451 netfx452 netfx46 netfx461 netfx462 netfx47 netfx471 netfx472"
	if got := strings.Join(facts, " "); got != want {
		t.Errorf("facts\n got %s\nwant %s", got, want)
	}
	found, _ := DetectNetFxDetail(sys)
	if found[1].Name != "netfx11" || len(found[1].Views) != 1 || found[1].Views[0] != 32 {
		t.Errorf("netfx11 found %+v", found[1])
	}
	if got := DescribeFacts([]string{"netfx11sp1"}); got != ".NET Framework 1.1 SP1 (netfx11sp1)" {
		t.Errorf("describe %q", got)
	}
}

// A damaged .NET 1.1 whose registry key is gone is still found by its
// runtime DLL, so the cleanup does not remove it for good.
func TestDetectNetFx11ByFile(t *testing.T) {
	sys := newFakeSys(t)
	sys.files[`C:\Windows\Microsoft.NET\Framework\v1.1.4322\mscorwks.dll`] = "1.1.4322.2443"
	facts, err := DetectNetFx(sys)
	if err != nil || strings.Join(facts, " ") != "netfx11" {
		t.Fatalf("facts %v, %v", facts, err)
	}
	found, _ := DetectNetFxDetail(sys)
	if f := found[1]; f.Name != "netfx11" || len(f.Views) != 0 || len(f.Files) != 1 || !f.Installed() {
		t.Errorf("netfx11 found %+v", f)
	}
}
