package pack

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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

			FinishIfGoalMet: s.FinishIfGoalMet,
		}
		if s.OnFailure == payload.OnFailureContinue {
			ls.OnFailure = payload.OnFailureContinue
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
