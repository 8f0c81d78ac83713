//go:build !embedrunner

package runnerbin

import "fixstick/builder/internal/pack"

// embedded returns nil: this builder was built without the runners inside.
func embedded() []pack.File { return nil }
