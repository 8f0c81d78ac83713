package pack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/zip"

	"fixstick/internal/atomicfile"
	"fixstick/internal/signature"
	"fixstick/payload"
)

// The zip is written with klauspost/compress/zip, the layer under
// mholt/archives (no longer a dependency), rather than
// archives.Zip.Archive: Archive uses one
// compression method for every entry (we store payloads and deflate the
// small text files), takes the entries' times from a FileInfo, and closes
// its zip writer in a defer that drops the error, so a failed central
// directory write (disk full) would go unreported.

// Payloads are copied in copyBufSize pieces, copyBufs of them in flight
// (4 MiB): large enough that a 231 MB installer is a few hundred reads,
// and that hashing and writing rarely wait for each other, small enough
// for the 64 MiB memory budget.
const (
	copyBufSize = 1 << 20
	copyBufs    = 4
)

// WriteZip writes the bundle as a zip at out, and its SHA-256 beside it in
// out.sha256 (sha256sum's format). The zip goes to a temp file in out's
// folder, is synced, re-opened and checked, and only then renamed: a failed
// build leaves neither out nor a temp file. It returns the zip's SHA-256
// and size.
func (b *Bundle) WriteZip(ctx context.Context, out string) (sum string, size int64, err error) {
	zp, err := atomicfile.Create(out, 0o644) // a bundle is for sharing
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", out, err)
	}
	defer zp.Cleanup()
	side := out + ".sha256"

	hw := newHashWriter(zp.File())
	defer hw.stop()
	bw := bufio.NewWriterSize(hw, hashBufSize)
	headers, err := b.writeZip(ctx, bw)
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := bw.Flush(); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := zp.Close(); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := b.checkZip(zp.TempName(), headers); err != nil {
		return "", 0, fmt.Errorf("writing %s: the zip written does not read back: %w", out, err)
	}
	sum = hw.sum()
	sp, err := atomicfile.Create(side, 0o644)
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", side, err)
	}
	defer sp.Cleanup()
	if _, err := sp.Write([]byte(sum + "  " + filepath.Base(out) + "\n")); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", side, err)
	}
	if err := sp.Close(); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", side, err)
	}
	// The zip's signature is a second sidecar, handled like the first: an
	// old one goes before the new zip arrives (a build without --sign
	// leaves none), the new one is renamed in after it.
	sigSide := out + signature.Ext
	var gp *atomicfile.Pending
	if b.signZip != nil {
		sig, err := b.signZip(zp.TempName(), b.Lock.Bundle)
		if err != nil {
			return "", 0, fmt.Errorf("signing %s: %w", out, err)
		}
		if gp, err = atomicfile.Create(sigSide, 0o644); err != nil {
			return "", 0, fmt.Errorf("writing %s: %w", sigSide, err)
		}
		defer gp.Cleanup()
		if _, err := gp.Write(sig); err != nil {
			return "", 0, fmt.Errorf("writing %s: %w", sigSide, err)
		}
		if err := gp.Close(); err != nil {
			return "", 0, fmt.Errorf("writing %s: %w", sigSide, err)
		}
	}
	if err := os.Remove(sigSide); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", 0, fmt.Errorf("writing %s: removing the old one: %w", sigSide, err)
	}
	// The old SHA-256 file goes first, so that a zip is never beside a
	// SHA-256 that contradicts it: at every step there is the old pair, a
	// zip alone (which still verifies by its lock), or the new pair. Once
	// the new zip has replaced the old one it is never removed: it is
	// complete and checked, and removing it would leave no zip at all.
	if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", 0, fmt.Errorf("writing %s: removing the old one: %w", side, err)
	}
	if err := zp.Commit(); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := sp.Commit(); err != nil {
		return "", 0, fmt.Errorf("writing %s: %w (%s is written and checked; its SHA-256 is %s)", side, err, out, sum)
	}
	if gp != nil {
		if err := gp.Commit(); err != nil {
			return "", 0, fmt.Errorf("writing %s: %w (%s is written and checked; its SHA-256 is %s)", sigSide, err, out, sum)
		}
	}
	return sum, hw.n, nil
}

// writeZip writes every entry in order and closes the zip writer, which
// writes the central directory; its error is the one that matters.
func (b *Bundle) writeZip(ctx context.Context, w io.Writer) ([]*zip.FileHeader, error) {
	zw := zip.NewWriter(w)
	c := newCopier()
	headers := make([]*zip.FileHeader, 0, len(b.entries))
	for _, e := range b.entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fh := &zip.FileHeader{Name: e.path, Method: zip.Store, Modified: b.created}
		if e.deflate {
			fh.Method = zip.Deflate
		}
		fh.SetMode(0o644)
		ew, err := zw.CreateHeader(fh)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.path, err)
		}
		if err := e.copyTo(ew, c); err != nil {
			return nil, err
		}
		headers = append(headers, fh)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("finishing the zip: %w", err)
	}
	return headers, nil
}

// copyTo writes the entry's bytes to w, hashing them on the way: the
// bundle gets exactly the bytes the lock pins, whether or not fetch hashed
// the cache file (it may leave that to this pass), and even if the file
// changed since.
func (e *entry) copyTo(w io.Writer, c *copier) error {
	if e.data != nil {
		_, err := w.Write(e.data)
		return err
	}
	f, err := os.Open(e.disk)
	if err != nil {
		return fmt.Errorf("%s: %w", e.path, err)
	}
	defer f.Close()
	n, sum, err := c.copy(w, io.LimitReader(f, e.size+1))
	if err != nil {
		return fmt.Errorf("%s: copying %s: %w", e.path, e.disk, err)
	}
	if n != e.size || sum != e.sha256 {
		err := &payload.ChecksumError{Name: e.disk, Want: e.sha256, Got: sum, WantSize: e.size, GotSize: n}
		if e.source != "" {
			return &SourceError{ArtifactID: e.source, Err: fmt.Errorf("%s: the file of artifact %s does not match its pin: %w", e.path, e.source, err)}
		}
		return fmt.Errorf("%s: %s changed since it was verified: %w", e.path, e.disk, err)
	}
	return nil
}

// copier copies a file to a writer while another goroutine hashes it,
// both from the same buffers (neither changes them): a buffer is filled
// again only once it is hashed and written. No byte is copied in memory
// for the hash, and on two cores hashing runs beside reading and writing.
type copier struct{ free chan []byte }

func newCopier() *copier {
	c := &copier{free: make(chan []byte, copyBufs)}
	for i := 0; i < copyBufs; i++ {
		c.free <- make([]byte, copyBufSize)
	}
	return c
}

// copy copies r to w and returns the bytes copied and their SHA-256. Every
// buffer is back in c.free when it returns.
func (c *copier) copy(w io.Writer, r io.Reader) (n int64, sum string, err error) {
	h := sha256.New()
	todo := make(chan []byte, copyBufs)
	done := make(chan struct{})
	go func() {
		for p := range todo {
			h.Write(p)
			c.free <- p[:cap(p)]
		}
		close(done)
	}()
	for {
		b := <-c.free
		k, rerr := r.Read(b)
		if k > 0 {
			todo <- b[:k]
			_, err = w.Write(b[:k])
			n += int64(k)
		} else {
			c.free <- b
		}
		if err == nil && rerr != io.EOF {
			err = rerr
		}
		if err != nil || rerr == io.EOF {
			break
		}
	}
	close(todo)
	<-done
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// checkZip re-opens the written zip and checks its central directory
// against what was written: the names, sizes, methods and CRC-32s, and the
// full content of the small generated files (the lock among them).
func (b *Bundle) checkZip(name string, headers []*zip.FileHeader) error {
	zr, err := zip.OpenReader(name)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) != len(b.entries) {
		return fmt.Errorf("%d entries, want %d", len(zr.File), len(b.entries))
	}
	for i, f := range zr.File {
		e, h := &b.entries[i], headers[i]
		if f.Name != e.path || f.UncompressedSize64 != uint64(e.size) || f.CRC32 != h.CRC32 || f.Method != h.Method {
			return fmt.Errorf("entry %d is %q (%d bytes, crc %08x), want %q (%d bytes, crc %08x)", i, f.Name, f.UncompressedSize64, f.CRC32, e.path, e.size, h.CRC32)
		}
		if e.data == nil {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		got, err := io.ReadAll(io.LimitReader(r, e.size+1))
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if !bytes.Equal(got, e.data) {
			return fmt.Errorf("%s: content differs from what was written", f.Name)
		}
	}
	return nil
}

// asyncHash computes a SHA-256 on another goroutine, from copies of the
// bytes written to it, so that hashing runs beside reading and writing on
// a machine with two cores. It hashes the zip as it is written (for the
// .sha256 file): the zip writer's bytes come from its own buffers too,
// so they are copied, unlike a payload's (copier).
type asyncHash struct {
	h    hash.Hash
	todo chan []byte // filled buffers, in order
	free chan []byte // empty buffers
	done chan struct{}
}

const (
	hashBufSize = 256 << 10
	hashBufs    = 8 // 2 MiB in flight at most
)

func newAsyncHash() *asyncHash {
	a := &asyncHash{h: sha256.New(), todo: make(chan []byte, hashBufs), free: make(chan []byte, hashBufs), done: make(chan struct{})}
	for i := 0; i < hashBufs; i++ {
		a.free <- make([]byte, hashBufSize)
	}
	todo := a.todo // stop sets a.todo to nil, maybe before this starts
	go func() {
		for p := range todo {
			a.h.Write(p)
			a.free <- p[:cap(p)]
		}
		close(a.done)
	}()
	return a
}

func (a *asyncHash) Write(p []byte) (int, error) {
	for q := p; len(q) > 0; {
		b := <-a.free
		k := copy(b, q)
		a.todo <- b[:k]
		q = q[k:]
	}
	return len(p), nil
}

// sum waits for the hashing to finish; a is not used after.
func (a *asyncHash) sum() string {
	a.stop()
	<-a.done
	return hex.EncodeToString(a.h.Sum(nil))
}

// stop ends the goroutine once it has hashed what it was given.
func (a *asyncHash) stop() {
	if a.todo != nil {
		close(a.todo)
		a.todo = nil
	}
}

// hashWriter writes to a file and hashes what it wrote. Every
// writebackChunk bytes it has the kernel start writing them to the disk.
type hashWriter struct {
	f       *os.File
	n       int64
	flushed int64 // bytes handed to startWriteback
	*asyncHash
}

const writebackChunk = 8 << 20

func newHashWriter(f *os.File) *hashWriter { return &hashWriter{f: f, asyncHash: newAsyncHash()} }

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	w.asyncHash.Write(p[:n])
	if w.n-w.flushed >= writebackChunk {
		startWriteback(w.f, w.flushed, w.n-w.flushed)
		w.flushed = w.n
	}
	return n, err
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sortEntries(es []entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].path < es[j].path })
}
