package payload

import (
	"fmt"
	"strconv"
	"strings"
)

// String reads the condition as a sentence fragment for the plan, the
// README and the report: "the registry value HKLM\...\M979906\Installed
// equals 1 (32-bit view)". A condition that is not valid (no test set)
// reads as "(empty condition)".
func (c Condition) String() string {
	switch {
	case c.Recorded != "":
		if f, _, ok := LookupFact(c.Recorded); ok {
			return fmt.Sprintf("%s was recorded as installed (%s)", f.Title, c.Recorded)
		}
		return fmt.Sprintf("the fact %s was recorded", c.Recorded)
	case c.Registry != nil:
		return c.Registry.String()
	case c.OS != nil:
		return c.OS.String()
	case c.File != nil:
		return c.File.String()
	case c.All != nil:
		return join(c.All, " and ")
	case c.Any != nil:
		return join(c.Any, " or ")
	case c.Not != nil:
		return "not (" + c.Not.String() + ")"
	}
	return "(empty condition)"
}

// join joins conditions with "and" or "or", putting parentheses only
// around the parts that are themselves lists, where they are needed.
func join(cs []Condition, sep string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
		if len(cs) > 1 && (len(c.All) > 1 || len(c.Any) > 1) {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, sep)
}

// String reads a registry test: "the registry value KEY\VALUE is at least N".
func (r RegistryCond) String() string {
	name := `the default value of the registry key ` + r.Key
	if r.Value != "" {
		name = `the registry value ` + r.Key + `\` + r.Value
	}
	var test string
	switch {
	case r.Exists != nil && r.Value == "":
		// With no value named, exists tests the key itself (as the
		// runner does).
		name = "the registry key " + r.Key
		test = "exists"
		if !*r.Exists {
			test = "does not exist"
		}
	case r.Equals != nil:
		test = "equals " + quoteIfNeeded(*r.Equals)
	case r.Min != nil:
		test = "is at least " + strconv.FormatUint(*r.Min, 10)
	case r.Exists != nil && *r.Exists:
		test = "exists"
	case r.Exists != nil:
		test = "does not exist"
	default:
		test = "(no test)"
	}
	view := "64-bit view"
	if r.View == 32 {
		view = "32-bit view"
	}
	return fmt.Sprintf("%s %s (%s)", name, test, view)
}

// quoteIfNeeded shows a number as is and anything else quoted, so that an
// empty or space-padded string stays visible.
func quoteIfNeeded(s string) string {
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return s
	}
	return strconv.Quote(s)
}

// windowsNames names the Windows versions a technician knows by name.
var windowsNames = map[string]string{
	"5.0":  "Windows 2000",
	"5.1":  "Windows XP",
	"5.2":  "Windows XP x64 / Server 2003",
	"6.0":  "Windows Vista / Server 2008",
	"6.1":  "Windows 7 / Server 2008 R2",
	"6.2":  "Windows 8 / Server 2012",
	"6.3":  "Windows 8.1 / Server 2012 R2",
	"10.0": "Windows 10 / 11 / Server 2016 and later",
}

func windowsVersion(v string) string {
	if n, ok := windowsNames[v]; ok {
		return v + " (" + n + ")"
	}
	return v
}

// String reads an OS test: "Windows is version 5.1 (Windows XP) or later,
// at most 5.2 (...), x86".
func (o OSCond) String() string {
	var parts []string
	switch {
	case o.Min != "" && o.Min == o.Max:
		parts = append(parts, "version "+windowsVersion(o.Min))
	default:
		if o.Min != "" {
			parts = append(parts, "version "+windowsVersion(o.Min)+" or later")
		}
		if o.Max != "" {
			parts = append(parts, "version "+windowsVersion(o.Max)+" or earlier")
		}
	}
	switch o.Arch {
	case "x86":
		parts = append(parts, "32-bit (x86)")
	case "x64":
		parts = append(parts, "64-bit (x64)")
	}
	if len(parts) == 0 {
		return "any Windows"
	}
	return "Windows is " + strings.Join(parts, ", ")
}

// String reads a file test.
func (f FileCond) String() string {
	if f.MinVersion != "" {
		return fmt.Sprintf("the file %s exists with version %s or later", f.Path, f.MinVersion)
	}
	return fmt.Sprintf("the file %s exists", f.Path)
}

// Describe reads a step's two conditions together: "always", "only if A",
// "unless B", or "only if A, and unless B".
func Describe(when, unless *Condition) string {
	switch {
	case when == nil && unless == nil:
		return "always"
	case unless == nil:
		return "only if " + when.String()
	case when == nil:
		return "unless " + unless.String()
	}
	return "only if " + when.String() + ", and unless " + unless.String()
}
