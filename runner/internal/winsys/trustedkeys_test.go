//go:build !windows

package winsys

// The trusted-keys logic is portable and proved here, on Linux, against a
// fake security layer (Wine keeps no DACLs, and its os.RemoveAll and links
// differ); the Windows side, which only reads owners and DACLs, runs in
// the runner's Wine test of signed bundles.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/internal/signature"
)

var (
	adminsFull = ACE{Type: "allow", SID: sidAdministrators, Mask: 0x1f01ff}
	systemFull = ACE{Type: "allow", SID: sidSystem, Mask: 0x1f01ff}
	usersRead  = ACE{Type: "allow", SID: "S-1-5-32-545", Mask: 0x1200a9}
)

func TestCheckAdminOnly(t *testing.T) {
	cases := []struct {
		name string
		s    Security
		want string // "" is admin-only
	}{
		{"runner's own SDDL", Security{Owner: sidAdministrators, ACEs: []ACE{systemFull, adminsFull}}, ""},
		{"users may read", Security{Owner: sidSystem, ACEs: []ACE{systemFull, adminsFull, usersRead}}, ""},
		{"TrustedInstaller owns", Security{Owner: sidTrustedInstaller, ACEs: []ACE{adminsFull}}, ""},
		{"a user owns it", Security{Owner: "S-1-5-21-1-2-3-1001", ACEs: []ACE{adminsFull}}, "owned by S-1-5-21-1-2-3-1001"},
		{"null DACL", Security{Owner: sidAdministrators, NullDACL: true}, "no DACL"},
		// ProgramData's default: Users may create files and folders below.
		{"inherited from ProgramData", Security{Owner: sidAdministrators, ACEs: []ACE{systemFull, adminsFull, usersRead,
			{Type: "allow", SID: "S-1-5-32-545", Mask: 0x116}}}, "S-1-5-32-545 may change it (access mask 0x116)"},
		{"Everyone full control", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "allow", SID: "S-1-1-0", Mask: 0x1f01ff}}}, "S-1-1-0 may change it"},
		{"Authenticated Users modify", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "allow", SID: "S-1-5-11", Mask: 0x1301bf}}}, "S-1-5-11 may change it"},
		{"GENERIC_WRITE", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "allow", SID: "S-1-5-32-545", Mask: 0x40000000}}}, "may change it"},
		{"WRITE_DAC alone", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "allow", SID: "S-1-5-32-545", Mask: 0x40000}}}, "may change it"},
		{"a deny entry takes away", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "deny", SID: "S-1-1-0", Mask: 0x1f01ff}, adminsFull}}, ""},
		{"inherit-only for children", Security{Owner: sidAdministrators, ACEs: []ACE{adminsFull, {Type: "allow", SID: "S-1-5-32-545", Mask: 0x1f01ff, InheritOnly: true}}}, ""},
		{"CREATOR OWNER placeholder", Security{Owner: sidAdministrators, ACEs: []ACE{adminsFull, {Type: "allow", SID: sidCreatorOwner, Mask: 0x10000000}}}, ""},
		{"unknown entry type", Security{Owner: sidAdministrators, ACEs: []ACE{{Type: "type 9", SID: "S-1-5-32-545", Mask: 0x1}}}, "type 9"},
	}
	for _, c := range cases {
		err := checkAdminOnly(c.s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want admin-only", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLoadTrustedKeys(t *testing.T) {
	pub, _, id, err := signature.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	good := Security{Owner: sidAdministrators, ACEs: []ACE{systemFull, adminsFull}}
	userOwned := Security{Owner: "S-1-5-21-1-2-3-1001", ACEs: []ACE{adminsFull}}
	setup := func(t *testing.T) (root, dir string) {
		root = t.TempDir()
		dir = filepath.Join(root, TrustedKeysDir)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "org.pub"), pub, 0o644); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a key"), 0o644)
		return root, dir
	}
	allGood := func(string) (Security, error) { return good, nil }

	t.Run("no folder, no key", func(t *testing.T) {
		keys, _, err := loadTrustedKeys(t.TempDir(), allGood)
		if err != nil || len(keys) != 0 {
			t.Fatalf("%v %v", keys, err)
		}
	})
	t.Run("a provisioned key", func(t *testing.T) {
		root, dir := setup(t)
		keys, files, err := loadTrustedKeys(root, allGood)
		if err != nil || len(keys) != 1 || signature.KeyID(keys[0].ID()) != id || files[0] != filepath.Join(dir, "org.pub") {
			t.Fatalf("%v %v %v", keys, files, err)
		}
	})
	for _, bad := range []string{"root", "folder", "key"} {
		t.Run(bad+" not admin-only", func(t *testing.T) {
			root, dir := setup(t)
			target := map[string]string{"root": root, "folder": dir, "key": filepath.Join(dir, "org.pub")}[bad]
			keys, _, err := loadTrustedKeys(root, func(p string) (Security, error) {
				if p == target {
					return userOwned, nil
				}
				return good, nil
			})
			if err == nil || keys != nil || !strings.Contains(err.Error(), target+" is not admin-only (owned by S-1-5-21-1-2-3-1001") {
				t.Fatalf("%v %v", keys, err)
			}
		})
	}
	t.Run("a link instead of the folder", func(t *testing.T) {
		root := t.TempDir()
		elsewhere := t.TempDir()
		if err := os.Symlink(elsewhere, filepath.Join(root, TrustedKeysDir)); err != nil {
			t.Skip(err)
		}
		if _, _, err := loadTrustedKeys(root, allGood); err == nil || !strings.Contains(err.Error(), "not a real folder") {
			t.Fatal(err)
		}
	})
	t.Run("a link as a key", func(t *testing.T) {
		root, dir := setup(t)
		if err := os.Symlink(filepath.Join(dir, "org.pub"), filepath.Join(dir, "planted.pub")); err != nil {
			t.Skip(err)
		}
		if _, _, err := loadTrustedKeys(root, allGood); err == nil || !strings.Contains(err.Error(), "planted.pub is not a regular file") {
			t.Fatal(err)
		}
	})
	t.Run("a broken key file", func(t *testing.T) {
		root, dir := setup(t)
		os.WriteFile(filepath.Join(dir, "broken.pub"), []byte("untrusted comment: x\nnot base64\n"), 0o644)
		if _, _, err := loadTrustedKeys(root, allGood); err == nil || !strings.Contains(err.Error(), "broken.pub: not a minisign public key") {
			t.Fatal(err)
		}
	})
}
