#!/usr/bin/env bash
# Loads `batchguard serve` and the baseline server (bench/baseline_server.rs: same TLS and
# HTTP stack, fixed answer, no parsing) with the same captured CronJob CREATE review over
# HTTPS keep-alive, one after the other, and prints requests/s, p50, p99 and peak RSS.
# Two more runs load the baseline in `check-json` mode (it checks that the body is JSON, with
# no tree and no allocation) and in `parse-json` mode (it parses the body into a
# serde_json::Value), to separate the cost of reading JSON from the server's own.
#
#   bench/run.sh                      # 10 s, 2 wrk threads, 32 connections each run
#   DURATION=30s CONNECTIONS=64 bench/run.sh
#   WEBHOOK=validate bench/run.sh     # POST /validate with the captured CronJob CREATE
#                                     # sent to the validating webhook
#
# Loopback only; each run has a fixed duration; both servers are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
WEBHOOK=${WEBHOOK:-mutate}
case "$WEBHOOK" in
  mutate|validate) ;;
  *) echo "WEBHOOK must be mutate or validate, not $WEBHOOK" >&2; exit 2 ;;
esac
BODY_FILE=${BODY_FILE:-tests/data/admission/cronjob-create.$WEBHOOK.json}
SERVE_PORT=${SERVE_PORT:-18443}
METRICS_PORT=${METRICS_PORT:-19090}
BASELINE_PORT=${BASELINE_PORT:-18444}
OUT=bench/out
export BODY_FILE

if ! command -v wrk >/dev/null; then
  echo "wrk not found; installing it from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
fi

cargo build --release --bin batchguard --example baseline-server >&2
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$(cd "$TARGET/release" && pwd)/batchguard
BASELINE=$(cd "$TARGET/release/examples" && pwd)/baseline-server

rm -rf "$OUT"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_https() { # url
  for _ in $(seq 1 100); do
    if curl -sf --cacert "$OUT/certs/dev/ca.pem" -H 'Content-Type: application/json' \
      --data @"$BODY_FILE" -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  echo "server at $1 did not come up" >&2
  return 1
}

peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

load() { # name url pid
  local line
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/post.lua "$2" | tee "$OUT/$1.wrk.txt" | grep '^RESULT')
  echo "$1 $line rss_kib=$(peak_rss_kib "$3")"
}

# batchguard serve, with the development certificate it makes itself (under bench/out/certs/dev).
(cd "$OUT" && exec "$BIN" serve --listen "127.0.0.1:$SERVE_PORT" --metrics-listen "127.0.0.1:$METRICS_PORT") \
  2>"$OUT/serve.log" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
wait_https "https://127.0.0.1:$SERVE_PORT/$WEBHOOK?timeout=10s"
SERVE_RESULT=$(load serve "https://127.0.0.1:$SERVE_PORT/$WEBHOOK?timeout=10s" "$SERVE_PID")
kill "$SERVE_PID"; wait "$SERVE_PID" || true

"$BASELINE" "127.0.0.1:$BASELINE_PORT" "$OUT/certs/dev/tls.crt" "$OUT/certs/dev/tls.key" 2>"$OUT/baseline.log" &
BASELINE_PID=$!
PIDS+=("$BASELINE_PID")
wait_https "https://127.0.0.1:$BASELINE_PORT/$WEBHOOK?timeout=10s"
BASELINE_RESULT=$(load baseline "https://127.0.0.1:$BASELINE_PORT/$WEBHOOK?timeout=10s" "$BASELINE_PID")
kill "$BASELINE_PID"; wait "$BASELINE_PID" || true

# The baseline again in its two reading modes: `check-json` only checks that the body is
# JSON (the least any webhook must do), `parse-json` parses it into a serde_json::Value.
baseline_mode() { # mode
  "$BASELINE" "127.0.0.1:$BASELINE_PORT" "$OUT/certs/dev/tls.crt" "$OUT/certs/dev/tls.key" "$1" \
    2>"$OUT/baseline-$1.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_https "https://127.0.0.1:$BASELINE_PORT/$WEBHOOK?timeout=10s"
  load "baseline-$1" "https://127.0.0.1:$BASELINE_PORT/$WEBHOOK?timeout=10s" "$pid"
  kill "$pid"; wait "$pid" || true
}
CHECK_RESULT=$(baseline_mode check-json)
PARSE_RESULT=$(baseline_mode parse-json)

field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
{
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, POST /$WEBHOOK $BODY_FILE, HTTPS keep-alive, $(nproc) CPUs"
  echo
  echo "| server | requests/s | p50 | p99 | errors | peak RSS | throughput vs baseline |"
  echo "|---|---|---|---|---|---|---|"
  for r in "$SERVE_RESULT" "$BASELINE_RESULT" "$CHECK_RESULT" "$PARSE_RESULT"; do
    name=${r%% *}
    awk -v n="$name" -v rps="$(field "$r" rps)" -v p50="$(field "$r" p50_us)" -v p99="$(field "$r" p99_us)" \
      -v err="$(field "$r" errors)" -v non2xx="$(field "$r" non2xx)" -v rss="$(field "$r" rss_kib)" \
      -v base="$(field "$BASELINE_RESULT" rps)" \
      'BEGIN { printf "| %s | %.0f | %.3f ms | %.3f ms | %d | %.1f MiB | %.2f× |\n", n, rps, p50/1000, p99/1000, err+non2xx, rss/1024, rps/base }'
  done
} | tee "$OUT/results.md"
