// Command argsecho stands in for runner.exe in the START.cmd test under
// Wine: it prints the name it was started as and its arguments.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	fmt.Printf("started %s with [%s]\n", filepath.Base(os.Args[0]), strings.Join(os.Args[1:], "|"))
}
