package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic or hang, that its
// answer does not change from one run to the next (no map order leaking
// into messages), and that what it accepts is consistent.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	shipped, _ := filepath.Glob(filepath.Join("..", "..", "..", "manifests", "*.yaml"))
	for _, s := range append(seeds, shipped...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		_, err2 := Parse("f.yaml", data)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two parses differ:\n%v\n---\n%v", err, err2)
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %#v", err)
			}
			if !slices.IsSortedFunc(list, func(a, b *Error) int {
				if a.Line != b.Line {
					return a.Line - b.Line
				}
				return a.Col - b.Col
			}) {
				t.Fatalf("problems not sorted:\n%v", err)
			}
			for _, e := range list {
				if !strings.HasPrefix(e.Error(), "f.yaml:") || e.Msg == "" {
					t.Fatalf("malformed problem %q", e.Error())
				}
			}
			return
		}
		if m == nil || m.ID == "" || m.Title == "" || len(m.Steps) == 0 || len(m.SHA256) != 64 {
			t.Fatalf("accepted an incomplete manifest: %+v", m)
		}
		ids := map[string]bool{}
		for _, a := range m.Artifacts {
			ids[a.ID] = true
			if !a.Optional && !a.Pinned() {
				t.Fatalf("accepted unpinned required artifact %s", a.ID)
			}
		}
		for _, s := range m.Steps {
			id, _, _ := strings.Cut(s.Artifact, "/")
			if s.Kind != "detect" && !ids[id] {
				t.Fatalf("step %s refers to unknown artifact %q", s.ID, s.Artifact)
			}
			if s.Timeout < MinTimeout || s.Timeout > MaxTimeout {
				t.Fatalf("step %s: timeout %v out of range", s.ID, s.Timeout)
			}
		}
	})
}
