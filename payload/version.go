package payload

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseVersion reads a dotted version such as "5.1" or "1.1.4322.2443".
func ParseVersion(s string) ([]uint64, error) {
	var v []uint64
	for _, p := range strings.Split(strings.TrimSpace(s), ".") {
		if p == "" || p[0] == '+' {
			return nil, fmt.Errorf("version %q: want numbers separated by dots", s)
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("version %q: want numbers separated by dots", s)
		}
		v = append(v, n)
	}
	return v, nil
}

// ParseOSVersion reads "major.minor" or "major.minor.build".
func ParseOSVersion(s string) ([]uint64, error) {
	v, err := ParseVersion(s)
	if err == nil && (len(v) < 2 || len(v) > 3) {
		err = fmt.Errorf("version %q: want major.minor or major.minor.build", s)
	}
	return v, err
}
