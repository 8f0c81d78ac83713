package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal: progress bars redraw with \r,
// which only makes sense there (progressbar does not check by itself).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
