package legacy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fixstick/internal/winetest"
	"fixstick/payload"
)

// hashStick writes the executor, with helper as its native helper, and
// files of the given sizes (random bytes, so every byte value and the code
// page's remapped ones occur) into a folder the prefix sees as drive H:,
// and returns their names.
func hashStick(t testing.TB, p *winetest.Prefix, helper []byte, sizes []int) (names []string, sums map[string]string) {
	t.Helper()
	dir := t.TempDir()
	sum := sha256.Sum256(helper)
	lock := &payload.Lock{Version: payload.LockVersion, Bundle: "hash"}
	for _, h := range []string{payload.LegacyHelperAMD64, payload.LegacyHelperX86} {
		lock.Files = append(lock.Files, payload.LockFile{Path: h, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(helper))})
	}
	files, err := Render(lock)
	if err != nil {
		t.Fatal(err)
	}
	files[payload.LegacyHelperAMD64] = helper
	for name, data := range files {
		host := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sums = map[string]string{}
	for _, n := range sizes {
		data := make([]byte, n)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("f%d.bin", n)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		names = append(names, `H:\`+name)
		sums[`H:\`+name] = hex.EncodeToString(sum[:])
	}
	p.MapDrive("h", dir)
	return names, sums
}

// hashed runs `run.cmd /sha256 FILE...` and returns hash and
// milliseconds per file.
func hashed(t testing.TB, p *winetest.Prefix, names []string) (sums map[string]string, ms map[string]int) {
	t.Helper()
	args := []string{"/c", `H:\legacy\run.cmd`}
	for _, n := range names {
		args = append(args, "/sha256", n)
	}
	r := p.Run("cmd", args...)
	sums, ms = map[string]string{}, map[string]int{}
	for _, line := range strings.Split(strings.ReplaceAll(r.Stdout, "\r", ""), "\n") {
		// HASH  SIZE bytes  MS ms  PATH
		f := strings.Fields(line)
		if len(f) != 6 {
			continue
		}
		sums[f[5]] = f[0]
		ms[f[5]], _ = strconv.Atoi(f[3])
	}
	if len(sums) != len(names) {
		t.Fatalf("run.cmd /sha256: status %d\n%s%s", r.Status, r.Stdout, r.Stderr)
	}
	return sums, ms
}

var hashSizes = []int{0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1<<20 - 1, 1 << 20, 1<<20 + 1, 1<<20 + 64 + 55}

// noSHA256 is a stand-in helper that answers every request as the real
// one does where CryptoAPI has no SHA-256 (XP before SP3): exit code 3.
func noSHA256(t testing.TB) []byte {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "nosha.exe")
	if err := buildFake(exe, 3); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func realHelper(t testing.TB) []byte {
	t.Helper()
	dir, err := winetest.BuildHelpers()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(payload.LegacyHelperAMD64)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The helper's SHA-256 (CryptoAPI) agrees with Go's at every padding edge
// (55, 56, 63, 64 bytes...) and across its 1 MiB read chunks.
func TestWineHelperSHA256(t *testing.T) {
	t.Parallel()
	p := winetest.Get(t).NewPrefix(t)
	names, want := hashStick(t, p, realHelper(t), hashSizes)
	got, _ := hashed(t, p, names)
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("%s: the helper says %s, Go says %s", n, got[n], want[n])
		}
	}
}

// Where CryptoAPI has no SHA-256, the executor hashes in JScript, and says
// so; its SHA-256 agrees with Go's at every padding edge and across its
// 1 MiB read chunks.
func TestWineJScriptSHA256(t *testing.T) {
	t.Parallel()
	p := winetest.Get(t).NewPrefix(t)
	names, want := hashStick(t, p, noSHA256(t), hashSizes)
	got, _ := hashed(t, p, names)
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("%s: JScript says %s, Go says %s", n, got[n], want[n])
		}
	}
}

// BenchmarkWineJScriptSHA256 measures the executor's hashing speed under
// Wine's JScript (not XP's JScript 5.7: see the README for what this
// figure does and does not say). It reports KB/s of hashing alone, without
// cscript's start.
func BenchmarkWineJScriptSHA256(b *testing.B) {
	p := winetest.Get(b).NewPrefix(b)
	const size = 8 << 20
	names, _ := hashStick(b, p, noSHA256(b), []int{size})
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, ms := hashed(b, p, names)
		total += ms[names[0]]
	}
	b.ReportMetric(float64(size)/1024/(float64(total)/1000/float64(b.N)), "KB/s")
}

// BenchmarkWineHelperSHA256 measures `run.cmd /sha256 FILE` under Wine
// with the native helper (CryptoAPI): MB/s of hashing a 256 MiB file, as
// the helper times it, and of the whole command (cmd, cscript, the
// helper's own check in JScript, and the hash).
func BenchmarkWineHelperSHA256(b *testing.B) {
	p := winetest.Get(b).NewPrefix(b)
	const size = 256 << 20
	names, _ := hashStick(b, p, realHelper(b), []int{size})
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, ms := hashed(b, p, names)
		total += ms[names[0]]
	}
	mb := float64(size) / 1e6 * float64(b.N)
	b.ReportMetric(mb/(float64(total)/1000), "MB/s")
	b.ReportMetric(mb/b.Elapsed().Seconds(), "MB/s-run.cmd")
}
