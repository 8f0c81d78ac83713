package fetch

import (
	"crypto/sha1"
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
	"strings"
	"time"

	"fixstick/internal/atomicfile"
	"fixstick/payload"
)

// cache is the content-addressed store (see the package comment).
type cache struct {
	dir string
	// authenticode checks a file's signature before it enters the store
	// (Options.Authenticode); nil checks nothing.
	authenticode func(path, signer string) error
}

// openCache opens the cache at dir, creating it if needed. It refuses a
// cache that someone else could write into (checkOwnFolder), and
// subfolders that are links: a link planted at tmp/ or at a .part would
// make the builder write where its planter chose.
func openCache(dir string) (*cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the cache: %w", err)
	}
	// The cache folder itself may be a link the user made (to another
	// disk): its target is checked. Its subfolders are the builder's own.
	fi, err := os.Stat(dir)
	if err == nil {
		err = checkOwnFolder(dir, fi)
	}
	for _, sub := range []string{"sha256", "sha1", "urls", "tmp"} {
		if err != nil {
			break
		}
		p := filepath.Join(dir, sub)
		if err = os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating the cache: %w", err)
		}
		if fi, err = os.Lstat(p); err == nil {
			if fi.Mode().Type() != fs.ModeDir {
				err = fmt.Errorf("%s is a link or not a folder", p)
			} else {
				err = checkOwnFolder(p, fi)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("refusing the cache: %w", err)
	}
	c := &cache{dir: dir}
	c.sweep(time.Now().Add(-24 * time.Hour))
	return c, nil
}

// sweep removes temp files a crashed run left in tmp/ before old (another
// run may be using newer ones). A .part and its .meta stay: they resume.
func (c *cache) sweep(old time.Time) {
	ents, err := os.ReadDir(c.tmpDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".lock") {
			c.sweepLock(filepath.Join(c.tmpDir(), n), old)
			continue
		}
		if strings.HasPrefix(n, "sha") || strings.HasPrefix(n, "urls-") {
			if !strings.HasSuffix(n, ".tmp") {
				continue
			}
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(old) {
			os.Remove(filepath.Join(c.tmpDir(), n))
		}
	}
}

func (c *cache) blobPath(sha string) string {
	return filepath.Join(c.dir, "sha256", sha[:2], sha)
}

func (c *cache) indexPath(kind, key string) string {
	return filepath.Join(c.dir, kind, key[:2], key)
}

func (c *cache) tmpDir() string { return filepath.Join(c.dir, "tmp") }

// target is one file to fetch, as the manifest pins it.
type target struct {
	id, file string // of the first artifact that wants it; for messages
	urls     []payload.URL
	sha256   string
	sha1     string
	size     int64  // declared; 0 if not
	signer   string // the Authenticode signer the file must carry; "" if none
	// urlKey indexes an archive with no pin of its own (its extract
	// entries are pinned, and checked by the caller).
	urlKey string
}

func newTarget(m *payload.Manifest, a *payload.Artifact) *target {
	t := &target{id: a.ID, file: a.File, urls: a.URLs, sha256: a.SHA256, sha1: a.SHA1, size: a.Size, signer: a.Signer}
	if t.sha256 == "" && t.sha1 == "" {
		t.urlKey = urlKey(m, a)
	}
	return t
}

// urlKey identifies an unpinned archive by its set of URLs (they must all
// serve the same bytes), or by manifest and artifact id when it has none.
func urlKey(m *payload.Manifest, a *payload.Artifact) string {
	var s string
	if len(a.URLs) > 0 {
		us := make([]string, len(a.URLs))
		for i, u := range a.URLs {
			us[i] = u.URL
		}
		sort.Strings(us)
		s = "urls\n" + strings.Join(us, "\n")
	} else {
		s = "id\n" + m.ID + "\n" + a.ID
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (t *target) pinned() bool { return t.sha256 != "" || t.sha1 != "" }

// key names the target in the cache's tmp folder and in the fetch's
// de-duplication.
func (t *target) key() string {
	switch {
	case t.sha256 != "":
		return "sha256-" + t.sha256
	case t.sha1 != "":
		return "sha1-" + t.sha1
	}
	return "urls-" + t.urlKey
}

// describe names the pin for messages: "sha256:..." or "sha1:...".
func (t *target) describe() string {
	switch {
	case t.sha256 != "":
		return "sha256:" + t.sha256
	case t.sha1 != "":
		return "sha1:" + t.sha1
	}
	return "unpinned archive"
}

// hashes computes SHA-256, and SHA-1 when the pin is one, in one pass.
type hashes struct {
	h256, h1 hash.Hash
	w        io.Writer
}

func newHashes(withSHA1 bool) *hashes {
	h := &hashes{h256: sha256.New()}
	h.w = h.h256
	if withSHA1 {
		h.h1 = sha1.New()
		h.w = io.MultiWriter(h.h256, h.h1)
	}
	return h
}

func (h *hashes) sums() (s256, s1 string) {
	s256 = hex.EncodeToString(h.h256.Sum(nil))
	if h.h1 != nil {
		s1 = hex.EncodeToString(h.h1.Sum(nil))
	}
	return s256, s1
}

// check compares what was hashed with t's pins.
func (t *target) check(s256, s1 string, n int64) error {
	name := t.id + " (" + t.file + ")"
	switch {
	case t.size > 0 && n != t.size:
		return &payload.ChecksumError{Name: name, Want: t.sha256, Got: s256, WantSize: t.size, GotSize: n}
	case t.sha256 != "" && s256 != t.sha256:
		return &payload.ChecksumError{Name: name, Want: t.sha256, Got: s256, WantSize: -1}
	case t.sha256 == "" && t.sha1 != "" && s1 != t.sha1:
		return fmt.Errorf("verifying %s: checksum mismatch\n\twant: sha1:%s\n\tgot:  sha1:%s", name, t.sha1, s1)
	}
	return nil
}

// lookup finds t in the cache and hashes it again, unless lazy and t is
// pinned by its SHA-256 (the blob's name). A cache entry that no longer
// matches its pin is deleted.
func (c *cache) lookup(t *target, lazy bool) (Result, bool, error) {
	sha, index := t.sha256, ""
	if sha == "" {
		kind, key := "sha1", t.sha1
		if key == "" {
			kind, key = "urls", t.urlKey
		}
		index = c.indexPath(kind, key)
		b, err := os.ReadFile(index)
		if errors.Is(err, fs.ErrNotExist) {
			return Result{}, false, nil
		}
		if err != nil {
			return Result{}, false, fmt.Errorf("reading the cache index: %w", err)
		}
		sha = strings.TrimSpace(string(b))
		if !payload.IsHex(sha, 64) {
			os.Remove(index)
			return Result{}, false, nil
		}
	}
	p := c.blobPath(sha)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("reading the cache: %w", err)
	}
	if !fi.Mode().IsRegular() || (t.size > 0 && fi.Size() != t.size) {
		return Result{}, false, c.evict(p, index)
	}
	if lazy && t.sha256 != "" {
		return Result{Path: p, SHA256: sha, Size: fi.Size(), Cached: true, Unverified: true}, true, nil
	}
	s256, s1, n, err := hashFile(p, t.sha1 != "")
	if err != nil {
		return Result{}, false, fmt.Errorf("reading the cache: %w", err)
	}
	if s256 != sha || t.check(s256, s1, n) != nil {
		return Result{}, false, c.evict(p, index)
	}
	return Result{Path: p, SHA256: sha, Size: n, Cached: true, index: index}, true, nil
}

// evict removes a cache entry that failed its check.
func (c *cache) evict(path, index string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing a bad cache entry: %w", err)
	}
	if index != "" {
		os.Remove(index)
	}
	return nil
}

func hashFile(path string, withSHA1 bool) (s256, s1 string, n int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	h := newHashes(withSHA1)
	// 1 MiB reads, not io.Copy's 32 KiB (hiding f's WriteTo, which would
	// bring those back): a few hundred system calls for a large installer.
	n, err = io.CopyBuffer(h.w, struct{ io.Reader }{f}, make([]byte, 1<<20))
	if err != nil {
		return "", "", 0, err
	}
	s256, s1 = h.sums()
	return s256, s1, n, nil
}

// commit moves a verified, synced temp file into the store under its
// SHA-256 and records the indexes t needs. The caller has closed tmp.
func (c *cache) commit(tmp string, t *target, s256 string) (Result, error) {
	// The one door into the store: downloads, --add and pin all pass here,
	// so a file whose signature fails never enters it (the caller removes
	// tmp).
	if t.signer != "" && c.authenticode != nil {
		if err := c.authenticode(tmp, t.signer); err != nil {
			return Result{}, &SignatureError{ArtifactID: t.id, File: t.file, Err: err}
		}
	}
	dst := c.blobPath(s256)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", t.file, err)
	}
	if err := atomicfile.Rename(tmp, dst); err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", t.file, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return Result{}, fmt.Errorf("storing %s: %w", t.file, err)
	}
	r := Result{Path: dst, SHA256: s256}
	if t.sha256 == "" {
		kind, key := "sha1", t.sha1
		if key == "" {
			kind, key = "urls", t.urlKey
		}
		r.index = c.indexPath(kind, key)
		if err := c.writeSmall(r.index, s256+"\n"); err != nil {
			return Result{}, fmt.Errorf("indexing %s: %w", t.file, err)
		}
	}
	return r, nil
}

// writeSmall writes a small file atomically.
func (c *cache) writeSmall(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(content), 0o644)
}

func (c *cache) forget(r Result) error {
	if r.Path == "" {
		return nil
	}
	rel, err := filepath.Rel(c.dir, r.Path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("forgetting %s: not in the cache", r.Path)
	}
	return c.evict(r.Path, r.index)
}

// sweepLock removes an old lock file that nobody holds. It removes the
// path only while holding the lock on the file the path names (another
// sweep may have replaced it since it was opened): with Fetcher.lock's
// check of the same, nobody ever holds a lock on a file gone from its path
// while another holds the one there.
func (c *cache) sweepLock(path string, old time.Time) {
	fi, err := os.Stat(path)
	if err != nil || !fi.ModTime().Before(old) {
		return
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if busy, err := tryLock(f); err == nil && !busy && stillAt(f, path) {
		os.Remove(path)
	}
}

// SignatureError is a file refused because its Authenticode signature
// failed the manifest's signer; it was not stored.
type SignatureError struct {
	ArtifactID, File string
	Err              error
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("%s (%s): refused: %v", e.ArtifactID, e.File, e.Err)
}

func (e *SignatureError) Unwrap() error { return e.Err }
