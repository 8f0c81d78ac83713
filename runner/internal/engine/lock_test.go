package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/payload"
)

func validLock() payload.Lock {
	return payload.Lock{Version: 1, Bundle: "b-1", Title: "t",
		Files: []payload.LockFile{{Path: "payloads/a/a.exe", SHA256: strings.Repeat("a", 64), Size: 1}},
		Steps: []payload.LockStep{exeStep("a", "payloads/a/a.exe")}}
}

func TestParseLock(t *testing.T) {
	good, _ := json.Marshal(validLock())
	if _, err := ParseLock(good); err != nil {
		t.Fatalf("valid lock: %v", err)
	}
	mutate := func(f func(l *payload.Lock)) []byte {
		l := validLock()
		f(&l)
		data, _ := json.Marshal(l)
		return data
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown field", []byte(strings.Replace(string(good), `"lock":1`, `"lock":1,"signature":"x"`, 1)), `unknown field "signature"`},
		{"trailing data", append(append([]byte{}, good...), []byte(` {}`)...), "data after the JSON"},
		{"version", mutate(func(l *payload.Lock) { l.Version = 2 }), "lock format 2"},
		{"bundle id", mutate(func(l *payload.Lock) { l.Bundle = `..` }), "bundle id"},
		{"path escape", mutate(func(l *payload.Lock) { l.Files[0].Path = "../x.exe" }), `refers to a directory`},
		{"case collision", mutate(func(l *payload.Lock) {
			l.Files = append(l.Files, payload.LockFile{Path: "PAYLOADS/a/A.exe", SHA256: strings.Repeat("b", 64)})
		}), "the same file on Windows"},
		{"bad sha", mutate(func(l *payload.Lock) { l.Files[0].SHA256 = strings.Repeat("A", 64) }), "64 lowercase hex"},
		{"unlisted program", mutate(func(l *payload.Lock) { l.Steps[0].Program = "payloads/b/b.exe" }), "is not a file of the bundle"},
		{"batch file", mutate(func(l *payload.Lock) {
			l.Files[0].Path = "payloads/a/a.cmd"
			l.Steps[0].Program = "payloads/a/a.cmd"
		}), "batch file"},
		{"kind and extension", mutate(func(l *payload.Lock) { l.Steps[0].Kind = payload.KindMSI }), "a msi step runs a .msi file"},
		{"duplicate step", mutate(func(l *payload.Lock) { l.Steps = append(l.Steps, l.Steps[0]) }), "duplicate step id"},
		{"detect family", mutate(func(l *payload.Lock) {
			l.Steps[0] = payload.LockStep{ID: "d", Kind: payload.KindDetect, Detect: "java"}
		}), `unknown detect family "java"`},
		{"outcome", mutate(func(l *payload.Lock) { l.Steps[0].ExitCodes[7] = payload.Result{Outcome: "ok"} }), `unknown outcome "ok"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLock(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReadLockSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, payload.MaxLockSize+1)
	if err := os.WriteFile(filepath.Join(dir, payload.LockName), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err %v", err)
	}
	if _, err := ReadLock(t.TempDir()); err == nil || !strings.Contains(err.Error(), "a bundle folder?") {
		t.Errorf("err %v", err)
	}
}
