package main

import (
	"context"
	"errors"
)

func runPin(ctx context.Context, e *env, args []string) error {
	return errors.New("pin: not implemented yet")
}
