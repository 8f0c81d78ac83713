package payload

import (
	"strings"
	"testing"
)

// Every netfx fact has evidence, in fact order, and no rule names a fact
// the family does not record.
func TestNetFxRulesCoverFacts(t *testing.T) {
	var facts []string
	for _, f := range Facts(DetectNetFx) {
		facts = append(facts, f.Name)
	}
	var ruled []string
	for _, r := range NetFxRules() {
		if len(ruled) == 0 || ruled[len(ruled)-1] != r.Fact {
			ruled = append(ruled, r.Fact)
		}
		if !strings.HasPrefix(r.Key, `HKLM\SOFTWARE\Microsoft\`) || r.Value == "" || r.Min == 0 {
			t.Errorf("rule %+v: want an HKLM\\SOFTWARE\\Microsoft key, a value name and a minimum", r)
		}
	}
	if got, want := strings.Join(ruled, " "), strings.Join(facts, " "); got != want {
		t.Errorf("rules cover\n%s\nwant\n%s", got, want)
	}
}

func TestNetFxFileRules(t *testing.T) {
	for _, r := range NetFxFileRules() {
		if _, _, ok := LookupFact(r.Fact); !ok || !strings.HasPrefix(r.Path, `%SystemRoot%\`) || CheckName(r.Path[strings.LastIndex(r.Path, `\`)+1:]) != nil {
			t.Errorf("file rule %+v: want a known fact and a path under %%SystemRoot%%", r)
		}
	}
}
