package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"fixstick/payload"
)

// Limits on an archive artifact. The zip reader hands every entry to us
// unfiltered (docs/security.md, hostile archives), so these are the only caps there are.
type Limits struct {
	Entries   int   // entries in one archive, directories included
	EntrySize int64 // bytes of one extracted file
	TotalSize int64 // declared bytes of all entries together
	PathLen   int   // bytes of one entry name
	PathDepth int   // elements of one entry name
}

// DefaultLimits are generous for installer archives and small enough that
// a hostile one cannot fill the disk.
var DefaultLimits = Limits{
	Entries:   100_000,
	EntrySize: 4 << 30,
	TotalSize: 16 << 30,
	PathLen:   240,
	PathDepth: 32,
}

// extracted is one file taken out of an archive, in a temp folder.
type extracted struct {
	Path   string // the extract entry's path (inside the archive and under payloads/<id>/)
	Disk   string // where it was written; a name we chose, never the archive's
	SHA256 string
	Size   int64
}

// The builder extracts zip archives only, read by Go's archive/zip with its
// two methods, store and deflate, whose memory is fixed per entry. That is
// the format the manifests use (the .NET cleanup tool ships as a zip), also
// after a self-extractor's stub. Other formats
// are refused by their first bytes before any reader sees them: RAR (its Go
// reader panicked on malformed archives and reports hardlinks and symlinks
// as regular files), 7z (its reader allocates whatever dictionary size a
// 78-byte header declares), tar and the compressed single files.
//
// newZipReader is the archive library's entry point. Tests replace it with a
// reader that fails in the ways libraries fail: a panic, an allocation
// without bound.
var newZipReader = zip.NewReader

// otherFormats names archive formats by their first bytes, so that the
// refusal says what the file is.
var otherFormats = []struct {
	magic string
	name  string
}{
	{"Rar!\x1a\x07", "a RAR archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7z archive"},
	{"MSCF\x00\x00\x00\x00", "a CAB archive"},
	{"\x1f\x8b", "a gzip file"},
	{"BZh", "a bzip2 file"},
	{"\xfd7zXZ\x00", "an xz file"},
	{"\x28\xb5\x2f\xfd", "a zstd file"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE compound file (an MSI?)"},
}

// sniffFormat names what the file is when its first bytes say it is not a
// zip; "" when they do not (a zip, possibly after a self-extractor's stub).
func sniffFormat(r io.ReaderAt) string {
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	for _, f := range otherFormats {
		if bytes.HasPrefix(head, []byte(f.magic)) {
			return f.name
		}
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return "a tar archive"
	}
	return ""
}

// readerError is a failure inside the archive library: a panic, turned into
// an error at the boundary.
type readerError struct{ v any }

func (e *readerError) Error() string { return fmt.Sprintf("the reader failed: %v", e.v) }

// guard runs f, turning a panic in it (in the archive library it calls)
// into a *readerError. The stack goes nowhere near the user; the value
// says enough to file a bug.
func guard(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &readerError{v}
		}
	}()
	return f()
}

// extractArchive checks every entry of the archive at src and writes the
// entries listed in want into tmpDir. A hostile entry anywhere in the
// archive refuses the whole archive, even when it is not one we extract:
// an archive that carries traversal or device names was not built in
// good faith. name is what errors call the archive. On error nothing it
// wrote is left in tmpDir.
func extractArchive(ctx context.Context, name, src string, want []payload.ExtractEntry, tmpDir string, lim Limits) (got []extracted, err error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			// Also a file a panicking reader left half written.
			for i := range want {
				os.Remove(entryDisk(tmpDir, i))
			}
			got = nil
		}
	}()
	// Identify by content only: a name says nothing about the bytes.
	if what := sniffFormat(f); what != "" {
		return nil, fmt.Errorf("archive %s refused: it is %s; the builder extracts zip archives only", name, what)
	}
	var d zipDirectory
	err = guard(func() (err error) { d, err = checkZipDirectory(f, st.Size(), lim); return err })
	if errors.Is(err, errNoZipEnd) {
		return nil, fmt.Errorf("archive %s refused: not a zip archive (no end of central directory record), and zip is the only format the builder extracts", name)
	}
	if err != nil {
		return nil, fmt.Errorf("archive %s refused: %w", name, err)
	}
	got = make([]extracted, len(want))
	err = guard(func() error { return extractZip(ctx, f, st.Size(), d, want, tmpDir, lim, got) })
	if err != nil {
		return got, fmt.Errorf("archive %s refused: %w", name, err)
	}
	for i, w := range want {
		if got[i].Disk != "" {
			continue
		}
		return got, fmt.Errorf("archive %s has no entry %q", name, w.Path)
	}
	return got, nil
}

// extractZip reads the zip's directory, checks every entry and copies the
// wanted ones into got (by index in want).
func extractZip(ctx context.Context, ra io.ReaderAt, size int64, d zipDirectory, want []payload.ExtractEntry, tmpDir string, lim Limits, got []extracted) error {
	zr, err := newZipReader(ra, size)
	if err != nil {
		return fmt.Errorf("not a sound zip: %w", err)
	}
	if len(zr.File) > lim.Entries {
		// checkZipDirectory counted the same records; a reader that
		// disagrees with it is not one to trust further.
		return fmt.Errorf("more than %d entries", lim.Entries)
	}
	wanted := make(map[string]int, len(want)) // exact path -> index in want
	for i, w := range want {
		wanted[w.Path] = i
	}
	files := map[string]string{} // folded path -> path, of file entries
	dirs := map[string]string{}  // folded path -> path, of directories (explicit or implied)
	var total int64
	var spans []span
	var copies []func() error
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, isDir, err := checkEntry(zf, lim)
		if err != nil {
			return err
		}
		// Every parent is a directory: it may not also be a file.
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/")
			k := payload.FoldName(d)
			if other, ok := files[k]; ok {
				return fmt.Errorf("entry %q: %q is both a file and a folder", p, other)
			}
			dirs[k] = d
		}
		k := payload.FoldName(p)
		if isDir {
			if other, ok := files[k]; ok {
				return fmt.Errorf("entry %q: %q is both a file and a folder", p, other)
			}
			dirs[k] = p
			continue
		}
		if other, ok := files[k]; ok {
			if other == p {
				return fmt.Errorf("entry %q appears twice", p)
			}
			return fmt.Errorf("entries %q and %q differ only in case: on Windows they are the same file", other, p)
		}
		if other, ok := dirs[k]; ok {
			return fmt.Errorf("entry %q: %q is both a file and a folder", p, other)
		}
		files[k] = p
		if zf.UncompressedSize64 > uint64(lim.EntrySize) {
			return fmt.Errorf("entry %q declares %d bytes, over the limit of %d", p, zf.UncompressedSize64, lim.EntrySize)
		}
		declared := int64(zf.UncompressedSize64)
		total += declared
		if total > lim.TotalSize {
			return fmt.Errorf("entries declare more than %d bytes in all", lim.TotalSize)
		}
		off, err := zf.DataOffset()
		if err != nil {
			return fmt.Errorf("entry %q: %w", p, err)
		}
		if zf.CompressedSize64 > math.MaxInt64-uint64(off) || off+int64(zf.CompressedSize64) > d.start {
			return fmt.Errorf("entry %q: its data runs past the central directory", p)
		}
		spans = append(spans, span{p, off, off + int64(zf.CompressedSize64)})
		i, ok := wanted[p]
		if !ok {
			continue
		}
		w := want[i]
		if w.Size > 0 && declared != w.Size {
			return fmt.Errorf("entry %q declares %d bytes; the manifest pins %d", p, declared, w.Size)
		}
		// Copied once every entry has passed: a hostile entry after a
		// wanted one refuses the archive before anything is written.
		copies = append(copies, func() error {
			x, err := copyEntry(zf, p, declared, entryDisk(tmpDir, i))
			if err != nil {
				return err
			}
			if x.SHA256 != w.SHA256 || (w.Size > 0 && x.Size != w.Size) {
				wantSize := w.Size
				if wantSize == 0 {
					wantSize = -1
				}
				return &payload.ChecksumError{Name: p, Want: w.SHA256, Got: x.SHA256, WantSize: wantSize, GotSize: x.Size}
			}
			got[i] = x
			return nil
		})
	}
	if err := checkOverlap(spans); err != nil {
		return err
	}
	for _, c := range copies {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c(); err != nil {
			return err
		}
	}
	for i, w := range want {
		if got[i].Disk == "" {
			if other, ok := files[payload.FoldName(w.Path)]; ok {
				return fmt.Errorf("no entry %q (it has %q: names are matched exactly)", w.Path, other)
			}
		}
	}
	return nil
}

// entryDisk is where the i-th wanted entry is written.
func entryDisk(tmpDir string, i int) string { return filepath.Join(tmpDir, strconv.Itoa(i)) }

// span is the bytes an entry's compressed data takes in the file.
type span struct {
	path       string
	start, end int64
}

// checkOverlap refuses entries whose data share bytes: the trick of the
// overlapping zip bombs, which no archiver makes in good faith.
func checkOverlap(spans []span) error {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return fmt.Errorf("entries %q and %q share their data (an overlapping zip)", spans[i-1].path, spans[i].path)
		}
	}
	return nil
}

// checkEntry applies the Windows name rules and the type rules to one
// entry and returns its path (without a directory's trailing slash).
func checkEntry(zf *zip.File, lim Limits) (string, bool, error) {
	raw := zf.Name
	if !utf8.ValidString(raw) {
		return "", false, fmt.Errorf("entry name %q is not valid UTF-8", raw)
	}
	if zf.Flags&0x1 != 0 {
		return "", false, fmt.Errorf("entry %q is encrypted", raw)
	}
	isDir := strings.HasSuffix(raw, "/")
	p := raw
	if isDir {
		p = strings.TrimSuffix(p, "/")
	}
	if len(p) > lim.PathLen {
		return "", false, fmt.Errorf("entry name %.40q... is longer than %d bytes", p, lim.PathLen)
	}
	if strings.Count(p, "/")+1 > lim.PathDepth {
		return "", false, fmt.Errorf("entry %q is nested deeper than %d folders", p, lim.PathDepth)
	}
	// "C:x" and "C:/x" name a path on drive C: to Windows; any other
	// colon is refused by CheckPath as a character no name may hold.
	if len(p) >= 2 && p[1] == ':' && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z') {
		return "", false, fmt.Errorf("entry %q starts with a drive letter (%s), which Windows reads as a path on that drive", p, p[:2])
	}
	if err := payload.CheckPath(p); err != nil {
		return "", false, fmt.Errorf("entry %w", err)
	}
	mode := zf.Mode()
	if mode&fs.ModeSymlink != 0 {
		return "", false, fmt.Errorf("entry %q is a link; links are refused", p)
	}
	// archive/zip reads the Unix mode only when the creator is Unix, and
	// ignores the Windows reparse-point attribute: 7-Zip on Windows
	// stores a link's Unix mode in the high bits under an NTFS creator,
	// and a junction or link taken from NTFS carries the attribute. So the
	// header's own bits are read here, whatever the creator.
	if t := zf.ExternalAttrs >> 16 & 0o170000; t == 0o120000 {
		return "", false, fmt.Errorf("entry %q is a link by its Unix mode; links are refused", p)
	} else if t != 0 && t != 0o100000 && t != 0o040000 {
		return "", false, fmt.Errorf("entry %q is not a regular file or folder (Unix type %o)", p, t)
	}
	if zf.ExternalAttrs&0x400 != 0 { // FILE_ATTRIBUTE_REPARSE_POINT
		return "", false, fmt.Errorf("entry %q is a reparse point (a link or junction); links are refused", p)
	}
	if t := mode.Type(); t != 0 && t != fs.ModeDir {
		return "", false, fmt.Errorf("entry %q is not a regular file or folder (%s)", p, mode)
	}
	if mode.IsDir() != isDir {
		return "", false, fmt.Errorf("entry %q is a folder by its attributes and a file by its name, or the other way round", p)
	}
	return p, isDir, nil
}

// copyEntry writes an entry's bytes to dst (created exclusively), hashing
// them on the way. It reads at most declared+1 bytes: an entry longer than
// it says is refused, whatever the format's reader checks. On error the
// caller removes dst.
func copyEntry(zf interface{ Open() (io.ReadCloser, error) }, p string, declared int64, dst string) (extracted, error) {
	r, err := zf.Open()
	if err != nil {
		return extracted{}, fmt.Errorf("entry %q: %w", p, err)
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return extracted{}, err
	}
	// Closed also when the reader panics: on Windows an open file cannot
	// be removed.
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(r, declared+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return extracted{}, fmt.Errorf("entry %q: %w", p, err)
	}
	if n != declared {
		return extracted{}, fmt.Errorf("entry %q declares %d bytes but holds %s", p, declared, moreOrFewer(n, declared))
	}
	return extracted{Path: p, Disk: dst, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

func moreOrFewer(n, declared int64) string {
	if n > declared {
		return "more"
	}
	return fmt.Sprintf("%d", n)
}
