package fetch

import (
	"fmt"
	"os"
)

// debugReporter prints every event to stderr when DEBUGFETCH is set, to
// follow what a failing test's fetch did: go test -run X with DEBUGFETCH=1.
func debugReporter() Reporter {
	if os.Getenv("DEBUGFETCH") != "" {
		return printer{}
	}
	return nil
}

type printer struct{}

func (printer) Event(e Event) {
	fmt.Fprintf(os.Stderr, "event %d %s %s offset=%d err=%v %s\n", e.Kind, e.ArtifactID, e.URL, e.Offset, e.Err, e.Msg)
}
func (printer) Bytes(int64)      {}
func (printer) Total(int64, int) {}
