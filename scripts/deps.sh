#!/bin/sh
# Install the Debian packages netjes needs, by what for:
#
#	scripts/deps.sh run	build and run the server (make run, make build)
#	scripts/deps.sh test	and every test peer (make test, make fuzz)
#	scripts/deps.sh bench	and the incumbents it is measured against
#	scripts/deps.sh		everything (make deps)
#
# Idempotent and quick when everything is present: it asks dpkg first and
# calls apt-get only for what is missing.
set -eu

group="${1:-all}"
case "$group" in
run|test|bench|all) ;;
*)
	echo "usage: scripts/deps.sh [run|test|bench]" >&2
	exit 2 ;;
esac

# Build
PKGS="build-essential pkg-config meson ninja-build
libevent-dev libssl-dev libunbound-dev libinih-dev libidn2-dev libcrypt-dev
libpsl-dev publicsuffix
openssl ca-certificates"
# The state store: LMDB embedded, hiredis for a shared Redis
PKGS="$PKGS liblmdb-dev libhiredis-dev"
# Run: the DNSSEC root trust anchor the resolver validates with
PKGS="$PKGS dns-root-data"

if [ "$group" != run ]; then
# Tests: unit framework, fuzzing, pytest and the real peers it drives;
# swaks needs Net::SSLeay for its TLS options
PKGS="$PKGS libcmocka-dev clang libclang-rt-14-dev
python3 python3-pytest python3-dnslib nsd knot-dnsutils swaks
libnet-ssleay-perl"
# tests/e2e/test_install.py renders the installed manual pages with man
PKGS="$PKGS man-db"
# Postfix as a sending MTA in front of netjes (tests/interop/test_postfix.py)
# and its smtp-source load generator (bench/smtp)
PKGS="$PKGS postfix"
# Dovecot as the IMAP server on our users file and Maildirs
# (tests/e2e/test_dovecot.py, docs/DOVECOT.md)
PKGS="$PKGS dovecot-imapd"
# SPF interop: pyspf (with dnspython) and the YAML test-suite reader
PKGS="$PKGS python3-spf python3-dnspython python3-yaml"
# DKIM interop peers: dkimpy (Ed25519 through python3-nacl) and OpenDKIM
PKGS="$PKGS python3-dkim python3-nacl opendkim opendkim-tools"
# Authentication-Results interop: the RFC 8601 parser of python3-authres
PKGS="$PKGS python3-authres"
# The Redis store backend against a real server (tests/unit/test_kv_redis.c)
PKGS="$PKGS redis-server"
fi

if [ "$group" = bench ] || [ "$group" = all ]; then
# Benchmarks only (make bench): the incumbents' C libraries and CLI, and
# the caching DNS server bench/spf puts in front of nsd
PKGS="$PKGS libspf2-dev spfquery libopendkim-dev unbound"
# bench/auth: rspamd, restricted to SPF, DKIM, DMARC and ARC
PKGS="$PKGS rspamd"
# bench/smtp: OpenDMARC as Postfix's milter in the "checks on" row
PKGS="$PKGS opendmarc"
# AUTH_CALLGRIND=1 bench/auth: instructions per message under callgrind
PKGS="$PKGS valgrind"
fi

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# nsd, unbound, opendkim, opendmarc, postfix, dovecot, redis-server and
# rspamd are peers that the tests and benches start on their own ports;
# their packages would start system services on port 53, port 25,
# milter sockets, Redis on port 6379 and rspamd's workers. Ask
# invoke-rc.d not to (policy-rc.d exit 101 = "not now") for the length
# of the install, unless the machine has its own policy.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	own_policy=1
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	trap '$SUDO rm -f "$policy"' EXIT
fi
# postfix asks which mail setup to write into /etc/postfix at install;
# the tests and benches run private instances with their own config, so
# answer "No configuration" up front and keep the install non-interactive.
case " $missing " in
*" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" |
	    $SUDO debconf-set-selections ;;
esac
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
if [ -n "$own_policy" ]; then
	$SUDO rm -f "$policy"
	trap - EXIT
fi
