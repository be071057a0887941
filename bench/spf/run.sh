#!/bin/sh
# bench/spf — SPF evaluations per second: netjes vs libspf2 vs pyspf,
# side by side in one run, against one local caching DNS server.
#
# The whole run lives in a private network and mount namespace
# (unshare -mn, needs root): its own loopback, where unbound (Debian's
# caching server) listens on 127.0.0.1:53 and forwards the benchmark zone
# to nsd on 127.0.0.1:5353, and its own /etc/resolv.conf (bind-mounted)
# naming that unbound. So libspf2 and pyspf, which only know the system
# resolver, and netjes (libunbound, --nameserver 127.0.0.1:53) all ask
# the same server, and nothing leaves the namespace.
#
#	SPF_SECONDS   timed seconds per in-process driver (default 5)
#	SPF_CLI_CASES evaluations per CLI run (default 300)
#	SPF_CALLGRIND set: instead of the timed runs, count instructions per
#	              evaluation of the netjes and the libspf2 driver under
#	              callgrind (all threads): runs with 1 and with 3 timed
#	              passes over the cases, difference divided by 2 x the
#	              cases, so start-up and the warm-up pass cancel out.
#	              The netjes profiles are left in $SPF_CALLGRIND if it
#	              names a directory.
#	SPF_DRIVER    the netjes driver to run (default: the one built)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/../lib/common.sh"
BENCH_TARGETS="bench/spf_netjes bench/spf_libspf2"
bench_enter_netns spf 600 "unshare -mn for a private loopback and resolv.conf"
SECS=${SPF_SECONDS:-5}
CLI_CASES=${SPF_CLI_CASES:-300}
bench_begin
T=$BENCH_TMP

$PY "$HERE/gen.py" "$T"
NCASES=$(grep -c . "$T/cases.txt")

bench_dns spfbench.example "$T/spfbench.example.zone"

# Warm unbound's cache once for everyone: one pass with spfquery.
head -n "$NCASES" "$T/cases.txt" | while read -r ip s h; do
	spfquery -ip "$ip" -sender "$s" -helo "$h" >/dev/null 2>&1 || true
done

# Instructions of P timed passes of the netjes driver, all threads.
callgrind_ir() {
	timeout 1200 valgrind --tool=callgrind \
	    --callgrind-out-file="$T/callgrind.$1" "$D" -n "$1" \
	    127.0.0.1:53 "$T/cases.txt" 1 >/dev/null 2>"$T/valgrind.$1" ||
	    return 1
	[ -d "$SPF_CALLGRIND" ] && cp "$T/callgrind.$1" "$SPF_CALLGRIND/"
	sed -n 's/^summary: //p' "$T/callgrind.$1"
}

# The same for the libspf2 driver.
callgrind_ir_libspf2() {
	timeout 1200 valgrind --tool=callgrind \
	    --callgrind-out-file="$T/callgrind-libspf2.$1" \
	    "$BUILD/bench/spf_libspf2" -n "$1" "$T/cases.txt" 1 \
	    >/dev/null 2>"$T/valgrind-libspf2.$1" || return 1
	sed -n 's/^summary: //p' "$T/callgrind-libspf2.$1"
}

D=${SPF_DRIVER:-$BUILD/bench/spf_netjes}
if [ -n "${SPF_CALLGRIND:-}" ]; then
	ir1=$(callgrind_ir 1)
	ir3=$(callgrind_ir 3)
	nj=$(( (ir3 - ir1) / (2 * NCASES) ))
	echo "BENCH impl=netjes op=spf-instructions n=$NCASES" \
	    "ir_1pass=$ir1 ir_3pass=$ir3 ir_per_eval=$nj"
	ir1=$(callgrind_ir_libspf2 1)
	ir3=$(callgrind_ir_libspf2 3)
	ls=$(( (ir3 - ir1) / (2 * NCASES) ))
	echo "BENCH impl=libspf2 op=spf-instructions n=$NCASES" \
	    "ir_1pass=$ir1 ir_3pass=$ir3 ir_per_eval=$ls"
	echo "  libspf2 / netjes instructions per evaluation:" \
	    "$(bench_ratio "$ls" "$nj")x"
	exit 0
fi

echo "SPF: $NCASES cases (zone: bench/spf/gen.py), ${SECS}s per" \
    "implementation, in-process, one evaluation at a time, warm caches"
N=$(timeout 120 "$D" 127.0.0.1:53 "$T/cases.txt" "$SECS")
L=$(timeout 120 "$BUILD/bench/spf_libspf2" "$T/cases.txt" "$SECS")
P=$(timeout 300 $PY "$HERE/spf_pyspf.py" "$T/cases.txt" "$SECS")
# netjes as the server runs it (64 checks in flight on one loop), and its
# SPF engine alone (DNS from the in-memory zone backend, no resolver)
NJ=$(timeout 120 "$D" -j 64 127.0.0.1:53 "$T/cases.txt" "$SECS")
NZ=$(timeout 120 "$D" -z "$T/spfbench.example.zone" - "$T/cases.txt" "$SECS")
for line in "$N" "$L" "$P" "$NJ" "$NZ"; do echo "  $line"; done

rn=$(bench_field "$N" rate); rl=$(bench_field "$L" rate)
rp=$(bench_field "$P" rate)
printf '\n  %-10s %12s %14s\n' implementation "evals/s" "netjes/this"
printf '  %-10s %12s %14s\n' netjes "$rn" "1.00x"
printf '  %-10s %12s %14s\n' libspf2 "$rl" "$(bench_ratio "$rn" "$rl")x"
printf '  %-10s %12s %14s\n' pyspf "$rp" "$(bench_ratio "$rn" "$rp")x"
rj=$(bench_field "$NJ" rate); rz=$(bench_field "$NZ" rate)
printf '\n  %-44s %12s %14s\n' "netjes variants" "evals/s" "vs libspf2"
printf '  %-44s %12s %14s\n' "64 in flight, libunbound (as the server)" \
    "$rj" "$(bench_ratio "$rj" "$rl")x"
printf '  %-44s %12s %14s\n' "1 at a time, in-memory zone (engine only)" \
    "$rz" "$(bench_ratio "$rz" "$rl")x"
# CPU time is steadier than wall clock on a shared machine
un=$(bench_field "$N" cpu_rate); ul=$(bench_field "$L" cpu_rate)
uj=$(bench_field "$NJ" cpu_rate)
printf '\n  %-44s %12s %14s\n' "per second of process CPU" "evals/s" \
    "vs libspf2"
printf '  %-44s %12s %14s\n' "netjes, 1 at a time" "$un" \
    "$(bench_ratio "$un" "$ul")x"
printf '  %-44s %12s %14s\n' "netjes, 64 in flight" "$uj" \
    "$(bench_ratio "$uj" "$ul")x"
printf '  %-44s %12s %14s\n' libspf2 "$ul" "1.00x"
cn=$(bench_field "$N" check); cl=$(bench_field "$L" check)
cp=$(bench_field "$P" check)
[ "$cn" = "$cl" ] && echo "  netjes and libspf2 agree on every case" ||
    echo "  netjes and libspf2 DIFFER on some cases (check hashes)"
[ "$cn" = "$cp" ] && echo "  netjes and pyspf agree on every case" ||
    echo "  netjes and pyspf DIFFER on some cases (check hashes)"

# Like for like with process start-up: one process per evaluation, the
# first $CLI_CASES cases, spfquery (libspf2's CLI) vs `netjes spf`.
head -n "$CLI_CASES" "$T/cases.txt" > "$T/cli.txt"
t0=$(date +%s.%N)
timeout 300 sh -c 'while read -r ip s h; do
	spfquery -ip "$ip" -sender "$s" -helo "$h" >/dev/null 2>&1 || true
done' < "$T/cli.txt"
t1=$(date +%s.%N)
timeout 300 sh -c 'while read -r ip s h; do
	"$0" spf --ip "$ip" --sender "$s" --helo "$h" \
	    --nameserver 127.0.0.1:53 >/dev/null
done' "$BUILD/src/netjes" < "$T/cli.txt"
t2=$(date +%s.%N)
cs=$(awk -v a="$t0" -v b="$t1" -v n="$CLI_CASES" 'BEGIN{printf "%.1f", n/(b-a)}')
cnj=$(awk -v a="$t1" -v b="$t2" -v n="$CLI_CASES" 'BEGIN{printf "%.1f", n/(b-a)}')
printf '\n  one process per evaluation (%s cases, start-up included):\n' \
    "$CLI_CASES"
printf '  %-16s %12s %14s\n' "netjes spf" "$cnj" "1.00x"
printf '  %-16s %12s %14s\n' spfquery "$cs" "$(bench_ratio "$cnj" "$cs")x"
