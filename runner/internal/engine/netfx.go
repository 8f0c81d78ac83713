package engine

import (
	"errors"
	"fmt"
	"strings"

	"fixstick/payload"
)

// FactFound is one fact and the registry views that hold its evidence.
type FactFound struct {
	payload.Fact
	Views []int // 64, 32; empty: not installed
}

// DetectNetFxDetail checks every netfx fact against payload.NetFxRules in
// both registry views: a 32-bit installer on a 64-bit Windows may have
// written only the Wow6432Node copy.
func DetectNetFxDetail(sys System) ([]FactFound, error) {
	rules := payload.NetFxRules()
	var found []FactFound
	for _, f := range payload.Facts(payload.DetectNetFx) {
		ff := FactFound{Fact: f}
		known := false
		for _, view := range []int{64, 32} {
			for _, r := range rules {
				if r.Fact != f.Name {
					continue
				}
				known = true
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
		if !known {
			return nil, fmt.Errorf("detect netfx: no registry rule for fact %s", f.Name)
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

func netfxHas(sys System, r payload.NetFxRule, view int) (bool, error) {
	v, err := sys.ReadRegistry(r.Key, r.Value, view)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.IsNum && v.Num >= r.Min, nil
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
