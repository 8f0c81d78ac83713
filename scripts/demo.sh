#!/bin/sh
# make demo: serve the demo payloads on this machine (scripts/demoserve),
# then plan, build and verify the demo bundle (manifests/demo.yaml) with
# dist/builder. No network needed. The bundle lands in dist/demo/.
set -eu
cd "$(dirname "$0")/.."

BUILDER=${BUILDER:-dist/builder}
OUT=dist/demo
ADDR=127.0.0.1:18437 # manifests/demo.yaml names this address

taken() {
	echo "demo: $ADDR is taken by another program, which would answer in place of the demo server: stop it and run again" >&2
	exit 1
}

mkdir -p "$OUT"
go build -o "$OUT/demoserve" ./scripts/demoserve
# Whatever answers there before the demo server starts is not the demo
# server; and it would answer the readiness check below too.
if curl -s -o /dev/null "http://$ADDR/" 2>/dev/null; then
	taken
fi
"$OUT/demoserve" -addr "$ADDR" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT INT TERM
i=0
until curl -fs "http://$ADDR/ready" >/dev/null 2>&1; do
	# The server exits at once when it cannot listen.
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid || true
		taken
	fi
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "demo: the demo server did not start on $ADDR" >&2
		exit 1
	fi
	sleep 0.1
done
# Ready, and still ours: a program that took the address between the check
# above and the start would have made the server exit by now.
sleep 0.2
if ! kill -0 $pid 2>/dev/null; then
	taken
fi

# A cache of its own, so that the demo shows a real fetch every time.
export FIXSTICK_CACHE="$OUT/cache"
rm -rf "$FIXSTICK_CACHE"

echo "== plan"
"$BUILDER" plan manifests/demo.yaml
echo
echo "== build"
"$BUILDER" build manifests/demo.yaml -o "$OUT/fixstick-demo.zip"
echo
echo "== verify"
"$BUILDER" verify "$OUT/fixstick-demo.zip"
echo
echo "The bundle:      $OUT/fixstick-demo.zip"
echo "Its SHA-256:     $OUT/fixstick-demo.zip.sha256"
echo "What is inside:  unzip -l $OUT/fixstick-demo.zip; unzip -p $OUT/fixstick-demo.zip README.txt"
