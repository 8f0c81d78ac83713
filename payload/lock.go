package payload

// LockName is the lock's file name at the root of a bundle.
const LockName = "bundle.lock.json"

// LockSigName is the lock's minisign signature at the root of a signed
// bundle (package signature makes and checks it). The lock cannot list its
// own signature, so every reader of a bundle knows this name, as it knows
// the lock's.
const LockSigName = LockName + ".minisig"

// LockVersion is the lock format this build writes and reads.
const LockVersion = 1

// MaxLockSize caps the lock the runner will read.
const MaxLockSize = 1 << 20

// Lock is bundle.lock.json: everything the runner needs, and all it trusts.
// The builder writes it from a manifest; the runner never reads YAML.
type Lock struct {
	Version  int          `json:"lock"`
	Bundle   string       `json:"bundle"` // bundle id: manifest id + short digest of the lock's content
	Title    string       `json:"title"`
	Manifest LockManifest `json:"manifest"`
	Builder  string       `json:"builder"` // builder version
	Created  string       `json:"created"` // RFC 3339, from the manifest or SOURCE_DATE_EPOCH
	Files    []LockFile   `json:"files"`   // every file in the bundle but the lock, sorted by path
	// Requires and Goal are the manifest's, as written (see Manifest).
	Requires *Condition `json:"requires,omitempty"`
	Goal     *Condition `json:"goal,omitempty"`
	Steps    []LockStep `json:"steps"`
}

// LockManifest identifies the manifest a lock was compiled from.
type LockManifest struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// LockFile is one file of the bundle. Path is slash-separated and relative
// to the bundle root.
type LockFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// LockStep is a resolved step: the program is a file of the bundle, the exit
// table is complete (defaults merged), the timeout is in seconds.
type LockStep struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Kind    Kind   `json:"kind"`
	Detect  string `json:"detect,omitempty"`
	Program string `json:"program,omitempty"` // bundle path of the payload
	// Args is the command line after the program (or after msiexec's or
	// wusa's own switches), verbatim.
	Args      string     `json:"args,omitempty"`
	ExitCodes ExitCodes  `json:"exit_codes,omitempty"`
	Reboot    Reboot     `json:"reboot"`
	Timeout   int64      `json:"timeout_seconds"`
	When      *Condition `json:"when,omitempty"`
	Unless    *Condition `json:"unless,omitempty"`
	// Skip, when set, says why this step will not run on any machine (its
	// optional artifact was not supplied). The runner reports it as skipped.
	Skip string `json:"skip,omitempty"`
	// OnFailure is OnFailureContinue for a step whose failure is tolerated;
	// empty means stop.
	OnFailure       OnFailure `json:"on_failure,omitempty"`
	FinishIfGoalMet bool      `json:"finish_if_goal_met,omitempty"`
}
