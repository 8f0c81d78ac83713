package payload

// Condition decides whether a step runs (`when`) or is skipped (`unless`).
// Exactly one field is set. The same shape appears in the manifest and in
// the lock, so the runner evaluates what the person reviewed.
type Condition struct {
	Recorded string        `json:"recorded,omitempty"` // a fact a detect step recorded
	Registry *RegistryCond `json:"registry,omitempty"`
	OS       *OSCond       `json:"os,omitempty"`
	File     *FileCond     `json:"file,omitempty"`
	All      []Condition   `json:"all,omitempty"`
	Any      []Condition   `json:"any,omitempty"`
	Not      *Condition    `json:"not,omitempty"`

	Pos Pos `json:"-"`
}

// RegistryCond tests a registry value. Exactly one of Equals, Min, Exists is
// set. Equals compares a DWORD/QWORD numerically when it reads as a number,
// and a string value as text; Min compares numerically.
type RegistryCond struct {
	Key    string  `json:"key"`             // HKLM\SOFTWARE\...
	Value  string  `json:"value,omitempty"` // "" is the key's default value
	Equals *string `json:"equals,omitempty"`
	Min    *uint64 `json:"min,omitempty"`
	Exists *bool   `json:"exists,omitempty"`
	View   int     `json:"view,omitempty"` // 64 (default) or 32
}

// OSCond tests the Windows version ("major.minor") and architecture.
type OSCond struct {
	Min  string `json:"min,omitempty"`
	Max  string `json:"max,omitempty"`
	Arch string `json:"arch,omitempty"` // x86 | x64
}

// FileCond tests that a file exists and, optionally, its version.
type FileCond struct {
	Path       string `json:"path"` // may start with %SystemRoot%, %ProgramFiles% ...
	MinVersion string `json:"min_version,omitempty"`
}
