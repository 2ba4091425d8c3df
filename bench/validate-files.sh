#!/usr/bin/env bash
# Files per second of `batchguard validate` over a directory of 10,000 manifests, against
# Python + libyaml that only reads and parses the same files (yaml.load_all with
# CSafeLoader), in the same run, alternating round by round so that a noisy, shared
# machine affects every contender alike.
#
#   A=/path/to/old/batchguard B=target/release/batchguard bench/validate-files.sh
#   FILES=10000 ROUNDS=3 bench/validate-files.sh        # B alone when A is unset
#
# The manifests are the 421 corpus manifests (tests/data/manifests-corpus), copied round
# robin into FILES files. Prints wall time, files/s and the ratio to Python per round, then
# medians. Needs python3 with PyYAML built against libyaml (installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

B=${B:-target/release/batchguard}
A=${A:-}
FILES=${FILES:-10000}
ROUNDS=${ROUNDS:-3}
OUT=bench/out/validate-files

python3 -c 'import yaml; assert yaml.__with_libyaml__' 2>/dev/null ||
  { echo "installing PyYAML with libyaml" >&2; pip3 install -q pyyaml >&2; }
python3 -c 'import yaml; assert yaml.__with_libyaml__' ||
  { echo "PyYAML has no libyaml here; the baseline would be meaningless" >&2; exit 2; }

rm -rf "$OUT"; mkdir -p "$OUT/files"
python3 - "$OUT/files" "$FILES" <<'EOF'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
src = "tests/data/manifests-corpus/manifests"
names = sorted(f for f in os.listdir(src) if f.endswith((".yaml", ".yml")))
bodies = [open(os.path.join(src, f), "rb").read() for f in names]
for i in range(n):
    d = os.path.join(out, f"d{i // 1000:02d}")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, f"m{i:05d}.yaml"), "wb").write(bodies[i % len(bodies)])
EOF
cat >"$OUT/parse.py" <<'EOF'
import os, sys, yaml
docs = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        with open(os.path.join(root, f), "rb") as fh:
            try:
                docs += sum(1 for _ in yaml.load_all(fh, Loader=yaml.CSafeLoader))
            except yaml.YAMLError:
                pass
print(docs, file=sys.stderr)
EOF

now() { date +%s.%N; }
run() { # name -> seconds
  local t0 t1
  t0=$(now)
  case "$1" in
    python) python3 "$OUT/parse.py" "$OUT/files" 2>/dev/null ;;
    A) "$A" validate --format json "$OUT/files" >/dev/null || [ $? -le 1 ] ;;
    B) "$B" validate --format json "$OUT/files" >/dev/null || [ $? -le 1 ] ;;
  esac
  t1=$(now)
  echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }'
}

contenders="python B"; [ -n "$A" ] && contenders="python A B"
printf '%-6s %-7s %9s %9s %8s\n' round who seconds files/s "×python" | tee "$OUT/results.txt"
for round in $(seq 1 "$ROUNDS"); do
  order=$contenders; [ $((round % 2)) = 0 ] && order=$(echo "$contenders" | tr ' ' '\n' | tac | tr '\n' ' ')
  declare -A secs=()
  for who in $order; do secs[$who]=$(run "$who"); done
  for who in $contenders; do
    awk -v r="$round" -v w="$who" -v s="${secs[$who]}" -v p="${secs[python]}" -v n="$FILES" \
      'BEGIN { printf "%-6s %-7s %9.3f %9.0f %7.2fx\n", r, w, s, n / s, p / s }' | tee -a "$OUT/results.txt"
  done
done
echo
[ -n "$A" ] && echo "A = $A"
echo "B = $B ($(nproc) cores)"
for who in $contenders; do
  awk -v w="$who" '$2 == w { print $5 + 0 }' "$OUT/results.txt" | sort -n |
    awk -v w="$who" '{ v[NR] = $1 } END { printf "median %s: %.2fx the speed of Python+libyaml parse-only\n", w, v[int((NR + 1) / 2)] }'
done | tee -a "$OUT/results.txt"
