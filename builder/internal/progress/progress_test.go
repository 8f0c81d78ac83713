package progress

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"fixstick/builder/internal/fetch"
)

func events() []fetch.Event {
	return []fetch.Event{
		{Kind: fetch.EventStart, ArtifactID: "app", File: "app.exe", URL: "https://h/app.exe", Size: 10},
		{Kind: fetch.EventRetry, ArtifactID: "app", URL: "https://h/app.exe", Err: errors.New("after 5 bytes: unexpected EOF")},
		{Kind: fetch.EventResume, ArtifactID: "app", Offset: 5},
		{Kind: fetch.EventMirror, ArtifactID: "app", URL: "https://h/app.exe", Err: errors.New("HTTP 404 Not Found"), Msg: "trying https://m/app.exe"},
		{Kind: fetch.EventDone, ArtifactID: "app", File: "app.exe", SHA256: "ab", Size: 10},
		{Kind: fetch.EventFailed, ArtifactID: "tool", Err: errors.New("boom")},
		{Kind: fetch.EventNotice, ArtifactID: "app", URL: "http://h/app.exe", Msg: "plain http"},
		{Kind: fetch.EventNotice, ArtifactID: "app", Msg: "waiting: another builder"},
	}
}

// Without a terminal: one plain line per event, no carriage returns.
func TestLines(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, false, "builder: ")
	r.Total(10, 1)
	for _, ev := range events() {
		r.Event(ev)
		r.Bytes(5)
	}
	r.Finish()
	want := `builder: app: fetching app.exe (10 bytes) from https://h/app.exe
builder: app: retrying https://h/app.exe: after 5 bytes: unexpected EOF
builder: app: resuming at byte 5
builder: app: giving up https://h/app.exe (HTTP 404 Not Found); trying https://m/app.exe
builder: app: app.exe fetched, verified (sha256:ab, 10 bytes)
builder: tool: failed: boom
builder: app: http://h/app.exe: plain http
builder: app: waiting: another builder
`
	if buf.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// On a terminal: a bar, and lines only for what needs attention.
func TestBar(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true, "builder: ")
	r.Total(10, 1)
	for _, ev := range events() {
		r.Event(ev)
		r.Bytes(5)
	}
	r.Finish()
	out := buf.String()
	if !strings.Contains(out, "\r") {
		t.Fatalf("no bar drawn: %q", out)
	}
	if !strings.Contains(out, "builder: app: retrying") || !strings.Contains(out, "builder: tool: failed: boom") {
		t.Fatalf("attention lines missing: %q", out)
	}
	if strings.Contains(out, "fetching app.exe") || strings.Contains(out, "fetched, verified") {
		t.Fatalf("routine events printed as lines on a terminal: %q", out)
	}
}
