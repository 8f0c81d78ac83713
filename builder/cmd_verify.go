package main

import (
	"context"
	"errors"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	return errors.New("verify: not implemented yet")
}
