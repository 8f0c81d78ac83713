package engine

import (
	"errors"
	"fmt"
	"strings"

	"fixstick/payload"
)

const ndp = `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\`

// netfxRule is the registry evidence for one netfx fact (KB318785; the
// table in payloads.md (g)).
type netfxRule struct {
	key, value string
	min        uint64 // the value must read as a number (DWORD, or a decimal string) >= min
}

var netfxRules = map[string]netfxRule{
	"netfx10":    {`HKLM\SOFTWARE\Microsoft\.NETFramework\Policy\v1.0\3705`, "Install", 1}, // REG_SZ "1"
	"netfx11":    {ndp + `v1.1.4322`, "Install", 1},
	"netfx11sp1": {ndp + `v1.1.4322`, "SP", 1},
	"netfx20":    {ndp + `v2.0.50727`, "Install", 1},
	"netfx30":    {ndp + `v3.0\Setup`, "InstallSuccess", 1},
	"netfx35":    {ndp + `v3.5`, "Install", 1},
	"netfx35sp1": {ndp + `v3.5`, "SP", 1},
	"netfx40":    {ndp + `v4\Full`, "Install", 1},
	"netfx45":    {ndp + `v4\Full`, "Release", 378389},
	"netfx451":   {ndp + `v4\Full`, "Release", 378675},
	"netfx452":   {ndp + `v4\Full`, "Release", 379893},
	"netfx46":    {ndp + `v4\Full`, "Release", 393295},
	"netfx461":   {ndp + `v4\Full`, "Release", 394254},
	"netfx462":   {ndp + `v4\Full`, "Release", 394802},
	"netfx47":    {ndp + `v4\Full`, "Release", 460798},
	"netfx471":   {ndp + `v4\Full`, "Release", 461308},
	"netfx472":   {ndp + `v4\Full`, "Release", 461808},
	"netfx48":    {ndp + `v4\Full`, "Release", 528040},
	"netfx481":   {ndp + `v4\Full`, "Release", 533320},
}

// the client profile of 4.0 also counts as 4.0 being installed.
var netfx40Client = netfxRule{ndp + `v4\Client`, "Install", 1}

// FactFound is one fact and where its evidence was found.
type FactFound struct {
	payload.Fact
	Evidence string // KEY\VALUE >= N
	Views    []int  // the registry views (64, 32) that hold it; empty: not installed
}

// DetectNetFxDetail checks every netfx fact in both registry views: a
// 32-bit installer on a 64-bit Windows may have written only the
// Wow6432Node copy.
func DetectNetFxDetail(sys System) ([]FactFound, error) {
	var found []FactFound
	for _, f := range payload.Facts(payload.DetectNetFx) {
		rules := []netfxRule{netfxRules[f.Name]}
		if rules[0].key == "" {
			return nil, fmt.Errorf("detect netfx: no registry rule for fact %s", f.Name)
		}
		if f.Name == "netfx40" {
			rules = append(rules, netfx40Client) // the client profile counts too
		}
		ff := FactFound{Fact: f, Evidence: fmt.Sprintf(`%s\%s >= %d`, rules[0].key, rules[0].value, rules[0].min)}
		for _, view := range []int{64, 32} {
			for _, r := range rules {
				yes, err := netfxHas(sys, r, view)
				if err != nil {
					return nil, fmt.Errorf("detect netfx: %w", err)
				}
				if yes {
					ff.Views = append(ff.Views, view)
					break
				}
			}
		}
		found = append(found, ff)
	}
	return found, nil
}

// DetectNetFx returns the netfx facts true on this machine, in version
// order.
func DetectNetFx(sys System) ([]string, error) {
	found, err := DetectNetFxDetail(sys)
	if err != nil {
		return nil, err
	}
	facts := []string{}
	for _, f := range found {
		if len(f.Views) > 0 {
			facts = append(facts, f.Name)
		}
	}
	return facts, nil
}

func netfxHas(sys System, r netfxRule, view int) (bool, error) {
	v, err := sys.ReadRegistry(r.key, r.value, view)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.IsNum && v.Num >= r.min, nil
}

// DescribeFacts names facts for a person: ".NET Framework 1.1 SP1 (netfx11sp1)".
func DescribeFacts(facts []string) string {
	if len(facts) == 0 {
		return "none"
	}
	var out []string
	for _, n := range facts {
		if f, _, ok := payload.LookupFact(n); ok {
			out = append(out, fmt.Sprintf("%s (%s)", f.Title, n))
		} else {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}
