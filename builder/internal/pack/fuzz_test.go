package pack

import (
	"bytes"
	"context"
	"testing"
)

// FuzzLock feeds ParseLock and CheckLock any bytes: they must not panic,
// and a lock that CheckLock finds clean is exactly the canonical form of
// what was parsed (so verify's "edited by hand" cannot be fooled by a
// second way of writing the same lock).
func FuzzLock(f *testing.F) {
	b, err := Prepare(context.Background(), fixture(f), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b.LockJSON)
	b.Close()
	f.Add([]byte(`{"lock":1,"bundle":"x-000000000000","files":[{"path":"../x","sha256":"","size":-1}],"steps":[{"id":"a","program":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data)
		if err != nil {
			return
		}
		if len(CheckLock(data, l)) > 0 {
			return
		}
		c, err := MarshalLock(l)
		if err != nil || !bytes.Equal(c, data) {
			t.Fatalf("a clean lock is not in canonical form: %v\n%q\n%q", err, data, c)
		}
	})
}
