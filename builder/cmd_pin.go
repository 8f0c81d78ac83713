package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"fixstick/builder/internal/fetch"
	"fixstick/builder/internal/manifest"
	"fixstick/internal/atomicfile"
)

// runPin records sha256 and size for every artifact that lacks a SHA-256,
// from a download or from a file given with --add. The manifest is edited
// as text at the artifact's position, so its comments and layout stay, and
// it is replaced atomically, only once the edited text validates.
func runPin(ctx context.Context, e *env, args []string) error {
	var o fetchFlags
	fs := newFlags(e, "pin")
	o.addFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: builder pin [flags] MANIFEST\n\nRecord the SHA-256 and size of each artifact that has no SHA-256, from a download or\nfrom a file given with --add ID=PATH, in the manifest (trust on first use).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("pin needs exactly one manifest file")
	}
	adds, err := parseAdd(o.add)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	m, err := loadManifest(e, path)
	if err != nil {
		return err
	}
	given := map[string]string{}
	for _, a := range adds {
		found := false
		for _, art := range m.Artifacts {
			if art.ID == a[0] {
				found = true
				if art.SHA256 != "" {
					return fmt.Errorf("--add %s: artifact %s is already pinned by sha256: use builder fetch --add", a[0], a[0])
				}
			}
		}
		if !found {
			return fmt.Errorf("--add %s: no artifact %q in %s", a[0], a[0], path)
		}
		given[a[0]] = a[1]
	}

	f, done, err := o.fetcher(e)
	if err != nil {
		return err
	}
	pins := map[string]fetch.Result{}
	var errs []error
	for _, a := range m.Artifacts {
		if a.SHA256 != "" {
			continue
		}
		file, ok := given[a.ID]
		if !ok && len(a.URLs) == 0 {
			fmt.Fprintf(e.stderr, "builder: %s has no URL: give its file with --add %s=PATH to pin it\n", a.ID, a.ID)
			continue
		}
		r, err := f.Pin(ctx, m, a.ID, file)
		if err != nil {
			if ctx.Err() != nil {
				done()
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("pinning %s: %w", a.ID, err))
			continue
		}
		pins[a.ID] = r
	}
	done()
	if len(pins) == 0 {
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		fmt.Fprintf(e.stdout, "nothing to pin in %s\n", path)
		return nil
	}

	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	edited, err := insertPins(path, data, pins)
	if err != nil {
		return err
	}
	// The edited text must still be a valid manifest, with the new pins.
	m2, err := manifest.Parse(path, edited)
	if err != nil {
		return fmt.Errorf("the pinned manifest would not validate (left unchanged): %w", err)
	}
	for _, a := range m2.Artifacts {
		if r, ok := pins[a.ID]; ok && (a.SHA256 != r.SHA256 || a.Size != r.Size) {
			return fmt.Errorf("internal error: %s pinned as sha256:%s size %d, reads back as sha256:%s size %d (manifest left unchanged)", a.ID, r.SHA256, r.Size, a.SHA256, a.Size)
		}
	}
	if err := writeFileAtomic(path, edited); err != nil {
		return err
	}
	ids := make([]string, 0, len(pins))
	for id := range pins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := pins[id]
		from := "downloaded"
		if p, ok := given[id]; ok {
			from = "from " + p
		}
		fmt.Fprintf(e.stdout, "pinned %s (%s): sha256:%s size %d (%s)\n", id, r.File, r.SHA256, r.Size, from)
	}
	fmt.Fprintf(e.stdout, "%s updated. These pins are trust on first use: they record the bytes received now.\nCheck them against the vendor's published checksum where one exists.\n", path)
	return errors.Join(errs...)
}

// insertPins adds `sha256:` and `size:` lines to each pinned artifact's
// block mapping, right after its `file:` value and at the same indentation.
func insertPins(path string, data []byte, pins map[string]fetch.Result) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty manifest", path)
	}
	arts := mapValue(doc.Content[0], "artifacts")
	if arts == nil || arts.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: no artifacts list", path)
	}
	type insertion struct {
		after int // 1-based line
		text  string
	}
	var ins []insertion
	for _, a := range arts.Content {
		idNode := mapValue(a, "id")
		if idNode == nil {
			continue
		}
		r, ok := pins[idNode.Value]
		if !ok {
			continue
		}
		if a.Style&yaml.FlowStyle != 0 || arts.Style&yaml.FlowStyle != 0 {
			return nil, fmt.Errorf("%s:%d:%d: artifact %s is written in flow style ({...}): add `sha256: %s` and `size: %d` by hand",
				path, a.Line, a.Column, r.ArtifactID, r.SHA256, r.Size)
		}
		key, val := mapPair(a, "file")
		if key == nil {
			key, val = mapPair(a, "id")
		}
		indent := string(bytes.Repeat([]byte{' '}, key.Column-1))
		text := indent + "sha256: " + r.SHA256 + "\n"
		if sz := mapValue(a, "size"); sz == nil {
			text += indent + "size: " + strconv.FormatInt(r.Size, 10) + "\n"
		} else if n, err := strconv.ParseInt(sz.Value, 10, 64); err != nil || n != r.Size {
			return nil, fmt.Errorf("%s:%d:%d: artifact %s declares size %s but its file has %d bytes", path, sz.Line, sz.Column, r.ArtifactID, sz.Value, r.Size)
		}
		ins = append(ins, insertion{after: valueEnd(data, val.Line, key.Column-1), text: text})
	}
	if len(ins) != len(pins) {
		return nil, fmt.Errorf("%s: could not find every pinned artifact in the file", path)
	}
	crlf := bytes.Contains(data, []byte("\r\n"))
	// Insert from the bottom up, so earlier line numbers stay right.
	sort.Slice(ins, func(i, j int) bool { return ins[i].after > ins[j].after })
	out := data
	for _, in := range ins {
		off := lineEnd(out, in.after)
		text := []byte(in.text)
		if crlf {
			text = bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n"))
		}
		if off == len(out) && off > 0 && out[off-1] != '\n' {
			nl := []byte("\n")
			if crlf {
				nl = []byte("\r\n")
			}
			text = append(nl, text...)
		}
		out = append(out[:off:off], append(text, out[off:]...)...)
	}
	return out, nil
}

// valueEnd is the last line of the value that starts on line (1-based) of
// data, under a key indented by indent spaces: yaml.v3 gives no end
// position, and a block scalar (`file: >-`) or a value on the next line
// spans several. In a block mapping every line of a value is indented more
// than its key, so the value ends at the last non-blank line before the
// first non-blank one indented no more than the key. (A comment indented
// more is taken with it, which is still a safe place.)
func valueEnd(data []byte, line, indent int) int {
	lines := bytes.Split(data, []byte("\n"))
	end := line
	for i := line; i < len(lines); i++ { // lines[i] is line i+1
		l := bytes.TrimRight(lines[i], " \t\r")
		if len(l) == 0 {
			continue
		}
		if len(l)-len(bytes.TrimLeft(l, " ")) <= indent {
			break
		}
		end = i + 1
	}
	return end
}

// lineEnd is the offset just past line n (1-based) of data.
func lineEnd(data []byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			return len(data)
		}
		off += j + 1
	}
	return off
}

func mapPair(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	_, v := mapPair(m, key)
	return v
}

// writeFileAtomic replaces path with data; the file keeps its mode.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
