package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"fixstick/payload"
)

// The schema editors use must accept exactly what the parser accepts. This
// test reads manifests/schema.json and compares it with the tables the
// parser itself runs on (Fields, Required, Enums, StepKinds, the facts, the
// id and exit-code patterns, the limits), so a field added to one and not
// the other fails here.

type schemaNode map[string]any

func loadSchema(t *testing.T) schemaNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "manifests", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return s
}

func (n schemaNode) get(t *testing.T, keys ...string) schemaNode {
	t.Helper()
	cur := n
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			t.Fatalf("schema.json: no object at %v", keys)
		}
		cur = next
	}
	return cur
}

func strs(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func (n schemaNode) object(t *testing.T, obj Object) schemaNode {
	if obj == ObjManifest {
		return n
	}
	return n.get(t, "$defs", string(obj))
}

func TestSchemaFields(t *testing.T) {
	s := loadSchema(t)
	defs := s.get(t, "$defs")
	seen := map[string]bool{}
	for obj, fields := range Fields {
		o := s.object(t, obj)
		seen[string(obj)] = true
		var props []string
		for k := range o.get(t, "properties") {
			props = append(props, k)
		}
		slices.Sort(props)
		if !slices.Equal(props, sorted(fields)) {
			t.Errorf("%s: schema properties %v, parser fields %v", obj, props, sorted(fields))
		}
		if got, want := strs(o["required"]), sorted(Required[obj]); !slices.Equal(got, want) {
			t.Errorf("%s: schema requires %v, parser requires %v", obj, got, want)
		}
		if o["additionalProperties"] != false {
			t.Errorf("%s: schema allows additional properties; the parser refuses unknown fields", obj)
		}
	}
	// And no mapping in the schema that the parser does not know.
	for name, d := range defs {
		if dm, ok := d.(map[string]any); ok && dm["properties"] != nil && !seen[name] {
			t.Errorf("schema $defs.%s has properties, but the parser has no such object", name)
		}
	}
}

func TestSchemaValues(t *testing.T) {
	s := loadSchema(t)
	step := s.get(t, "$defs", "step", "properties")
	if got, want := strs(step.get(t, "reboot")["enum"]), sorted(Enums["step.reboot"]); !slices.Equal(got, want) {
		t.Errorf("reboot: schema %v, parser %v", got, want)
	}
	if got, want := strs(step.get(t, "on_failure")["enum"]), sorted(Enums["step.on_failure"]); !slices.Equal(got, want) {
		t.Errorf("on_failure: schema %v, parser %v", got, want)
	}
	if got, want := strs(step.get(t, "detect")["enum"]), sorted(Enums["step.detect"]); !slices.Equal(got, want) {
		t.Errorf("detect: schema %v, parser %v", got, want)
	}
	if got, want := strs(s.get(t, "$defs", "os", "properties", "arch")["enum"]), sorted(Enums["os.arch"]); !slices.Equal(got, want) {
		t.Errorf("arch: schema %v, parser %v", got, want)
	}
	var facts []string
	for _, fam := range payload.DetectFamilies() {
		for _, f := range payload.Facts(fam) {
			facts = append(facts, f.Name)
		}
	}
	if got := strs(s.get(t, "$defs", "condition", "properties", "recorded")["enum"]); !slices.Equal(got, sorted(facts)) {
		t.Errorf("recorded: schema %v, parser %v", got, sorted(facts))
	}
	var kinds []string
	for _, alt := range s.get(t, "$defs", "step")["oneOf"].([]any) {
		kinds = append(kinds, strs(alt.(map[string]any)["required"])...)
	}
	slices.Sort(kinds)
	var want []string
	for _, k := range StepKinds {
		want = append(want, string(k))
	}
	if !slices.Equal(kinds, sorted(want)) {
		t.Errorf("step kinds: schema %v, parser %v", kinds, want)
	}
	if got := s.get(t, "$defs", "id")["pattern"]; got != idRE.String() {
		t.Errorf("id pattern: schema %v, parser %v", got, idRE.String())
	}
	if got := step.get(t, "exit_codes", "propertyNames")["pattern"]; got != exitCodeRE.String() {
		t.Errorf("exit code pattern: schema %v, parser %v", got, exitCodeRE.String())
	}
	limits := []struct {
		node schemaNode
		key  string
		want float64
	}{
		{s.get(t, "$defs", "size"), "maximum", MaxSize},
		{s.get(t, "$defs", "id"), "maxLength", MaxIDLen},
		{step.get(t, "args"), "maxLength", MaxArgsLen},
		{s.get(t, "$defs", "docURL"), "maxLength", MaxURLLen},
	}
	for _, l := range limits {
		if l.node[l.key] != l.want {
			t.Errorf("schema %s is %v, parser's limit is %v", l.key, l.node[l.key], l.want)
		}
	}
	outcome := regexp.MustCompile(step.get(t, "exit_codes", "additionalProperties")["pattern"].(string))
	for _, v := range []string{"success", "reboot", "reboot-initiated", "retry", "already-installed", "failure", "failure: the product is part of the OS"} {
		_, err := payload.ParseResult(v)
		if (err == nil) != outcome.MatchString(v) {
			t.Errorf("outcome %q: schema matches %v, parser error %v", v, outcome.MatchString(v), err)
		}
	}
	for _, v := range []string{"broken", "successful", "fail: x"} {
		if outcome.MatchString(v) {
			t.Errorf("schema accepts outcome %q, which the parser refuses", v)
		}
	}
}
