#!/bin/sh
# make test: every test, once. A failure is a failure: a flaky test is a
# bug to find, not to retry. The Wine end-to-end packages take minutes on a
# loaded machine: more than go test's default 10 minutes per package.
set -u
GO=${GO:-go}
exec "$GO" test -timeout 30m ./...
