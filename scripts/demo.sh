#!/bin/sh
# make demo: serve the demo payloads on this machine (scripts/demoserve),
# then plan, build and verify the demo bundle (manifests/demo.yaml) with
# dist/builder. No network needed. The bundle lands in dist/demo/.
set -eu
cd "$(dirname "$0")/.."

BUILDER=${BUILDER:-dist/builder}
OUT=dist/demo
ADDR=127.0.0.1:18437 # manifests/demo.yaml names this address

mkdir -p "$OUT"
go build -o "$OUT/demoserve" ./scripts/demoserve
"$OUT/demoserve" -addr "$ADDR" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT INT TERM
i=0
until curl -fs "http://$ADDR/ready" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "demo: the demo server did not start on $ADDR" >&2
		exit 1
	fi
	sleep 0.1
done

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
