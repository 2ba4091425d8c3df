#!/usr/bin/env bash
# User-space instructions per request of one server under light wrk load, counted by
# valgrind's callgrind: repeatable for the same binary and input, whatever else the shared
# machine is doing (kernel time is not counted). Counters are zeroed after start-up.
#
#   bench/callgrind.sh serve              # the release `batchguard serve`, POST /mutate
#   bench/callgrind.sh baseline           # bench/baseline_server.rs, fixed answer
#   WEBHOOK=validate bench/callgrind.sh serve
#   CG_OUT=bench/out/cg bench/callgrind.sh serve   # keep the profile, then:
#   callgrind_annotate --inclusive=yes bench/out/cg/cg.out.* | less
#
# Needs valgrind, wrk, and the certificates bench/run.sh made under bench/out/certs/dev.
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:?usage: bench/callgrind.sh serve|baseline}
WEBHOOK=${WEBHOOK:-mutate}
DURATION=${DURATION:-10s}
export BODY_FILE=${BODY_FILE:-tests/data/admission/cronjob-create.$WEBHOOK.json}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$(realpath "${BIN:-$TARGET/release/batchguard}")
BASELINE=${BASELINE:-$TARGET/release/examples/baseline-server}
CERTS=bench/out/certs/dev
PORT=${PORT:-18447}
OUT=$(mktemp -d)
case "$WHICH" in
  serve) (cd bench/out && exec valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BIN" serve \
           --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$((PORT + 1))") 2>/dev/null & ;;
  baseline) valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$BASELINE" "127.0.0.1:$PORT" \
              "$CERTS/tls.crt" "$CERTS/tls.key" 2>/dev/null & ;;
  *) echo "unknown server $WHICH" >&2; exit 2 ;;
esac
PID=$!
trap 'kill -9 $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$OUT"' EXIT
sleep 6 # start-up under valgrind
callgrind_control -z "$PID" >/dev/null 2>&1
RESULT=$(wrk -t1 -c4 -d"$DURATION" -s bench/post.lua "https://127.0.0.1:$PORT/$WEBHOOK?timeout=10s" | grep '^RESULT')
callgrind_control -d "$PID" >/dev/null 2>&1
sleep 2
N=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$RESULT")
TOTAL=$(cat "$OUT"/cg.out* | awk '/^summary:/ {s += $2} END {printf "%d", s}')
echo "$WHICH /$WEBHOOK: $N requests, $((TOTAL / N)) instructions per request"
if [ -n "${CG_OUT:-}" ]; then
  mkdir -p "$CG_OUT"
  cp "$OUT"/cg.out* "$CG_OUT"/
  echo "profile kept in $CG_OUT"
fi
