#!/bin/sh
# The wait from the final "." to the 250 with slow DNS (bench/eom/
# eom_bench.py): what starting lookups at MAIL FROM saves. Builds
# build/bench (release) unless NETJES_BIN names a binary; needs nsd and
# dkimpy. EOM_DELAY (seconds per DNS answer), EOM_TRANSFER (seconds from
# MAIL FROM to the final dot), EOM_N (messages).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
cd "$ROOT"
if [ -z "${NETJES_BIN:-}" ]; then
	BENCH_TARGETS="" bench_build
	NETJES_BIN=$BUILD/src/netjes
fi
export NETJES_BIN
timeout 600 /usr/bin/python3 bench/eom/eom_bench.py \
    --delay "${EOM_DELAY:-0.1}" --transfer "${EOM_TRANSFER:-0.3}" \
    -n "${EOM_N:-20}"
