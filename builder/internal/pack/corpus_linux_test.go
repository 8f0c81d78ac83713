package pack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"fixstick/payload"
)

// maxResident is what extracting any archive may take: the bound.
const maxResident = 512 << 20

// TestCorpusMemory extracts each corpus archive in a child process of its
// own and takes the child's peak resident memory from the kernel (VmHWM
// in /proc/self/status, read by the child as it ends: getrusage's
// ru_maxrss would also count the parent's peak, which Linux carries over
// into the child when it execs), so that one archive's peak is not hidden
// in another's. The tool is pinned by its hash only, so the bomb's 64 MiB are
// decompressed and written. The child runs under an address-space limit of
// 2 GiB: a regression fails the test rather than swapping the machine.
func TestCorpusMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	var worst string
	var worstKiB int64
	for _, c := range corpus() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCorpusMemoryChild$")
		cmd.Env = append(os.Environ(), "FIXSTICK_CORPUS_CHILD="+filepath.Join(corpusDir, c.name), "FIXSTICK_CORPUS_TMP="+t.TempDir())
		out, err := cmd.CombinedOutput()
		m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("%s: the child failed: %v\n%s", c.name, err, out)
		}
		kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
		if kib<<10 > maxResident {
			t.Errorf("%s: peak resident memory %d MiB, over %d MiB", c.name, kib>>10, maxResident>>20)
		}
		if kib > worstKiB {
			worst, worstKiB = c.name, kib
		}
	}
	t.Logf("%d archives, each in its own process; the highest peak resident memory: %s, %.1f MiB", len(corpus()), worst, float64(worstKiB)/1024)
}

// TestCorpusMemoryChild is TestCorpusMemory's child: it extracts one
// archive, whatever the outcome.
func TestCorpusMemoryChild(t *testing.T) {
	src := os.Getenv("FIXSTICK_CORPUS_CHILD")
	if src == "" {
		t.Skip("run by TestCorpusMemory")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: 2 << 30, Max: 2 << 30}); err != nil {
		t.Fatal(err)
	}
	want := []payload.ExtractEntry{{Path: "bin/tool.exe", SHA256: sha([]byte(corpusTool))}}
	_, err := extractArchive(context.Background(), filepath.Base(src), src, want, os.Getenv("FIXSTICK_CORPUS_TMP"), DefaultLimits)
	t.Log(err)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write(status)
}
