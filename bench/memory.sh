#!/usr/bin/env bash
# Peak and retained RSS of `batchguard serve` for the hostile requests of bench/hostile.py:
# for each request, resets the peak (clear_refs 5), sends it (alone, then CONCURRENT copies
# at once), and prints RSS before, the peak, and RSS two seconds after the answer.
#
#   bench/memory.sh                       # debug binary, target/debug/batchguard
#   BIN=target/release/batchguard bench/memory.sh
#   MIMALLOC_PURGE_DELAY=0 BIN=... bench/memory.sh   # as the Deployment runs it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/target/debug/batchguard}
CONCURRENT=${CONCURRENT:-4}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
python3 "$root/bench/hostile.py" "$work/req" > /dev/null
cd "$work"
PORT=${PORT:-18443}
MPORT=${MPORT:-19090}
"$BIN" serve --listen 127.0.0.1:$PORT --metrics-listen 127.0.0.1:$MPORT 2> "$work/serve.log" &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$MPORT/readyz" > /dev/null 2>&1 && break
  sleep 0.1
done
kib() { awk -v k="$1" '$1==k":" {print $2}' /proc/$pid/status; }
mib() { awk -v v="$1" 'BEGIN {printf "%.1f", v/1024}'; }
post() {
  curl -s -o "$work/answer" -w '%{http_code} %{size_download}' --cacert certs/dev/ca.pem \
    -H 'Content-Type: application/json' --data-binary @"$work/req/$1" \
    "https://127.0.0.1:$PORT/$2?timeout=10s"
}
printf '%-32s %-5s %-9s %-10s %-10s %-10s %s\n' request n status before peak after answer_bytes
for case in job-containers.validate.json:validate job-causes.validate.json:validate \
  schedule-list.mutate.json:mutate \
  schedule-junk.mutate.json:mutate schedule-list.validate.json:validate \
  cronjob-update.validate.json:validate; do
  file=${case%%:*}; route=${case##*:}
  for n in 1 "$CONCURRENT"; do
    before=$(kib VmRSS)
    echo 5 > /proc/$pid/clear_refs
    for i in $(seq "$n"); do post "$file" "$route" > "$work/status.$i" & done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
    peak=$(kib VmHWM)
    sleep 2
    after=$(kib VmRSS)
    read -r code size < "$work/status.1" || true
    printf '%-32s %-5s %-9s %-10s %-10s %-10s %s\n' "$file" "$n" "$code" \
      "$(mib "$before")M" "$(mib "$peak")M" "$(mib "$after")M" "$size"
  done
done
