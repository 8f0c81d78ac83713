package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"fixstick/payload"
)

// condCtx is what a condition may refer to: the detect families that steps
// before this one record.
type condCtx struct {
	detected map[string]bool
	// early is set for requires and goal, which are decided before any
	// step runs: detected then holds only the leading detect steps.
	early bool
}

func (p *parser) condition(n *yaml.Node, path string, depth int, c *condCtx) *payload.Condition {
	if depth >= MaxCondDepth {
		p.errAt(n, path, "conditions nest more than %d deep", MaxCondDepth)
		return nil
	}
	o := p.object(n, path, ObjCondition, "a condition (recorded, registry, os, file, all, any or not)")
	if o == nil {
		return nil
	}
	cond := &payload.Condition{Pos: pos(n)}
	var first *yaml.Node
	for _, f := range o.present(Fields[ObjCondition]) {
		k := o.keys[f]
		if first != nil {
			p.errAt(k, o.field(f), "a condition has one test, and this one also has %s at line %d:%d: combine tests with all: [...] or any: [...]", first.Value, first.Line, first.Column)
			continue
		}
		first = k
		v := o.get(f)
		switch f {
		case "recorded":
			cond.Recorded = p.recorded(v, o.field(f), c)
		case "registry":
			cond.Registry = p.registry(v, o.field(f))
		case "os":
			cond.OS = p.osCond(v, o.field(f))
		case "file":
			cond.File = p.fileCond(v, o.field(f))
		case "all", "any":
			items, _ := p.list(v, o.field(f), "conditions")
			if v.Kind == yaml.SequenceNode && len(items) == 0 {
				p.errAt(v, o.field(f), "is empty: give at least one condition")
			}
			list := []payload.Condition{}
			for i, it := range items {
				if sub := p.condition(it, index(o.field(f), i), depth+1, c); sub != nil {
					list = append(list, *sub)
				}
			}
			if f == "all" {
				cond.All = list
			} else {
				cond.Any = list
			}
		case "not":
			cond.Not = p.condition(v, o.field(f), depth+1, c)
		}
	}
	if first == nil {
		p.errAt(n, path, "empty condition: give one test (recorded, registry, os, file, all, any or not)")
	}
	return cond
}

func (p *parser) recorded(n *yaml.Node, field string, c *condCtx) string {
	s, ok := p.scalar(n, field, "a fact, such as netfx11")
	if !ok {
		return ""
	}
	_, fam, known := payload.LookupFact(s)
	if !known {
		var all []string
		for _, f := range payload.DetectFamilies() {
			for _, x := range payload.Facts(f) {
				all = append(all, x.Name)
			}
		}
		p.errAt(n, field, "unknown fact %q (known: %s)", s, strings.Join(all, " "))
		return ""
	}
	if !c.detected[fam] && c.early {
		p.errAt(n, field, "%s is recorded by a `detect: %s` step, and requires and goal are decided before any step runs: they may use only the facts of detect steps placed before every other step", s, fam)
		return ""
	}
	if !c.detected[fam] {
		p.errAt(n, field, "%s is recorded by a `detect: %s` step, and no step before this one is one", s, fam)
		return ""
	}
	return s
}

// Registry hives a condition may read. Only HKLM: the runner runs elevated
// and, after a reboot, may resume as another account (or SYSTEM), so
// HKEY_CURRENT_USER would not reliably be the user's hive, and HKCR mixes
// HKCU into HKLM's classes.
var hklmPrefixes = []string{`HKLM\`, `HKEY_LOCAL_MACHINE\`}

func (p *parser) registry(n *yaml.Node, path string) *payload.RegistryCond {
	o := p.object(n, path, ObjRegistry, "a mapping with key, value and one of equals, min, exists")
	if o == nil {
		return nil
	}
	r := &payload.RegistryCond{View: 64}
	if v := o.get("key"); v != nil {
		if s, ok := p.scalar(v, o.field("key"), `a key such as HKLM\SOFTWARE\...`); ok {
			if k, err := checkRegKey(s); err != nil {
				p.errAt(v, o.field("key"), "%v", err)
			} else {
				r.Key = k
			}
		}
	}
	if v := o.get("value"); v != nil {
		// An empty value name is the key's default value; `value: ""` says so.
		if s, ok := p.scalar(v, o.field("value"), "a value name"); ok {
			if strings.ContainsFunc(s, isControl) || len(s) > 16383 {
				p.errAt(v, o.field("value"), "is not a registry value name (control characters, or too long)")
			} else {
				r.Value = s
			}
		}
	}
	var test *yaml.Node
	for _, f := range o.present([]string{"equals", "min", "exists"}) {
		k := o.keys[f]
		if test != nil {
			p.errAt(k, o.field(f), "a registry test has one of equals, min and exists, and this one also has %s", test.Value)
			continue
		}
		test = k
		v := o.get(f)
		switch f {
		case "equals":
			if s, ok := p.scalar(v, o.field(f), "the value to compare with"); ok {
				if v.Tag == "!!int" {
					// A number written in hex or with underscores is still
					// that number; the runner compares DWORDs in decimal.
					if u, err := parseNumber(strings.ReplaceAll(s, "_", ""), 64); err == nil {
						s = strconv.FormatUint(u, 10)
					}
				}
				r.Equals = &s
			}
		case "min":
			if s, ok := p.scalar(v, o.field(f), "a number"); ok {
				u, err := parseNumber(strings.ReplaceAll(s, "_", ""), 64)
				if v.Tag != "!!int" || err != nil {
					p.errAt(v, o.field(f), "must be a whole number that is not negative, not %s", describe(v))
				} else {
					r.Min = &u
				}
			}
		case "exists":
			if b, ok := p.boolean(v, o.field(f)); ok {
				r.Exists = &b
			}
		}
	}
	if test == nil {
		p.errAt(n, path, "missing the test: one of equals, min or exists")
	}
	if v := o.get("view"); v != nil {
		if s, ok := p.scalar(v, o.field("view"), "32 or 64"); ok {
			if s == "32" || s == "64" {
				r.View, _ = strconv.Atoi(s)
			} else {
				p.errAt(v, o.field("view"), "must be 32 or 64, not %s", describe(v))
			}
		}
	}
	return r
}

// checkRegKey checks a registry key path and returns it with the hive
// written HKLM\, the one form the runner reads.
func checkRegKey(s string) (string, error) {
	var rest string
	found := false
	for _, pre := range hklmPrefixes {
		if len(s) >= len(pre) && strings.EqualFold(s[:len(pre)], pre) {
			rest, found = s[len(pre):], true
			break
		}
	}
	if !found {
		hive, _, _ := strings.Cut(s, `\`)
		switch strings.ToUpper(hive) {
		case "HKCU", "HKEY_CURRENT_USER", "HKU", "HKEY_USERS", "HKCR", "HKEY_CLASSES_ROOT":
			return "", fmt.Errorf("only HKLM keys can be tested: the runner runs elevated and may resume after a reboot as another account, so %s would not be the user's (for HKCR, read HKLM\\SOFTWARE\\Classes)", hive)
		}
		return "", fmt.Errorf("key %s must start with HKLM\\ (or HKEY_LOCAL_MACHINE\\)", quote(s))
	}
	if rest == "" {
		return "", fmt.Errorf("key %s names no subkey of HKLM", quote(s))
	}
	for _, el := range strings.Split(rest, `\`) {
		switch {
		case el == "":
			return "", fmt.Errorf("key %s has an empty element (a doubled or trailing backslash)", quote(s))
		case strings.ContainsFunc(el, isControl):
			return "", fmt.Errorf("key %s contains a control character", quote(s))
		case len(el) > 255:
			return "", fmt.Errorf("key %s has an element longer than 255 characters", quote(s))
		}
	}
	return `HKLM\` + rest, nil
}

var osVersionRE = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})$`)

func (p *parser) osCond(n *yaml.Node, path string) *payload.OSCond {
	o := p.object(n, path, ObjOS, "a mapping with min, max and arch")
	if o == nil {
		return nil
	}
	c := &payload.OSCond{}
	var minN, maxN *yaml.Node
	for _, f := range []string{"min", "max"} {
		v := o.get(f)
		if v == nil {
			continue
		}
		s, ok := p.scalar(v, o.field(f), `a Windows version "major.minor"`)
		if !ok {
			continue
		}
		if !osVersionRE.MatchString(s) {
			p.errAt(v, o.field(f), `must be a Windows version "major.minor" such as "5.1" (XP) or "10.0", not %q`, s)
			continue
		}
		if f == "min" {
			c.Min, minN = s, v
		} else {
			c.Max, maxN = s, v
		}
	}
	if minN != nil && maxN != nil && compareVersion(c.Min, c.Max) > 0 {
		p.errAt(maxN, o.field("max"), "max %s is lower than min %s: no Windows matches", c.Max, c.Min)
	}
	if v := o.get("arch"); v != nil {
		if s, ok := p.scalar(v, o.field("arch"), "x86 or x64"); ok {
			if slices.Contains(Enums["os.arch"], s) {
				c.Arch = s
			} else {
				p.errAt(v, o.field("arch"), "must be x86 or x64, not %q", s)
			}
		}
	}
	if len(o.keys) == 0 {
		p.errAt(n, path, "is empty: give min, max or arch")
	}
	return c
}

// compareVersion compares dotted versions of numbers.
func compareVersion(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

var fileVersionRE = regexp.MustCompile(`^[0-9]{1,5}(\.[0-9]{1,5}){0,3}$`)

func (p *parser) fileCond(n *yaml.Node, path string) *payload.FileCond {
	o := p.object(n, path, ObjFile, "a mapping with path and min_version")
	if o == nil {
		return nil
	}
	c := &payload.FileCond{}
	if v := o.get("path"); v != nil {
		if s, ok := p.scalar(v, o.field("path"), "a Windows path"); ok {
			if err := payload.CheckFileConditionPath(s); err != nil {
				p.errAt(v, o.field("path"), "%v", err)
			} else {
				c.Path = s
			}
		}
	}
	if v := o.get("min_version"); v != nil {
		if s, ok := p.scalar(v, o.field("min_version"), "a file version such as 1.1.4322.2503"); ok {
			valid := fileVersionRE.MatchString(s)
			for _, part := range strings.Split(s, ".") {
				if n, _ := strconv.Atoi(part); n > 65535 {
					valid = false
				}
			}
			if valid {
				c.MinVersion = s
			} else {
				p.errAt(v, o.field("min_version"), "must be a file version of up to four numbers of at most 65535, such as 1.1.4322.2503, not %q", s)
			}
		}
	}
	return c
}
