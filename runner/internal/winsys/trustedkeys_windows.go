package winsys

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"fixstick/internal/signature"
)

// TrustedKeys returns the public keys provisioned in
// %ProgramData%\fixstick\trusted-keys (see loadTrustedKeys) and the files
// they came from.
func TrustedKeys() ([]signature.PublicKey, []string, error) {
	root, err := sys{}.PrivateRoot()
	if err != nil {
		return nil, nil, err
	}
	return loadTrustedKeys(root, fileSecurity)
}

// fileSecurity reads a file's or folder's owner and DACL. The handle-less
// GetNamedSecurityInfo reads the object itself: the callers have already
// refused links (Lstat).
//
// Under Wine, which keeps no DACLs and shows every file as owned by the
// user running it, a file owned by that user reads as owned by the
// Administrators with their DACL (as trusted() does for the private
// folder): Wine runs every process as one Unix user, with nothing to
// defend against; this never applies on Windows.
func fileSecurity(path string) (Security, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return Security{}, err
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return Security{}, fmt.Errorf("no owner: %v", err)
	}
	if underWine {
		if u, err := windows.GetCurrentProcessToken().GetTokenUser(); err == nil && owner.Equals(u.User.Sid) {
			return Security{Owner: sidAdministrators}, nil
		}
	}
	s := Security{Owner: owner.String()}
	dacl, _, err := sd.DACL()
	if err != nil {
		return Security{}, err
	}
	if dacl == nil {
		s.NullDACL = true
		return s, nil
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return Security{}, err
		}
		a := ACE{Mask: uint32(ace.Mask), InheritOnly: ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0}
		switch ace.Header.AceType {
		case windows.ACCESS_ALLOWED_ACE_TYPE:
			a.Type = "allow"
		case windows.ACCESS_DENIED_ACE_TYPE:
			a.Type = "deny"
		default:
			// Object and callback entries lay out their SID elsewhere:
			// checkAdminOnly refuses any type it does not know.
			a.Type = fmt.Sprintf("type %d", ace.Header.AceType)
			s.ACEs = append(s.ACEs, a)
			continue
		}
		a.SID = (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String()
		s.ACEs = append(s.ACEs, a)
	}
	return s, nil
}
