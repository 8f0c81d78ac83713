// Command fakecacls stands in for XP's cacls.exe in the legacy executor's
// Wine tests: Wine's cacls does nothing and prints nothing, and Wine keeps
// no permissions. This one keeps one folder's entries in
// C:\fixstick-test\acl.txt ("NAME:PERM" lines; a leading "!" marks an entry
// /R cannot remove), prints them as XP's cacls does, applies /E /G and
// /E /R, and logs each command line to C:\fixstick-test\cacls-log.txt.
// Without acl.txt it starts from what a new folder under All Users\
// Application Data inherits on XP.
package main

import (
	"fmt"
	"os"
	"strings"
)

const (
	state = `C:\fixstick-test\acl.txt`
	log   = `C:\fixstick-test\cacls-log.txt`
)

var fresh = []string{
	`BUILTIN\Users:(OI)(CI)R`, `BUILTIN\Power Users:(OI)(CI)C`, `BUILTIN\Administrators:(OI)(CI)F`,
	`NT AUTHORITY\SYSTEM:(OI)(CI)F`, `CREATOR OWNER:(OI)(CI)(IO)F`,
}

func main() {
	os.MkdirAll(`C:\fixstick-test`, 0o755)
	if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "%s\r\n", strings.Join(os.Args[1:], "|"))
		f.Close()
	}
	acl := fresh
	if data, err := os.ReadFile(state); err == nil {
		acl = nil
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				acl = append(acl, l)
			}
		}
	}
	args := os.Args[1:]
	if len(args) == 0 {
		os.Exit(1)
	}
	path, args := args[0], args[1:]
	if len(args) == 0 {
		for i, e := range acl {
			e = strings.TrimPrefix(e, "!")
			if i == 0 {
				fmt.Printf("%s %s\r\n", path, e)
			} else {
				fmt.Printf("%s %s\r\n", strings.Repeat(" ", len(path)), e)
			}
		}
		fmt.Print("\r\n")
		return
	}
	edit := false
	for i := 0; i < len(args); i++ {
		switch strings.ToUpper(args[i]) {
		case "/E":
			edit = true
		case "/T", "/C":
		case "/G":
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") {
				i++
				name, perm, _ := strings.Cut(args[i], ":")
				acl = remove(acl, name, true)
				acl = append(acl, name+":(OI)(CI)"+perm)
			}
		case "/R":
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") {
				i++
				acl = remove(acl, args[i], false)
			}
		default:
			fmt.Printf("fakecacls: unknown argument %s\r\n", args[i])
			os.Exit(87)
		}
	}
	if !edit {
		fmt.Println("fakecacls: only /E edits are simulated")
		os.Exit(87)
	}
	if err := os.WriteFile(state, []byte(strings.Join(acl, "\r\n")+"\r\n"), 0o644); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Print("processed dir: " + path + "\r\n")
}

// remove drops the entries of name (matched as cacls does: with or
// without the domain), except sticky ones unless force.
func remove(acl []string, name string, force bool) []string {
	var out []string
	for _, e := range acl {
		n, _, _ := strings.Cut(strings.TrimPrefix(e, "!"), ":")
		short := n[strings.LastIndex(n, `\`)+1:]
		if (strings.EqualFold(n, name) || strings.EqualFold(short, name)) && (force || !strings.HasPrefix(e, "!")) {
			continue
		}
		out = append(out, e)
	}
	return out
}
