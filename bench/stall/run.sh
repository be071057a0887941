#!/bin/sh
# The event-loop stall one big DKIM-signed message causes: the longest
# NOOP round trip on another connection while a 30 MiB message with 8
# signatures goes in (bench/stall/stall_bench.py). Builds build/bench
# (release) unless NETJES_BIN names a binary; needs nsd and dkimpy.
# STALL_MB sets the size, STALL_RUNS the number of runs (a line each).
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${NETJES_BIN:-}" ]; then
	if [ ! -f build/bench/build.ninja ]; then
		meson setup build/bench --buildtype=release -Dbench=true \
		    -Dwerror=false >/dev/null
	fi
	ninja -C build/bench src/netjes >/dev/null
	NETJES_BIN=build/bench/src/netjes
fi
export NETJES_BIN
runs=${STALL_RUNS:-3}
i=0
while [ "$i" -lt "$runs" ]; do
	timeout 600 /usr/bin/python3 bench/stall/stall_bench.py \
	    --mb "${STALL_MB:-30}"
	i=$((i + 1))
done
