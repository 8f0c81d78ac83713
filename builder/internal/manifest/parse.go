package manifest

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"fixstick/payload"
)

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// manifest reads the top level. Artifacts are read before steps whatever
// their order in the file, so that steps can be resolved against them.
func (p *parser) manifest(root *yaml.Node) *payload.Manifest {
	// The version comes first: another version's fields mean other things,
	// and checking them against version 1 would only add noise.
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "manifest" && !p.version(root.Content[i+1]) {
				return nil
			}
		}
	}
	o := p.object(root, "", ObjManifest, "a mapping of manifest fields (manifest, id, title, artifacts, steps)")
	if o == nil {
		return nil
	}
	m := &payload.Manifest{}
	if o.get("manifest") != nil {
		m.Version = payload.ManifestVersion
	}
	if v := o.get("id"); v != nil {
		m.ID, _ = p.id(v, "id")
	}
	if v := o.get("title"); v != nil {
		m.Title, _ = p.text(v, "title", true)
	}
	if v := o.get("description"); v != nil {
		m.Description, _ = p.text(v, "description", false)
	}
	if v := o.get("references"); v != nil {
		items, _ := p.list(v, "references", "URLs")
		for i, it := range items {
			f := index("references", i)
			if s, ok := p.text(it, f, true); ok {
				if err := checkDocURL(s); err != nil {
					p.errAt(it, f, "%v", err)
				}
				m.References = append(m.References, s)
			}
		}
	}
	if v := o.get("created"); v != nil {
		m.Created = p.created(v)
	}
	a := &artifacts{byID: map[string]int{}}
	if v := o.get("artifacts"); v != nil {
		items, _ := p.list(v, "artifacts", "artifacts")
		names := map[string]nameUse{}
		for i, it := range items {
			if art := p.artifact(it, index("artifacts", i), names); art != nil {
				if prev, dup := a.byID[art.ID]; dup {
					p.errAt(it, index("artifacts", i)+".id", "duplicate artifact id %q (first at line %d:%d)", art.ID, a.list[prev].Pos.Line, a.list[prev].Pos.Col)
				} else {
					a.byID[art.ID] = len(a.list)
				}
				a.list = append(a.list, art)
			}
		}
	}
	for _, art := range a.list {
		m.Artifacts = append(m.Artifacts, *art)
	}
	var stepNodes []*yaml.Node
	if v := o.get("steps"); v != nil {
		items, _ := p.list(v, "steps", "steps")
		stepNodes = items
		if v.Kind == yaml.SequenceNode && len(items) == 0 {
			p.errAt(v, "steps", "is empty: a manifest without steps does nothing")
		}
		ids := map[string]*yaml.Node{}
		detected := map[string]bool{}
		for i, it := range items {
			st := p.step(it, index("steps", i), a, detected)
			if st == nil {
				continue
			}
			if prev, dup := ids[st.ID]; dup && st.ID != "" {
				p.errAt(it, index("steps", i)+".id", "duplicate step id %q (first at line %d:%d)", st.ID, prev.Line, prev.Column)
			} else {
				ids[st.ID] = it
			}
			if st.Kind == payload.KindDetect && st.Detect != "" {
				detected[st.Detect] = true
			}
			m.Steps = append(m.Steps, *st)
		}
	}
	// requires and goal are decided before any step runs, so they may use
	// only the facts of the detect steps that run first (they change
	// nothing).
	early := &condCtx{detected: map[string]bool{}, early: true}
	for _, st := range m.Steps {
		if st.Kind != payload.KindDetect {
			break
		}
		early.detected[st.Detect] = true
	}
	if v := o.get("requires"); v != nil {
		m.Requires = p.condition(v, "requires", 0, early)
	}
	if v := o.get("goal"); v != nil {
		m.Goal = p.condition(v, "goal", 0, early)
	}
	if o.get("goal") == nil {
		for i, it := range stepNodes {
			if k := mappingKey(it, "finish_if_goal_met"); k != nil {
				p.errAt(k, index("steps", i)+".finish_if_goal_met", "the manifest has no goal: add a top-level goal (the state the procedure exists to reach), or remove finish_if_goal_met")
			}
		}
	}
	return m
}

// mappingKey returns the key node called name in a mapping node, or nil.
func mappingKey(n *yaml.Node, name string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return nil
}

// version checks `manifest: 1`.
func (p *parser) version(n *yaml.Node) bool {
	s, ok := p.scalar(n, "manifest", "the number 1")
	if !ok {
		return false
	}
	if n.Tag == "!!int" && isDecimal(s) {
		if v, err := strconv.Atoi(s); err == nil && v == payload.ManifestVersion {
			return true
		}
		p.errAt(n, "manifest", "manifest version %s is not supported: this builder reads version %d", s, payload.ManifestVersion)
		return false
	}
	p.errAt(n, "manifest", "must be the number %d (the manifest format version), not %s", payload.ManifestVersion, describe(n))
	return false
}

// id checks an id: it names folders (payloads\<id>) and journal entries.
func (p *parser) id(n *yaml.Node, field string) (string, bool) {
	s, ok := p.scalar(n, field, "an id")
	if !ok {
		return "", false
	}
	switch {
	case !idRE.MatchString(s):
		hint := ""
		if idRE.MatchString(strings.ToLower(s)) {
			hint = " (ids are lowercase)"
		}
		p.errAt(n, field, "invalid id %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit%s", s, hint)
	case len(s) > MaxIDLen:
		p.errAt(n, field, "id is longer than %d characters", MaxIDLen)
	default:
		if err := payload.CheckName(s); err != nil {
			p.errAt(n, field, "invalid id: %v", err)
			return s, false
		}
		return s, true
	}
	// The id is returned even when invalid, so that what refers to it is
	// not reported as well.
	return s, false
}

func (p *parser) created(n *yaml.Node) string {
	s, ok := p.scalar(n, "created", "an RFC 3339 time")
	if !ok {
		return ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.errAt(n, "created", "must be an RFC 3339 time such as 2010-06-08T00:00:00Z, not %q", s)
		return ""
	}
	// It dates every file of the bundle, and a zip holds only these.
	if t = t.UTC(); t.Before(minCreated) || t.After(maxCreated) {
		p.errAt(n, "created", "%s is outside the times a zip can hold (%s to %s)", s, minCreated.Format(time.RFC3339), maxCreated.Format(time.RFC3339))
		return ""
	}
	return s
}

// The range of a zip (DOS) timestamp.
var (
	minCreated = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	maxCreated = time.Date(2107, 12, 31, 23, 59, 59, 0, time.UTC)
)

type artifacts struct {
	list []*payload.Artifact
	byID map[string]int // first artifact with each id
}

func (a *artifacts) lookup(id string) *payload.Artifact {
	if i, ok := a.byID[id]; ok {
		return a.list[i]
	}
	return nil
}

// nameUse remembers where a file name of the bundle was declared.
type nameUse struct {
	field    string
	artifact string
	n        *yaml.Node
}

func (p *parser) artifact(n *yaml.Node, path string, names map[string]nameUse) *payload.Artifact {
	o := p.object(n, path, ObjArtifact, "a mapping of artifact fields (id, file, urls, sha256 ...)")
	if o == nil {
		return nil
	}
	a := &payload.Artifact{Pos: pos(n)}
	if v := o.get("id"); v != nil {
		a.ID, _ = p.id(v, o.field("id"))
	}
	var fileNode *yaml.Node
	if v := o.get("file"); v != nil {
		if s, ok := p.scalar(v, o.field("file"), "a file name"); ok {
			if err := payload.CheckName(s); err != nil {
				p.errAt(v, o.field("file"), "%v", err)
			} else {
				a.File, fileNode = s, v
			}
		}
	}
	if v := o.get("size"); v != nil {
		a.Size = p.size(v, o.field("size"))
	}
	if v := o.get("sha256"); v != nil {
		a.SHA256 = p.digest(v, o.field("sha256"), "sha256", 64)
	}
	if v := o.get("sha1"); v != nil {
		a.SHA1 = p.digest(v, o.field("sha1"), "sha1", 40)
	}
	if v := o.get("optional"); v != nil {
		a.Optional, _ = p.boolean(v, o.field("optional"))
	}
	if v := o.get("source"); v != nil {
		if s, ok := p.text(v, o.field("source"), true); ok {
			if err := checkDocURL(s); err != nil {
				p.errAt(v, o.field("source"), "%v", err)
			}
			a.Source = s
		}
	}
	if v := o.get("extract"); v != nil {
		a.Extract = p.extract(v, o.field("extract"), a.ID, names)
	}
	if v := o.get("signer"); v != nil {
		a.Signer = p.signer(v, o.field("signer"), a)
	}
	// Read the URLs last: whether plain http is allowed depends on the pin.
	if v := o.get("urls"); v != nil {
		a.URLs = p.urls(v, o.field("urls"), a)
	}
	if a.URLs == nil {
		a.URLs = []payload.URL{}
	}
	if fileNode != nil {
		p.claimName(names, a.File, nameUse{o.field("file"), a.ID, fileNode})
	}
	// An archive's entries are pinned one by one (an entry without sha256
	// is reported where it is), so only an artifact without extract needs
	// a pin of its own.
	if !a.Optional && !a.Pinned() && !o.mentions("sha256") && !o.mentions("sha1") && !o.mentions("extract") {
		p.errAt(n, path, "required artifact is not pinned: give its sha256 (or sha1), or mark it `optional: true` until `builder pin` records one")
	}
	return a
}

// signableExts are the file types that carry an Authenticode signature
// the builder checks: PE images, Windows Installer packages and patches,
// cabinets and Windows Update packages (cabinets).
var signableExts = map[string]bool{".exe": true, ".dll": true, ".sys": true, ".msi": true, ".msp": true, ".cab": true, ".msu": true}

// signer reads an artifact's Authenticode signer: a subject common name,
// on a file that can carry a signature (an archive cannot: its entries
// are pinned one by one).
func (p *parser) signer(n *yaml.Node, field string, a *payload.Artifact) string {
	s, ok := p.text(n, field, true)
	if !ok {
		return ""
	}
	if strings.TrimSpace(s) != s {
		p.errAt(n, field, "has leading or trailing spaces: a subject name is compared exactly")
		return ""
	}
	if a.File != "" && !signableExts[strings.ToLower(path.Ext(a.File))] {
		p.errAt(n, field, "%s cannot carry an Authenticode signature (only .exe, .dll, .sys, .msi, .msp, .cab and .msu files do)", a.File)
		return ""
	}
	if len(a.Extract) > 0 {
		p.errAt(n, field, "an archive to extract cannot carry one: its entries are pinned one by one")
		return ""
	}
	return s
}

// claimName records a file name of the bundle and reports a name already
// used, ignoring case as Windows does. Files live in one folder per
// artifact, so only names within one artifact truly collide; the same name
// in two artifacts is refused all the same, because two different
// setup.exe on one stick confuse the technician who runs them by hand.
func (p *parser) claimName(names map[string]nameUse, name string, use nameUse) {
	key := payload.FoldName(name)
	if prev, ok := names[key]; ok {
		if prev.artifact == use.artifact && prev.field != use.field && strings.HasSuffix(use.field, ".file") {
			// An archive and a file it holds may share a name.
			return
		}
		p.errAt(use.n, use.field, "file name %q is already used by %s (line %d:%d); Windows ignores case, and two files of one name confuse whoever runs them", name, prev.field, prev.n.Line, prev.n.Column)
		return
	}
	names[key] = use
}

func (p *parser) size(n *yaml.Node, field string) int64 {
	v, ok := p.decimal(n, field, "a size in bytes")
	if !ok {
		return 0
	}
	switch {
	case v <= 0:
		p.errAt(n, field, "must be a positive number of bytes, not %d", v)
		return 0
	case v > MaxSize:
		p.errAt(n, field, "%d bytes is over the limit of 16 GiB (%d bytes)", v, int64(MaxSize))
		return 0
	}
	return v
}

// digest checks a hex digest of n digits, lowercase.
func (p *parser) digest(n *yaml.Node, field, algo string, digits int) string {
	s, ok := p.scalar(n, field, "a "+algo+" digest")
	if !ok {
		return ""
	}
	switch {
	case payload.IsHex(s, digits):
		return s
	case payload.IsHex(strings.ToLower(s), digits):
		p.errAt(n, field, "%s has uppercase hex digits; write it in lowercase: %s", algo, strings.ToLower(s))
	case len(s) != digits:
		p.errAt(n, field, "%s must be %d hex digits, not %d", algo, digits, len(s))
	default:
		p.errAt(n, field, "%s must be %d hex digits (0-9, a-f); %q is not", algo, digits, s)
	}
	return ""
}

func (p *parser) extract(n *yaml.Node, field, artID string, names map[string]nameUse) []payload.ExtractEntry {
	items, _ := p.list(n, field, "extract entries (path, sha256)")
	if n.Kind == yaml.SequenceNode && len(items) == 0 {
		p.errAt(n, field, "is empty: list the files to take out of the archive, or remove extract")
	}
	var out []payload.ExtractEntry
	var paths []claimed
	for i, it := range items {
		ef := index(field, i)
		o := p.object(it, ef, ObjExtract, "a mapping with path and sha256")
		if o == nil {
			continue
		}
		e := payload.ExtractEntry{Pos: pos(it)}
		if v := o.get("path"); v != nil {
			if s, ok := p.scalar(v, o.field("path"), "a path inside the archive"); ok {
				if err := payload.CheckPath(s); err != nil {
					p.errAt(v, o.field("path"), "%v", err)
				} else if p.claimPath(&paths, s, v, o.field("path")) {
					e.Path = s
					p.claimName(names, path.Base(s), nameUse{o.field("path"), artID, v})
				}
			}
		}
		if v := o.get("sha256"); v != nil {
			e.SHA256 = p.digest(v, o.field("sha256"), "sha256", 64)
		}
		if v := o.get("size"); v != nil {
			e.Size = p.size(v, o.field("size"))
		}
		out = append(out, e)
	}
	return out
}

// claimPath refuses two extract paths of one artifact that are the same
// file, or a file and a folder, to Windows.
func (p *parser) claimPath(paths *[]claimed, s string, n *yaml.Node, field string) bool {
	key := payload.FoldName(s)
	for _, c := range *paths {
		other, on := c.key, c.n
		switch {
		case other == key:
			p.errAt(n, field, "path %q is already extracted at line %d:%d (Windows ignores case)", s, on.Line, on.Column)
			return false
		case strings.HasPrefix(other, key+"/"), strings.HasPrefix(key, other+"/"):
			p.errAt(n, field, "path %q would be both a file and a folder with the entry at line %d:%d", s, on.Line, on.Column)
			return false
		}
	}
	*paths = append(*paths, claimed{key, n})
	return true
}

// claimed is an extract path already taken, folded as Windows compares.
type claimed struct {
	key string
	n   *yaml.Node
}

// urls reads an artifact's sources. The artifact's pins are already read.
func (p *parser) urls(n *yaml.Node, field string, a *payload.Artifact) []payload.URL {
	items, _ := p.list(n, field, "URLs")
	out := []payload.URL{}
	seen := map[string]*yaml.Node{}
	for i, it := range items {
		uf := index(field, i)
		var u payload.URL
		at := it // the node errors about the URL itself point at
		if it.Kind == yaml.MappingNode {
			o := p.object(it, uf, ObjURL, "a URL, or a mapping with url and insecure_http")
			if o == nil {
				continue
			}
			v := o.get("url")
			if v == nil {
				continue
			}
			at, uf = v, o.field("url")
			s, ok := p.text(v, uf, true)
			if !ok {
				continue
			}
			u.URL = s
			if iv := o.get("insecure_http"); iv != nil {
				u.InsecureHTTP, _ = p.boolean(iv, o.field("insecure_http"))
				if u.InsecureHTTP && !strings.HasPrefix(strings.ToLower(s), "http:") {
					p.errAt(iv, o.field("insecure_http"), "insecure_http is only for http:// URLs")
				}
				if u.InsecureHTTP && !a.Pinned() {
					p.errAt(iv, o.field("insecure_http"), "plain http is allowed only for a pinned artifact: the pin is what makes its bytes trustworthy")
				}
			}
		} else {
			s, ok := p.text(it, uf, true)
			if !ok {
				continue
			}
			u.URL = s
		}
		if err := checkFetchURL(u.URL, u.InsecureHTTP); err != nil {
			p.errAt(at, uf, "%v", err)
			continue
		}
		if prev, dup := seen[u.URL]; dup {
			p.errAt(at, uf, "URL listed twice (first at line %d:%d)", prev.Line, prev.Column)
			continue
		}
		seen[u.URL] = at
		out = append(out, u)
	}
	return out
}

// checkFetchURL checks a URL the builder downloads from.
func checkFetchURL(s string, insecureHTTP bool) error {
	u, err := checkURL(s)
	if err != nil {
		return err
	}
	if u.Scheme == "http" && !insecureHTTP {
		return fmt.Errorf("plain http:// is refused: use https://, or write it as `- url: ...` with `insecure_http: true` beside it (allowed only because the pin checks the bytes)")
	}
	return nil
}

// checkDocURL checks a URL a person reads (references, source): it is
// never fetched, so http is fine, but it must still be a real web address.
func checkDocURL(s string) error {
	_, err := checkURL(s)
	return err
}

// checkURL checks what every URL of a manifest must be: an absolute http
// or https address, without credentials, spaces or backslashes.
func checkURL(s string) (*url.URL, error) {
	if len(s) > MaxURLLen {
		return nil, fmt.Errorf("URL is longer than %d characters", MaxURLLen)
	}
	if strings.ContainsAny(s, " \t\r\n\\") {
		return nil, fmt.Errorf("URL %q contains a space or a backslash: percent-encode it", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	if u.Scheme != "" && u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("URL scheme %q is refused: want https://", u.Scheme)
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("URL %q is not absolute: write the whole address, https://host/path", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL contains a user name or password; credentials do not belong in a manifest that is shared and reviewed")
	}
	return u, nil
}

// exitCodeRE matches the forms an exit code may be written in: decimal,
// negative decimal (the signed form some documents give) or 0x hex.
var exitCodeRE = regexp.MustCompile(`^(-?[0-9]+|0[xX][0-9a-fA-F]+)$`)

// parseExitCode reads an exit code as the unsigned 32-bit value Windows
// reports: -1 is 0xFFFFFFFF.
func parseExitCode(s string) (uint32, error) {
	if !exitCodeRE.MatchString(s) {
		return 0, fmt.Errorf("exit code %q must be a whole number, in decimal or 0x hex", s)
	}
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("exit code %s is out of the 32-bit range", s)
		}
		return uint32(v), nil
	}
	v, err := parseNumber(s, 32)
	if err != nil {
		return 0, fmt.Errorf("exit code %s is out of the 32-bit range", s)
	}
	return uint32(v), nil
}

// parseNumber reads a whole number as a person writes it: in hex after 0x,
// else in decimal. A leading zero does not make it octal, as it would to
// strconv's base 0 and to YAML 1.1: 010 is ten (as in YAML 1.2).
func parseNumber(s string, bits int) (uint64, error) {
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		return strconv.ParseUint(h, 16, bits)
	}
	return strconv.ParseUint(s, 10, bits)
}

// kindExt is the file extension each kind of step runs.
var kindExt = map[payload.Kind]string{
	payload.KindExe: ".exe",
	payload.KindMSI: ".msi",
	payload.KindMSP: ".msp",
	payload.KindMSU: ".msu",
}

func (p *parser) step(n *yaml.Node, path string, a *artifacts, detected map[string]bool) *payload.Step {
	o := p.object(n, path, ObjStep, "a mapping of step fields (id, exe/msi/msp/msu/detect, args ...)")
	if o == nil {
		return nil
	}
	s := &payload.Step{Pos: pos(n)}
	if v := o.get("id"); v != nil {
		s.ID, _ = p.id(v, o.field("id"))
	}
	if v := o.get("title"); v != nil {
		s.Title, _ = p.text(v, o.field("title"), true)
	}
	var kindKey *yaml.Node
	kinds := make([]string, len(StepKinds))
	for i, k := range StepKinds {
		kinds[i] = string(k)
	}
	for _, k := range o.present(kinds) {
		kn := o.keys[k]
		if kindKey != nil {
			p.errAt(kn, o.field(k), "a step runs one thing, and this one also has %s at line %d:%d: make two steps", kindKey.Value, kindKey.Line, kindKey.Column)
			continue
		}
		kindKey = kn
		s.Kind = payload.Kind(k)
	}
	if kindKey == nil {
		p.errAt(n, path, "missing what the step runs: one of exe, msi, msp, msu or detect")
	}
	v := o.get(string(s.Kind))
	switch {
	case kindKey == nil:
	case s.Kind == payload.KindDetect:
		if fam, ok := p.scalar(v, o.field("detect"), "what to detect"); ok {
			if slices.Contains(payload.DetectFamilies(), fam) {
				s.Detect = fam
			} else {
				p.errAt(v, o.field("detect"), "unknown detect %q (known: %s)", fam, strings.Join(payload.DetectFamilies(), ", "))
			}
		}
		for _, f := range []string{"args", "exit_codes", "reboot", "timeout", "on_failure"} {
			if k := o.keys[f]; k != nil {
				p.errAt(k, o.field(f), "a detect step runs no program, so %s has no meaning here", f)
			}
		}
	default:
		if ref, ok := p.scalar(v, o.field(string(s.Kind)), "an artifact id, or ARTIFACT/PATH"); ok {
			if p.resolve(v, o.field(string(s.Kind)), s.Kind, ref, a) {
				s.Artifact = ref
			}
		}
	}
	if s.Kind != payload.KindDetect {
		if v := o.get("args"); v != nil {
			if args, ok := p.scalar(v, o.field("args"), "the command line's arguments, as one string"); ok {
				switch {
				case strings.ContainsFunc(args, isControl):
					p.errAt(v, o.field("args"), "must be one line, without tabs or control characters: it becomes the command line verbatim")
				case len(args) > MaxArgsLen:
					p.errAt(v, o.field("args"), "is longer than %d characters, the command-line limit of cmd.exe", MaxArgsLen)
				default:
					s.Args = args
				}
			}
		}
		if v := o.get("exit_codes"); v != nil {
			s.ExitCodes = p.exitCodes(v, o.field("exit_codes"))
		}
		s.Reboot = payload.RebootIfNeeded
		if v := o.get("reboot"); v != nil {
			if r, ok := p.scalar(v, o.field("reboot"), "never, if-needed or after"); ok {
				if slices.Contains(Enums["step.reboot"], r) {
					s.Reboot = payload.Reboot(r)
				} else {
					p.errAt(v, o.field("reboot"), "must be never, if-needed or after, not %q", r)
				}
			}
		}
	} else {
		s.Reboot = payload.RebootNever
	}
	s.Timeout = payload.DefaultTimeout
	if v := o.get("timeout"); v != nil && s.Kind != payload.KindDetect {
		s.Timeout = p.timeout(v, o.field("timeout"))
	}
	if v := o.get("on_failure"); v != nil && s.Kind != payload.KindDetect {
		if r, ok := p.scalar(v, o.field("on_failure"), "stop or continue"); ok {
			if slices.Contains(Enums["step.on_failure"], r) {
				s.OnFailure = payload.OnFailure(r)
			} else {
				p.errAt(v, o.field("on_failure"), "must be stop (the default: a failure ends the run) or continue (a failure is reported, tolerated, and the run goes on), not %q", r)
			}
		}
	}
	if v := o.get("finish_if_goal_met"); v != nil {
		s.FinishIfGoalMet, _ = p.boolean(v, o.field("finish_if_goal_met"))
	}
	c := &condCtx{detected: detected}
	if v := o.get("when"); v != nil {
		s.When = p.condition(v, o.field("when"), 0, c)
	}
	if v := o.get("unless"); v != nil {
		s.Unless = p.condition(v, o.field("unless"), 0, c)
	}
	return s
}

// resolve checks a step's reference to what it runs: an artifact id, or
// ARTIFACT/PATH for a file extracted from an archive artifact.
func (p *parser) resolve(n *yaml.Node, field string, kind payload.Kind, ref string, a *artifacts) bool {
	id, rest, hasPath := strings.Cut(ref, "/")
	art := a.lookup(id)
	if art == nil {
		ids := make([]string, 0, len(a.list))
		for _, x := range a.list {
			if x.ID != "" {
				ids = append(ids, x.ID)
			}
		}
		known := "none is declared"
		if len(ids) > 0 {
			known = "artifacts: " + strings.Join(ids, ", ")
		}
		p.errAt(n, field, "unknown artifact %q (%s)", id, known)
		return false
	}
	name := art.File
	switch {
	case hasPath && len(art.Extract) == 0:
		p.errAt(n, field, "artifact %q has no extract entries: name it by its id alone", id)
		return false
	case hasPath:
		var found *payload.ExtractEntry
		for i := range art.Extract {
			if art.Extract[i].Path == rest {
				found = &art.Extract[i]
			}
		}
		if found == nil {
			var have []string
			hint := ""
			for _, e := range art.Extract {
				have = append(have, e.Path)
				if payload.FoldName(e.Path) == payload.FoldName(rest) {
					hint = fmt.Sprintf("; did you mean %s/%s? (write it exactly as in extract)", id, e.Path)
				}
			}
			p.errAt(n, field, "artifact %q extracts no %q (it extracts: %s)%s", id, rest, strings.Join(have, ", "), hint)
			return false
		}
		name = path.Base(rest)
	case len(art.Extract) > 0:
		p.errAt(n, field, "artifact %q is an archive: name the extracted file to run, as %s/%s", id, id, art.Extract[0].Path)
		return false
	}
	if name == "" {
		return false // the artifact's own file name is invalid, and said so
	}
	ext := strings.ToLower(path.Ext(name))
	want := kindExt[kind]
	switch {
	case ext == want:
		return true
	case kind == payload.KindExe && (ext == ".bat" || ext == ".cmd"):
		p.errAt(n, field, "%s is a batch file, which is refused: cmd.exe would reinterpret the command line (%%, ^, &); run the program it runs", name)
	default:
		hint := ""
		for k, e := range kindExt {
			if e == ext {
				hint = fmt.Sprintf(": a %s file is run by an `%s:` step", ext, k)
			}
		}
		p.errAt(n, field, "an `%s:` step runs a %s file, and %s is not one%s", kind, want, name, hint)
	}
	return false
}

func (p *parser) exitCodes(n *yaml.Node, field string) payload.ExitCodes {
	if !p.plain(n, field) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errAt(n, field, "must be a mapping of exit codes to outcomes, such as {3: failure}, not %s", describe(n))
		return nil
	}
	out := payload.ExitCodes{}
	seen := map[uint32]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ks, ok := p.scalar(k, field, "an exit code")
		if !ok {
			continue
		}
		kf := field + "." + ks
		code, err := parseExitCode(ks)
		if err != nil {
			p.errAt(k, kf, "%v", err)
			continue
		}
		if prev, dup := seen[code]; dup {
			p.errAt(k, kf, "exit code %s is listed twice (first at line %d:%d)", payload.CodeString(code), prev.Line, prev.Column)
			continue
		}
		seen[code] = k
		vs, ok := p.scalar(v, kf, "an outcome, such as failure or \"failure: why\"")
		if !ok {
			continue
		}
		r, err := payload.ParseResult(vs)
		if err != nil {
			p.errAt(v, kf, "%v", err)
			continue
		}
		out[code] = r
	}
	return out
}

func (p *parser) timeout(n *yaml.Node, field string) time.Duration {
	s, ok := p.scalar(n, field, "a duration such as 30m")
	if !ok {
		return payload.DefaultTimeout
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := ""
		if isDecimal(s) {
			hint = fmt.Sprintf(": give a unit, such as %sm", s)
		}
		p.errAt(n, field, "must be a duration such as 30m or 2h, not %q%s", s, hint)
		return payload.DefaultTimeout
	}
	if d < MinTimeout || d > MaxTimeout {
		p.errAt(n, field, "%s is out of range: a timeout is between 1m and 24h", s)
		return payload.DefaultTimeout
	}
	return d
}
