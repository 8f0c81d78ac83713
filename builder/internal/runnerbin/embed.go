//go:build embedrunner

package runnerbin

import (
	_ "embed"

	"fixstick/builder/internal/pack"
	"fixstick/payload"
)

// The Makefile copies dist/runner.exe, dist/runner-x86.exe and the legacy
// helpers (dist/legacy/) here before building the released builder; bin/
// is not in git.

//go:embed bin/runner.exe
var runnerAMD64 []byte

//go:embed bin/runner-x86.exe
var runnerX86 []byte

//go:embed bin/legacy/fixhelp.exe
var helperAMD64 []byte

//go:embed bin/legacy/fixhelp-x86.exe
var helperX86 []byte

func embedded() []pack.File {
	return []pack.File{{Path: payload.RunnerAMD64, Data: runnerAMD64}, {Path: payload.RunnerX86, Data: runnerX86},
		{Path: payload.LegacyHelperAMD64, Data: helperAMD64}, {Path: payload.LegacyHelperX86, Data: helperX86}}
}
