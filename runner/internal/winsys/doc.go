// Package winsys is the engine's System on Windows: registry, version,
// private folders, process start with a job object, RunOnce and restart.
// It is thin on purpose; the logic it serves is in package engine and is
// tested on any host.
package winsys
