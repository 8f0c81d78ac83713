package manifest

import (
	"time"

	"fixstick/payload"
)

// Object names the kinds of mapping a manifest has. The parser takes the
// fields each one accepts from the fields table below, and schema_test.go
// checks manifests/schema.json against the same table, so the two cannot
// drift apart.
type Object string

const (
	ObjManifest  Object = "manifest"  // the top level
	ObjArtifact  Object = "artifact"  // artifacts[i]
	ObjURL       Object = "url"       // artifacts[i].urls[j] written as a mapping
	ObjExtract   Object = "extract"   // artifacts[i].extract[j]
	ObjStep      Object = "step"      // steps[i]
	ObjCondition Object = "condition" // steps[i].when, .unless, and nested conditions
	ObjRegistry  Object = "registry"  // condition.registry
	ObjOS        Object = "os"        // condition.os
	ObjFile      Object = "file"      // condition.file
)

// Fields lists, for every kind of mapping, the keys the parser accepts.
var Fields = map[Object][]string{
	ObjManifest:  {"manifest", "id", "title", "description", "references", "created", "requires", "goal", "artifacts", "steps"},
	ObjArtifact:  {"id", "file", "size", "sha256", "sha1", "urls", "source", "optional", "extract", "signer"},
	ObjURL:       {"url", "insecure_http"},
	ObjExtract:   {"path", "sha256", "size"},
	ObjStep:      {"id", "title", "exe", "msi", "msp", "msu", "detect", "args", "exit_codes", "reboot", "timeout", "when", "unless", "on_failure", "finish_if_goal_met"},
	ObjCondition: {"recorded", "registry", "os", "file", "all", "any", "not"},
	ObjRegistry:  {"key", "value", "equals", "min", "exists", "view"},
	ObjOS:        {"min", "max", "arch"},
	ObjFile:      {"path", "min_version"},
}

// Required lists the keys that must be present in each kind of mapping.
// Rules of the form "exactly one of" (a step's kind, a condition's test, a
// registry test) are not here: the parser checks them on their own.
var Required = map[Object][]string{
	ObjManifest: {"manifest", "id", "title", "steps"},
	ObjArtifact: {"id", "file", "urls"},
	ObjURL:      {"url"},
	ObjExtract:  {"path", "sha256"},
	ObjStep:     {"id"},
	ObjRegistry: {"key"},
	ObjFile:     {"path"},
}

// StepKinds are the step keys that say what a step runs; a step has
// exactly one.
var StepKinds = []payload.Kind{payload.KindExe, payload.KindMSI, payload.KindMSP, payload.KindMSU, payload.KindDetect}

// Enums lists the closed sets of values, by "object.field".
var Enums = map[string][]string{
	"step.reboot":     {string(payload.RebootNever), string(payload.RebootIfNeeded), string(payload.RebootAfter)},
	"step.detect":     payload.DetectFamilies(),
	"step.on_failure": {string(payload.OnFailureStop), string(payload.OnFailureContinue)},
	"os.arch":         {"x86", "x64"},
}

// Limits of the format.
const (
	MaxFileSize  = 1 << 20  // a manifest is written by hand; anything bigger is a mistake or an attack
	MaxSize      = 16 << 30 // the largest artifact a size may declare (16 GiB)
	MaxIDLen     = payload.MaxIDLen
	MaxURLLen    = 2048 // longer URLs fail in too many proxies to be useful
	MaxArgsLen   = 8191 // cmd.exe's line limit: the legacy executor runs steps through it
	MaxCondDepth = 16   // nesting of all/any/not
	MinTimeout   = time.Minute
	MaxTimeout   = 24 * time.Hour
)
