package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The corpus: hostile and malformed archives, made by the generator below
// and committed in testdata/archives (so the fuzz target and the builder's
// end-to-end test read the same files). TestCorpusUpToDate fails when the
// generator and the files disagree; `go test ./builder/internal/pack -run
// TestCorpusUpToDate -args -update` rewrites them.

var update = flag.Bool("update", false, "rewrite testdata/archives from the corpus generator")

const corpusDir = "testdata/archives"

// corpusTool is the entry every corpus archive may hold and the fixture
// manifest extracts.
const corpusTool = "MZ cleanup tool"

type corpusCase struct {
	name string
	data []byte
	// want is a piece of the error, or "" when the archive is sound and
	// its tool is extracted; "*" accepts either outcome (the archive is
	// only there to be survived).
	want string
}

var corpusTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ent is one entry for zipOf; a FileHeader gives full control (CreateRaw:
// sizes, CRC and method as written, true or not).
type ent struct {
	name string
	data string
	h    *zip.FileHeader // raw header, data written as is
}

func zipOf(offset int64, es ...ent) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.SetOffset(offset)
	for _, e := range es {
		if e.h != nil {
			w, err := zw.CreateRaw(e.h)
			if err != nil {
				panic(err)
			}
			io.WriteString(w, e.data)
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store, Modified: corpusTime})
		if err != nil {
			panic(err)
		}
		io.WriteString(w, e.data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

var tool = ent{name: "bin/tool.exe", data: corpusTool}

func raw(name string, method uint16, data []byte, uncompressed uint64, crc uint32) ent {
	return ent{data: string(data), h: &zip.FileHeader{Name: name, Method: method, Modified: corpusTime,
		CompressedSize64: uint64(len(data)), UncompressedSize64: uncompressed, CRC32: crc}}
}

func withMode(name, data string, creator uint16, attrs uint32) ent {
	return ent{data: data, h: &zip.FileHeader{Name: name, Method: zip.Store, Modified: corpusTime, CreatorVersion: creator<<8 | 20,
		ExternalAttrs: attrs, CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)), CRC32: crc32.ChecksumIEEE([]byte(data))}}
}

func deflated(b []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// le16/le32 patch little-endian fields of a made archive.
func le16(b []byte, off int, v uint16) []byte { binary.LittleEndian.PutUint16(b[off:], v); return b }
func le32(b []byte, off int, v uint32) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }

// endOf is the offset of a made archive's end of central directory record.
func endOf(b []byte) int { return bytes.LastIndex(b, []byte("PK\x05\x06")) }

// dirOf is the offset of the i-th central directory record.
func dirOf(b []byte, i int) int {
	off := int(binary.LittleEndian.Uint32(b[endOf(b)+16:]))
	for ; i > 0; i-- {
		off += 46 + int(binary.LittleEndian.Uint16(b[off+28:])) + int(binary.LittleEndian.Uint16(b[off+30:])) + int(binary.LittleEndian.Uint16(b[off+32:]))
	}
	return off
}

// sfxStub is the start of a Windows program, as a self-extractor's stub.
func sfxStub() []byte {
	b := make([]byte, 4096)
	copy(b, "MZ\x90\x00")
	le32(b, 0x3c, 0x80)
	copy(b[0x80:], "PE\x00\x00")
	copy(b[0x200:], "This program cannot be run in DOS mode, and it is not a real one either.")
	return b
}

// corpus is made once per test binary (the bombs take a second to deflate).
var corpus = sync.OnceValue(makeCorpus)

func makeCorpus() []corpusCase {
	toolCRC := crc32.ChecksumIEEE([]byte(corpusTool))
	unix := func(mode uint32) uint32 { return mode << 16 }
	var cs []corpusCase
	add := func(name, want string, data []byte) { cs = append(cs, corpusCase{name, data, want}) }

	// Sound archives.
	add("good.zip", "", zipOf(0, ent{name: "readme.txt", data: "hello"}, ent{name: "bin/"}, tool))
	add("good-deflate.zip", "", zipOf(0, raw("bin/tool.exe", zip.Deflate, deflated([]byte(corpusTool)), uint64(len(corpusTool)), toolCRC)))
	add("sfx-stub.zip", "", append(sfxStub(), zipOf(0, tool)...))
	add("sfx-adjusted.zip", "", append(sfxStub(), zipOf(4096, tool)...))
	add("sfx-stub-comment.zip", "", func() []byte {
		z := zipOf(0, tool)
		z = le16(z, endOf(z)+20, 9)
		return append(append(sfxStub(), z...), "a comment"...)
	}())

	// Names.
	for _, n := range []struct{ file, entry, want string }{
		{"name-traversal.zip", "../../evil.exe", `".."`},
		{"name-backslash.zip", `..\..\evil.exe`, "backslash"},
		{"name-absolute.zip", "/etc/passwd", "absolute"},
		{"name-drive.zip", "C:/Windows/evil.exe", "drive letter"},
		{"name-drive-relative.zip", "C:evil.exe", "drive letter"},
		{"name-device.zip", "CON", "reserved device name"},
		{"name-device-ext.zip", "bin/nul.txt", "reserved device name"},
		{"name-stream.zip", "bin/tool.exe:hidden", `contains ':'`},
		{"name-trailing-dot.zip", "setup.exe.", "ends in a dot"},
		{"name-trailing-space.zip", "setup.exe ", "ends in a dot or space"},
		{"name-control.zip", "a\x01b", "control character"},
		{"name-short.zip", "PROGRA~1/x.exe", "8.3 short name"},
		{"name-invalid-utf8.zip", "bad\xff.exe", "not valid UTF-8"},
		{"name-bidi.zip", "evil\u202egnp.exe", "invisible character"},
		{"name-long.zip", strings.Repeat("a", 300), "over the limit of 240"},
		{"name-deep.zip", strings.Repeat("d/", 40) + "x", "nested deeper"},
		{"name-empty.zip", "", "empty path"},
	} {
		add(n.file, n.want, zipOf(0, tool, ent{name: n.entry, data: "x"}))
	}
	add("name-case-collision.zip", "differ only in case", zipOf(0, tool, ent{name: "BIN/Tool.exe", data: "x"}))
	add("name-duplicate.zip", "appears twice", zipOf(0, tool, tool))
	add("name-dir-then-file.zip", "both a file and a folder", zipOf(0, ent{name: "a/"}, ent{name: "a", data: "x"}, tool))
	add("name-file-then-subpath.zip", "both a file and a folder", zipOf(0, ent{name: "bin", data: "x"}, tool))
	add("name-wanted-case.zip", `it has "bin/TOOL.exe"`, zipOf(0, ent{name: "bin/TOOL.exe", data: corpusTool}))
	add("name-missing.zip", `has no entry "bin/tool.exe"`, zipOf(0, ent{name: "bin/other.exe", data: "x"}))

	// Entry types.
	add("link-unix-symlink.zip", "link", zipOf(0, withMode("bin/link", "/etc", 3, unix(0o120777)), tool))
	add("link-then-file.zip", "link", zipOf(0, withMode("ok/link", "/etc", 3, unix(0o120777)), ent{name: "ok/link/passwd", data: "x"}, tool))
	add("link-symlink-as-tool.zip", "link", zipOf(0, withMode("bin/tool.exe", "../../../etc/passwd", 3, unix(0o120777))))
	add("link-ntfs-creator-unix-mode.zip", "link by its Unix mode", zipOf(0, withMode("bin/link", "C:\\Windows", 11, unix(0o120777)|0x8020), tool))
	add("link-reparse-point.zip", "reparse point", zipOf(0, withMode("bin/junction", "", 11, 0x410), tool))
	add("type-fifo-ntfs-creator.zip", "Unix type 10000", zipOf(0, withMode("bin/fifo", "", 11, unix(0o010644)|0x8020), tool))
	add("type-fifo.zip", "not a regular file", zipOf(0, withMode("bin/fifo", "", 3, unix(0o010644)), tool))
	add("type-device.zip", "not a regular file", zipOf(0, withMode("bin/dev", "", 3, unix(0o020644)), tool))
	add("type-dir-attribute.zip", "folder by its attributes", zipOf(0, withMode("bin/notadir", "x", 0, 0x10), tool))
	add("encrypted.zip", "encrypted", func() []byte {
		z := zipOf(0, tool)
		z = le16(z, 6, 1)                // local header flags
		return le16(z, dirOf(z, 0)+8, 1) // central header flags
	}())

	// Sizes and data.
	add("size-declared-7g.zip", "over the limit", zipOf(0, tool, raw("big.bin", zip.Store, []byte("small"), 7<<30, 0)))
	add("size-total-20g.zip", "in all", func() []byte {
		es := []ent{tool}
		for i := range 5 {
			es = append(es, raw("part"+string(rune('0'+i)), zip.Store, []byte("x"), 4<<30, 0))
		}
		return zipOf(0, es...)
	}())
	add("size-holds-more.zip", "declares 5 bytes; the manifest pins 15", zipOf(0, raw("bin/tool.exe", zip.Store, []byte(corpusTool), 5, toolCRC)))
	add("size-holds-less.zip", "declares 500 bytes; the manifest pins 15", zipOf(0, raw("bin/tool.exe", zip.Store, []byte(corpusTool), 500, toolCRC)))
	add("crc-mismatch.zip", "checksum error", zipOf(0, raw("bin/tool.exe", zip.Store, []byte(corpusTool), uint64(len(corpusTool)), toolCRC^1)))
	add("method-lzma.zip", "unsupported compression algorithm", zipOf(0, raw("bin/tool.exe", 14, []byte(corpusTool), uint64(len(corpusTool)), toolCRC)))
	add("method-zstd.zip", "unsupported compression algorithm", zipOf(0, raw("bin/tool.exe", 93, []byte(corpusTool), uint64(len(corpusTool)), toolCRC)))
	add("bomb-deflate-lies.zip", "not a valid zip file", zipOf(0, raw("bin/tool.exe", zip.Deflate, deflated(make([]byte, 64<<20)), uint64(len(corpusTool)), toolCRC)))
	add("bomb-deflate-64m.zip", "declares 67108864 bytes; the manifest pins 15", zipOf(0, raw("bin/tool.exe", zip.Deflate, deflated(make([]byte, 64<<20)), 64<<20, crc32.ChecksumIEEE(make([]byte, 64<<20)))))
	add("bomb-overlap.zip", "share their data", func() []byte {
		z := zipOf(0, tool, ent{name: "bin/tool2.exe", data: corpusTool})
		off := binary.LittleEndian.Uint32(z[dirOf(z, 0)+42:])
		return le32(z, dirOf(z, 1)+42, off)
	}())
	add("data-past-directory.zip", "runs past the central directory", zipOf(0, raw("bin/tool.exe", zip.Store, []byte(corpusTool), uint64(len(corpusTool)), toolCRC), ent{name: "x", data: "x"}, ent{data: "", h: &zip.FileHeader{Name: "y", Method: zip.Store, CompressedSize64: 1 << 20, UncompressedSize64: 1 << 20}}))

	// The directory and its end record.
	add("truncated-end.zip", "not a zip archive", func() []byte { z := zipOf(0, tool); return z[:len(z)-10] }())
	add("truncated-directory.zip", "not a sound zip", func() []byte {
		z := zipOf(0, ent{name: "readme.txt", data: "hello"}, tool)
		d := dirOf(z, 1)
		return append(append([]byte{}, z[:d+20]...), z[endOf(z):]...)
	}())
	add("count-mismatch.zip", "not a sound zip", func() []byte {
		z := zipOf(0, tool)
		e := endOf(z)
		z = le16(z, e+8, 7)
		return le16(z, e+10, 7)
	}())
	add("directory-offset-outside.zip", "*", func() []byte { z := zipOf(0, tool); return le32(z, endOf(z)+16, 0xfffffff0) }())
	add("directory-size-lies.zip", "outside the file", func() []byte { z := zipOf(0, tool); return le32(z, endOf(z)+12, 0x7fffffff) }())
	add("comment-length-lies.zip", "not a zip archive", func() []byte { z := zipOf(0, tool); return le16(z, endOf(z)+20, 4000) }())
	add("end-record-in-comment.zip", "not a sound zip", func() []byte {
		z := zipOf(0, tool)
		fake := append([]byte{}, z[endOf(z):]...)
		le32(fake, 16, 3) // a directory that starts inside the local header
		z = le16(z, endOf(z)+20, uint16(len(fake)))
		return append(z, fake...)
	}())
	add("zip64-entries-2pow40.zip", "declares 1099511627776 entries", func() []byte {
		z := zipOf(0, tool)
		e := endOf(z)
		dirSize := binary.LittleEndian.Uint32(z[e+12:])
		dirOff := binary.LittleEndian.Uint32(z[e+16:])
		end64 := make([]byte, 56)
		le32(end64, 0, 0x06064b50)
		binary.LittleEndian.PutUint64(end64[4:], 44)
		binary.LittleEndian.PutUint64(end64[24:], 1<<40)
		binary.LittleEndian.PutUint64(end64[32:], 1<<40)
		binary.LittleEndian.PutUint64(end64[40:], uint64(dirSize))
		binary.LittleEndian.PutUint64(end64[48:], uint64(dirOff))
		loc := make([]byte, 20)
		le32(loc, 0, 0x07064b50)
		binary.LittleEndian.PutUint64(loc[8:], uint64(e))
		le32(loc, 16, 1)
		end := append([]byte{}, z[e:]...)
		le16(end, 10, 0xffff)
		return append(append(append(z[:e:e], end64...), loc...), end...)
	}())
	add("directory-name-60000.zip", "60000 bytes long", func() []byte {
		z := zipOf(0, tool)
		d := dirOf(z, 0)
		return le16(z, d+28, 60000)
	}())
	add("empty-file.zip", "not a zip archive", nil)
	add("empty-zip.zip", `has no entry "bin/tool.exe"`, zipOf(0))
	add("random-bytes.zip", "not a zip archive", bytes.Repeat([]byte("\x8a\x13\xf0\x42"), 1000))

	// Other formats, refused by their first bytes.
	add("rar5.rar", "it is a RAR archive", append([]byte("Rar!\x1a\x07\x01\x00"), bytes.Repeat([]byte{0xff}, 64)...))
	add("rar4.rar", "it is a RAR archive", append([]byte("Rar!\x1a\x07\x00"), bytes.Repeat([]byte{0xff}, 64)...))
	add("rar5-with-zip-inside.rar", "it is a RAR archive", append([]byte("Rar!\x1a\x07\x01\x00"), zipOf(8, tool)...))
	add("7z-dictionary-7g.7z", "it is a 7z archive", append([]byte("7z\xbc\xaf\x27\x1c\x00\x04"), bytes.Repeat([]byte{0xff}, 70)...))
	add("cab.cab", "it is a CAB archive", append([]byte("MSCF\x00\x00\x00\x00"), make([]byte, 64)...))
	add("gzip.gz", "it is a gzip file", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	add("bzip2.bz2", "it is a bzip2 file", []byte("BZh91AY&SY"))
	add("xz.xz", "it is an xz file", []byte("\xfd7zXZ\x00\x00\x04"))
	add("zstd.zst", "it is a zstd file", []byte("\x28\xb5\x2f\xfd\x00\x00"))
	add("msi.msi", "it is an OLE compound file", append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 504)...))
	add("tar-hardlink.tar", "it is a tar archive", func() []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: "bin/tool.exe", Typeflag: tar.TypeLink, Linkname: "/etc/passwd", ModTime: corpusTime})
		tw.Close()
		return b.Bytes()
	}())
	add("exe-iexpress-like.exe", "not a zip archive", append(sfxStub(), append([]byte("MSCF\x00\x00\x00\x00"), make([]byte, 64)...)...))
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

// TestCorpusUpToDate keeps testdata/archives what the generator makes.
func TestCorpusUpToDate(t *testing.T) {
	cs := corpus()
	if *update {
		os.RemoveAll(corpusDir)
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if err := os.WriteFile(filepath.Join(corpusDir, c.name), c.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ents, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(cs) {
		t.Errorf("%s holds %d files, the generator makes %d (-args -update rewrites them)", corpusDir, len(ents), len(cs))
	}
	for _, c := range cs {
		got, err := os.ReadFile(filepath.Join(corpusDir, c.name))
		if err != nil || !bytes.Equal(got, c.data) {
			t.Errorf("%s differs from what the generator makes (-args -update rewrites it)", c.name)
		}
	}
}

// TestCorpus extracts every corpus archive as the fixture's tools
// artifact: each is refused with its error, or extracted, and a refused
// one leaves nothing in the temp folder.
func TestCorpus(t *testing.T) {
	for _, c := range corpus() {
		t.Run(c.name, func(t *testing.T) {
			o := fixture(t)
			o.Sources["tools"] = Source{Path: filepath.Join(corpusDir, c.name)}
			tmp := t.TempDir()
			b, err := Prepare(context.Background(), o, tmp)
			switch {
			case c.want == "*":
				t.Logf("%v", err)
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if err == nil {
				b.Close()
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}
