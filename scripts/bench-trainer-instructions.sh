#!/usr/bin/env bash
# The Trainer's per-step overhead as instruction counts (valgrind's callgrind), which do
# not drift with the machine's load the way wall-clock time does. Each variant of
# benches/benches/trainer_overhead.rs runs for 10 and for 30 steps; the difference over
# 20 steps is its per-step work, set-up and the final checkpoint cancelled out.
# Takes about 6 minutes (callgrind is slow). Usage: scripts/bench-trainer-instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
command -v valgrind >/dev/null || whet_apt_install valgrind

bin=$(cargo bench -p whet-benches --bench trainer_overhead --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*trainer_overhead[^"]*\)".*/\1/p' | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {
    WHET_BENCH_VARIANT=$1 WHET_BENCH_STEPS=$2 valgrind --tool=callgrind \
        --callgrind-out-file="$work/cg" "$bin" 2>&1 | awk '/Collected/ {print $4}'
}
echo "variant                 instructions/step   / hand-written loop reading its loss"
base=""
for v in hand_reading hand trainer trainer_no_grad_check; do
    a=$(count "$v" 10)
    b=$(count "$v" 30)
    per=$(( (b - a) / 20 ))
    [ -z "$base" ] && base=$per
    awk -v v="$v" -v p="$per" -v b="$base" 'BEGIN { printf "%-23s %17d   %.4f\n", v, p, p / b }'
done
