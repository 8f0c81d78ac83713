package payload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// IsHex reports whether s is n lowercase hex digits.
func IsHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ChecksumError says that bytes did not match their pin.
type ChecksumError struct {
	Name      string
	Want, Got string // hex SHA-256
	WantSize  int64  // -1: not checked
	GotSize   int64
}

func (e *ChecksumError) Error() string {
	if e.WantSize >= 0 && e.WantSize != e.GotSize {
		return fmt.Sprintf("verifying %s: size mismatch: want %d bytes, got %d", e.Name, e.WantSize, e.GotSize)
	}
	return fmt.Sprintf("verifying %s: checksum mismatch\n\twant: sha256:%s\n\tgot:  sha256:%s", e.Name, e.Want, e.Got)
}

// HashFile returns the SHA-256 (hex) and size of the file at path.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// VerifyFile checks the file at path against a SHA-256 pin and a size
// (size < 0: not checked). name is what errors call the file.
func VerifyFile(path, name, sha string, size int64) error {
	got, n, err := HashFile(path)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", name, err)
	}
	if (size >= 0 && n != size) || got != sha {
		return &ChecksumError{Name: name, Want: sha, Got: got, WantSize: size, GotSize: n}
	}
	return nil
}
