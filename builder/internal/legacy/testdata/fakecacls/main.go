// Command fakecacls stands in for XP's cacls.exe and, named icacls.exe,
// for icacls in the legacy executor's Wine tests: Wine's do nothing and
// print nothing, and Wine keeps no permissions. This one keeps one
// folder's entries in C:\fixstick-test\acl.txt ("NAME:PERM" lines; a
// leading "!" marks an entry that cannot be removed; "(I)" an inherited
// one), prints them as cacls and icacls do, applies cacls /E /G and /E /R
// and icacls /setowner, /inheritance:r, /grant:r and /remove, and logs each
// command line to C:\fixstick-test\cacls-log.txt. Without acl.txt it
// starts from what a new folder under All Users\Application Data inherits
// on XP.
package main

import (
	"fmt"
	"os"
	"path/filepath"
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
	if strings.EqualFold(filepath.Base(os.Args[0]), "icacls.exe") || strings.EqualFold(filepath.Base(os.Args[0]), "icacls") {
		icacls(acl, path, args)
		return
	}
	if len(args) == 0 {
		printACL(path, acl)
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

var sids = map[string]string{"*S-1-5-18": `NT AUTHORITY\SYSTEM`, "*S-1-5-32-544": `BUILTIN\Administrators`}

func icacls(acl []string, path string, args []string) {
	if len(args) == 0 {
		printACL(path, acl)
		fmt.Print("\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n")
		return
	}
	for i := 0; i < len(args); i++ {
		switch a := strings.ToLower(args[i]); {
		case a == "/t" || a == "/c":
		case a == "/setowner":
			i++
		case a == "/inheritance:r":
			var out []string
			for _, e := range acl {
				if !strings.Contains(e, "(I)") {
					out = append(out, e)
				}
			}
			acl = out
		case a == "/grant:r":
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "/") {
				i++
				sid, perm, _ := strings.Cut(args[i], ":")
				name := sids[sid]
				if name == "" {
					fmt.Printf("fakecacls: unknown SID %s\r\n", sid)
					os.Exit(1332)
				}
				acl = remove(acl, name, true)
				acl = append(acl, name+":"+perm)
			}
		case a == "/remove":
			i++
			acl = remove(acl, args[i], false)
		default:
			fmt.Printf("fakecacls: unknown argument %s\r\n", args[i])
			os.Exit(87)
		}
	}
	if err := os.WriteFile(state, []byte(strings.Join(acl, "\r\n")+"\r\n"), 0o644); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Print("processed file: " + path + "\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n")
}

// printACL lists the entries as both tools do: the folder, then one entry
// a line, aligned under the first.
func printACL(path string, acl []string) {
	for i, e := range acl {
		e = strings.TrimPrefix(e, "!")
		if i == 0 {
			fmt.Printf("%s %s\r\n", path, e)
		} else {
			fmt.Printf("%s %s\r\n", strings.Repeat(" ", len(path)), e)
		}
	}
}
