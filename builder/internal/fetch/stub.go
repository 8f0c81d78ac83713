package fetch

import (
	"context"
	"errors"

	"fixstick/payload"
)

var errTODO = errors.New("fetch: not implemented yet")

type cache struct{ dir string }

func openCache(dir string) (*cache, error) { return &cache{dir: dir}, nil }

func (c *cache) forget(r Result) error { return errTODO }

type httpClient struct{}

func newHTTPClient(o *Options) *httpClient { return &httpClient{} }

func (f *Fetcher) fetch(ctx context.Context, m *payload.Manifest) ([]Result, error) {
	return nil, errTODO
}

func (f *Fetcher) add(m *payload.Manifest, id, path string) (Result, error) {
	return Result{}, errTODO
}

func (f *Fetcher) pin(ctx context.Context, m *payload.Manifest, id, path string) (Result, error) {
	return Result{}, errTODO
}
