package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"fixstick/payload"
)

func writeBundleDir(t *testing.T, o Options, dir string) *Bundle {
	t.Helper()
	b, err := Prepare(context.Background(), o, filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.WriteDir(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return b
}

func verifyProblems(t *testing.T, p string) []string {
	t.Helper()
	r, err := Verify(p)
	if err != nil {
		t.Fatal(err)
	}
	return r.Problems
}

func wantProblem(t *testing.T, probs []string, want string) {
	t.Helper()
	for _, p := range probs {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("problems %q, want one with %q", probs, want)
}

// Every file of a folder bundle is checked: a flipped byte anywhere is
// caught, and named.
func TestVerifyDirFlippedByte(t *testing.T) {
	o := fixture(t)
	dir := filepath.Join(t.TempDir(), "stick")
	b := writeBundleDir(t, o, dir)
	if probs := verifyProblems(t, dir); len(probs) != 0 {
		t.Fatalf("fresh folder: %q", probs)
	}
	for _, f := range append(b.Lock.Files, payload.LockFile{Path: payload.LockName}) {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(orig)
		bad[len(bad)/2] ^= 0x01
		os.WriteFile(p, bad, 0o644)
		probs := verifyProblems(t, dir)
		if f.Path == payload.LockName {
			if len(probs) == 0 {
				t.Errorf("flipped byte in the lock not caught")
			}
		} else {
			wantProblem(t, probs, f.Path+": content differs")
		}
		os.WriteFile(p, orig, 0o644)
	}
	if probs := verifyProblems(t, dir); len(probs) != 0 {
		t.Fatalf("restored folder: %q", probs)
	}
}

func TestVerifyDirMissingExtraEdited(t *testing.T) {
	o := fixture(t)
	dir := filepath.Join(t.TempDir(), "stick")
	writeBundleDir(t, o, dir)

	os.Rename(filepath.Join(dir, "runner.exe"), filepath.Join(dir, "gone"))
	probs := verifyProblems(t, dir)
	wantProblem(t, probs, "runner.exe: missing")
	wantProblem(t, probs, "gone: extra file")
	os.Rename(filepath.Join(dir, "gone"), filepath.Join(dir, "runner.exe"))

	os.WriteFile(filepath.Join(dir, "payloads", "setup", "version.dll"), []byte("planted"), 0o644)
	wantProblem(t, verifyProblems(t, dir), "payloads/setup/version.dll: extra file")
	os.Remove(filepath.Join(dir, "payloads", "setup", "version.dll"))

	// Reports are the runners' and never in the lock.
	os.MkdirAll(filepath.Join(dir, "reports", "PC-17"), 0o755)
	os.WriteFile(filepath.Join(dir, "reports", "PC-17", "report.json"), []byte("{}"), 0o644)
	if probs := verifyProblems(t, dir); len(probs) != 0 {
		t.Fatalf("reports/ reported: %q", probs)
	}

	// A hand edit that keeps the JSON valid: the args of a step.
	lp := filepath.Join(dir, payload.LockName)
	orig, _ := os.ReadFile(lp)
	os.WriteFile(lp, bytes.Replace(orig, []byte(`"args": "/q"`), []byte(`"args": "/q /evil"`), 1), 0o644)
	wantProblem(t, verifyProblems(t, dir), "does not match the lock's content")
	// A hand edit of a file's hash, with the file changed to match.
	l, _ := payload.ParseLock(orig)
	data := []byte("MZ replaced")
	for i := range l.Files {
		if l.Files[i].Path == "runner.exe" {
			l.Files[i].SHA256, l.Files[i].Size = sha(data), int64(len(data))
		}
	}
	edited, _ := payload.MarshalLock(l)
	os.WriteFile(lp, edited, 0o644)
	os.WriteFile(filepath.Join(dir, "runner.exe"), data, 0o644)
	probs = verifyProblems(t, dir)
	wantProblem(t, probs, "does not match the lock's content")
	if len(probs) != 1 {
		t.Errorf("problems %q", probs)
	}
	os.Remove(lp)
	wantProblem(t, verifyProblems(t, dir), "bundle.lock.json: missing")
}

// The zip is checked the same way: rewrite it with one entry changed.
func TestVerifyZip(t *testing.T) {
	o := fixture(t)
	out := filepath.Join(t.TempDir(), "b.zip")
	build(t, o, out)
	for name, tc := range map[string]struct {
		edit func(name string, data []byte) (string, []byte)
		add  string
		want string
	}{
		"flip": {edit: func(n string, d []byte) (string, []byte) {
			if n == "payloads/setup/setup.exe" {
				d = bytes.Clone(d)
				d[3] ^= 0x80
			}
			return n, d
		}, want: "payloads/setup/setup.exe: content differs"},
		"missing": {edit: func(n string, d []byte) (string, []byte) {
			if n == "legacy/run.cmd" {
				return "", nil
			}
			return n, d
		}, want: "legacy/run.cmd: missing"},
		"extra": {add: "setup.bat", want: "setup.bat: extra file"},
		"lock": {edit: func(n string, d []byte) (string, []byte) {
			if n == payload.LockName {
				d = bytes.Replace(d, []byte(`"timeout_seconds": 1800`), []byte(`"timeout_seconds": 1801`), 1)
			}
			return n, d
		}, want: "the lock was edited after the build"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.zip")
			var add []string
			if tc.add != "" {
				add = append(add, tc.add)
			}
			rewriteZip(t, out, bad, tc.edit, add...)
			wantProblem(t, verifyProblems(t, bad), tc.want)
		})
	}
}

// rewriteZip copies the zip src to dst through edit (which renames,
// changes or drops, with "", an entry), then adds the entries named in add.
func rewriteZip(t *testing.T, src, dst string, edit func(string, []byte) (string, []byte), add ...string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, _ := os.Create(dst)
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		r, _ := e.Open()
		d, _ := io.ReadAll(r)
		r.Close()
		n := e.Name
		if edit != nil {
			n, d = edit(n, d)
		}
		if n == "" {
			continue
		}
		w, _ := zw.Create(n)
		w.Write(d)
	}
	for _, n := range add {
		w, _ := zw.Create(n)
		w.Write([]byte("@echo pwned"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// reports/ is exempt from the lock only for safe names: a name that climbs
// out of it, or any unsafe name, is reported, whatever it starts with.
func TestVerifyZipUnsafeNames(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.zip")
	build(t, fixture(t), out)
	bad := filepath.Join(t.TempDir(), "bad.zip")
	rewriteZip(t, out, bad, nil, "reports/PC-1/report.json", "reports/../evil2.exe", "reports/con.txt", "payloads/a\\b.exe")
	probs := verifyProblems(t, bad)
	wantProblem(t, probs, `"reports/../evil2.exe": unsafe name`)
	wantProblem(t, probs, `"reports/con.txt": unsafe name`)
	wantProblem(t, probs, `"payloads/a\\b.exe": unsafe name`)
	for _, p := range probs {
		if strings.Contains(p, "PC-1") {
			t.Errorf("a report with a safe name is reported: %s", p)
		}
	}
	if len(probs) != 3 {
		t.Errorf("problems %q, want 3", probs)
	}
}

// In a folder, reports must be a real folder: a link could lead verify (and
// a runner writing reports) anywhere, and a file there is not a report.
func TestVerifyDirReportsNotAFolder(t *testing.T) {
	for name, tc := range map[string]struct {
		make func(p string) error
		want string
	}{
		"link to a folder": {func(p string) error { return os.Symlink(os.TempDir(), p) }, "reports: not a folder (a link)"},
		"file":             {func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }, "reports: not a folder (a file)"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "stick")
			writeBundleDir(t, fixture(t), dir)
			if err := tc.make(filepath.Join(dir, payload.ReportsDir)); err != nil {
				t.Skip(err)
			}
			wantProblem(t, verifyProblems(t, dir), tc.want)
		})
	}
}

func TestWriteDirRefusesForeignFolder(t *testing.T) {
	o := fixture(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "thesis.docx"), []byte("years of work"), 0o644)
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.WriteDir(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "holds files and no bundle (thesis.docx)") {
		t.Fatalf("error %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder changed: %v", ents)
	}

	// A bundle of another manifest is refused too.
	other := filepath.Join(t.TempDir(), "other")
	o2 := fixture(t)
	o2.Manifest.ID = "other"
	writeBundleDir(t, o2, other)
	if err := b.WriteDir(context.Background(), other); err == nil || !strings.Contains(err.Error(), "another manifest (other)") {
		t.Fatalf("error %v", err)
	}

	// A previous bundle of the same manifest with a stranger's file in it.
	same := filepath.Join(t.TempDir(), "same")
	writeBundleDir(t, fixture(t), same)
	os.WriteFile(filepath.Join(same, "notes.txt"), []byte("mine"), 0o644)
	if err := b.WriteDir(context.Background(), same); err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("error %v", err)
	}
}

// A folder holding a link or a special file is refused, even at a path the
// old lock lists or at reports: the builder writes only regular files into
// real folders, and a link could lead its writes (or a runner's) elsewhere.
func TestWriteDirRefusesLinks(t *testing.T) {
	o := fixture(t)
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	outside := filepath.Join(t.TempDir(), "outside")
	os.Mkdir(outside, 0o755)
	for name, tc := range map[string]struct {
		rel  string
		make func(p string) error
		want string
	}{
		"listed file is a link":   {"payloads/setup/setup.exe", func(p string) error { return os.Symlink(filepath.Join(outside, "x"), p) }, "payloads/setup/setup.exe (a link)"},
		"listed folder is a link": {"payloads/setup", func(p string) error { return os.Symlink(outside, p) }, "payloads/setup (a link)"},
		"reports is a link":       {"reports", func(p string) error { return os.Symlink(outside, p) }, "reports (a link)"},
		"reports is a file":       {"reports", func(p string) error { return os.WriteFile(p, nil, 0o644) }, "reports (a file, not a folder)"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "stick")
			writeBundleDir(t, fixture(t), dir)
			p := filepath.Join(dir, filepath.FromSlash(tc.rel))
			os.RemoveAll(p)
			if err := tc.make(p); err != nil {
				t.Skip(err)
			}
			if err := b.WriteDir(context.Background(), dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("written through the link: %v", ents)
			}
		})
	}
}

// Rebuilding onto a stick that holds an older bundle of the same manifest
// replaces it: new files written, old ones removed, reports kept.
func TestWriteDirReplacesPreviousBundle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stick")
	writeBundleDir(t, fixture(t), dir)
	os.MkdirAll(filepath.Join(dir, "reports", "PC-1"), 0o755)
	os.WriteFile(filepath.Join(dir, "reports", "PC-1", "report.json"), []byte("{}"), 0o644)

	o := fixture(t)
	o.Manifest.Artifacts = o.Manifest.Artifacts[:1]
	o.Manifest.Steps = []payload.Step{o.Manifest.Steps[3]}
	b := writeBundleDir(t, o, dir)
	if probs := verifyProblems(t, dir); len(probs) != 0 {
		t.Fatalf("after rewrite: %q", probs)
	}
	if _, err := os.Stat(filepath.Join(dir, "payloads", "tools")); !os.IsNotExist(err) {
		t.Errorf("old payload folder left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "PC-1", "report.json")); err != nil {
		t.Errorf("report removed: %v", err)
	}
	if len(b.Lock.Steps) != 1 {
		t.Errorf("steps %v", b.Lock.Steps)
	}
}

// A failed zip build leaves no output and no temp file behind.
func TestWriteZipFailureLeavesNothing(t *testing.T) {
	o := fixture(t)
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// The cached installer does not match its pin (fetch may leave the
	// hashing to pack): shorter, or the same size with one byte changed.
	// The error names the artifact, for the caller to drop it from the
	// cache.
	for _, data := range [][]byte{[]byte("MZ short"), append([]byte("Mz"), setupData[2:]...), append(setupData, 'x')} {
		os.WriteFile(o.Sources["setup"].Path, data, 0o644)
		dir := t.TempDir()
		out := filepath.Join(dir, "b.zip")
		_, _, err := b.WriteZip(context.Background(), out)
		var se *SourceError
		if !errors.As(err, &se) || se.ArtifactID != "setup" || !strings.Contains(err.Error(), "does not match its pin") {
			t.Fatalf("error %v", err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("left behind: %v", ents)
		}
		stick := filepath.Join(dir, "stick")
		if err := b.WriteDir(context.Background(), stick); !errors.As(err, &se) || se.ArtifactID != "setup" {
			t.Fatalf("--dir error %v", err)
		}
		if _, err := os.Stat(filepath.Join(stick, payload.LockName)); !os.IsNotExist(err) {
			t.Errorf("the folder claims to be a bundle: %v", err)
		}
		os.RemoveAll(stick)
	}
}

// A rebuild that cannot replace the SHA-256 file (here a folder with a
// file in it stands at its name) fails, and leaves the zip it replaced, or
// the old one, never no zip at all.
func TestWriteZipSidecarFailureKeepsZip(t *testing.T) {
	b, err := Prepare(context.Background(), fixture(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := filepath.Join(t.TempDir(), "b.zip")
	sum, _, err := b.WriteZip(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(out + ".sha256")
	os.MkdirAll(filepath.Join(out+".sha256", "x"), 0o755)
	if _, _, err := b.WriteZip(context.Background(), out); err == nil || !strings.Contains(err.Error(), "b.zip.sha256") {
		t.Fatalf("error %v", err)
	}
	if got, _, err := payload.HashFile(out); err != nil || got != sum {
		t.Errorf("the zip is gone or changed: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
}

// The zip is also checked against the SHA-256 file beside it, when there
// is one: appended bytes leave every entry intact but change the zip.
func TestVerifyZipSidecar(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.zip")
	build(t, fixture(t), out)
	f, _ := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("trailing"))
	f.Close()
	wantProblem(t, verifyProblems(t, out), "b.zip.sha256 says")
	os.Remove(out + ".sha256")
	if probs := verifyProblems(t, out); len(probs) != 0 {
		t.Errorf("without the sidecar: %q", probs)
	}
	os.WriteFile(out+".sha256", []byte("nonsense\n"), 0o644)
	wantProblem(t, verifyProblems(t, out), "not a SHA-256 line")
}

// A first build killed before it wrote the lock leaves complete files and
// temp files: the next build into that folder goes on, and removes the
// temp files. A file that is not what the bundle puts there still stops it.
func TestWriteDirAfterInterruptedBuild(t *testing.T) {
	o := fixture(t)
	b, err := Prepare(context.Background(), o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	dir := filepath.Join(t.TempDir(), "stick")
	os.MkdirAll(filepath.Join(dir, "payloads", "setup"), 0o755)
	os.WriteFile(filepath.Join(dir, "payloads", "setup", "setup.exe"), setupData, 0o644)
	os.WriteFile(filepath.Join(dir, "payloads", "setup", tmpPrefix+"123"), []byte("half"), 0o644)
	if err := b.WriteDir(context.Background(), dir); err != nil {
		t.Fatalf("after an interrupted first build: %v", err)
	}
	if probs := verifyProblems(t, dir); len(probs) != 0 {
		t.Fatalf("problems %q", probs)
	}

	other := filepath.Join(t.TempDir(), "stick")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "README.txt"), []byte("someone's readme"), 0o644)
	if err := b.WriteDir(context.Background(), other); err == nil || !strings.Contains(err.Error(), "README.txt") {
		t.Fatalf("a stranger's README.txt: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(other, "README.txt")); string(got) != "someone's readme" {
		t.Errorf("README.txt overwritten")
	}
}

// A rebuild whose file differs from the old one only in case keeps it: on a
// case-insensitive stick the two names are one file, the new one.
func TestStaleFilesIgnoreCase(t *testing.T) {
	old := &payload.Lock{Files: []payload.LockFile{{Path: "payloads/a/Setup.exe"}, {Path: "payloads/a/old.txt"}, {Path: "../x"}}}
	cur := &payload.Lock{Files: []payload.LockFile{{Path: "payloads/a/setup.exe"}}}
	if got := staleFiles(old, cur); len(got) != 1 || got[0] != "payloads/a/old.txt" {
		t.Errorf("stale %q, want only payloads/a/old.txt", got)
	}
}

type failingWriter struct{ left int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errors.New("disk full")
	}
	w.left -= len(p)
	return len(p), nil
}

// The copier hashes what it copies, whatever the read sizes, and a write
// that fails mid-way loses none of its buffers (the next copy would wait
// for them for ever).
func TestCopier(t *testing.T) {
	data := make([]byte, 3*copyBufSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	c := newCopier()
	var buf bytes.Buffer
	n, sum, err := c.copy(&buf, iotest.HalfReader(bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) || sum != hashBytes(data) || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("copy: %d bytes, %v", n, err)
	}
	for _, left := range []int{0, 100, copyBufSize + 1} {
		if _, _, err := c.copy(&failingWriter{left: left}, bytes.NewReader(data)); err == nil || err.Error() != "disk full" {
			t.Fatalf("failing writer: %v", err)
		}
		if len(c.free) != copyBufs {
			t.Fatalf("%d buffers back, want %d", len(c.free), copyBufs)
		}
	}
	if _, _, err := c.copy(io.Discard, iotest.ErrReader(errors.New("bad sector"))); err == nil || err.Error() != "bad sector" {
		t.Fatalf("failing reader: %v", err)
	}
	if len(c.free) != copyBufs {
		t.Fatalf("%d buffers back, want %d", len(c.free), copyBufs)
	}
}
