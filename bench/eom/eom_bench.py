#!/usr/bin/python3
"""How long a client waits after the final "." for the 250, when DNS is
slow: the time the check pipeline saves by starting each lookup as soon
as its input is known (iprev and SPF at MAIL FROM) instead of at the end
of DATA.

netjes runs with its DNS on a real nsd behind a relay that delays every
answer by --delay seconds (each answer on its own timer, so lookups stay
parallel). The sender's zone has what a well-run sender publishes (PTR
and A for the client, SPF with two levels of include: as the big
senders have it, a DKIM key, DMARC); the messages are signed by dkimpy. Each message is sent on its own connection the way a real
client does it: EHLO, MAIL, RCPT, DATA, the content, with --transfer
seconds between MAIL FROM and the final "." (the time RCPT, DATA and
the transfer take on a real link); the figure is the time from the "."
to the reply. DNS answers are cached by netjes, so each message uses
another sender domain label (a fresh SPF, DKIM and DMARC lookup each
time) and the client address is the same. One line:

    BENCH eom delay_ms=... transfer_ms=... n=... median_ms=... p90_ms=...

Usage: eom_bench.py [--delay 0.1] [--transfer 0.3] [-n 20]
(NETJES_BIN names the binary)
"""
import argparse
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dkim

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "lib"))
import daemon as d  # noqa: E402
from dnsserver import FakeDnsServer, NsdServer  # noqa: E402
from mailtest import rsa_key_pair, txt_strings  # noqa: E402

ZONE = "bench.example"
SELECTOR = "sel"
USER = "alice@example.test"
CLIENT = "127.0.0.5"


def zones(n, pub):
    """The sender zone with n sender domains d0..dN-1 under it, and the
    reverse zone of the client."""
    fwd = [f"ns IN A 127.0.0.1", f"mail IN A {CLIENT}",
           "mail IN TXT \"v=spf1 a -all\""]
    key = txt_strings("v=DKIM1; k=rsa; p=" + pub)
    for i in range(n):
        # two levels of include:, as the big senders publish them: an
        # SPF check is three lookups, one after the other
        fwd += [f"d{i} IN TXT \"v=spf1 include:_spf.d{i}.{ZONE} -all\"",
                f"_spf.d{i} IN TXT \"v=spf1 include:_nb.d{i}.{ZONE} -all\"",
                f"_nb.d{i} IN TXT \"v=spf1 ip4:{CLIENT} -all\"",
                f"{SELECTOR}._domainkey.d{i} IN TXT {key}",
                f"_dmarc.d{i} IN TXT \"v=DMARC1; p=reject\""]
    rev = [f"5 IN PTR mail.{ZONE}."]
    return {ZONE: "\n".join(fwd) + "\n",
            "0.0.127.in-addr.arpa": "\n".join(rev) + "\n"}


def message(i, key):
    dom = f"d{i}.{ZONE}"
    msg = (f"From: Sender <sender@{dom}>\r\nTo: <{USER}>\r\n"
           f"Subject: eom bench {i}\r\nMessage-ID: <eom{i}@{dom}>\r\n"
           f"\r\nHello from {dom}.\r\n").encode()
    sig = dkim.sign(msg, SELECTOR.encode(), dom.encode(), key,
                    include_headers=[b"from", b"to", b"subject"])
    return dom, sig + msg


def send(addr, port, dom, msg, transfer):
    """One message; the seconds from the final "." to the reply."""
    s = socket.create_connection((addr, port), timeout=60,
                                 source_address=(CLIENT, 0))
    f = s.makefile("rb")

    def cmd(line, want):
        if line is not None:
            s.sendall(line)
        while True:
            r = f.readline()
            if r[3:4] != b"-":
                break
        assert r.startswith(want), r
        return r

    cmd(None, b"220")
    cmd(f"EHLO mail.{ZONE}\r\n".encode(), b"250")
    t_mail = time.monotonic()
    cmd(f"MAIL FROM:<bounce@{dom}>\r\n".encode(), b"250")
    cmd(f"RCPT TO:<{USER}>\r\n".encode(), b"250")
    cmd(b"DATA\r\n", b"354")
    s.sendall(msg)
    time.sleep(max(0.0, t_mail + transfer - time.monotonic()))
    t0 = time.monotonic()
    s.sendall(b".\r\n")
    cmd(None, b"250")
    t1 = time.monotonic()
    cmd(b"QUIT\r\n", b"221")
    s.close()
    return t1 - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--transfer", type=float, default=0.3)
    ap.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="netjes-eom-"))
    key, pub = rsa_key_pair(work)
    ns = NsdServer(zones(a.n, pub)).start()
    slow = FakeDnsServer(upstream=ns, delay=a.delay).start()
    (work / "srv").mkdir()
    srv = d.Daemon(work / "srv", hostname="mx.example.test", users=[USER],
                   nameserver=slow.addr,
                   extra="[limits]\nbanner_delay = 0\n")
    try:
        srv.start()
        lst = srv.listener("smtp")
        waits = []
        for i in range(a.n):
            dom, msg = message(i, key)
            waits.append(send(lst.address, lst.port, dom, msg,
                              a.transfer))
        waits.sort()
        p90 = waits[min(len(waits) - 1, int(len(waits) * 0.9))]
        print(f"BENCH eom delay_ms={a.delay * 1000:.0f} "
              f"transfer_ms={a.transfer * 1000:.0f} n={a.n} "
              f"median_ms={statistics.median(waits) * 1000:.0f} "
              f"p90_ms={p90 * 1000:.0f}")
    finally:
        srv.stop()
        slow.stop()
        ns.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
