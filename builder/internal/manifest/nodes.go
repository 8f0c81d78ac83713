package manifest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"fixstick/payload"
)

// mapping is a YAML mapping whose keys have been checked against the fields
// table: no duplicates, no case variants, no unknown keys.
type mapping struct {
	node *yaml.Node
	path string
	keys map[string]*yaml.Node // field name -> key node
	vals map[string]*yaml.Node // field name -> value node
	// folded holds every key, lowercased, including refused ones, so that
	// a field written Sha256 is not also reported as missing.
	folded map[string]*yaml.Node
}

// mentions reports whether the mapping has a key that is field in any case,
// valid or not.
func (m *mapping) mentions(field string) bool { return m.folded[field] != nil }

// get returns the value of field, or nil.
func (m *mapping) get(field string) *yaml.Node { return m.vals[field] }

func (m *mapping) field(name string) string { return joinPath(m.path, name) }

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func pos(n *yaml.Node) payload.Pos { return payload.Pos{Line: n.Line, Col: n.Column} }

// quote quotes s for a message, leaving backslashes alone so that Windows
// paths and registry keys read as written.
func quote(s string) string {
	if strings.ContainsAny(s, "\"") || strings.ContainsFunc(s, isControl) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return `"` + s + `"`
}

// describe names what a node is, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "empty"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// plain reports anchors, aliases and explicit tags, which the format does
// not have: they make a value mean something other than what is written
// where it stands. It returns false when n cannot be read further.
func (p *parser) plain(n *yaml.Node, field string) bool {
	if n.Kind == yaml.AliasNode {
		p.errAt(n, field, "aliases (*%s) are not supported: write the value out", n.Value)
		return false
	}
	if n.Anchor != "" {
		p.errAt(n, field, "anchors (&%s) are not supported: write each value out", n.Anchor)
	}
	if n.Style&yaml.TaggedStyle != 0 {
		p.errAt(n, field, "explicit tags (%s) are not supported", n.Tag)
		return false
	}
	return true
}

// object checks that n is a mapping of the fields of obj and returns it,
// or nil after reporting why not.
func (p *parser) object(n *yaml.Node, path string, obj Object, what string) *mapping {
	if !p.plain(n, path) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errAt(n, path, "must be %s, not %s", what, describe(n))
		return nil
	}
	allowed := Fields[obj]
	folded := map[string]*yaml.Node{} // lowercased key -> first key node
	m := &mapping{node: n, path: path, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}, folded: folded}
	seen := map[string]*yaml.Node{} // every key, known or not
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.plain(k, path) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errAt(k, path, "a key must be a plain name, not %s", describe(k))
			continue
		}
		name := k.Value
		fp := joinPath(path, name)
		if prev, ok := seen[name]; ok {
			p.errAt(k, fp, "duplicate key (first at line %d:%d): YAML readers disagree on which one wins", prev.Line, prev.Column)
			continue
		}
		seen[name] = k
		fold := strings.ToLower(name)
		if prev, ok := folded[fold]; ok {
			p.errAt(k, fp, "key differs only in case from %q at line %d:%d", prev.Value, prev.Line, prev.Column)
			continue
		}
		folded[fold] = k
		if !slices.Contains(allowed, name) {
			if slices.Contains(allowed, fold) {
				p.errAt(k, fp, "unknown field: field names are lowercase (%s)", fold)
			} else {
				p.errAt(k, fp, "unknown field (%s takes: %s)", obj, strings.Join(allowed, ", "))
			}
			continue
		}
		m.keys[name] = k
		m.vals[name] = v
	}
	for _, r := range Required[obj] {
		// A case variant (Title for title) is reported already.
		if _, ok := folded[r]; !ok {
			p.errAt(n, m.field(r), "missing%s", missingHint[string(obj)+"."+r])
		}
	}
	return m
}

// present returns which of names the mapping has, in the file's order.
func (m *mapping) present(names []string) []string {
	var out []string
	for _, n := range names {
		if m.keys[n] != nil {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		ka, kb := m.keys[a], m.keys[b]
		if ka.Line != kb.Line {
			return ka.Line - kb.Line
		}
		return ka.Column - kb.Column
	})
	return out
}

// missingHint explains the required fields that people leave out.
var missingHint = map[string]string{
	"manifest.manifest": ": a manifest starts with `manifest: 1`",
	"manifest.id":       ": the manifest's id names the bundle",
	"manifest.steps":    ": a manifest without steps does nothing",
	"artifact.urls":     ": list the download URLs, or write `urls: []` when the user supplies the file (builder --add ID=PATH)",
	"artifact.file":     ": the file's name inside the bundle",
	"registry.key":      ": the key to read, such as HKLM\\SOFTWARE\\Microsoft\\...",
	"extract.sha256":    ": every file taken out of an archive is pinned, and build checks it against this",
}

// list checks that n is a sequence and returns its items.
func (p *parser) list(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	if !p.plain(n, field) {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			p.errAt(n, field, "has no value: write [] for an empty list")
		} else {
			p.errAt(n, field, "must be a list of %s, not %s", what, describe(n))
		}
		return nil, false
	}
	return n.Content, true
}

// scalar returns the text of a scalar that is not null. Any plain scalar
// is accepted as text: `title: 1.0` is the text "1.0", as written.
func (p *parser) scalar(n *yaml.Node, field, what string) (string, bool) {
	if !p.plain(n, field) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.errAt(n, field, "must be %s, not %s", what, describe(n))
		return "", false
	}
	if n.Tag == "!!null" {
		p.errAt(n, field, "has no value (expected %s)", what)
		return "", false
	}
	// Every string a person reads (plan, README.txt, reports) or a program
	// receives (a command line) is read as written: no bidi override to
	// reorder it, no C1 control for a terminal to obey. YAML's \u and \x
	// escapes would otherwise bring them in unseen.
	if i := strings.IndexFunc(n.Value, payload.Hidden); i >= 0 {
		r, _ := utf8.DecodeRuneInString(n.Value[i:])
		p.errAt(n, field, "contains %U, a character that does not show or that a terminal obeys: text must read as written", r)
		return "", false
	}
	return n.Value, true
}

// text returns a non-empty string. oneLine refuses line breaks and other
// control characters.
func (p *parser) text(n *yaml.Node, field string, oneLine bool) (string, bool) {
	s, ok := p.scalar(n, field, "text")
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		p.errAt(n, field, "is empty")
		return "", false
	}
	if oneLine && strings.ContainsFunc(s, isControl) {
		p.errAt(n, field, "must be one line, without tabs or control characters")
		return "", false
	}
	if strings.ContainsFunc(s, func(r rune) bool { return isControl(r) && r != '\n' && r != '\t' }) {
		p.errAt(n, field, "must be lines of text, without control characters (a terminal would obey them)")
		return "", false
	}
	return s, true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// boolean returns true or false, written as such.
func (p *parser) boolean(n *yaml.Node, field string) (bool, bool) {
	s, ok := p.scalar(n, field, "true or false")
	if !ok {
		return false, false
	}
	if n.Tag != "!!bool" {
		p.errAt(n, field, "must be true or false, not %s", describe(n))
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		p.errAt(n, field, "must be true or false, not %s", describe(n))
		return false, false
	}
	return b, true
}

// decimal returns a whole number written in decimal digits (an optional
// minus sign), refusing floats (1e3, 1.0), hex and text.
func (p *parser) decimal(n *yaml.Node, field, what string) (int64, bool) {
	s, ok := p.scalar(n, field, what)
	if !ok {
		return 0, false
	}
	// Digits too many for an int64 are a float to the YAML library.
	if n.Tag == "!!float" && !isDecimal(s) {
		p.errAt(n, field, "must be a whole number written in digits, not %s", s)
		return 0, false
	}
	if (n.Tag != "!!int" && n.Tag != "!!float") || !isDecimal(s) {
		p.errAt(n, field, "must be %s written in decimal digits, not %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.errAt(n, field, "%s is out of range", s)
		return 0, false
	}
	return v, true
}

func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
