# Shared shell helpers for bench/*/run.sh (sourced, POSIX sh).
#
# bench_build       configure and build build/bench (release, -Dbench=true)
# bench_begin       trap EXIT/INT/TERM to bench_cleanup, then bench_tmp
# bench_tmp         a private temporary directory, removed by bench_cleanup
# bench_bg CMD...   start CMD in the background and remember its pid
# bench_cleanup     stop every process bench_bg started (by pid), remove tmp
# bench_field LINE KEY   the value of KEY=... in a "BENCH ..." line
# bench_ratio A B   A/B with two decimals ("-" when either is missing)
# bench_wait_dns ADDR PORT NAME   wait (bounded) until NAME SOA answers
# bench_enter_netns NAME SECONDS WHY   outside the namespace: needs root
#                   (else says WHY and exits), builds, then re-runs the
#                   calling script inside `unshare -mn` for at most
#                   SECONDS; inside it brings loopback up and returns
# bench_dns ZONE FILE...   private DNS in the namespace: nsd on
#                   127.0.0.1:5353 serving each ZONE from its FILE, unbound
#                   on 127.0.0.1:53 caching in front of it, and
#                   /etc/resolv.conf bind-mounted to name that unbound
#
# Every script starts with bench_begin, and bounds each step
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

bench_begin() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	bench_tmp
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

# The benchmarks that ask DNS run in a private network and mount
# namespace: their own loopback and their own /etc/resolv.conf, so every
# implementation asks the same local server and nothing leaves the
# machine. The build happens outside, before the re-run, so a long
# meson setup is not counted against the namespace's timeout.
bench_enter_netns() {
	if [ "${NETJES_BENCH_NS:-}" = 1 ]; then
		ip link set lo up
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "bench/$1: needs root ($3)" >&2
		exit 1
	fi
	bench_build
	NETJES_BENCH_NS=1 exec timeout "$2" unshare -mn sh \
	    "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
}

# nsd.conf for bench_dns: one zone: section per ZONE FILE pair.
bench_dns_nsd_conf() {
	cat <<CONF
server:
  port: 5353
  ip-address: 127.0.0.1
  username: ""
  chroot: ""
  pidfile: "$BENCH_TMP/nsd.pid"
  zonesdir: "$BENCH_TMP"
  database: ""
  xfrdfile: "$BENCH_TMP/xfrd.state"
  zonelistfile: "$BENCH_TMP/zone.list"
  logfile: "$BENCH_TMP/nsd.log"
  server-count: 1
  do-ip6: no
remote-control:
  control-enable: no
CONF
	while [ $# -ge 2 ]; do
		printf 'zone:\n  name: %s\n  zonefile: %s\n' "$1" "$2"
		shift 2
	done
}

# unbound.conf for bench_dns: a stub zone per ZONE pointing at nsd.
bench_dns_unbound_conf() {
	cat <<CONF
server:
  interface: 127.0.0.1
  port: 53
  do-ip6: no
  username: ""
  chroot: ""
  directory: "$BENCH_TMP"
  pidfile: "$BENCH_TMP/unbound.pid"
  use-syslog: no
  logfile: "$BENCH_TMP/unbound.log"
  verbosity: 0
  num-threads: 1
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  msg-cache-size: 32m
  rrset-cache-size: 64m
CONF
	# unbound serves the test networks' reverse zones locally by
	# default; nodefault lets the stub zones below answer for them (for
	# any other zone it changes nothing)
	for z in $(bench_dns_zone_names "$@"); do
		printf '  local-zone: "%s." nodefault\n' "$z"
	done
	for z in $(bench_dns_zone_names "$@"); do
		printf 'stub-zone:\n  name: "%s."\n' "$z"
		printf '  stub-addr: 127.0.0.1@5353\n'
	done
	printf 'remote-control:\n  control-enable: no\n'
}

# The ZONEs of ZONE FILE pairs, one a line.
bench_dns_zone_names() {
	while [ $# -ge 2 ]; do
		printf '%s\n' "$1"
		shift 2
	done
}

# Needs bench_tmp and `ip link set lo up` first; nsd and unbound are
# started with bench_bg, so bench_cleanup stops them.
bench_dns() {
	bench_dns_nsd_conf "$@" > "$BENCH_TMP/nsd.conf"
	bench_dns_unbound_conf "$@" > "$BENCH_TMP/unbound.conf"
	bench_bg /usr/sbin/nsd -d -c "$BENCH_TMP/nsd.conf"
	bench_wait_dns 127.0.0.1 5353 "$1" || return 1
	bench_bg /usr/sbin/unbound -d -c "$BENCH_TMP/unbound.conf"
	bench_wait_dns 127.0.0.1 53 "$1" || return 1
	echo "nameserver 127.0.0.1" > "$BENCH_TMP/resolv.conf"
	mount --bind "$BENCH_TMP/resolv.conf" /etc/resolv.conf
}
