#!/bin/bash
# Runs LTP's container set (runtest/containers C entries plus setns, unshare, ioctl_ns,
# clone3, capget, capset: 91 entries) on Bulkhead and prints a summary.
#
# Usage: tools/ltp.sh [-l LTP] [-o OUT] [-n] [-k] [ltpinit args...]
#   -l LTP   a local LTP checkout or git mirror (bare or not) of linux-test-project/ltp
#            (default: $LTP_SRC); tools/ltp/build.sh builds the set from it
#   -o OUT   output dir of the build (default target/ltp/out); the log goes next to it
#   -n       do not build: run what OUT holds
#   -k       keep going: exit 0 even when entries fail
#   ltpinit args: entry name globs ('pidns*' utsname01), -t SECS per entry, VAR=VALUE ...
#
# The kernel is configured as a distribution configures Linux for LTP: PID and user
# containers nest 32 levels below the root (kernel command line), and ltpinit raises every
# /proc/sys/user/max_*_container limit itself. Exit status: 0 when no entry failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LTP=${LTP_SRC:-}
OUT=$ROOT/target/ltp/out
BUILD=1
KEEP=0
while getopts "l:o:nkh" opt; do
    case $opt in
        l) LTP=$OPTARG ;;
        o) OUT=$OPTARG ;;
        n) BUILD=0 ;;
        k) KEEP=1 ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

if [ "$BUILD" = 1 ]; then
    [ -n "$LTP" ] || { echo "tools/ltp.sh: give an LTP checkout with -l or LTP_SRC" >&2; exit 2; }
    WORK=${WORK:-$(dirname "$OUT")/build} "$ROOT/tools/ltp/build.sh" "$OUT" "$LTP"
fi
[ -x "$OUT/ltpinit" ] || { echo "tools/ltp.sh: $OUT/ltpinit missing (build first)" >&2; exit 2; }

LOG=$(dirname "$OUT")/ltp.log
cd "$ROOT"
set +e
cargo run --quiet -- --memory 1024 \
    --append pid_container.max_level=32 --append user_container.max_level=33 \
    --add "$OUT" --timeout 1500 --init /ltpinit "$@" >"$LOG" 2>&1
status=$?
set -e

echo "LTP on Bulkhead (log: $LOG, runner exit status $status)"
grep -E '^(FAIL|SKIP) ' "$LOG" | sed 's/  #.*//' || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$LOG" | tail -1)
if [ -z "$summary" ]; then
    echo "no summary line: the run did not finish (see the log)"
    exit 1
fi
echo "$summary"
failed=$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
if [ "$failed" != 0 ] && [ "$KEEP" = 0 ]; then
    exit 1
fi
exit 0
