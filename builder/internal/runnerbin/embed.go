//go:build embedrunner

package runnerbin

import (
	_ "embed"

	"fixstick/builder/internal/pack"
	"fixstick/payload"
)

// The Makefile copies dist/runner.exe and dist/runner-x86.exe here before
// building the released builder; bin/ is not in git.

//go:embed bin/runner.exe
var runnerAMD64 []byte

//go:embed bin/runner-x86.exe
var runnerX86 []byte

func embedded() []pack.File {
	return []pack.File{{Path: payload.RunnerAMD64, Data: runnerAMD64}, {Path: payload.RunnerX86, Data: runnerX86}}
}
