# Shared shell helpers for bench/*/run.sh (sourced, POSIX sh).
#
# bench_build       configure and build build/bench (release, -Dbench=true)
# bench_tmp         a private temporary directory, removed by bench_cleanup
# bench_bg CMD...   start CMD in the background and remember its pid
# bench_cleanup     stop every process bench_bg started (by pid), remove tmp
# bench_field LINE KEY   the value of KEY=... in a "BENCH ..." line
# bench_ratio A B   A/B with two decimals ("-" when either is missing)
#
# Every script traps EXIT/INT/TERM to bench_cleanup, and bounds each step
# with timeout(1), so a stuck peer cannot hang `make bench`.

BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$BENCH_ROOT/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build/bench}
PY=/usr/bin/python3
BENCH_PIDS=""
BENCH_TMP=""

# Only what the benchmarks run: the drivers and the netjes binary. No
# -Werror here: a warning elsewhere in the tree must not stop a
# measurement (the test builds keep -Werror).
bench_build() {
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" --buildtype=release -Dbench=true \
		    -Dwerror=false >/dev/null || return 1
	fi
	meson configure "$BUILD" -Dbench=true -Dwerror=false >/dev/null
	ninja -C "$BUILD" src/netjes $BENCH_TARGETS >/dev/null ||
	    ninja -C "$BUILD" src/netjes $BENCH_TARGETS
}

bench_tmp() {
	BENCH_TMP=$(mktemp -d /tmp/netjes-bench.XXXXXX)
}

bench_bg() {
	"$@" &
	BENCH_PIDS="$BENCH_PIDS $!"
}

bench_cleanup() {
	for p in $BENCH_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $BENCH_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	BENCH_PIDS=""
	[ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
	BENCH_TMP=""
}

bench_field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

# Wait until a DNS server answers NAME SOA at ADDR PORT (kdig, bounded).
bench_wait_dns() {
	i=0
	while [ $i -lt 100 ]; do
		if kdig +short +time=1 +retry=0 -p "$2" @"$1" "$3" SOA \
		    2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "bench: DNS at $1:$2 does not answer for $3" >&2
	return 1
}
