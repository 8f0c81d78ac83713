package engine

import (
	"errors"
	"fmt"
	"strings"

	"fixstick/payload"
)

// FactFound is one fact and where its evidence is: the registry views,
// and the files (payload.NetFxFileRules).
type FactFound struct {
	payload.Fact
	Views []int    // 64, 32
	Files []string // as the rule writes them (%SystemRoot%\...)
}

// Installed reports whether any evidence was found.
func (f FactFound) Installed() bool { return len(f.Views) > 0 || len(f.Files) > 0 }

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
		for _, r := range payload.NetFxFileRules() {
			if r.Fact != f.Name {
				continue
			}
			// A file that exists but cannot be read counts: reinstalling
			// a version that was there is the safe mistake.
			if _, err := sys.FileVersion(sys.ExpandEnv(r.Path)); !errors.Is(err, ErrNotFound) {
				ff.Files = append(ff.Files, r.Path)
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
		if f.Installed() {
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
