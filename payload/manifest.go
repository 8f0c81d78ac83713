// Package payload holds the model that the builder and the runner share: the
// manifest a person writes, the lock the builder compiles from it, the
// conditions and exit-code tables that steps carry, and the checks on names
// and digests that both sides apply.
//
// It imports only the standard library: the runner depends on it, and the
// runner must stay small and free of YAML, HTTP and archive code.
package payload

import "time"

// ManifestVersion is the only manifest schema version this build understands.
const ManifestVersion = 1

// Pos is a position in a manifest file, 1-based. The zero Pos means unknown.
type Pos struct {
	Line, Col int
}

// Manifest is a parsed, validated manifest (see docs/manifest.md).
type Manifest struct {
	// Path is the file the manifest was read from, as given by the user.
	Path string `json:"-"`
	// SHA256 is the digest of the manifest file's bytes; the lock records it.
	SHA256 string `json:"-"`

	Version     int      `json:"manifest"`
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	References  []string `json:"references,omitempty"`
	Created     string   `json:"created,omitempty"` // RFC 3339; fixes the bundle's timestamps
	// Requires says which computers the bundle is for; Goal is the state
	// the procedure exists to reach. Both may use only the facts of the
	// detect steps that stand before every other step.
	Requires  *Condition `json:"requires,omitempty"`
	Goal      *Condition `json:"goal,omitempty"`
	Artifacts []Artifact `json:"artifacts"`
	Steps     []Step     `json:"steps"`
}

// Artifact is one file to fetch.
type Artifact struct {
	ID     string `json:"id"`
	File   string `json:"file"`
	Size   int64  `json:"size,omitempty"` // 0: not declared
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	URLs   []URL  `json:"urls"`
	Source string `json:"source,omitempty"`
	// Signer is the subject common name of the Authenticode certificate
	// that must have signed the file ("Microsoft Corporation"); "" checks
	// nothing.
	Signer   string         `json:"signer,omitempty"`
	Optional bool           `json:"optional,omitempty"`
	Extract  []ExtractEntry `json:"extract,omitempty"`

	Pos Pos `json:"-"`
}

// Pinned reports whether the artifact's bytes are fixed by the manifest:
// a digest of its own, or extract entries that are all pinned.
func (a *Artifact) Pinned() bool {
	if a.SHA256 != "" || a.SHA1 != "" {
		return true
	}
	if len(a.Extract) == 0 {
		return false
	}
	for _, e := range a.Extract {
		if e.SHA256 == "" {
			return false
		}
	}
	return true
}

// URL is one source of an artifact. Plain http is allowed only when the
// manifest says so explicitly, and only because the pin makes the bytes
// trustworthy.
type URL struct {
	URL          string `json:"url"`
	InsecureHTTP bool   `json:"insecure_http,omitempty"`
}

// ExtractEntry is one file taken out of an archive artifact at build time.
type ExtractEntry struct {
	Path   string `json:"path"` // slash-separated, each element a Windows-safe name
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size,omitempty"`

	Pos Pos `json:"-"`
}

// Kind is what a step runs.
type Kind string

const (
	KindExe    Kind = "exe"
	KindMSI    Kind = "msi"    // msiexec /i
	KindMSP    Kind = "msp"    // msiexec /update
	KindMSU    Kind = "msu"    // wusa
	KindDetect Kind = "detect" // records facts; runs nothing
)

// Reboot is a step's reboot policy.
type Reboot string

const (
	RebootNever    Reboot = "never"
	RebootIfNeeded Reboot = "if-needed" // default: reboot when the exit code says so
	RebootAfter    Reboot = "after"     // always reboot after this step
)

// DefaultTimeout is a step's timeout when the manifest gives none.
const DefaultTimeout = 60 * time.Minute

// Step is one thing to run, in manifest order.
type Step struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	Kind  Kind   `json:"kind"`
	// Artifact names what runs: an artifact id, or ARTIFACT/PATH for a file
	// taken out of an archive. Empty for detect steps.
	Artifact string `json:"artifact,omitempty"`
	// Detect is the fact family a detect step records ("netfx").
	Detect string `json:"detect,omitempty"`
	// Args is the command line after the quoted program path, verbatim.
	Args      string        `json:"args,omitempty"`
	ExitCodes ExitCodes     `json:"exit_codes,omitempty"` // overrides, merged over the defaults
	Reboot    Reboot        `json:"reboot,omitempty"`
	Timeout   time.Duration `json:"-"`
	When      *Condition    `json:"when,omitempty"`
	Unless    *Condition    `json:"unless,omitempty"`
	// OnFailure is what a failure of this step does to the run: stop it
	// (the default), or be tolerated so that the run goes on (a probe).
	OnFailure OnFailure `json:"on_failure,omitempty"`
	// FinishIfGoalMet ends the run after this step when the goal holds.
	FinishIfGoalMet bool `json:"finish_if_goal_met,omitempty"`

	Pos Pos `json:"-"`
}

// OnFailure is a step's failure policy.
type OnFailure string

const (
	OnFailureStop     OnFailure = "stop"     // default: a failure ends the run
	OnFailureContinue OnFailure = "continue" // a failure is reported, tolerated, and the run goes on
)
