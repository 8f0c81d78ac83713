package main

import "fixstick/payload"

// Until builder/internal/legacy lands and cmd_build.go sets renderLegacy to
// legacy.Render, the scripts get a stand-in legacy executor, so that their
// bundles are complete (verify requires legacy/run.cmd).
func init() {
	if renderLegacy == nil {
		renderLegacy = func(l *payload.Lock) (map[string][]byte, error) {
			return map[string][]byte{"legacy/run.cmd": []byte("@echo off\r\nrem stand-in for " + l.Bundle + "\r\n")}, nil
		}
	}
}
