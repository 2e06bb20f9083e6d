#!/usr/bin/env bash
# Single-steps a program's marked operations in the guest and tallies where the
# instructions go (see README "Benchmarks"). PROGRAM.c must define
#   void __attribute__((noinline)) mark_start(void) {}  and  mark_end(void) {}
# and call them around each operation to measure (example.c: a readlink of
# /proc/self/ns/pid, then an open+setns+close of /proc/PID/ns/uts).
# usage: tools/stepprof/stepprof.sh PROGRAM.c [OPS] [release]   (from the repository root)
# STEPPROF_TOP=N: rows per table (30); STEPPROF_KEEP=FILE: keep the addresses stepped;
# STEPPROF_LINES=NAME: also tally by source line the instructions of functions whose
# name contains NAME.
set -euo pipefail
src=${1:?usage: stepprof.sh PROGRAM.c [OPS] [release]}
ops=${2:-1}
profile=${3:-debug}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"
musl-gcc -static -O2 -g -no-pie -o "$work/root/prog" "$src"
addr() { nm "$work/root/prog" | awk -v s="$1" '$3 == s { print $1 }'; }
start=$(addr mark_start)
end=$(addr mark_end)
[ -n "$start" ] && [ -n "$end" ] || { echo "stepprof: $src has no mark_start/mark_end" >&2; exit 2; }
cd "$root"
flag=""
[ "$profile" = release ] && flag="--release"
cargo build $flag -q
kernel="$root/target/kernel/x86_64-unknown-none/$profile/kernel"
port=$((20000 + RANDOM % 20000))
"$root/target/$profile/bulkhead" --gdb-port "$port" --no-net --add "$work/root" \
    --init /prog --timeout 900 >"$work/run.log" 2>&1 &
runner=$!
sleep 2
STEP_PORT=$port STEP_OUT="$work/steps" STEP_START=$start STEP_END=$end STEP_OPS=$ops \
    gdb -q -batch -x "$here/step.py" "$kernel" >"$work/gdb.log" 2>&1 || true
wait "$runner" || true
[ -s "$work/steps" ] || { cat "$work/gdb.log" >&2; exit 1; }
[ -n "${STEPPROF_KEEP:-}" ] && cp "$work/steps" "$STEPPROF_KEEP"
python3 "$here/tally.py" "$work/steps" "$kernel" "$work/root/prog" "${STEPPROF_TOP:-30}"
