package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fixstick/payload"
)

// evaluator evaluates conditions against the machine and the facts the
// journal recorded.
type evaluator struct {
	sys   System
	facts map[string]bool
	// factsKnown is false while no detect step has recorded anything: a
	// `recorded:` condition then cannot be decided.
	factsKnown bool
}

// Eval decides c. An error means the machine could not be asked (a
// registry read failed for another reason than "not there").
func (ev *evaluator) Eval(c *payload.Condition) (bool, error) {
	switch {
	case c.Recorded != "":
		if !ev.factsKnown {
			return false, fmt.Errorf("condition %q: no detect step has recorded facts before this step", c.Recorded)
		}
		return ev.facts[c.Recorded], nil
	case c.Registry != nil:
		return ev.registry(c.Registry)
	case c.OS != nil:
		return ev.os(c.OS)
	case c.File != nil:
		return ev.file(c.File)
	case c.All != nil:
		for i := range c.All {
			ok, err := ev.Eval(&c.All[i])
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case c.Any != nil:
		for i := range c.Any {
			ok, err := ev.Eval(&c.Any[i])
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case c.Not != nil:
		ok, err := ev.Eval(c.Not)
		return !ok, err
	}
	return false, fmt.Errorf("empty condition")
}

func (ev *evaluator) registry(r *payload.RegistryCond) (bool, error) {
	view := r.View
	if view == 0 {
		view = 64
	}
	if r.Exists != nil && r.Value == "" {
		ok, err := ev.sys.KeyExists(r.Key, view)
		return ok == *r.Exists, err
	}
	v, err := ev.sys.ReadRegistry(r.Key, r.Value, view)
	if errors.Is(err, ErrNotFound) {
		return r.Exists != nil && !*r.Exists, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s\\%s: %w", r.Key, r.Value, err)
	}
	switch {
	case r.Exists != nil:
		return *r.Exists, nil
	case r.Min != nil:
		return v.IsNum && v.Num >= *r.Min, nil
	case r.Equals != nil:
		if v.Numeric {
			n, ok := parseNum(*r.Equals)
			return ok && n == v.Num, nil
		}
		return v.String == *r.Equals, nil
	}
	return false, fmt.Errorf("registry condition on %s: no equals, min or exists", r.Key)
}

func (ev *evaluator) os(o *payload.OSCond) (bool, error) {
	info, err := ev.sys.OSVersion()
	if err != nil {
		return false, err
	}
	have := []uint64{uint64(info.Major), uint64(info.Minor), uint64(info.Build)}
	// Compared on the parts the bound gives: max "6.1" is every 6.1 build,
	// and "10.0.17763" also compares the build.
	for _, b := range []struct {
		name, v string
		ok      func(int) bool
	}{{"min", o.Min, func(c int) bool { return c >= 0 }}, {"max", o.Max, func(c int) bool { return c <= 0 }}} {
		if b.v == "" {
			continue
		}
		want, err := payload.ParseOSVersion(b.v)
		if err != nil {
			return false, fmt.Errorf("os %s: %w", b.name, err)
		}
		if !b.ok(compareVersions(have[:len(want)], want)) {
			return false, nil
		}
	}
	if o.Arch != "" && o.Arch != info.Arch {
		return false, nil
	}
	return true, nil
}

func (ev *evaluator) file(f *payload.FileCond) (bool, error) {
	v, err := ev.sys.FileVersion(ev.sys.ExpandEnv(f.Path))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		if f.MinVersion == "" {
			return true, nil // the file exists; it just has no version resource
		}
		return false, fmt.Errorf("reading the version of %s: %w", f.Path, err)
	}
	if f.MinVersion == "" {
		return true, nil
	}
	want, err := payload.ParseVersion(f.MinVersion)
	if err != nil {
		return false, fmt.Errorf("min_version: %w", err)
	}
	have, err := payload.ParseVersion(v)
	if err != nil {
		return false, nil // an unreadable version is not "at least" anything
	}
	return compareVersions(have, want) >= 0, nil
}

// parseNum reads a decimal or 0x-prefixed hex number.
func parseNum(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseUint(h, 16, 64)
	} else {
		n, err = strconv.ParseUint(s, 10, 64)
	}
	return n, err == nil
}

// compareVersions compares part by part; missing parts count as 0.
func compareVersions(a, b []uint64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
