package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// The lock's one codec: the builder writes a lock with MarshalLock and
// BundleID; the builder's verify, the folder writer and runner.exe read
// one with ParseLock and CheckLock. Nothing else encodes or decodes it.

// MaxBundleIDLen is the one id limit; every other follows from it. The
// bundle id names runner.exe's private folder (%ProgramData%\fixstick\<id>)
// and appears twice in the command RunOnce starts after a restart, which
// Windows ignores from 260 characters on: at 64 that command is about 240
// characters long. It was the runner's limit before the others were
// derived from it, so runners already released accept every bundle.
const MaxBundleIDLen = 64

// BundleIDSuffixLen is what BundleID adds to the manifest id: "-" and
// 12 hex digits.
const BundleIDSuffixLen = 1 + bundleDigestLen

const bundleDigestLen = 12

// MaxIDLen bounds every id a manifest gives (the manifest's, each
// artifact's, each step's): the manifest id becomes the bundle id, and
// the others folder names (payloads\<id>) on XP, whose paths end at 260
// characters.
const MaxIDLen = MaxBundleIDLen - BundleIDSuffixLen

// MarshalLock returns the lock's canonical form: JSON indented by two
// spaces, fields in declaration order, files sorted by path, map keys
// sorted (encoding/json sorts them), a final newline. The bundle id is
// derived from these bytes, and verify compares a lock with its canonical
// form, so this must stay stable.
func MarshalLock(l *Lock) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// BundleID derives a lock's bundle id: the manifest id and the first 12
// hex digits of the SHA-256 of the canonical lock with an empty bundle
// field. Any change to a file, a step or the builder version changes it;
// verify recomputes it, so a lock edited by hand is caught unless the
// editor also recomputed the id (the id is a checksum, not a signature).
func BundleID(l *Lock) (string, error) {
	c := *l
	c.Bundle = ""
	b, err := MarshalLock(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return l.Manifest.ID + "-" + hex.EncodeToString(sum[:])[:bundleDigestLen], nil
}

// ParseLock reads a lock strictly: at most MaxLockSize bytes, one JSON
// object and nothing after it, every key written exactly as the lock
// format spells it (encoding/json would otherwise take "Bundle" or a
// second "bundle" silently: the last one wins, matched case-insensitively,
// so a reviewer and the runner could read different locks), no unknown
// field, the version this build reads. CheckLock checks the content.
func ParseLock(b []byte) (*Lock, error) {
	if len(b) > MaxLockSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", LockName, MaxLockSize)
	}
	if err := strictKeys(b); err != nil {
		return nil, fmt.Errorf("%s: %w", LockName, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", LockName, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: data after the JSON object", LockName)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("%s: lock format %d; this program reads format %d: use the runner that came with the bundle", LockName, l.Version, LockVersion)
	}
	return &l, nil
}

// strictKeys walks the JSON and refuses a key that appears twice in one
// object, or that is not lowercase: every key of the lock format is
// lowercase (field names, and exit codes as decimal numbers), and
// encoding/json matches keys to fields ignoring case.
func strictKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth > 64 {
			return errors.New("nested too deep")
		}
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if key != strings.ToLower(key) {
					return fmt.Errorf("key %q is not lowercase: the lock's keys are", key)
				}
				if seen[key] {
					return fmt.Errorf("key %q appears twice in one object", key)
				}
				seen[key] = true
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token() // }
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ]
			return err
		}
		return nil
	}
	return walk(0)
}

// CheckLock reports every problem of a lock parsed from raw, one line
// each: what a runner relies on before it runs anything (safe and unique
// names, well-formed digests, programs the lock lists, of the kind their
// step says, conditions it can decide, outcomes it knows, text that reads
// as written), and that the lock is exactly what the builder wrote: its
// canonical form, with the bundle id BundleID derives from the content.
func CheckLock(raw []byte, l *Lock) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	if c, err := MarshalLock(l); err != nil {
		add("%v", err)
	} else if !bytes.Equal(c, raw) {
		add("not in the form the builder writes: the lock was edited after the build")
	}

	if err := CheckID(l.Manifest.ID); err != nil {
		add("manifest id: %v", err)
	}
	if err := CheckBundleID(l.Bundle); err != nil {
		add("bundle id: %v", err)
	} else if id, err := BundleID(l); err != nil {
		add("%v", err)
	} else if id != l.Bundle {
		add("bundle id %q does not match the lock's content (%q): the lock was edited after the build", l.Bundle, id)
	}
	for _, s := range []struct{ field, v string }{{"title", l.Title}, {"builder", l.Builder}, {"created", l.Created}} {
		if err := CheckText(s.v); err != nil {
			add("%s: %v", s.field, err)
		}
	}

	files := map[string]bool{}
	folded := map[string]string{}
	for i, f := range l.Files {
		if err := CheckPath(f.Path); err != nil {
			add("files[%d]: %v", i, err)
			continue
		}
		if i > 0 && l.Files[i-1].Path >= f.Path {
			add("files[%d]: %q is out of order or listed twice", i, f.Path)
		}
		if other, ok := folded[FoldName(f.Path)]; ok && other != f.Path {
			add("files[%d]: %q and %q are the same file on Windows", i, other, f.Path)
		}
		if !IsHex(f.SHA256, 64) {
			add("files[%d] %s: sha256 must be 64 lowercase hex digits", i, f.Path)
		}
		if f.Size < 0 {
			add("files[%d] %s: negative size", i, f.Path)
		}
		if f.Path == LockName || f.Path == LockSigName || f.Path == ReportsDir || strings.HasPrefix(f.Path, ReportsDir+"/") {
			add("files[%d]: %q cannot be a bundle file", i, f.Path)
		}
		files[f.Path] = true
		folded[FoldName(f.Path)] = f.Path
	}

	for _, c := range []struct {
		field string
		c     *Condition
	}{{"requires", l.Requires}, {"goal", l.Goal}} {
		if err := checkCondition(c.c); err != nil {
			add("%s: %v", c.field, err)
		}
	}

	ids := map[string]bool{}
	for i, s := range l.Steps {
		where := fmt.Sprintf("steps[%d] %q", i, s.ID)
		switch s.OnFailure {
		case "", OnFailureStop, OnFailureContinue:
		default:
			add("%s: unknown on_failure %q", where, s.OnFailure)
		}
		if s.FinishIfGoalMet && l.Goal == nil {
			add("%s: finish_if_goal_met, and the lock has no goal", where)
		}
		if err := CheckID(s.ID); err != nil {
			add("%s: invalid step id: %v", where, err)
		}
		if ids[s.ID] {
			add("%s: duplicate step id", where)
		}
		ids[s.ID] = true
		for _, t := range []struct{ field, v string }{{"title", s.Title}, {"args", s.Args}, {"skip", s.Skip}} {
			if err := CheckText(t.v); err != nil {
				add("%s: %s: %v", where, t.field, err)
			}
		}
		if s.Timeout < 0 {
			add("%s: negative timeout", where)
		}
		switch s.Reboot {
		case "", RebootNever, RebootIfNeeded, RebootAfter:
		default:
			add("%s: unknown reboot policy %q", where, s.Reboot)
		}
		for _, c := range []*Condition{s.When, s.Unless} {
			if err := checkCondition(c); err != nil {
				add("%s: %v", where, err)
			}
		}
		for _, c := range s.ExitCodes.Codes() {
			r := s.ExitCodes[c]
			if !r.Outcome.Valid() {
				add("%s: exit code %d: unknown outcome %q", where, c, r.Outcome)
			}
			if err := CheckText(r.Text); err != nil {
				add("%s: exit code %d: %v", where, c, err)
			}
		}
		if s.Kind == KindDetect {
			if Facts(s.Detect) == nil {
				add("%s: unknown detect family %q (this program knows %s)", where, s.Detect, strings.Join(DetectFamilies(), ", "))
			}
			continue
		}
		if s.Skip != "" && s.Program == "" {
			continue // an optional artifact that was not supplied
		}
		switch {
		case !files[s.Program]:
			add("%s: program %q is not a file of the bundle", where, s.Program)
		case !strings.HasPrefix(s.Program, PayloadDir+"/"):
			add("%s: program %q is not under %s/", where, s.Program, PayloadDir)
		}
		if err := checkProgramKind(s.Kind, s.Program); err != nil {
			add("%s: %v", where, err)
		}
	}
	return probs
}

// CheckBundleID checks a bundle id's form: a manifest id, "-", 12 hex
// digits. It names the private folder and the RunOnce value.
func CheckBundleID(id string) error {
	if len(id) > MaxBundleIDLen {
		return fmt.Errorf("%q is longer than %d characters", id, MaxBundleIDLen)
	}
	if len(id) < BundleIDSuffixLen+1 || id[len(id)-BundleIDSuffixLen] != '-' || !IsHex(id[len(id)-bundleDigestLen:], bundleDigestLen) {
		return fmt.Errorf("%q is not a manifest id followed by - and %d hex digits", id, bundleDigestLen)
	}
	return CheckID(id[:len(id)-BundleIDSuffixLen])
}

// CheckID checks an id as the manifest format defines it: lowercase
// letters, digits, '.', '_' and '-', starting with a letter or digit, at
// most MaxIDLen characters, and a name Windows keeps as written.
func CheckID(id string) error {
	if id == "" {
		return errors.New("empty id")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("invalid id %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit", id)
		}
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("id %q is longer than %d characters", id, MaxIDLen)
	}
	return CheckName(id)
}

// checkProgramKind insists on the extension each kind runs: Windows picks
// how to start a file by its extension, and a .bat or .cmd would run
// through cmd.exe, which parses its command line in its own way.
func checkProgramKind(k Kind, program string) error {
	ext := strings.ToLower(path.Ext(program))
	want := map[Kind]string{KindExe: ".exe", KindMSI: ".msi", KindMSP: ".msp", KindMSU: ".msu"}[k]
	switch {
	case want == "":
		return fmt.Errorf("unknown kind %q", k)
	case ext == ".bat" || ext == ".cmd":
		return fmt.Errorf("program %q is a batch file; the runner does not run batch files", program)
	case ext != want:
		return fmt.Errorf("program %q: a %s step runs a %s file", program, k, want)
	}
	return nil
}

// checkCondition checks what a runner must be able to decide: versions it
// can parse, file paths in folders only administrators write, registry
// keys under HKLM, strings a person can read as written.
func checkCondition(c *Condition) error {
	if c == nil {
		return nil
	}
	if c.OS != nil {
		for _, v := range []string{c.OS.Min, c.OS.Max} {
			if v == "" {
				continue
			}
			if _, err := ParseOSVersion(v); err != nil {
				return fmt.Errorf("os: %w", err)
			}
		}
	}
	if f := c.File; f != nil {
		if err := CheckFileConditionPath(f.Path); err != nil {
			return fmt.Errorf("file: %w", err)
		}
		if f.MinVersion != "" {
			if v, err := ParseVersion(f.MinVersion); err != nil || len(v) > 4 {
				return fmt.Errorf("file %s: min_version %q: want up to four numbers separated by dots", f.Path, f.MinVersion)
			}
		}
	}
	if r := c.Registry; r != nil {
		for _, s := range []string{r.Key, r.Value} {
			if err := CheckText(s); err != nil {
				return fmt.Errorf("registry: %w", err)
			}
		}
		if r.Equals != nil {
			if err := CheckText(*r.Equals); err != nil {
				return fmt.Errorf("registry: %w", err)
			}
		}
	}
	if err := CheckText(c.Recorded); err != nil {
		return fmt.Errorf("recorded: %w", err)
	}
	if err := checkCondition(c.Not); err != nil {
		return err
	}
	for _, list := range [][]Condition{c.All, c.Any} {
		for i := range list {
			if err := checkCondition(&list[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
