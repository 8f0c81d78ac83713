package fetch

import (
	"fmt"
	"os"
)

type printer struct{}

func (printer) Event(e Event) {
	fmt.Fprintf(os.Stderr, "EV %d %s off=%d err=%v msg=%s\n", e.Kind, e.URL, e.Offset, e.Err, e.Msg)
}
func (printer) Bytes(n int64)    {}
func (printer) Total(int64, int) {}

func debugReporter() Reporter {
	if os.Getenv("DEBUGFETCH") != "" {
		return printer{}
	}
	return nil
}
