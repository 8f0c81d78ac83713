#!/bin/sh
# Warm-cache rebuild of a ~270 MB bundle (random payloads of 231 MB, 24 MB,
# 10 MB, 2 MB, 1 MB and 300 KB), timed against `zip -0 -r` of the same
# files in the same run, with the builder's peak memory.
#   Target: rebuild / zip -0 <= 0.3, peak RSS < 64 MiB.
# The ratio compares like with like: each tool writes a new file (zip -r
# must, or it would update the old archive), the old one removed untimed.
# A rebuild over the previous zip is timed too: replacing a 270 MB file
# also frees it, which can cost tens of milliseconds (a file system mounted
# with discard, say).
# Usage: bench/pack.sh [BUILDER]  (default dist/builder; needs GNU time, zip)
# BENCH_DIR (default /tmp/fixstick-bench-pack) keeps the payloads between runs.
set -eu
cd "$(dirname "$0")/.."
BUILDER=$(realpath "${1:-dist/builder}")
DIR=${BENCH_DIR:-/tmp/fixstick-bench-pack}
RUNS=${RUNS:-5}
mkdir -p "$DIR/set" "$DIR/runners"
cd "$DIR"

# Payloads: made once, reused (random, so that nothing compresses).
set -- 231M 24M 10M 2M 1M 300K
for s in "$@"; do
	[ -f "set/p$s.bin" ] || head -c "$s" /dev/urandom >"set/p$s.bin"
done
# Stand-in runner programs, unless real ones are given.
[ -n "${FIXSTICK_RUNNER_DIR:-}" ] || {
	printf 'MZ stand-in\n' >runners/runner.exe
	printf 'MZ stand-in\n' >runners/runner-x86.exe
	mkdir -p runners/legacy
	printf 'MZ stand-in\n' >runners/legacy/fixhelp.exe
	printf 'MZ stand-in\n' >runners/legacy/fixhelp-x86.exe
	export FIXSTICK_RUNNER_DIR="$DIR/runners"
}

# The manifest pins every payload; its URL is never used: the cache is warm.
{
	echo "manifest: 1"
	echo "id: bench"
	echo "title: Pack benchmark"
	echo "created: 2026-01-01T00:00:00Z"
	echo "artifacts:"
	for s in "$@"; do
		set -- $(sha256sum "set/p$s.bin") $(stat -c %s "set/p$s.bin")
		echo "  - id: p$(echo $s | tr A-Z a-z)"
		echo "    file: p$s.exe"
		echo "    sha256: $1"
		echo "    size: $3"
		echo "    urls: [https://bench.invalid/p$s.bin]"
	done
	echo "steps:"
	for s in 231M 24M 10M 2M 1M 300K; do
		echo "  - id: s$(echo $s | tr A-Z a-z)"
		echo "    exe: p$(echo $s | tr A-Z a-z)"
	done
} >bench.yaml

export FIXSTICK_CACHE="$DIR/cache"
adds=""
for s in 231M 24M 10M 2M 1M 300K; do
	adds="$adds --add p$(echo $s | tr A-Z a-z)=set/p$s.bin"
done
# shellcheck disable=SC2086
"$BUILDER" build -q bench.yaml $adds -o out/bench.zip >/dev/null # warms the cache

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { sort -n | awk '{a[NR]=$1} END {printf "%s..%s", a[1], a[NR]}'; }
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1/$2}'; }
: >b.times
: >r.times
: >z.times
: >b.mem
i=0
while [ $i -lt "$RUNS" ]; do
	rm -f out/bench.zip out/bench.zip.sha256
	/usr/bin/time -f "%e %M" -o t.out "$BUILDER" build -q bench.yaml -o out/bench.zip >/dev/null
	read -r e m <t.out
	echo "$e" >>b.times
	echo "$m" >>b.mem
	/usr/bin/time -f "%e %M" -o t.out "$BUILDER" build -q bench.yaml -o out/bench.zip >/dev/null
	read -r e m <t.out
	echo "$e" >>r.times
	echo "$m" >>b.mem
	rm -f z.zip
	/usr/bin/time -f "%e" -o t.out zip -q -0 -r z.zip set
	cat t.out >>z.times
	i=$((i + 1))
done
b=$(median <b.times)
r=$(median <r.times)
z=$(median <z.times)
m=$(sort -n b.mem | tail -1)
"$BUILDER" verify out/bench.zip >/dev/null
echo "bundle: $(stat -c %s out/bench.zip) bytes; $RUNS runs, medians (range)"
echo "warm rebuild: ${b} s ($(spread <b.times))   zip -0 -r: ${z} s ($(spread <z.times))   ratio: $(ratio "$b" "$z") (target <= 0.3)"
echo "warm rebuild over the previous zip: ${r} s ($(spread <r.times))   ratio: $(ratio "$r" "$z")"
echo "peak RSS: $(echo "$m" | awk '{printf "%.1f", $1/1024}') MiB (target < 64)"
