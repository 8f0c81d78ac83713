package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"fixstick/internal/signature"
	"fixstick/payload"
)

// FallbackCreated is the bundle's timestamp when neither the manifest's
// `created` nor SOURCE_DATE_EPOCH gives one. It is fixed, never the clock:
// the same manifest and payloads must give the same zip anywhere. It is
// the first time a zip (DOS) timestamp can hold.
var FallbackCreated = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ResolveCreated returns the bundle's timestamp: the manifest's `created`,
// else SOURCE_DATE_EPOCH, else FallbackCreated. note is not empty when the
// fallback was used, to tell the user.
func ResolveCreated(m *payload.Manifest, getenv func(string) string) (t time.Time, note string, err error) {
	switch {
	case m.Created != "":
		t, err = time.Parse(time.RFC3339, m.Created)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%s: created: %q is not an RFC 3339 time (2024-05-01T00:00:00Z)", m.Path, m.Created)
		}
	case getenv("SOURCE_DATE_EPOCH") != "":
		s := getenv("SOURCE_DATE_EPOCH")
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			return time.Time{}, "", fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		t = time.Unix(n, 0)
	default:
		return FallbackCreated, fmt.Sprintf("the manifest has no created time and SOURCE_DATE_EPOCH is not set: the bundle's files are dated %s", FallbackCreated.Format(time.RFC3339)), nil
	}
	t = t.UTC().Truncate(time.Second)
	if t.Before(FallbackCreated) || t.Year() > 2107 {
		return time.Time{}, "", fmt.Errorf("created time %s is outside what a zip can hold (1980 to 2107)", t.Format(time.RFC3339))
	}
	return t, "", nil
}

// MarshalLock returns the lock's canonical form: JSON indented by two
// spaces, fields in declaration order, files sorted by path, map keys
// sorted (encoding/json sorts them), a final newline. The bundle id is
// derived from these bytes, and verify compares a lock with its canonical
// form, so this must stay stable.
func MarshalLock(l *payload.Lock) ([]byte, error) {
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
func BundleID(l *payload.Lock) (string, error) {
	c := *l
	c.Bundle = ""
	b, err := MarshalLock(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return l.Manifest.ID + "-" + hex.EncodeToString(sum[:])[:12], nil
}

// ParseLock reads a lock strictly: no unknown fields, no trailing data, a
// known version. It does not check the bundle id; CheckLock does.
func ParseLock(b []byte) (*payload.Lock, error) {
	if len(b) > payload.MaxLockSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", payload.LockName, payload.MaxLockSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l payload.Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", payload.LockName, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: data after the JSON object", payload.LockName)
	}
	if l.Version != payload.LockVersion {
		return nil, fmt.Errorf("%s: lock version %d, this builder reads %d", payload.LockName, l.Version, payload.LockVersion)
	}
	return &l, nil
}

// CheckLock reports, one line each, how the lock's bytes differ from what
// the builder writes: a bundle id that does not match the content, a form
// that is not canonical, files out of order or unsafe, steps whose
// programs are not in the bundle.
func CheckLock(b []byte, l *payload.Lock) []string {
	var probs []string
	if id, err := BundleID(l); err != nil {
		probs = append(probs, err.Error())
	} else if id != l.Bundle {
		probs = append(probs, fmt.Sprintf("%s: bundle id %q does not match the lock's content (%q): the lock was edited after the build", payload.LockName, l.Bundle, id))
	}
	if c, err := MarshalLock(l); err == nil && !bytes.Equal(c, b) {
		probs = append(probs, fmt.Sprintf("%s: not in the form the builder writes: the lock was edited after the build", payload.LockName))
	}
	files := map[string]bool{}
	folded := map[string]string{}
	for i, f := range l.Files {
		if err := payload.CheckPath(f.Path); err != nil {
			probs = append(probs, fmt.Sprintf("%s: files: %v", payload.LockName, err))
			continue
		}
		if i > 0 && l.Files[i-1].Path >= f.Path {
			probs = append(probs, fmt.Sprintf("%s: files: %q is out of order or listed twice", payload.LockName, f.Path))
		}
		if other, ok := folded[payload.FoldName(f.Path)]; ok && other != f.Path {
			probs = append(probs, fmt.Sprintf("%s: files: %q and %q differ only in case", payload.LockName, other, f.Path))
		}
		if !payload.IsHex(f.SHA256, 64) || f.Size < 0 {
			probs = append(probs, fmt.Sprintf("%s: files: %q has a malformed sha256 or size", payload.LockName, f.Path))
		}
		if f.Path == payload.LockName || f.Path == signature.LockSigName || isReport(f.Path) {
			probs = append(probs, fmt.Sprintf("%s: files: %q may not be listed", payload.LockName, f.Path))
		}
		files[f.Path] = true
		folded[payload.FoldName(f.Path)] = f.Path
	}
	for _, s := range l.Steps {
		if s.Program != "" && !files[s.Program] {
			probs = append(probs, fmt.Sprintf("%s: step %s runs %q, which the lock does not list", payload.LockName, s.ID, s.Program))
		}
	}
	return probs
}

// isReport reports whether p is under reports/, which runners write after
// the build and which no lock lists.
func isReport(p string) bool {
	return strings.HasPrefix(p, payload.ReportsDir+"/") || p == payload.ReportsDir
}

// compileSteps resolves the manifest's steps for the lock. skipped maps an
// artifact id to why it is left out; a step that runs such an artifact is
// kept with Skip set, and notes collects one line per skipped step.
func compileSteps(m *payload.Manifest, skipped map[string]string) (steps []payload.LockStep, notes []string, err error) {
	arts := map[string]*payload.Artifact{}
	for i := range m.Artifacts {
		arts[m.Artifacts[i].ID] = &m.Artifacts[i]
	}
	for _, s := range m.Steps {
		ls := payload.LockStep{
			ID:        s.ID,
			Title:     s.Title,
			Kind:      s.Kind,
			Detect:    s.Detect,
			Args:      s.Args,
			ExitCodes: s.ExitCodes.Merge(),
			Reboot:    s.Reboot,
			Timeout:   int64(s.Timeout / time.Second),
			When:      s.When,
			Unless:    s.Unless,
		}
		if ls.Reboot == "" {
			ls.Reboot = payload.RebootIfNeeded
		}
		if s.Timeout <= 0 {
			ls.Timeout = int64(payload.DefaultTimeout / time.Second)
		}
		if s.Kind == payload.KindDetect {
			ls.ExitCodes = nil // runs nothing
			steps = append(steps, ls)
			continue
		}
		prog, artID, err := programPath(s, arts)
		if err != nil {
			return nil, nil, err
		}
		ls.Program = prog
		if why, ok := skipped[artID]; ok {
			// Its file is not in the bundle: the step names no program.
			ls.Program = ""
			ls.Skip = fmt.Sprintf("optional artifact %s not supplied (%s)", artID, why)
			notes = append(notes, fmt.Sprintf("skipping step %s: optional artifact %s not supplied (builder --add %s=PATH)", s.ID, artID, artID))
		}
		steps = append(steps, ls)
	}
	return steps, notes, nil
}

// programPath resolves a step's artifact reference (ID or ID/PATH) to the
// bundle path of the file it runs.
func programPath(s payload.Step, arts map[string]*payload.Artifact) (prog, artID string, err error) {
	artID, sub, hasSub := strings.Cut(s.Artifact, "/")
	a, ok := arts[artID]
	if !ok {
		return "", "", fmt.Errorf("step %s: no artifact %q", s.ID, artID)
	}
	if !hasSub {
		if len(a.Extract) > 0 {
			return "", "", fmt.Errorf("step %s: artifact %s is an archive; name a file taken out of it (%s/PATH)", s.ID, artID, artID)
		}
		return payload.PayloadPath(artID, a.File), artID, nil
	}
	for _, e := range a.Extract {
		if e.Path == sub {
			return payload.PayloadPath(artID, sub), artID, nil
		}
	}
	return "", "", fmt.Errorf("step %s: artifact %s has no extract entry %q", s.ID, artID, sub)
}

// sortFiles sorts lock files by path (byte order, as the lock requires).
func sortFiles(fs []payload.LockFile) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
}
