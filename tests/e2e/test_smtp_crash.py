"""Crash safety: SIGKILL the daemon during a load, restart it, and check
that every message that got a 250 is delivered exactly once.

Several client threads send 2400 messages with unique Message-IDs
(several per session) while the main thread kills the daemon with
SIGKILL four times and restarts it on the same ports and data directory
(four delivery workers run during the kills). Messages
whose 250 never arrived may or may not be delivered, but never twice.
Bounded: a fixed number of messages, a deadline for the whole run.
"""

import collections
import mailbox
import smtplib
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

HOST = "mx.example.test"
USERS = ["alice@example.test", "bob@example.test"]
THREADS = 8
PER_THREAD = 300
PER_SESSION = 5
KILLS = 4
DEADLINE = 150.0


def sender(srv, tid, acked, stop):
    lst = srv.listener("smtp")
    n = 0
    while n < PER_THREAD and not stop.is_set():
        try:
            with smtplib.SMTP(lst.address, lst.port, timeout=10) as c:
                c.ehlo("load.example")
                for _ in range(PER_SESSION):
                    if n >= PER_THREAD:
                        break
                    msgid = f"<t{tid}-m{n}@crash.test>"
                    rcpt = USERS[n % 2]
                    body = (f"From: <load@remote.example>\r\nTo: <{rcpt}>\r\n"
                            f"Subject: crash {tid} {n}\r\nMessage-ID: {msgid}"
                            f"\r\n\r\n" + "payload line\r\n" * 20)
                    n += 1
                    c.sendmail("load@remote.example", [rcpt], body)
                    acked.append((rcpt, msgid))
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)


def ids_in(srv, addr):
    path = srv.maildir(addr)
    if not (path / "new").is_dir():
        return []
    return [m["Message-ID"] for m in mailbox.Maildir(str(path), create=False)]


def test_sigkill_during_load_loses_and_duplicates_nothing(tmp_path):
    started = time.monotonic()
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   extra="[limits]\nbanner_delay = 0\n"
                   "connections_per_ip = 100\n").start()
    acked = []
    stop = threading.Event()
    threads = [threading.Thread(target=sender, args=(srv, i, acked, stop))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for k in range(KILLS):
            want = (k + 1) * THREADS * PER_THREAD // (KILLS + 2)
            d.wait_for(lambda: len(acked) >= want, 60, f"{want} messages")
            srv.kill()
            srv.start()
        for t in threads:
            t.join(timeout=DEADLINE)
        assert not any(t.is_alive() for t in threads)
        expected = collections.Counter(m for _, m in acked)
        assert len(expected) == len(acked)

        def all_there():
            have = set(ids_in(srv, USERS[0]) + ids_in(srv, USERS[1]))
            return all(m in have for m in expected)
        d.wait_for(all_there, 60, "every acknowledged message delivered")
        time.sleep(0.5)
        for addr in USERS:
            counts = collections.Counter(ids_in(srv, addr))
            dups = [m for m, c in counts.items() if c > 1]
            assert dups == [], f"delivered twice to {addr}: {dups[:5]}"
            for rcpt, m in acked:
                if rcpt == addr:
                    assert counts[m] == 1, m
        assert time.monotonic() - started < DEADLINE + 60
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        srv.assert_clean_stop()
