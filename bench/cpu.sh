#!/usr/bin/env bash
# CPU time per request of one server process under wrk load: utime+stime from
# /proc/<pid>/stat across the run, divided by the requests wrk completed. Less sensitive to a
# shared, noisy machine than requests/s, since it does not depend on how much CPU was left.
#
#   bench/cpu.sh serve                 # the release `batchguard serve` (build it first)
#   bench/cpu.sh baseline              # bench/baseline_server.rs, fixed answer
#   bench/cpu.sh baseline-parse-json   # the baseline parsing the body into a Value
#   BIN=/path/to/other/batchguard bench/cpu.sh serve
#   WEBHOOK=validate bench/cpu.sh serve   # /validate instead of /mutate
#
# Uses the certificates bench/run.sh made under bench/out/certs/dev (run it once first).
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:?usage: bench/cpu.sh serve|baseline|baseline-parse-json}
DURATION=${DURATION:-8s}
WEBHOOK=${WEBHOOK:-mutate}
BODY_FILE=${BODY_FILE:-tests/data/admission/cronjob-create.$WEBHOOK.json}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/batchguard}
BASELINE=${BASELINE:-$TARGET/release/examples/baseline-server}
CERTS=bench/out/certs/dev
PORT=${PORT:-18445}
export BODY_FILE

case "$WHICH" in
  serve) (cd bench/out && exec "$(cd - >/dev/null && realpath "$BIN")" serve --listen "127.0.0.1:$PORT" \
           --metrics-listen "127.0.0.1:$((PORT + 1))") 2>bench/out/cpu-serve.log & ;;
  baseline) "$BASELINE" "127.0.0.1:$PORT" "$CERTS/tls.crt" "$CERTS/tls.key" 2>/dev/null & ;;
  baseline-parse-json) "$BASELINE" "127.0.0.1:$PORT" "$CERTS/tls.crt" "$CERTS/tls.key" parse-json 2>/dev/null & ;;
  *) echo "unknown server $WHICH" >&2; exit 2 ;;
esac
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
sleep 1.5
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
T0=$(ticks)
RESULT=$(wrk -t2 -c32 -d"$DURATION" -s bench/post.lua "https://127.0.0.1:$PORT/$WEBHOOK?timeout=10s" | grep '^RESULT')
T1=$(ticks)
HZ=$(getconf CLK_TCK)
REQUESTS=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$RESULT")
RPS=$(sed 's/.* rps=\([0-9]*\).*/\1/' <<<"$RESULT")
awk -v w="$WHICH" -v t=$((T1 - T0)) -v hz="$HZ" -v n="$REQUESTS" -v rps="$RPS" \
  'BEGIN { printf "%s: %d requests/s, %.1f µs CPU per request\n", w, rps, t / hz * 1e6 / n }'
