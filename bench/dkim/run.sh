#!/bin/sh
# bench/dkim — DKIM verify and sign throughput (messages/s, one core):
# netjes vs libopendkim vs dkimpy, side by side in one run, on one corpus
# (bench/dkim/corpus.py: 200 messages, ~20 KB average, signed by dkimpy
# with an RSA-2048 key and, for the Ed25519 rows, with an Ed25519 key,
# both from `netjes dkim keygen`), plus the floor: the SHA-256 and
# RSA-2048 (Ed25519) cost of the same bytes, measured with EVP calls
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
bench_begin
T=$BENCH_TMP

PIN=""
if command -v taskset >/dev/null 2>&1; then
	PIN="taskset -c $(($(nproc) - 1))"
fi

"$BUILD/src/netjes" dkim keygen --domain bench.example --selector s2048 \
    --out "$T/key.pem" --json > "$T/key.json" 2>/dev/null
"$BUILD/src/netjes" dkim keygen --algorithm ed25519 --domain bench.example \
    --selector s25519 --out "$T/ed.pem" --json > "$T/ed.json" 2>/dev/null
for k in key ed; do
	$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["value"])' \
	    "$T/$k.json" > "$T/$k.txt"
done
mv "$T/key.txt" "$T/pub.txt"
timeout 300 $PY "$HERE/corpus.py" "$T" "$T/key.pem" "$T/pub.txt" 200 \
    "$T/ed.pem" "$T/ed.txt"

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
# Ed25519: the same messages signed ed25519-sha256 (RFC 8463)
ENV=$(run "$B/dkim_netjes" verify "$T/ed.txt" "$T/signed-ed.list" "$SECS")
EOV=$(run "$B/dkim_opendkim" verify "$T/ed.txt" "$T/signed-ed.list" "$SECS")
EPV=$(run $PY "$HERE/dkim_dkimpy.py" verify "$T/ed.txt" "$T/signed-ed.list" \
    "$SECS")
ENS=$(run "$B/dkim_netjes" sign "$T/ed.pem" "$T/plain.list" "$SECS")
EOS=$(run "$B/dkim_opendkim" sign "$T/ed.pem" "$T/plain.list" "$SECS" ed25519)
EPS=$(run $PY "$HERE/dkim_dkimpy.py" sign "$T/ed.pem" "$T/plain.list" "$SECS")
EFL=$(run "$B/dkim_netjes" floor "$T/ed.pem" "$T/signed-ed.list" "$SECS")
EFV=$(printf '%s\n' "$EFL" | grep "op=verify")
EFS=$(printf '%s\n' "$EFL" | grep "op=sign")
SPEED_RSA=$(run openssl speed -seconds "$SECS" rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ { print $6, $7 }')
SPEED_ED=$(run openssl speed -seconds "$SECS" ed25519 2>/dev/null |
    awk '/Ed25519/ { print $(NF - 1), $NF }')
SPEED_SHA=$(run openssl speed -seconds "$SECS" -bytes 16384 sha256 \
    2>/dev/null | awk '/^sha256/ { sub("k", "", $2); print $2 * 1000 }')
AVG=$(bench_field "$NV" avg_bytes)
for l in "$NV" "$OV" "$PV" "$NS" "$OS" "$PS" "$FV" "$FS" \
    "$ENV" "$EOV" "$EPV" "$ENS" "$EOS" "$EPS" "$EFV" "$EFS"; do
	echo "  $l"
done
echo "  openssl speed: rsa2048 sign/s verify/s = $SPEED_RSA;" \
    "ed25519 sign/s verify/s = $SPEED_ED;" \
    "sha256 (16 KB blocks) = $SPEED_SHA bytes/s"

# floor from openssl speed: 1 / (1/rsa_rate + avg_bytes / sha_rate)
os_floor() {	# rate avg_bytes
	awk -v r="$1" -v s="$SPEED_SHA" -v b="$2" \
	    'BEGIN { printf "%.1f\n", 1 / (1 / r + b / s) }'
}
EAVG=$(bench_field "$ENV" avg_bytes)
OSV=$(os_floor "$(echo "$SPEED_RSA" | awk '{ print $2 }')" "$AVG")
OSS=$(os_floor "$(echo "$SPEED_RSA" | awk '{ print $1 }')" "$AVG")
EOSV=$(os_floor "$(echo "$SPEED_ED" | awk '{ print $2 }')" "$EAVG")
EOSS=$(os_floor "$(echo "$SPEED_ED" | awk '{ print $1 }')" "$EAVG")

row() {	# label rate netjes-rate
	printf '  %-30s %10s %12s\n' "$1" "$2" "$(bench_ratio "$3" "$2")x"
}
for op in verify sign ed25519-verify ed25519-sign; do
	case $op in
	verify) n=$NV o=$OV p=$PV f=$FV s=$OSV ;;
	sign) n=$NS o=$OS p=$PS f=$FS s=$OSS ;;
	ed25519-verify) n=$ENV o=$EOV p=$EPV f=$EFV s=$EOSV ;;
	ed25519-sign) n=$ENS o=$EOS p=$EPS f=$EFS s=$EOSS ;;
	esac
	rn=$(bench_field "$n" rate)
	printf '\n  %-30s %10s %12s   (%s messages, %s bytes average)\n' \
	    "$op, one core" "msgs/s" "netjes/this" \
	    "$(bench_field "$n" ok | cut -d/ -f2)" "$(bench_field "$n" avg_bytes)"
	row netjes "$rn" "$rn"
	row "libopendkim" "$(bench_field "$o" rate)" "$rn"
	row dkimpy "$(bench_field "$p" rate)" "$rn"
	row "floor (EVP, same bytes)" "$(bench_field "$f" rate)" "$rn"
	row "floor (openssl speed)" "$s" "$rn"
done
agree() {	# label netjes opendkim dkimpy
	cn=$(bench_field "$2" check); co=$(bench_field "$3" check)
	cp=$(bench_field "$4" check)
	echo "  $1 results: netjes $(bench_field "$2" ok) pass," \
	    "libopendkim $(bench_field "$3" ok), dkimpy $(bench_field "$4" ok);" \
	    "$([ "$cn" = "$co" ] && [ "$cn" = "$cp" ] &&
	    echo "all agree per message" || echo "they DIFFER on some messages")"
}
echo
agree verify "$NV" "$OV" "$PV"
agree "ed25519 verify" "$ENV" "$EOV" "$EPV"
