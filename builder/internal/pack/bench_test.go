package pack

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"fixstick/payload"
)

// BenchmarkWriteZip packs random payloads (stored) into a zip, as a warm
// rebuild does once fetch has verified the cache: the sizes are the seed
// bundle's, scaled down by FIXSTICK_BENCH_SCALE (default 8; 1 is the full
// ~270 MB set). bench/pack.sh times the whole builder against zip -0.
func BenchmarkWriteZip(b *testing.B) {
	scale := int64(8)
	if s := os.Getenv("FIXSTICK_BENCH_SCALE"); s != "" {
		fmt.Sscan(s, &scale)
	}
	dir := b.TempDir()
	m := &payload.Manifest{ID: "bench", Title: "bench", Version: 1}
	o := Options{
		Manifest: m,
		Sources:  map[string]Source{},
		Runners:  []File{{Path: payload.RunnerAMD64, Data: []byte("MZ")}, {Path: payload.RunnerX86, Data: []byte("MZ")}},
		Builder:  "bench",
		Created:  created,
	}
	var total int64
	for i, size := range []int64{231 << 20, 24 << 20, 10 << 20, 2 << 20, 1 << 20, 300 << 10} {
		data := make([]byte, size/scale)
		rand.Read(data)
		id := fmt.Sprintf("p%d", i)
		src := writeFile(b, dir, id, data)
		m.Artifacts = append(m.Artifacts, payload.Artifact{ID: id, File: id + ".exe", SHA256: src.SHA256, Size: src.Size})
		o.Sources[id] = src
		total += src.Size
	}
	bun, err := Prepare(context.Background(), o, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer bun.Close()
	out := filepath.Join(dir, "out", "bench.zip")
	os.MkdirAll(filepath.Dir(out), 0o755)
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := bun.WriteZip(context.Background(), out); err != nil {
			b.Fatal(err)
		}
	}
}
