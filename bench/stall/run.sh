#!/bin/sh
# The event-loop stall one big DKIM-signed message causes: the longest
# NOOP round trip on another connection while a 30 MiB message with 8
# signatures goes in (bench/stall/stall_bench.py). Builds build/bench
# (release) unless NETJES_BIN names a binary; needs nsd and dkimpy.
# STALL_MB sets the size, STALL_RUNS the number of runs (a line each).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
cd "$ROOT"
if [ -z "${NETJES_BIN:-}" ]; then
	BENCH_TARGETS="" bench_build
	NETJES_BIN=$BUILD/src/netjes
fi
export NETJES_BIN
runs=${STALL_RUNS:-3}
i=0
while [ "$i" -lt "$runs" ]; do
	timeout 600 /usr/bin/python3 bench/stall/stall_bench.py \
	    --mb "${STALL_MB:-30}"
	i=$((i + 1))
done
