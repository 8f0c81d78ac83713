package pack

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zip"
	"github.com/mholt/archives"

	"fixstick/payload"
)

// Limits on an archive artifact. mholt/archives hands every entry to us
// unfiltered (hazards.md §4), so these are the only caps there are.
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

// extractArchive checks every entry of the archive at src and writes the
// entries listed in want into tmpDir. A hostile entry anywhere in the
// archive refuses the whole archive, even when it is not one we extract:
// an archive that carries traversal or device names was not built in
// good faith. name is what errors call the archive.
func extractArchive(ctx context.Context, name, src string, want []payload.ExtractEntry, tmpDir string, lim Limits) ([]extracted, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", name, err)
	}
	defer f.Close()
	// Identify by content only: a name says nothing about the bytes.
	format, stream, err := archives.Identify(ctx, "", f)
	if err != nil {
		if errors.Is(err, archives.NoMatch) {
			return nil, fmt.Errorf("archive %s: not an archive format the builder can read", name)
		}
		return nil, fmt.Errorf("archive %s: %w", name, err)
	}
	ex, ok := format.(archives.Extractor)
	if !ok {
		return nil, fmt.Errorf("archive %s: %s is a compressed file, not an archive", name, format.Extension())
	}

	wanted := make(map[string]int, len(want)) // exact path -> index in want
	for i, w := range want {
		wanted[w.Path] = i
	}
	got := make([]extracted, len(want))
	found := make([]bool, len(want))
	files := map[string]string{} // folded path -> path, of file entries
	dirs := map[string]string{}  // folded path -> path, of directories (explicit or implied)
	var entries int
	var total int64

	err = ex.Extract(ctx, stream, func(ctx context.Context, fi archives.FileInfo) error {
		entries++
		if entries > lim.Entries {
			return fmt.Errorf("more than %d entries", lim.Entries)
		}
		p, isDir, err := checkEntry(fi, lim)
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
			return nil
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
		declared := fi.Size()
		if declared < 0 || declared > lim.EntrySize {
			return fmt.Errorf("entry %q declares %d bytes, over the limit of %d", p, declared, lim.EntrySize)
		}
		total += declared
		if total > lim.TotalSize {
			return fmt.Errorf("entries declare more than %d bytes in all", lim.TotalSize)
		}
		i, ok := wanted[p]
		if !ok {
			return nil
		}
		w := want[i]
		if w.Size > 0 && declared != w.Size {
			return fmt.Errorf("entry %q declares %d bytes; the manifest pins %d", p, declared, w.Size)
		}
		x, err := copyEntry(fi, p, declared, filepath.Join(tmpDir, strconv.Itoa(i)))
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
		got[i], found[i] = x, true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("archive %s refused: %w", name, err)
	}
	for i, w := range want {
		if found[i] {
			continue
		}
		if other, ok := files[payload.FoldName(w.Path)]; ok {
			return nil, fmt.Errorf("archive %s has no entry %q (it has %q: names are matched exactly)", name, w.Path, other)
		}
		return nil, fmt.Errorf("archive %s has no entry %q", name, w.Path)
	}
	return got, nil
}

// checkEntry applies the Windows name rules and the type rules to one
// entry and returns its path (without a directory's trailing slash).
func checkEntry(fi archives.FileInfo, lim Limits) (string, bool, error) {
	raw := fi.NameInArchive
	if !utf8.ValidString(raw) {
		return "", false, fmt.Errorf("entry name %q is not valid UTF-8", raw)
	}
	if zh, ok := fi.Header.(zip.FileHeader); ok && zh.Flags&0x1 != 0 {
		return "", false, fmt.Errorf("entry %q is encrypted", raw)
	}
	isDir := fi.IsDir()
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
	if fi.LinkTarget != "" {
		return "", false, fmt.Errorf("entry %q is a link (to %q); links are refused", p, fi.LinkTarget)
	}
	if th, ok := fi.Header.(*tar.Header); ok {
		switch th.Typeflag {
		case tar.TypeReg, tar.TypeDir:
		default:
			return "", false, fmt.Errorf("entry %q is not a regular file or folder (tar type %q)", p, th.Typeflag)
		}
	}
	if t := fi.Mode().Type(); t != 0 && t != fs.ModeDir {
		return "", false, fmt.Errorf("entry %q is not a regular file or folder (%s)", p, fi.Mode())
	}
	return p, isDir, nil
}

// copyEntry writes an entry's bytes to dst (created exclusively), hashing
// them on the way. It reads at most declared+1 bytes: an entry longer than
// it says is refused, whatever the format's reader checks.
func copyEntry(fi archives.FileInfo, p string, declared int64, dst string) (extracted, error) {
	r, err := fi.Open()
	if err != nil {
		return extracted{}, fmt.Errorf("entry %q: %w", p, err)
	}
	defer r.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return extracted{}, err
	}
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
