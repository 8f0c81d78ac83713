package main

import (
	"context"
	"errors"
)

func runFetch(ctx context.Context, e *env, args []string) error {
	return errors.New("fetch: not implemented yet")
}
