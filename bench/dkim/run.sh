#!/bin/sh
# bench/dkim — DKIM verify and sign throughput (messages/s, one core):
# netjes vs libopendkim vs dkimpy, side by side in one run, on one corpus
# (bench/dkim/corpus.py: 200 messages, ~20 KB average, signed by dkimpy
# with an RSA-2048 key from `netjes dkim keygen`), plus the floor: the
# SHA-256 and RSA-2048 cost of the same bytes, measured with EVP calls
# (dkim_netjes floor) and from `openssl speed` on this machine.
#
# DNS is deliberately out of the picture: every verifier gets the key
# record from memory (netjes: dkim_verify_key(); libopendkim:
# dkim_set_key_lookup(); dkimpy: dnsfunc), as from a warm in-process
# cache. Each driver pins itself to one CPU (taskset) when it can.
#
#	DKIM_SECONDS  timed seconds per measurement (default 5)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
SECS=${DKIM_SECONDS:-5}
BENCH_TARGETS="bench/dkim_netjes bench/dkim_opendkim"
bench_build
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_tmp
T=$BENCH_TMP

PIN=""
if command -v taskset >/dev/null 2>&1; then
	PIN="taskset -c $(($(nproc) - 1))"
fi

"$BUILD/src/netjes" dkim keygen --domain bench.example --selector s2048 \
    --out "$T/key.pem" --json > "$T/key.json" 2>/dev/null
$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"])' \
    "$T/key.json" > "$T/pub.txt"
timeout 120 $PY "$HERE/corpus.py" "$T" "$T/key.pem" "$T/pub.txt" 200

B="$BUILD/bench"
run() { timeout $((SECS * 4 + 120)) $PIN "$@"; }
NV=$(run "$B/dkim_netjes" verify "$T/pub.txt" "$T/signed.list" "$SECS")
OV=$(run "$B/dkim_opendkim" verify "$T/pub.txt" "$T/signed.list" "$SECS")
PV=$(run $PY "$HERE/dkim_dkimpy.py" verify "$T/pub.txt" "$T/signed.list" "$SECS")
NS=$(run "$B/dkim_netjes" sign "$T/key.pem" "$T/plain.list" "$SECS")
OS=$(run "$B/dkim_opendkim" sign "$T/key.pem" "$T/plain.list" "$SECS")
PS=$(run $PY "$HERE/dkim_dkimpy.py" sign "$T/key.pem" "$T/plain.list" "$SECS")
FL=$(run "$B/dkim_netjes" floor "$T/key.pem" "$T/signed.list" "$SECS")
FV=$(printf '%s\n' "$FL" | grep "op=verify")
FS=$(printf '%s\n' "$FL" | grep "op=sign")
SPEED_RSA=$(run openssl speed -seconds "$SECS" rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ { print $6, $7 }')
SPEED_SHA=$(run openssl speed -seconds "$SECS" -bytes 16384 sha256 \
    2>/dev/null | awk '/^sha256/ { sub("k", "", $2); print $2 * 1000 }')
AVG=$(bench_field "$NV" avg_bytes)
for l in "$NV" "$OV" "$PV" "$NS" "$OS" "$PS" "$FV" "$FS"; do
	echo "  $l"
done
echo "  openssl speed: rsa2048 sign/s verify/s = $SPEED_RSA;" \
    "sha256 (16 KB blocks) = $SPEED_SHA bytes/s"

# floor from openssl speed: 1 / (1/rsa_rate + avg_bytes / sha_rate)
os_floor() {
	awk -v r="$1" -v s="$SPEED_SHA" -v b="$AVG" \
	    'BEGIN { printf "%.1f\n", 1 / (1 / r + b / s) }'
}
OSV=$(os_floor "$(echo "$SPEED_RSA" | awk '{ print $2 }')")
OSS=$(os_floor "$(echo "$SPEED_RSA" | awk '{ print $1 }')")

row() {	# label rate netjes-rate
	printf '  %-30s %10s %12s\n' "$1" "$2" "$(bench_ratio "$3" "$2")x"
}
for op in verify sign; do
	if [ $op = verify ]; then n=$NV o=$OV p=$PV f=$FV s=$OSV
	else n=$NS o=$OS p=$PS f=$FS s=$OSS; fi
	rn=$(bench_field "$n" rate)
	printf '\n  %-30s %10s %12s   (%s messages, %s bytes average)\n' \
	    "$op, one core" "msgs/s" "netjes/this" \
	    "$(bench_field "$n" ok | cut -d/ -f2)" "$AVG"
	row netjes "$rn" "$rn"
	row "libopendkim" "$(bench_field "$o" rate)" "$rn"
	row dkimpy "$(bench_field "$p" rate)" "$rn"
	row "floor (EVP, same bytes)" "$(bench_field "$f" rate)" "$rn"
	row "floor (openssl speed)" "$s" "$rn"
done
cn=$(bench_field "$NV" check); co=$(bench_field "$OV" check)
cp=$(bench_field "$PV" check)
echo
echo "  verify results: netjes $(bench_field "$NV" ok) pass," \
    "libopendkim $(bench_field "$OV" ok), dkimpy $(bench_field "$PV" ok);" \
    "$([ "$cn" = "$co" ] && [ "$cn" = "$cp" ] && echo "all agree per message" ||
    echo "they DIFFER on some messages")"
