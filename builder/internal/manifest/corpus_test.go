package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the `# want:` lines of testdata/bad/*.yaml from what the parser reports (review the diff)")

// TestBadCorpus parses every testdata/bad/*.yaml and compares the problems
// found with the file's `# want: LINE:COL: FIELD: MESSAGE` lines, all of
// them, in order. Each file breaks one rule. With -update it rewrites the
// want lines instead; positions count the want lines, so a new file needs
// one placeholder `# want: x` line per expected problem before -update.
func TestBadCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Errorf("only %d bad manifests; the corpus should hold one per rule", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := wantLines(data)
			if len(want) == 0 {
				t.Fatalf("%s has no `# want:` line", f)
			}
			_, err = Parse("m.yaml", data)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse: got %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, strings.TrimPrefix(e.Error(), "m.yaml:"))
			}
			if *update {
				writeWant(t, f, data, got)
				return
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
			}
		})
	}
}

func writeWant(t *testing.T, f string, data []byte, got []string) {
	var b bytes.Buffer
	for _, g := range got {
		b.WriteString("# want: " + g + "\n")
	}
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("# want: ")) {
			b.Write(line)
		}
	}
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantLines returns the expectations written at the top of a bad manifest.
func wantLines(data []byte) []string {
	var want []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			want = append(want, rest)
		}
	}
	return want
}

// TestGoodCorpus parses testdata/good/*.yaml and the manifests the project
// ships.
func TestGoodCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	shipped, _ := filepath.Glob(filepath.Join("..", "..", "..", "manifests", "*.yaml"))
	files = append(files, shipped...)
	if len(files) == 0 {
		t.Fatal("no good manifests found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Errorf("Load(%s):\n%v", f, err)
			}
		})
	}
}
