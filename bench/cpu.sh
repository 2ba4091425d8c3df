#!/usr/bin/env bash
# CPU time per request of one server process under wrk load: utime+stime from
# /proc/<pid>/stat across the run, divided by the requests wrk completed. Less sensitive to a
# shared, noisy machine than requests/s, since it does not depend on how much CPU was left.
# Also splits the CPU into user and system time and counts context switches per request.
#
#   bench/cpu.sh serve                 # the release `batchguard serve` (build it first)
#   bench/cpu.sh baseline              # bench/baseline_server.rs, fixed answer
#   bench/cpu.sh baseline-check-json   # the baseline checking that the body is JSON
#   bench/cpu.sh baseline-parse-json   # the baseline parsing the body into a Value
#   BIN=/path/to/other/batchguard bench/cpu.sh serve
#   WEBHOOK=validate bench/cpu.sh serve   # /validate instead of /mutate
#
# Uses the certificates bench/run.sh made under bench/out/certs/dev (run it once first).
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:?usage: bench/cpu.sh serve|baseline|baseline-check-json|baseline-parse-json}
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
  baseline-check-json|baseline-parse-json) # the baseline's reading modes, named after `baseline-`
    "$BASELINE" "127.0.0.1:$PORT" "$CERTS/tls.crt" "$CERTS/tls.key" "${WHICH#baseline-}" 2>/dev/null & ;;
  *) echo "unknown server $WHICH" >&2; exit 2 ;;
esac
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
sleep 1.5
ticks() { awk '{print $14, $15}' "/proc/$PID/stat"; }
# Context switches summed over the process's threads (the workers live for the whole run).
switches() { cat /proc/"$PID"/task/*/status | awk '/^voluntary_ctxt_switches:/ {v += $2} /^nonvoluntary_ctxt_switches:/ {n += $2} END {print v, n}'; }
read -r U0 S0 <<<"$(ticks)"
read -r V0 N0 <<<"$(switches)"
RESULT=$(wrk -t2 -c32 -d"$DURATION" -s bench/post.lua "https://127.0.0.1:$PORT/$WEBHOOK?timeout=10s" | grep '^RESULT')
read -r U1 S1 <<<"$(ticks)"
read -r V1 N1 <<<"$(switches)"
HZ=$(getconf CLK_TCK)
REQUESTS=$(sed 's/.* requests=\([0-9]*\).*/\1/' <<<"$RESULT")
RPS=$(sed 's/.* rps=\([0-9]*\).*/\1/' <<<"$RESULT")
awk -v w="$WHICH" -v u=$((U1 - U0)) -v s=$((S1 - S0)) -v hz="$HZ" -v n="$REQUESTS" -v rps="$RPS" \
  -v v=$((V1 - V0)) -v nv=$((N1 - N0)) \
  'BEGIN { printf "%s: %d requests/s, %.1f µs CPU per request (user %.1f, system %.1f), context switches per request: %.2f voluntary, %.2f involuntary\n",
           w, rps, (u + s) / hz * 1e6 / n, u / hz * 1e6 / n, s / hz * 1e6 / n, v / n, nv / n }'
