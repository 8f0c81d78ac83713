package main

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal: progress bars redraw with \r,
// which only makes sense there (progressbar does not check by itself).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// readPassword asks for a password on the terminal, without echo.
func readPassword(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}
