// Package fetch downloads a manifest's artifacts into a content-addressed
// cache and verifies them against their pins.
//
// # Cache layout
//
//	<cache>/sha256/ab/abcdef...  verified files, named by their SHA-256
//	<cache>/sha1/ab/abcdef...    SHA-1 pin -> SHA-256 of the file (text)
//	<cache>/urls/ab/abcdef...    unpinned archive (keyed by its URL set) -> SHA-256
//	<cache>/tmp/                 .part files being downloaded, with their .meta
//
// A file reaches sha256/ only after it was written to a .part file, synced,
// hashed and found to match its pin; a file that fails its pin is deleted.
// Cache entries are hashed again before each use: by Fetch, or, with
// Options.DeferCachedHash, by the caller as it reads them.
//
// # HTTP
//
// go-retryablehttp retries the round trip (transport errors, 408, 429, 5xx)
// with a bounded backoff and a capped Retry-After. Around it, a resume loop
// handles what the library does not: a connection cut mid-body resumes with
// Range and If-Range, a server that ignores ranges restarts from zero, a stall
// or a trickle aborts the attempt, and a URL that keeps failing without
// progress gives way to the next mirror. Large files are fetched in several
// ranged segments at once (servers often limit each connection's rate),
// written at their offsets, and hashed in order as the contiguous prefix
// grows: one hashing pass, reading back from the page cache, concurrent with
// the transfer. No URL query string appears in any error or event.
package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fixstick/payload"
)

// EnvCache names the environment variable that overrides the default cache
// folder (the test harness sets it).
const EnvCache = "FIXSTICK_CACHE"

// DefaultCacheDir returns $FIXSTICK_CACHE, or fixstick under the user's cache
// folder (os.UserCacheDir). A --cache flag overrides both.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache folder (set %s or use --cache): %w", EnvCache, err)
	}
	return filepath.Join(d, payload.Product), nil
}

// Options configure a Fetcher. The zero value of each field means its
// default.
type Options struct {
	// CacheDir is the cache root; it is created if missing. Required.
	CacheDir string
	// Jobs is how many files are fetched at once (default 4).
	Jobs int
	// Segments is how many ranged requests fetch one large file at once
	// (default 8; 1 turns segmenting off).
	Segments int
	// SegmentMin is the smallest declared size fetched in segments
	// (default 8 MiB). Only files whose size the manifest declares are split.
	SegmentMin int64
	// Offline uses the cache only: nothing is downloaded, and Fetch names
	// every artifact that is missing.
	Offline bool
	// Progress receives file events and byte counts; nil reports nothing.
	Progress Reporter
	// DeferCachedHash leaves the hashing of cached files to the caller,
	// which reads them anyway: Fetch checks such a file only by its type
	// and size, and returns it with Result.Unverified set. The caller must
	// hash every byte it uses against Result.SHA256 and Size, and call
	// Forget when they fail (pack does both while copying into the
	// bundle). A warm rebuild then reads and hashes each payload once,
	// not twice. Only files pinned by SHA-256 and not extracted are
	// deferred: a SHA-1 pin, or an archive's bytes, are checked here.
	DeferCachedHash bool
	// Authenticode checks the signature of every file of an artifact that
	// declares a signer, before the file enters the cache (download,
	// --add, pin); a file that fails is deleted. nil checks nothing.
	Authenticode func(path, signer string) error

	// Network limits. Tests make them tiny.

	// HeaderTimeout bounds the wait for response headers (default 30 s).
	HeaderTimeout time.Duration
	// StallTimeout is the watchdog's window: an attempt that receives fewer
	// than MinRate*StallTimeout bytes in any such window is aborted, and
	// the next mirror tried (the last URL is retried) (default 30 s).
	StallTimeout time.Duration
	// MinRate is the slowest transfer, in bytes per second, the watchdog
	// accepts (default 1024).
	MinRate int64
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts (defaults 1 s and 30 s).
	RetryWaitMin, RetryWaitMax time.Duration
	// RetryAfterMax caps a server's Retry-After (default 30 s).
	RetryAfterMax time.Duration
	// Retries is how many times a round trip is retried after a transport
	// error, 408, 429 or 5xx (default 3).
	Retries int
	// MaxAttempts is how many attempts in a row may fail without progress
	// (a cut connection, a stall) before a URL is given up (default 5).
	// While other mirrors remain, a stall, or a round trip that failed
	// despite the retries, moves on to the next one at once.
	MaxAttempts int
	// TLSConfig replaces the default TLS configuration (tests trust their
	// own server with it).
	TLSConfig *tls.Config

	// waitHook, when set, is told every backoff wait (tests check the caps).
	waitHook func(time.Duration)
	// maxSize, when set, replaces maxUndeclared (tests of endless bodies).
	maxSize int64
}

// Reporter receives progress. It must be safe for concurrent use.
type Reporter interface {
	// Event reports one file event.
	Event(Event)
	// Bytes reports n more bytes received; n is negative when received
	// bytes were thrown away (a restart from zero, a failed pin).
	Bytes(n int64)
	// Total reports the bytes to fetch, and the files to fetch, as the
	// fetch learns them (sizes are declared in the manifest or learnt from
	// the server).
	Total(bytes int64, files int)
}

// EventKind says what happened to a file.
type EventKind int

const (
	EventStart  EventKind = iota // a download starts (URL, Size, Offset>0 when resuming)
	EventResume                  // a cut transfer resumes at Offset
	EventRetry                   // an attempt failed (Err) and will be retried
	EventMirror                  // URL failed (Err); the next mirror is tried
	EventDone                    // verified and in the cache (SHA256, Size); Cached if it was already there
	EventFailed                  // every URL failed (Err)
	EventNotice                  // something the user should know (Msg), such as plain http
)

// Event is one thing that happened to one artifact.
type Event struct {
	Kind       EventKind
	ArtifactID string
	File       string
	URL        string // redacted: no userinfo, no query string
	Size       int64  // total size when known, else 0
	Offset     int64
	SHA256     string
	Cached     bool
	Err        error
	Msg        string
}

// Result is what Fetch did for one artifact.
type Result struct {
	ArtifactID string
	File       string
	// Path is the verified file in the cache; empty when Skipped.
	Path   string
	SHA256 string
	Size   int64
	// Cached is true when the file was already in the cache.
	Cached bool
	// Unverified is true when the cached file was not hashed
	// (Options.DeferCachedHash): it is known only by name and size until
	// the caller has hashed it.
	Unverified bool
	// Skipped, when not empty, says why an optional artifact is left out
	// (no pin, or not supplied and nowhere to download it from).
	Skipped string

	// index is the unpinned-archive index entry that points at Path, if
	// any: Forget removes it with the file.
	index string
}

// Fetcher downloads artifacts into one cache. It is safe for concurrent
// use.
type Fetcher struct {
	opts  Options
	cache *cache
	http  *httpClient
}

// New returns a Fetcher, creating the cache folder if needed.
func New(opts Options) (*Fetcher, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("fetch: no cache folder")
	}
	opts.setDefaults()
	c, err := openCache(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	c.authenticode = opts.Authenticode
	return &Fetcher{opts: opts, cache: c, http: newHTTPClient(&opts)}, nil
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	if o.Segments <= 0 {
		o.Segments = 8
	}
	if o.SegmentMin <= 0 {
		o.SegmentMin = 8 << 20
	}
	def(&o.HeaderTimeout, 30*time.Second)
	def(&o.StallTimeout, 30*time.Second)
	if o.MinRate <= 0 {
		o.MinRate = 1024
	}
	def(&o.RetryWaitMin, time.Second)
	def(&o.RetryWaitMax, 30*time.Second)
	def(&o.RetryAfterMax, 30*time.Second)
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
}

// Fetch makes every artifact of m available in the cache, verified, and
// returns one Result per artifact in manifest order. Optional artifacts that
// cannot be had are Skipped, with the reason; any other failure is an error
// that names every artifact that failed and, for each, every URL tried.
func (f *Fetcher) Fetch(ctx context.Context, m *payload.Manifest) ([]Result, error) {
	return f.fetch(ctx, m)
}

// Add takes a file the user supplies (builder --add ID=PATH) into the cache,
// verified against artifact id's pin. An archive whose own bytes are
// unpinned but whose extract entries are all pinned is stored under its
// computed SHA-256 (the caller verifies the entries). An artifact with no pin
// at all is refused: `builder pin` must record one first.
func (f *Fetcher) Add(m *payload.Manifest, id, path string) (Result, error) {
	return f.add(m, id, path)
}

// Forget removes a fetched file and the index that points at it, for a file
// that turned out bad after the fetch (an archive whose extract entries do
// not match their pins, an Unverified file that fails its pin).
func (f *Fetcher) Forget(r Result) error {
	return f.cache.forget(r)
}

// Pin fetches artifact id whatever its pin (downloading it, or taking the
// file at path when path is not empty), checks the pins it has (SHA-1,
// size), and returns its SHA-256 and size for `builder pin`. This is trust
// on first use: the bytes are only as good as their source.
func (f *Fetcher) Pin(ctx context.Context, m *payload.Manifest, id, path string) (Result, error) {
	return f.pin(ctx, m, id, path)
}
