#!/bin/sh
# bench/smtp — SMTP throughput and idle memory: netjes vs Postfix, side
# by side in one run (bench/smtp/smtp_bench.py, bench/smtp/idle.py).
#
# Throughput: Postfix's smtp-source as the client (SMTP_SESSIONS parallel
# sessions, SMTP_SIZE-byte messages, SMTP_N messages, one per
# connection) against netjes (release build, durable spool, Maildir)
# and a private Postfix instance (virtual(8) Maildir), both delivering
# to the same disk; messages/s accepted and delivered end to end, and
# CPU time per message of every process of the server (cpuacct cgroup).
# Rows: "plain" (no checks) and "checks" (netjes' SPF/DKIM/DMARC/ARC/
# iprev vs Postfix + OpenDKIM + OpenDMARC milters).
#
# Idle memory: IDLE_N sessions held open after EHLO; PSS/RSS growth of
# the server per session.
#
# The run lives in a private network and mount namespace (unshare -mn,
# needs root), like bench/spf: unbound on 127.0.0.1:53 forwards the
# benchmark zone to nsd on 127.0.0.1:5353, and /etc/resolv.conf is
# bind-mounted to name that unbound, so netjes, Postfix and the milters
# ask the same server and nothing leaves the namespace.
#
#	SMTP_N        messages per measurement (default 5000)
#	SMTP_SESSIONS parallel sessions (default 20)
#	SMTP_SIZE     message size in bytes (default 4096)
#	SMTP_ROWS     rows to run (default plain,checks)
#	IDLE_N        idle sessions (default 5000; netjes' default
#	              [limits] connections is 10000)
#	IDLE_POSTFIX_N idle sessions for Postfix (default 500: one smtpd
#	              process each)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/../lib/common.sh"
BENCH_TARGETS=""
bench_enter_netns smtp 3600 "unshare -mn, a private Postfix, cgroups"
N=${SMTP_N:-5000}
SESSIONS=${SMTP_SESSIONS:-20}
SIZE=${SMTP_SIZE:-4096}
ROWS=${SMTP_ROWS:-plain,checks}
IDLE=${IDLE_N:-5000}
IDLE_PF=${IDLE_POSTFIX_N:-500}
bench_begin
T=$BENCH_TMP
# Postfix's daemons run as the postfix user and open files by path
chmod 755 "$T"

# The sender's domain: SPF allows loopback, DMARC p=none (nothing is
# rejected, every check runs to the end).
cat > "$T/sender.bench.example.zone" <<ZONE
\$ORIGIN sender.bench.example.
\$TTL 3600
@ IN SOA ns hostmaster 1 3600 600 86400 60
@ IN NS ns
ns IN A 127.0.0.1
@ IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc IN TXT "v=DMARC1; p=none"
ZONE
bench_dns sender.bench.example "$T/sender.bench.example.zone"

echo "SMTP: smtp-source -s $SESSIONS -l $SIZE -m $N (one message per" \
    "connection), Maildir delivery on the same disk; $(nproc) CPUs," \
    "load: $(cut -d' ' -f1-3 /proc/loadavg)"
OUT=$(timeout 3000 $PY "$HERE/smtp_bench.py" --netjes "$BUILD/src/netjes" \
    --tmp "$T" -n "$N" --sessions "$SESSIONS" --size "$SIZE" \
    --rows "$ROWS")
printf '%s\n' "$OUT" | sed 's/^/  /'

printf '\n  %-8s %-8s %11s %11s %12s %10s\n' row impl "accepted/s" \
    "delivered/s" "CPU ms/msg" delivered
for row in $(echo "$ROWS" | tr ',' ' '); do
	for impl in netjes postfix; do
		l=$(printf '%s\n' "$OUT" | grep "impl=$impl row=$row " || true)
		printf '  %-8s %-8s %11s %11s %12s %10s\n' "$row" "$impl" \
		    "$(bench_field "$l" accepted_rate)" \
		    "$(bench_field "$l" delivered_rate)" \
		    "$(bench_field "$l" cpu_ms_per_msg)" \
		    "$(bench_field "$l" delivered)/$N"
	done
	n=$(printf '%s\n' "$OUT" | grep "impl=netjes row=$row " || true)
	p=$(printf '%s\n' "$OUT" | grep "impl=postfix row=$row " || true)
	echo "  $row netjes/postfix: accepted" \
	    "$(bench_ratio "$(bench_field "$n" accepted_rate)" \
	    "$(bench_field "$p" accepted_rate)")x, delivered" \
	    "$(bench_ratio "$(bench_field "$n" delivered_rate)" \
	    "$(bench_field "$p" delivered_rate)")x, CPU per message" \
	    "$(bench_ratio "$(bench_field "$n" cpu_ms_per_msg)" \
	    "$(bench_field "$p" cpu_ms_per_msg)")x"
done

echo
echo "Idle sessions (after EHLO), memory per session:"
timeout 600 $PY "$HERE/idle.py" --netjes "$BUILD/src/netjes" --tmp "$T" \
    -n "$IDLE" --postfix-n "$IDLE_PF" | sed 's/^/  /'
