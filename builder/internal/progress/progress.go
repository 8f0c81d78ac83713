// Package progress shows a fetch's progress: on a terminal one aggregate
// progress bar (bytes, rate, ETA, files done), elsewhere plain lines, one
// per file event.
//
// progressbar redraws with \r and has no terminal detection of its own, and
// several bars overwrite each other: so there is one bar for the whole
// fetch, and only when the caller says stderr is a terminal.
package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"

	"fixstick/builder/internal/fetch"
)

// Reporter is a fetch.Reporter that writes to one stream.
type Reporter struct {
	mu       sync.Mutex
	w        io.Writer
	prefix   string
	bar      *progressbar.ProgressBar
	files    int
	done     int
	total    int64
	received int64
}

var _ fetch.Reporter = (*Reporter)(nil)

// New returns a Reporter writing to w: a bar when terminal is true, else
// plain lines, each starting with prefix ("builder: ").
func New(w io.Writer, terminal bool, prefix string) *Reporter {
	r := &Reporter{w: w, prefix: prefix}
	if terminal {
		r.bar = progressbar.NewOptions64(0,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionClearOnFinish(),
		)
	}
	return r
}

// Total adds bytes and files to fetch.
func (r *Reporter) Total(bytes int64, files int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += bytes
	r.files += files
	if r.bar != nil {
		r.bar.ChangeMax64(max(r.total, r.received))
		r.describe()
	}
}

// Bytes counts bytes received (negative: thrown away).
func (r *Reporter) Bytes(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.received += n
	if r.bar != nil {
		if r.received > r.total {
			r.bar.ChangeMax64(r.received)
		}
		r.bar.Set64(r.received)
	}
}

func (r *Reporter) describe() {
	r.bar.Describe(fmt.Sprintf("%d/%d files", r.done, r.files))
}

// Event prints one line per file event; with a bar, only the events that
// need attention (retries, mirror switches, failures, notices) get a line,
// above the bar.
func (r *Reporter) Event(ev fetch.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Kind == fetch.EventDone && !ev.Cached {
		r.done++
	}
	line := Line(ev)
	if r.bar != nil {
		r.describe()
		switch ev.Kind {
		case fetch.EventStart, fetch.EventResume, fetch.EventDone:
			return
		}
		r.bar.Clear()
	}
	fmt.Fprintf(r.w, "%s%s\n", r.prefix, line)
}

// Finish removes the bar (plain lines need no ending).
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Finish()
		r.bar.Clear()
	}
}

// Line is an event as one line of text.
func Line(ev fetch.Event) string {
	who := ev.ArtifactID
	switch ev.Kind {
	case fetch.EventStart:
		if ev.Offset > 0 {
			return fmt.Sprintf("%s: resuming %s at byte %d from %s", who, ev.File, ev.Offset, ev.URL)
		}
		return fmt.Sprintf("%s: fetching %s%s from %s", who, ev.File, sizeNote(ev.Size), ev.URL)
	case fetch.EventResume:
		return fmt.Sprintf("%s: resuming at byte %d", who, ev.Offset)
	case fetch.EventRetry:
		return fmt.Sprintf("%s: retrying %s: %v", who, ev.URL, ev.Err)
	case fetch.EventMirror:
		return fmt.Sprintf("%s: giving up %s (%v); %s", who, ev.URL, ev.Err, ev.Msg)
	case fetch.EventDone:
		if ev.Cached {
			return fmt.Sprintf("%s: %s in the cache, verified (sha256:%s, %d bytes)", who, ev.File, ev.SHA256, ev.Size)
		}
		return fmt.Sprintf("%s: %s fetched, verified (sha256:%s, %d bytes)", who, ev.File, ev.SHA256, ev.Size)
	case fetch.EventFailed:
		return fmt.Sprintf("%s: failed: %v", who, ev.Err)
	case fetch.EventNotice:
		if ev.URL == "" { // about the file, not one of its URLs
			return fmt.Sprintf("%s: %s", who, ev.Msg)
		}
		return fmt.Sprintf("%s: %s: %s", who, ev.URL, ev.Msg)
	}
	return fmt.Sprintf("%s: %v", who, ev)
}

func sizeNote(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d bytes)", n)
}
