package payload

// DetectNetFx is the detect family that records which .NET Framework
// versions are installed, read from the registry as KB318785 describes.
const DetectNetFx = "netfx"

// Fact is something a detect step records in the journal, once, for later
// steps' `recorded:` conditions.
type Fact struct {
	Name  string // as written in a manifest: netfx11sp1
	Title string // as shown to a person: .NET Framework 1.1 SP1
}

// netfxFacts are the facts `detect: netfx` records. A fact means "this
// version is installed, at this level or later": netfx11 is recorded for
// 1.1 with or without SP1, netfx45 for any 4.x whose Release value is at
// least 4.5's (378389), so a machine with 4.8 records netfx45 to netfx48.
// The registry evidence for each: KB318785 ("How to determine which
// versions and service pack levels of the .NET Framework are installed")
// and, for the 4.5 and later Release values, Microsoft's "How to:
// Determine which .NET Framework versions are installed".
var netfxFacts = []Fact{
	{"netfx10", ".NET Framework 1.0"},
	{"netfx11", ".NET Framework 1.1"},
	{"netfx11sp1", ".NET Framework 1.1 SP1"},
	{"netfx20", ".NET Framework 2.0"},
	{"netfx30", ".NET Framework 3.0"},
	{"netfx35", ".NET Framework 3.5"},
	{"netfx35sp1", ".NET Framework 3.5 SP1"},
	{"netfx40", ".NET Framework 4"},
	{"netfx45", ".NET Framework 4.5"},
	{"netfx451", ".NET Framework 4.5.1"},
	{"netfx452", ".NET Framework 4.5.2"},
	{"netfx46", ".NET Framework 4.6"},
	{"netfx461", ".NET Framework 4.6.1"},
	{"netfx462", ".NET Framework 4.6.2"},
	{"netfx47", ".NET Framework 4.7"},
	{"netfx471", ".NET Framework 4.7.1"},
	{"netfx472", ".NET Framework 4.7.2"},
	{"netfx48", ".NET Framework 4.8"},
	{"netfx481", ".NET Framework 4.8.1"},
}

// DetectFamilies returns the values a step's `detect:` may take.
func DetectFamilies() []string {
	return []string{DetectNetFx}
}

// Facts returns the facts a detect family records, in version order, or nil
// for an unknown family.
func Facts(family string) []Fact {
	if family != DetectNetFx {
		return nil
	}
	return append([]Fact(nil), netfxFacts...)
}

// LookupFact returns the fact called name and the family that records it.
func LookupFact(name string) (f Fact, family string, ok bool) {
	for _, fam := range DetectFamilies() {
		for _, f := range Facts(fam) {
			if f.Name == name {
				return f, fam, true
			}
		}
	}
	return Fact{}, "", false
}
