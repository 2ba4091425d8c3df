#!/usr/bin/env bash
# Peak RSS and wall time of `batchguard validate` on the inputs of bench/yaml_inputs.py:
# 50 MB of Jobs in one multi-document file, two one-line 50 MB flow lists, and 10 KB of
# aliases that the alias budget refuses (exit 1) only once it is spent.
# Figures and what they mean: docs/yaml.md.
#
#   cargo build --release --bin batchguard && bench/yaml-memory.sh
#   BIN=/path/to/other/batchguard bench/yaml-memory.sh
#
# The run is capped at 16 GB of address space (ulimit -v) so that a runaway build cannot
# take a shared machine with it; past the cap the process aborts and the line says so.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/batchguard}
OUT=bench/out/yaml
[ -f "$OUT/aliases.yaml" ] || python3 bench/yaml_inputs.py "$OUT"
for f in jobs.yaml flow-scalars.yaml flow-maps.yaml aliases.yaml; do
  size=$(stat -c %s "$OUT/$f")
  log="$OUT/time-$f.txt"
  set +e
  (ulimit -v 16000000; /usr/bin/time -v "$BIN" validate --format json "$OUT/$f" >/dev/null 2>"$log")
  status=$?
  set -e
  rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  awk -v f="$f" -v s="$size" -v r="$rss_kb" -v w="$wall" -v c="$status" 'BEGIN {
    printf "%-18s %8.3f MB  peak RSS %8.1f MB  %7.1fx the file  wall %s  exit %d\n",
      f, s / 1e6, r * 1024 / 1e6, r * 1024 / s, w, c }'
done
