package pack

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The zip reader (archive/zip) reads the whole central directory into
// memory before it hands back a single entry: one File per record, with
// its name, extra field and comment (up to 64 KiB each). It reads records
// until one is malformed, however many the end record declares, so its
// memory grows with what the archive holds, not with what it says.
// checkZipDirectory walks the same records first, without keeping them,
// and refuses an archive whose directory is over the caps before the
// library allocates anything for it. It finds the directory exactly as
// archive/zip's readDirectoryEnd does (Go 1.26): the last end record in the
// last 1 KiB, then the last 65 KiB; its zip64 form; and the base offset of
// a zip after a prefix (a self-extractor's stub).

const (
	zipEndLen      = 22 // end of central directory record, without its comment
	zip64LocLen    = 20 // zip64 end of central directory locator
	zip64EndLen    = 56 // zip64 end of central directory record
	zipDirHeadLen  = 46 // central directory file header, without its names
	zipEndSig      = 0x06054b50
	zip64LocSig    = 0x07064b50
	zip64EndSig    = 0x06064b50
	zipDirHeadSig  = 0x02014b50
	maxZipDirBytes = 64 << 20 // the central directory's bytes, names, extras and comments together
)

// errNoZipEnd says no end of central directory record was found: the file
// is not a zip, whatever else it may be.
var errNoZipEnd = errors.New("no zip end of central directory record")

// zipDirectory is where a zip's central directory starts, and what its end
// record declares.
type zipDirectory struct {
	start    int64  // the directory's first byte in the file, base offset included
	base     int64  // bytes before the zip proper (a self-extractor's stub)
	declared uint64 // records the end record declares
}

// findZipDirectory locates the central directory as archive/zip does.
func findZipDirectory(r io.ReaderAt, size int64) (zipDirectory, error) {
	var buf []byte
	var endOff int64
	for i, n := range []int64{1024, 65 * 1024} {
		n = min(n, size)
		buf = make([]byte, n)
		if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
			return zipDirectory{}, err
		}
		if p := findZipEnd(buf); p >= 0 {
			buf = buf[p:]
			endOff = size - n + int64(p)
			break
		}
		if i == 1 || n == size {
			return zipDirectory{}, errNoZipEnd
		}
	}
	le := binary.LittleEndian
	records := uint64(le.Uint16(buf[10:]))
	dirSize := uint64(le.Uint32(buf[12:]))
	dirOff := uint64(le.Uint32(buf[16:]))
	if records == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		p, err := findZip64End(r, endOff)
		if err == nil && p >= 0 {
			endOff = p
			b := make([]byte, zip64EndLen)
			if _, err = r.ReadAt(b, p); err == nil && le.Uint32(b) != zip64EndSig {
				err = errors.New("zip64 end record has a bad signature")
			}
			if err == nil {
				records, dirSize, dirOff = le.Uint64(b[32:]), le.Uint64(b[40:]), le.Uint64(b[48:])
			}
		}
		if err != nil {
			return zipDirectory{}, err
		}
	}
	if dirSize > 1<<63-1 || dirOff > 1<<63-1 {
		return zipDirectory{}, errors.New("central directory size or offset out of range")
	}
	base := endOff - int64(dirSize) - int64(dirOff)
	if o := base + int64(dirOff); o < 0 || o >= size {
		return zipDirectory{}, errors.New("central directory offset points outside the file")
	}
	// As archive/zip: a record found at the declared offset itself wins
	// over the computed base offset.
	if base > 0 {
		if _, _, err := readZipDirHeader(io.NewSectionReader(r, int64(dirOff), size-int64(dirOff))); err == nil {
			base = 0
		}
	}
	return zipDirectory{start: base + int64(dirOff), base: base, declared: records}, nil
}

// findZipEnd is archive/zip's findSignatureInBlock.
func findZipEnd(b []byte) int {
	for i := len(b) - zipEndLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(b[i:]) == zipEndSig {
			n := int(binary.LittleEndian.Uint16(b[i+zipEndLen-2:]))
			if n+zipEndLen+i > len(b) {
				return -1
			}
			return i
		}
	}
	return -1
}

func findZip64End(r io.ReaderAt, endOff int64) (int64, error) {
	loc := endOff - zip64LocLen
	if loc < 0 {
		return -1, nil
	}
	b := make([]byte, zip64LocLen)
	if _, err := r.ReadAt(b, loc); err != nil {
		return -1, err
	}
	le := binary.LittleEndian
	if le.Uint32(b) != zip64LocSig || le.Uint32(b[4:]) != 0 || le.Uint32(b[16:]) != 1 {
		return -1, nil
	}
	return int64(le.Uint64(b[8:])), nil
}

// readZipDirHeader reads one central directory record and skips its
// variable parts; it returns the name's length (also when the rest is cut
// short) and the record's length.
func readZipDirHeader(r io.Reader) (nameLen, n int, err error) {
	var h [zipDirHeadLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, 0, err
	}
	le := binary.LittleEndian
	if le.Uint32(h[:]) != zipDirHeadSig {
		return 0, 0, errors.New("not a central directory record")
	}
	nameLen = int(le.Uint16(h[28:]))
	rest := int64(nameLen) + int64(le.Uint16(h[30:])) + int64(le.Uint16(h[32:]))
	if m, err := io.CopyN(io.Discard, r, rest); err != nil {
		return nameLen, 0, fmt.Errorf("record cut short after %d bytes", m)
	}
	return nameLen, zipDirHeadLen + int(rest), nil
}

// checkZipDirectory refuses a zip whose central directory holds more
// records, longer names or more bytes than lim allows, reading it in a
// small buffer. It returns the directory it walked.
func checkZipDirectory(r io.ReaderAt, size int64, lim Limits) (zipDirectory, error) {
	d, err := findZipDirectory(r, size)
	if err != nil {
		return d, err
	}
	if d.declared > uint64(lim.Entries) {
		return d, fmt.Errorf("declares %d entries, over the limit of %d", d.declared, lim.Entries)
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, d.start, size-d.start), 64<<10)
	var records, bytes int
	for {
		nameLen, n, err := readZipDirHeader(br)
		if nameLen > lim.PathLen+1 { // +1: a folder's trailing slash
			return d, fmt.Errorf("an entry name is %d bytes long, over the limit of %d", nameLen, lim.PathLen)
		}
		if err != nil {
			break // archive/zip stops at the first record it cannot read, too
		}
		records++
		bytes += n
		if records > lim.Entries {
			return d, fmt.Errorf("more than %d entries", lim.Entries)
		}
		if bytes > maxZipDirBytes {
			return d, fmt.Errorf("central directory is over %d bytes", maxZipDirBytes)
		}
	}
	return d, nil
}
