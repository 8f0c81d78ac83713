// Command runner runs a bundle on the disconnected machine.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "runner: not implemented yet")
	os.Exit(1)
}
