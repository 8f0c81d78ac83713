package main

import (
	"context"
	"errors"
)

func runValidate(ctx context.Context, e *env, args []string) error {
	return errors.New("validate: not implemented yet")
}
