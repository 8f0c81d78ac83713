package payload

import "time"

// Policy both executors follow: runner.exe uses these values, and the
// legacy executor's script gets them rendered from here (never copied by
// hand). The exit-code tables are DefaultExitCodes and Explain.
const (
	MaxReboots   = 5                // restarts one bundle may ask for: a loop stops with a report
	RetryFor     = 20 * time.Minute // how long "retry" outcomes (1618) are retried
	RetryFirst   = 15 * time.Second // the first wait before a retry; it doubles up to RetryMaxWait
	RetryMaxWait = 2 * time.Minute
)
