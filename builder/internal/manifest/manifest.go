// Package manifest reads manifest files (see docs/manifest.md) into
// payload.Manifest. It is strict, because a manifest is what a person
// reviewed: an unknown field, a duplicate key or two keys that differ only
// in case are errors, as are anchors, aliases and explicit tags, which make
// a file mean something other than what it shows. Every problem of a file
// is reported in one run, each as file:line:col: field: message, so that a
// technician fixes them all at once.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"fixstick/payload"
)

var bom = []byte("\xef\xbb\xbf")

// Load reads the manifest at path and parses it. An error reading the file
// is returned as is (wrapped); problems in the file as an ErrorList.
func Load(path string) (*payload.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit, so that Parse sees the file is too big
	// without our holding a huge file in memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates the manifest in data; path is what errors and
// Manifest.Path call the file. On any problem it returns a nil manifest and
// an ErrorList holding every problem found, sorted by position.
func Parse(path string, data []byte) (*payload.Manifest, error) {
	p := &parser{file: path}
	m := p.parse(data)
	if len(p.errs) > 0 {
		p.errs.sort()
		return nil, p.errs
	}
	sum := sha256.Sum256(data)
	m.Path = path
	m.SHA256 = hex.EncodeToString(sum[:])
	return m, nil
}

type parser struct {
	file string
	errs ErrorList
}

func (p *parser) errAt(n *yaml.Node, field, format string, args ...any) {
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *parser) errPos(line, col int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) *payload.Manifest {
	if len(data) > MaxFileSize {
		p.errPos(0, 0, "the file is larger than 1 MiB (%d bytes): a manifest is written by hand, and this is not one", MaxFileSize)
		return nil
	}
	body := bytes.TrimPrefix(data, bom)
	if !p.checkBytes(body) {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(body))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errPos(0, 0, "the file is empty: a manifest starts with `manifest: 1`")
		} else {
			p.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.errAt(&extra, "", "a manifest is one YAML document: remove the second `---` and what follows, or make it a separate file")
		return nil
	case !errors.Is(err, io.EOF):
		p.syntaxError(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errPos(0, 0, "the file holds no manifest: it starts with `manifest: 1`")
		return nil
	}
	return p.manifest(doc.Content[0])
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError reports a YAML syntax error. The YAML library gives a line
// but no column.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errPos(line, 0, "YAML syntax error: %s", m[2])
		return
	}
	p.errPos(0, 0, "YAML syntax error: %s", strings.TrimPrefix(msg, "yaml: "))
}

// checkBytes refuses what no hand-written manifest holds and what the YAML
// library would report without a position: invalid UTF-8, NUL bytes and
// other control characters. It reports the first of each, with its
// position, and returns false if it found any.
func (p *parser) checkBytes(b []byte) bool {
	line, col := 1, 1
	var badUTF8, nul, ctl bool
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			if !badUTF8 {
				p.errPos(line, col, "the file is not valid UTF-8 (byte 0x%02x); save it as UTF-8", b[i])
				badUTF8 = true
			}
		case r == 0:
			if !nul {
				p.errPos(line, col, "the file holds a NUL byte: it is binary, or saved as UTF-16; save it as UTF-8")
				nul = true
			}
		// CR, LF and CRLF each end a line, as they do for the YAML
		// library, so positions agree with its own.
		case r == '\n' || r == '\r' && (i+1 == len(b) || b[i+1] != '\n'):
			line++
			col = 0
		case r == '\t' || r == '\r':
		// NEL and the Unicode line and paragraph separators are line
		// breaks to YAML but not to editors, so positions would be wrong.
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfeff || r == 0x2028 || r == 0x2029:
			if !ctl {
				p.errPos(line, col, "the file holds the control character %U, which does not belong in a manifest", r)
				ctl = true
			}
		}
		i += size
		col++
	}
	return !badUTF8 && !nul && !ctl
}
