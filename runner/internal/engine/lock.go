package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"fixstick/internal/signature"
	"fixstick/payload"
)

// ReadLock reads and checks dir's bundle.lock.json. The lock is all the
// runner trusts, so it is read with a size cap, decoded strictly (an
// unknown field or trailing data is refused: a lock that says more than
// this runner understands must not be half-obeyed) and checked for
// everything the runner relies on later.
func ReadLock(dir string) (*payload.Lock, error) {
	l, _, err := readLock(dir)
	return l, err
}

// readLock also returns the lock's bytes, so that the private copy holds
// exactly the lock that was checked.
func readLock(dir string) (*payload.Lock, []byte, error) {
	data, err := readLockBytes(dir)
	if err != nil {
		return nil, nil, err
	}
	l, err := ParseLock(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, payload.LockName), err)
	}
	return l, data, nil
}

// readLockBytes reads dir's lock, capped at MaxLockSize. A signature is
// checked over these bytes before they are parsed.
func readLockBytes(dir string) ([]byte, error) {
	name := filepath.Join(dir, payload.LockName)
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s not found: is %s a bundle folder?", payload.LockName, dir)
		}
		return nil, fmt.Errorf("reading the lock: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, payload.MaxLockSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > payload.MaxLockSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: refusing it", name, payload.MaxLockSize)
	}
	return data, nil
}

// ParseLock decodes and checks a lock's bytes.
func ParseLock(data []byte) (*payload.Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l payload.Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("invalid lock: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid lock: data after the JSON object")
	}
	if err := checkLock(&l); err != nil {
		return nil, fmt.Errorf("invalid lock: %w", err)
	}
	return &l, nil
}

func checkLock(l *payload.Lock) error {
	if l.Version != payload.LockVersion {
		return fmt.Errorf("lock format %d; this runner reads format %d: use the runner that came with the bundle", l.Version, payload.LockVersion)
	}
	// The bundle id names the private folder: it must be a safe, short name.
	if err := payload.CheckName(l.Bundle); err != nil {
		return fmt.Errorf("bundle id: %w", err)
	}
	if len(l.Bundle) > 64 || strings.ContainsAny(l.Bundle, " %") {
		return fmt.Errorf("bundle id %q: want at most 64 characters, no spaces or %%", l.Bundle)
	}
	files := map[string]bool{}
	folded := map[string]string{}
	for i, f := range l.Files {
		if err := payload.CheckPath(f.Path); err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		if f.Path == payload.LockName || f.Path == signature.LockSigName || strings.HasPrefix(f.Path, payload.ReportsDir+"/") {
			return fmt.Errorf("files[%d]: %q cannot be a bundle file", i, f.Path)
		}
		if prev, ok := folded[payload.FoldName(f.Path)]; ok {
			return fmt.Errorf("files[%d]: %q and %q are the same file on Windows", i, f.Path, prev)
		}
		folded[payload.FoldName(f.Path)] = f.Path
		if !payload.IsHex(f.SHA256, 64) {
			return fmt.Errorf("files[%d] %s: sha256 must be 64 lowercase hex digits", i, f.Path)
		}
		if f.Size < 0 {
			return fmt.Errorf("files[%d] %s: negative size", i, f.Path)
		}
		files[f.Path] = true
	}
	ids := map[string]bool{}
	for i, s := range l.Steps {
		where := fmt.Sprintf("steps[%d] %q", i, s.ID)
		if s.ID == "" || payload.CheckName(s.ID) != nil || strings.ContainsAny(s.ID, " %") {
			return fmt.Errorf("%s: invalid step id", where)
		}
		if ids[s.ID] {
			return fmt.Errorf("%s: duplicate step id", where)
		}
		ids[s.ID] = true
		if s.Timeout < 0 {
			return fmt.Errorf("%s: negative timeout", where)
		}
		switch s.Reboot {
		case "", payload.RebootNever, payload.RebootIfNeeded, payload.RebootAfter:
		default:
			return fmt.Errorf("%s: unknown reboot policy %q", where, s.Reboot)
		}
		for _, c := range []*payload.Condition{s.When, s.Unless} {
			if err := checkCondition(c); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		for _, c := range s.ExitCodes.Codes() {
			if !s.ExitCodes[c].Outcome.Valid() {
				return fmt.Errorf("%s: exit code %d: unknown outcome %q", where, c, s.ExitCodes[c].Outcome)
			}
		}
		if s.Kind == payload.KindDetect {
			if payload.Facts(s.Detect) == nil {
				return fmt.Errorf("%s: unknown detect family %q (this runner knows %s)", where, s.Detect, strings.Join(payload.DetectFamilies(), ", "))
			}
			continue
		}
		if s.Skip != "" && s.Program == "" {
			continue // an optional artifact that was not supplied
		}
		if !files[s.Program] {
			return fmt.Errorf("%s: program %q is not a file of the bundle", where, s.Program)
		}
		if !strings.HasPrefix(s.Program, payload.PayloadDir+"/") {
			return fmt.Errorf("%s: program %q is not under %s/", where, s.Program, payload.PayloadDir)
		}
		if err := checkProgramKind(s.Kind, s.Program); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// checkProgramKind insists on the extension each kind runs: Windows picks
// how to start a file by its extension, and a .bat or .cmd would run
// through cmd.exe, which parses its command line in its own way.
func checkProgramKind(k payload.Kind, program string) error {
	ext := strings.ToLower(path.Ext(program))
	want := map[payload.Kind]string{
		payload.KindExe: ".exe", payload.KindMSI: ".msi", payload.KindMSP: ".msp", payload.KindMSU: ".msu",
	}[k]
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
