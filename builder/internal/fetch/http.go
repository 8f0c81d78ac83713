package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxRedirects is the most redirects one request follows.
const maxRedirects = 5

// httpClient is go-retryablehttp set up for downloads: no logger (it would
// print URLs with their query strings and overwrite the progress bar),
// our own retry policy and a capped backoff, HTTP/1.1 only, and a watchdog
// on every response body.
type httpClient struct {
	rc   *retryablehttp.Client
	opts *Options
}

func newHTTPClient(o *Options) *httpClient {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.HeaderTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   o.Jobs * o.Segments,
		// The Accept-Encoding header is ours: the transport must neither
		// add gzip nor decompress, or sizes and hashes would not match.
		DisableCompression: true,
		// HTTP/1.1 only: HTTP/2 would carry a file's segments over one TCP
		// connection, and servers that limit each connection's rate would
		// then gain nothing from segmenting.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	if o.TLSConfig != nil {
		tr.TLSClientConfig = o.TLSConfig.Clone()
	}
	h := &httpClient{opts: o}
	h.rc = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport:     &watchdogTransport{base: tr, window: o.StallTimeout, minBytes: max(o.MinRate*int64(o.StallTimeout)/int64(time.Second), 1)},
			CheckRedirect: checkRedirect,
		},
		Logger:       nil,
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		RetryMax:     o.Retries,
		CheckRetry:   checkRetry,
		Backoff:      h.backoff,
		// Hand back the last response or error as is: the library's own
		// message names the URL with its query string.
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) { return resp, err },
	}
	return h
}

// permanentError is a failure that retrying the same URL cannot fix.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanentf(format string, args ...any) error {
	return &permanentError{fmt.Sprintf(format, args...)}
}

func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return permanentf("more than %d redirects", maxRedirects)
	}
	// Plain http is allowed only where the manifest wrote it; an https URL
	// must never be downgraded by a redirect.
	if req.URL.Scheme != "https" && !(req.URL.Scheme == "http" && via[0].URL.Scheme == "http") {
		return permanentf("redirect to %s refused: not https", redact(req.URL.String()))
	}
	return nil
}

// checkRetry retries transport errors, 408, 429 and 5xx except 501, never
// after a cancel and never our own permanent errors (redirects).
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if cerr := cleanError(err); isPermanent(cerr) {
			return false, cerr
		}
		return retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true, nil
	case c >= 500 && c != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// backoff doubles from RetryWaitMin up to RetryWaitMax, and follows a
// server's Retry-After only up to RetryAfterMax: `Retry-After: 86400` must
// not stall a build for a day. A date in the past means now.
func (h *httpClient) backoff(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
	d := h.wait(attempt)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			d = min(ra, h.opts.RetryAfterMax)
		}
	}
	if h.opts.waitHook != nil {
		h.opts.waitHook(d)
	}
	return d
}

// wait is the exponential backoff before attempt n+1.
func (h *httpClient) wait(n int) time.Duration {
	d := h.opts.RetryWaitMin
	for i := 0; i < n && d < h.opts.RetryWaitMax; i++ {
		d *= 2
	}
	return min(d, h.opts.RetryWaitMax)
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second)*365 {
			s = int64(24*time.Hour/time.Second) * 365
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// get sends one GET (with the library's retries) for bytes [start, end) of
// rawURL; end < 0 means to the end, and start == 0 with end < 0 sends no
// Range at all. ifRange, when set, makes the server send the whole file
// instead if it changed. Errors never contain the URL's query string.
func (h *httpClient) get(ctx context.Context, rawURL string, start, end int64, ifRange string) (*http.Response, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, permanentf("bad URL %s", redact(rawURL))
	}
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "fixstick-builder")
	if start > 0 || end >= 0 {
		if end >= 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
		} else {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", start))
		}
		if ifRange != "" {
			req.Header.Set("If-Range", ifRange)
		}
	}
	resp, err := h.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = cleanError(err)
		if isPermanent(err) {
			return nil, err
		}
		return nil, &roundTripError{err}
	}
	return resp, nil
}

// roundTripError is a request that failed even after the library's
// retries (no connection, no headers in time): the next mirror is tried
// first; only the last URL is tried again.
type roundTripError struct{ err error }

func (e *roundTripError) Error() string { return e.err.Error() }
func (e *roundTripError) Unwrap() error { return e.err }

// cleanError turns what the client returned into an error fit to show:
// net/http names the URL in its errors (a *url.Error, with the query
// string), and quotes a Location header it cannot parse whole. Our own
// permanent errors are redacted when made and pass as they are; any other
// text is kept without the URL around it, and any URL left inside it is
// redacted. The result wraps nothing: no caller can print the raw error by
// unwrapping it.
func cleanError(err error) error {
	var pe *permanentError
	if errors.As(err, &pe) {
		return pe
	}
	msg := err.Error()
	if strings.Contains(msg, "failed to parse Location header") {
		// A server that sends a broken redirect will send it again.
		return permanentf("bad redirect Location")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
		if ue.Timeout() {
			msg = "timeout: " + msg
		}
	}
	return &cleanedError{scrubURLs(msg)}
}

// cleanedError is a client error with every URL redacted.
type cleanedError struct{ msg string }

func (e *cleanedError) Error() string { return e.msg }

// urlPattern matches an absolute URL in an error message, up to a space
// or a quote.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// scrubURLs redacts every absolute URL in msg.
func scrubURLs(msg string) string {
	return urlPattern.ReplaceAllStringFunc(msg, redact)
}

// redact returns u without userinfo, query string or fragment, for errors
// and events: presigned URLs carry their signature in the query.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User = nil
	p.Fragment = ""
	q := p.RawQuery != "" || p.ForceQuery
	p.RawQuery = ""
	p.ForceQuery = false
	s := p.String()
	if q {
		s += "?[redacted]"
	}
	return s
}

// stallError is why the watchdog stopped an attempt.
type stallError struct {
	got, want int64
	window    time.Duration
}

func (e *stallError) Error() string {
	if e.got == 0 {
		return fmt.Sprintf("stalled: no data for %s", e.window)
	}
	return fmt.Sprintf("too slow: %d bytes in %s", e.got, e.window)
}

// watchdogTransport stops any response body that delivers fewer than
// minBytes in a window: the transport has no read timeout, and a server
// that sends headers and then nothing, or one byte a second, would hold a
// build forever.
type watchdogTransport struct {
	base     http.RoundTripper
	window   time.Duration
	minBytes int64
}

func (t *watchdogTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel(nil)
		return nil, err
	}
	b := &watchBody{body: resp.Body, ctx: ctx, cancel: cancel, window: t.window, minBytes: t.minBytes}
	b.timer = time.AfterFunc(t.window, b.check)
	resp.Body = b
	return resp, nil
}

type watchBody struct {
	body     io.ReadCloser
	ctx      context.Context
	cancel   context.CancelCauseFunc
	window   time.Duration
	minBytes int64
	n        atomic.Int64 // bytes in the current window
	mu       sync.Mutex
	timer    *time.Timer
	closed   bool
}

func (b *watchBody) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	got := b.n.Swap(0)
	if got < b.minBytes {
		b.cancel(&stallError{got: got, want: b.minBytes, window: b.window})
		return
	}
	b.timer.Reset(b.window)
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.n.Add(int64(n))
	if err != nil {
		var se *stallError
		if errors.As(context.Cause(b.ctx), &se) {
			return n, se
		}
	}
	return n, err
}

func (b *watchBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.timer.Stop()
	b.mu.Unlock()
	err := b.body.Close()
	b.cancel(nil)
	return err
}
