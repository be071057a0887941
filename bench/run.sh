#!/bin/sh
# Run every benchmark under bench/*/run.sh. Each one measures netjes side
# by side with the incumbent programs in one run and prints ratios; the
# figures and exact commands are kept in docs/BENCHMARKS.md. bench/spf,
# bench/auth (full authentication against rspamd) and bench/smtp (SMTP
# throughput and idle memory against Postfix) need root: they run in a
# private network namespace with their own DNS servers.
set -eu
cd "$(dirname "$0")"
found=0
for b in */run.sh; do
	[ -f "$b" ] || continue
	found=1
	echo "== bench ${b%/run.sh}"
	sh "$b"
done
if [ "$found" = 0 ]; then
	echo "no benchmarks yet: bench/spf, bench/dkim and bench/smtp arrive" \
	    "with the features they measure (see docs/BENCHMARKS.md)"
fi
