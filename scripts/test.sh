#!/bin/sh
# make test: every test, once. A failure is a failure: a flaky test is a
# bug to find, not to retry.
set -u
GO=${GO:-go}
exec "$GO" test ./...
