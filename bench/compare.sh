#!/usr/bin/env bash
# Two `batchguard serve` binaries (A, B) against the fixed-answer baseline, in the same run,
# alternating round by round so that a noisy, shared machine affects both alike. Every
# round loads each server with the captured CronJob CREATE review over HTTPS keep-alive:
#
#   - HTTP/1.1 with wrk (2 threads, 32 connections),
#   - HTTP/2 with h2load (4 connections, 8 streams each: the API server speaks HTTP/2),
#
# for /mutate and /validate, and prints per run: requests/s, the ratio to the baseline of
# the same round and protocol, CPU per request (utime+stime from /proc over the run) and
# peak RSS (VmHWM).
#
#   A=/path/to/old/batchguard B=target/release/batchguard bench/compare.sh
#   ROUNDS=3 DURATION=8 WEBHOOKS="mutate validate" PROTOS="h1 h2" bench/compare.sh
#
# BASELINE defaults to target/release/examples/baseline-server (cargo build --release
# --example baseline-server). wrk and h2load come from Debian (wrk, nghttp2-client) and are
# installed when missing. Loopback only; every server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

A=${A:?set A to the first batchguard binary}
B=${B:-target/release/batchguard}
BASELINE=${BASELINE:-target/release/examples/baseline-server}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
WEBHOOKS=${WEBHOOKS:-mutate validate}
PROTOS=${PROTOS:-h1 h2}
PORT=${PORT:-18643}
OUT=bench/out/compare

need() { # command package
  command -v "$1" >/dev/null && return 0
  echo "$1 not found; installing $2 from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y "$2" >&2; else sudo apt-get install -y "$2" >&2; fi
}
need wrk wrk
need h2load nghttp2-client

A=$(realpath "$A"); B=$(realpath "$B"); BASELINE=$(realpath "$BASELINE")
rm -rf "$OUT"; mkdir -p "$OUT"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# Development certificates, made by `serve` itself under $OUT/certs/dev.
(cd "$OUT" && exec "$B" serve --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$((PORT + 1))") 2>"$OUT/certs.log" &
PID=$!
for _ in $(seq 1 100); do [ -f "$OUT/certs/dev/tls.key" ] && break; sleep 0.1; done
sleep 0.5; kill "$PID"; wait "$PID" 2>/dev/null || true; PID=

start() { # name webhook
  case "$1" in
    baseline) "$BASELINE" "127.0.0.1:$PORT" "$OUT/certs/dev/tls.crt" "$OUT/certs/dev/tls.key" 2>/dev/null & ;;
    A|B) local bin; bin=$([ "$1" = A ] && echo "$A" || echo "$B")
       (cd "$OUT" && exec "$bin" serve --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$((PORT + 1))") \
         2>"$OUT/$1.log" & ;;
  esac
  PID=$!
  local body="tests/data/admission/cronjob-create.$2.json"
  for _ in $(seq 1 100); do
    curl -sf -k -H 'Content-Type: application/json' --data @"$body" -o /dev/null \
      "https://127.0.0.1:$PORT/$2" && return 0
    sleep 0.1
  done
  echo "server $1 did not come up" >&2; exit 1
}

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }

load() { # proto webhook -> "requests rps"
  local body="tests/data/admission/cronjob-create.$2.json" url="https://127.0.0.1:$PORT/$2?timeout=10s"
  if [ "$1" = h1 ]; then
    BODY_FILE="$body" wrk -t2 -c32 -d"${DURATION}s" -s bench/post.lua "$url" | tee -a "$OUT/load.txt" |
      sed -n 's/^RESULT requests=\([0-9]*\) rps=\([0-9]*\).*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1 \2 \3 \4/p'
  else
    h2load -c4 -m8 -t2 -D "$DURATION" -d "$body" -H 'Content-Type: application/json' "$url" 2>&1 |
      tee -a "$OUT/load.txt" | awk '
        /^finished in/ { gsub(",", ""); rps = $4 }
        /^requests:/ { done = $8; failed = $10 + $12 }
        /^status codes:/ { gsub(",", ""); non2xx = $5 + $7 + $9 }
        END { printf "%d %.0f %d %d\n", done, rps, failed, non2xx }'
  fi
}

HZ=$(getconf CLK_TCK)
printf '%-6s %-9s %-5s %-9s %9s %7s %9s %9s %6s\n' round webhook proto server "req/s" ratio "CPU µs" "RSS MiB" errors |
  tee "$OUT/results.txt"
for round in $(seq 1 "$ROUNDS"); do
  for webhook in $WEBHOOKS; do
    for proto in $PROTOS; do
      base_rps=
      # Alternate which binary goes first, so neither always runs on a warmer machine.
      order="baseline A B"; [ $((round % 2)) = 0 ] && order="baseline B A"
      for server in $order; do
        start "$server" "$webhook"
        t0=$(ticks)
        read -r requests rps errors non2xx <<<"$(load "$proto" "$webhook")"
        t1=$(ticks)
        rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
        kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
        [ "$server" = baseline ] && base_rps=$rps
        awk -v r="$round" -v w="$webhook" -v p="$proto" -v s="$server" -v rps="$rps" -v base="$base_rps" \
          -v cpu=$((t1 - t0)) -v hz="$HZ" -v n="$requests" -v rss="$rss" -v e=$((errors + non2xx)) \
          'BEGIN { printf "%-6s %-9s %-5s %-9s %9d %6.2fx %9.1f %9.1f %6d\n", r, w, p, s, rps, rps / base,
                   (n > 0 ? cpu / hz * 1e6 / n : 0), rss / 1024, e }' | tee -a "$OUT/results.txt"
      done
    done
  done
done
echo
echo "A = $A"
echo "B = $B"
# Medians over the rounds, per webhook, protocol and server.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
tail -n +2 "$OUT/results.txt" | awk '$4 != "baseline" { print $2, $3, $4, $6 + 0, $7 }' >"$OUT/ratios.txt"
for key in $(awk '{ print $1 "/" $2 "/" $3 }' "$OUT/ratios.txt" | sort -u); do
  IFS=/ read -r w p s <<<"$key"
  pick() { awk -v w="$w" -v p="$p" -v s="$s" -v f="$1" '$1 == w && $2 == p && $3 == s { print $f }' "$OUT/ratios.txt"; }
  printf 'median %-9s %-3s %s: %.2fx of the baseline, %.1f µs CPU per request\n' \
    "$w" "$p" "$s" "$(pick 4 | median)" "$(pick 5 | median)"
done | tee -a "$OUT/results.txt"
