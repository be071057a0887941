#!/usr/bin/python3
"""How long one big signed message stalls every other SMTP session.

netjes runs with its DNS on a real nsd (loopback) that publishes the
signing key. One client sends one message of --mb MiB with 8 DKIM
signatures by dkimpy (simple and relaxed body canonicalization, each
with and without l=, so 8 distinct body hashes); meanwhile a second
connection sends NOOP after NOOP and records each round trip. The figure
is the longest NOOP round trip from the start of DATA until the big
message's reply, plus a baseline: the longest round trip over as many
NOOPs with nothing else going on. One line:

    BENCH stall max_noop_ms=... p99_noop_ms=... baseline_max_ms=...
          data_reply_ms=... noops=... mb=...

Usage: stall_bench.py [--mb 30] (NETJES_BIN names the binary)
"""
import argparse
import shutil
import smtplib
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import dkim

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "lib"))
import daemon as d  # noqa: E402
from dnsserver import NsdServer  # noqa: E402
from mailtest import rsa_key_pair, txt_strings  # noqa: E402

DOMAIN = "bench.example"
SELECTOR = "sel"
USER = "alice@example.test"


def big_message(mb, key):
    line = (b"The quick brown fox jumps over the lazy dog; "
            b"0123456789 abcdefghijklmnop  \r\n")
    body = line * (mb * 1024 * 1024 // len(line))
    msg = (f"From: Sender <sender@{DOMAIN}>\r\nTo: <{USER}>\r\n"
           f"Subject: stall bench\r\nMessage-ID: <stall@{DOMAIN}>\r\n"
           f"\r\n").encode() + body
    sigs = b""
    for hc in (b"simple", b"relaxed"):
        for bc in (b"simple", b"relaxed"):
            for length in (False, True):
                sigs += dkim.sign(msg, SELECTOR.encode(), DOMAIN.encode(),
                                  key, canonicalize=(hc, bc),
                                  include_headers=[b"from", b"to",
                                                   b"subject"],
                                  length=length)
    return sigs + msg


class Noops(threading.Thread):
    """NOOP round trips on their own connection until stopped."""

    def __init__(self, addr, port):
        super().__init__(daemon=True)
        self.c = smtplib.SMTP(addr, port, timeout=60)
        self.c.ehlo("noop.example")
        self.samples = []	# (start, rtt)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            code, _ = self.c.noop()
            assert code == 250
            self.samples.append((t, time.monotonic() - t))

    def close(self):
        self.stop.set()
        self.join(60)
        self.c.quit()


def send_big(addr, port, msg):
    """DATA the message; returns (data start, reply time, code)."""
    s = socket.create_connection((addr, port), timeout=120)
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
    cmd(b"EHLO big.example\r\n", b"250")
    cmd(f"MAIL FROM:<sender@{DOMAIN}>\r\n".encode(), b"250")
    cmd(f"RCPT TO:<{USER}>\r\n".encode(), b"250")
    cmd(b"DATA\r\n", b"354")
    t0 = time.monotonic()
    s.sendall(msg.replace(b"\r\n.", b"\r\n..") + b".\r\n")
    r = cmd(None, b"")
    t1 = time.monotonic()
    cmd(b"QUIT\r\n", b"221")
    s.close()
    return t0, t1, r[:3].decode()


def stats(rtts):
    rtts = sorted(rtts)
    p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
    return rtts[-1] * 1000, p99 * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=30)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="netjes-stall-"))
    key, pub = rsa_key_pair(work)
    t = time.monotonic()
    msg = big_message(a.mb, key)
    print(f"signed {len(msg)} octets in {time.monotonic() - t:.1f} s",
          file=sys.stderr)
    ns = NsdServer({DOMAIN: (f"ns IN A 127.0.0.1\n"
                             f"@ IN TXT \"v=spf1 +all\"\n"
                             f"{SELECTOR}._domainkey IN TXT "
                             f"{txt_strings('v=DKIM1; k=rsa; p=' + pub)}\n")})
    ns.start()
    (work / "srv").mkdir()
    srv = d.Daemon(work / "srv", hostname="mx.example.test", users=[USER],
                   nameserver=ns.addr,
                   extra="[limits]\nbanner_delay = 0\n"
                         "message_size = 52428800\n")
    try:
        srv.start()
        lst = srv.listener("smtp")
        noops = Noops(lst.address, lst.port)
        noops.start()
        time.sleep(1.0)
        base = [r for _, r in noops.samples]
        t0, t1, code = send_big(lst.address, lst.port, msg)
        time.sleep(0.2)
        noops.close()
        during = [r for s, r in noops.samples if t0 <= s <= t1]
        bmax, _ = stats(base)
        mx, p99 = stats(during)
        print(f"BENCH stall max_noop_ms={mx:.1f} p99_noop_ms={p99:.1f} "
              f"baseline_max_ms={bmax:.1f} data_reply_ms="
              f"{(t1 - t0) * 1000:.0f} reply={code} noops={len(during)} "
              f"mb={a.mb}")
    finally:
        srv.stop()
        ns.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
