//go:build tools

// This file keeps the product's chosen dependencies in go.mod while the
// packages that use them are written; remove it once each is imported.
package tools

import (
	_ "github.com/hashicorp/go-retryablehttp"
	_ "github.com/mholt/archives"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/schollz/progressbar/v3"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sys/windows"
	_ "golang.org/x/sys/windows/registry"
)
