"""End-to-end tests of the DATA/BDAT deadline and minimum rate (slowloris).

A raw-socket client trickles its message slower than [limits]
min_data_rate after data_rate_grace, or keeps sending fast enough but
past data_timeout; it must get 451 4.4.2, see the connection close, and
leave nothing behind: no file in the spool's tmp/ or queue/, no message
in the Maildir. A polite client on the same server is not disturbed.
The limits are small (grace 1 s, 1000 octets/s, deadline 3 s) so every
test ends within a few seconds.
"""

import mailbox
import select
import smtplib
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import ehlo  # noqa: E402

HOST = "mx.example.test"
USERS = ["alice@example.test"]
EXTRA = """
[limits]
banner_delay = 0
data_timeout = 3
min_data_rate = 1000
data_rate_grace = 1
"""
# a transfer that is refused must be refused by now (deadline + slack
# for a sanitizer build on a busy machine)
GIVE_UP = 8.0


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS, extra=EXTRA).start()
    yield srv
    srv.assert_clean_stop()


def transaction(srv):
    """A raw session with one recipient accepted."""
    c = srv.connect()
    assert c.reply().startswith("220 ")
    assert ehlo(c)[-1].startswith("250 ")
    assert c.cmd("MAIL FROM:<sender@remote.example>").startswith("250 ")
    assert c.cmd("RCPT TO:<alice@example.test>").startswith("250 ")
    return c


def send_until_reply(c, pieces, interval):
    """Send one piece every interval seconds until the server answers;
    returns (the reply line, seconds it took). A piece list that runs
    out before any reply fails the test."""
    start = time.monotonic()
    for piece in pieces:
        c.send(piece)
        r, _, _ = select.select([c.sock], [], [], interval)
        if r:
            return c.reply(), time.monotonic() - start
        if time.monotonic() - start > GIVE_UP:
            break
    pytest.fail("the server never answered the slow transfer")


def closed(c):
    """The server closed the connection (a reset counts: our last byte
    may have reached it after it stopped reading)."""
    try:
        return c.at_eof()
    except ConnectionResetError:
        return True


def trickle(n, byte=b"x"):
    return [byte] * n


def assert_nothing_kept(srv):
    spool = srv.data_dir / "spool"
    assert list((spool / "tmp").iterdir()) == []
    assert list((spool / "queue").iterdir()) == []
    assert not (srv.maildir("alice@example.test") / "new").exists() or \
        list((srv.maildir("alice@example.test") / "new").iterdir()) == []
    assert "event=deliver.ok" not in srv.stderr()


def maildir_ids(srv, want, timeout=d.IO_TIMEOUT):
    path = srv.maildir("alice@example.test")
    deadline = time.monotonic() + timeout
    while True:
        ids = []
        if (path / "new").is_dir():
            ids = [m["Message-ID"] for m in
                   mailbox.Maildir(str(path), create=False)]
        if sorted(ids) == sorted(want) or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def message(msgid, body="hello\r\n"):
    return (f"From: <sender@remote.example>\r\nTo: <alice@example.test>\r\n"
            f"Subject: test\r\nMessage-ID: <{msgid}>\r\n\r\n{body}")


def test_trickled_data_gets_451_and_leaves_nothing(server):
    with transaction(server) as c:
        assert c.cmd("DATA").startswith("354 ")
        c.send("Subject: slow\r\n\r\n")
        # 5 octets a second, far below 1000
        reply, took = send_until_reply(c, trickle(100), 0.2)
        assert reply == "451 4.4.2 Data transfer too slow, try again later"
        assert 0.8 <= took < GIVE_UP
        assert closed(c)
    server.wait_log("event=smtp.data_too_slow")
    line = [ln for ln in server.stderr().splitlines()
            if "event=smtp.data_too_slow" in ln][0]
    assert "ip=127.0.0.1 " in line and "limit=too-slow" in line
    assert " bytes=" in line and " seconds=" in line
    server.wait_log("reason=data-too-slow")
    assert_nothing_kept(server)


def test_bdat_chunk_that_never_arrives_gets_451(server):
    with transaction(server) as c:
        # a 5000-octet chunk of which only a trickle comes
        c.send(b"BDAT 5000 LAST\r\n" + b"Subject: slow\r\n\r\n")
        reply, took = send_until_reply(c, trickle(100), 0.2)
        assert reply == "451 4.4.2 Data transfer too slow, try again later"
        assert closed(c)
    server.wait_log("reason=data-too-slow")
    assert_nothing_kept(server)


def test_bdat_stalled_between_chunks_gets_451(server):
    # the clock runs from the first chunk to the last: a client that
    # sends one chunk and then only NOOPs is still too slow
    with transaction(server) as c:
        chunk = b"Subject: slow\r\n\r\nabcd\r\n"
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        assert c.reply() == f"250 2.0.0 {len(chunk)} octets received"
        replies = []
        start = time.monotonic()
        while time.monotonic() - start < GIVE_UP:
            c.send(b"NOOP\r\n")
            line = c.reply()
            replies.append(line)
            if not line.startswith("250 "):
                break
            time.sleep(0.2)
        assert replies[-1] == \
            "451 4.4.2 Data transfer too slow, try again later"
        assert closed(c)
    assert_nothing_kept(server)


def test_steady_but_too_long_gets_the_deadline_reply(server):
    with transaction(server) as c:
        assert c.cmd("DATA").startswith("354 ")
        c.send("Subject: long\r\n\r\n")
        # 100 octets every 50 ms: 2000 octets/s, twice the floor, for
        # longer than the 3 s deadline
        reply, took = send_until_reply(c, [b"y" * 98 + b"\r\n"] * 400, 0.05)
        assert reply == \
            "451 4.4.2 Data transfer took too long, try again later"
        assert 2.9 <= took < GIVE_UP
        assert closed(c)
    server.wait_log("limit=deadline")
    server.wait_log("reason=data-deadline")
    assert_nothing_kept(server)


def test_fast_client_unaffected_beside_a_slow_one(server):
    lst = server.listener("smtp")
    with transaction(server) as slow:
        assert slow.cmd("DATA").startswith("354 ")
        slow.send("Subject: slow\r\n\r\n")
        # while the slow one is still within its grace, a polite client
        # sends a message of 200 KB (far faster than the floor)
        with smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT) as s:
            s.ehlo("client.example")
            s.sendmail("sender@remote.example", ["alice@example.test"],
                       message("fast@test", body="z" * 998 + "\r\n") +
                       ("w" * 998 + "\r\n") * 200)
        reply, _ = send_until_reply(slow, trickle(100), 0.2)
        assert reply == "451 4.4.2 Data transfer too slow, try again later"
    assert maildir_ids(server, ["<fast@test>"]) == ["<fast@test>"]
    server.wait_log("op=remove")
    spool = server.data_dir / "spool"
    assert list((spool / "tmp").iterdir()) == []
    assert list((spool / "queue").iterdir()) == []
    assert server.stderr().count("event=smtp.data_too_slow") == 1


def test_slow_start_that_finishes_in_the_grace_is_delivered(server):
    # the rate counts only after the grace: a pause at the start is fine
    with transaction(server) as c:
        assert c.cmd("DATA").startswith("354 ")
        time.sleep(0.5)
        c.send(message("pause@test") + "\r\n" + "v" * 998 + "\r\n")
        # after the grace the average is far above 1000 octets/s
        c.send(("u" * 998 + "\r\n") * 3 + ".\r\n")
        assert c.reply().startswith("250 2.0.0 Ok: queued as ")
        assert c.cmd("QUIT").startswith("221 ")
    assert maildir_ids(server, ["<pause@test>"]) == ["<pause@test>"]
