package winsys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fixstick/internal/signature"
)

// TrustedKeysDir is the folder, under the runner's private root
// (%ProgramData%\fixstick), where an organisation provisions the minisign
// public keys (*.pub) its bundles must be signed with.
const TrustedKeysDir = "trusted-keys"

// Well-known SIDs that may own, and write to, the trusted-keys folder and
// its files: they can run anything on the machine anyway.
const (
	sidSystem           = "S-1-5-18"
	sidAdministrators   = "S-1-5-32-544"
	sidTrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
	sidCreatorOwner     = "S-1-3-0" // a placeholder on inheritable ACEs; grants nothing on the object itself
)

// Access rights that change what a folder or file holds, or who may
// change it (winnt.h): FILE_WRITE_DATA/FILE_ADD_FILE, FILE_APPEND_DATA/
// FILE_ADD_SUBDIRECTORY, FILE_DELETE_CHILD, DELETE, WRITE_DAC, WRITE_OWNER,
// GENERIC_ALL, GENERIC_WRITE, MAXIMUM_ALLOWED.
const writeRights = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000 | 0x02000000

// Security is what the check needs of a file's security descriptor.
type Security struct {
	Owner    string // SID string
	NullDACL bool   // no DACL at all: everyone has every right
	ACEs     []ACE
}

// ACE is one entry of a DACL.
type ACE struct {
	Type        string // "allow", "deny", or another type's name
	SID         string
	Mask        uint32
	InheritOnly bool // applies to children only, not to this object
}

func adminSID(sid string) bool {
	return sid == sidSystem || sid == sidAdministrators || sid == sidTrustedInstaller
}

// checkAdminOnly says why s lets someone other than SYSTEM, the
// Administrators or TrustedInstaller change the object, or nil. Deny
// entries only take rights away, so they are ignored.
func checkAdminOnly(s Security) error {
	if !adminSID(s.Owner) {
		return fmt.Errorf("owned by %s, not by Administrators or SYSTEM", s.Owner)
	}
	if s.NullDACL {
		return errors.New("it has no DACL: everyone may change it")
	}
	for _, a := range s.ACEs {
		switch {
		case a.Type == "deny", a.InheritOnly, adminSID(a.SID), a.SID == sidCreatorOwner:
		case a.Type != "allow":
			return fmt.Errorf("its DACL holds an entry of type %s, which this check does not know", a.Type)
		case a.Mask&writeRights != 0:
			return fmt.Errorf("%s may change it (access mask 0x%x)", a.SID, a.Mask)
		}
	}
	return nil
}

// readSecurity returns a path's owner and DACL, not following links.
type readSecurity func(path string) (Security, error)

// loadTrustedKeys reads the public keys provisioned in root\trusted-keys.
// No folder, or no *.pub in it, is no key. A folder, or a key file, that
// someone other than an administrator could have changed is an error:
// the runner then refuses to run anything rather than trust its keys, or
// ignore them (a key a user planted, or a key an administrator put in a
// folder a user prepared, must not let a bundle through; and a folder an
// administrator made for keys must not be silently ignored either).
// root itself is checked too, since its owner could replace the folder.
func loadTrustedKeys(root string, sec readSecurity) (keys []signature.PublicKey, files []string, err error) {
	dir := filepath.Join(root, TrustedKeysDir)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("trusted keys %s: %w", dir, err)
	}
	if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, nil, fmt.Errorf("trusted keys %s: not a real folder (a link or a file): refusing to trust it", dir)
	}
	for _, p := range []string{root, dir} {
		s, err := sec(p)
		if err != nil {
			return nil, nil, fmt.Errorf("trusted keys: reading the permissions of %s: %w", p, err)
		}
		if err := checkAdminOnly(s); err != nil {
			return nil, nil, fmt.Errorf("trusted keys: %s is not admin-only (%v): refusing to trust its keys; see the README (provisioning keys)", p, err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("trusted keys %s: %w", dir, err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		if !strings.EqualFold(filepath.Ext(e.Name()), ".pub") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() {
			return nil, nil, fmt.Errorf("trusted keys: %s is not a regular file (a link?): refusing it", p)
		}
		s, err := sec(p)
		if err != nil {
			return nil, nil, fmt.Errorf("trusted keys: reading the permissions of %s: %w", p, err)
		}
		if err := checkAdminOnly(s); err != nil {
			return nil, nil, fmt.Errorf("trusted keys: %s is not admin-only (%v): refusing to trust it", p, err)
		}
		k, err := signature.ReadPublicKey(p)
		if err != nil {
			return nil, nil, fmt.Errorf("trusted keys: %w", err)
		}
		keys = append(keys, k)
		files = append(files, p)
	}
	return keys, files, nil
}
