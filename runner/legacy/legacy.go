// Package legacy holds the executor that runs a bundle on Windows XP SP3 to
// 8.1, where runner.exe cannot start: the JScript engine (engine.js) that
// the builder's renderer (builder/internal/legacy) puts behind each
// bundle's plan. It imports nothing: the builder embeds what is here.
package legacy

import _ "embed"

// Engine is the fixed part of legacy/fixstick.js.
//
//go:embed engine.js
var Engine string
