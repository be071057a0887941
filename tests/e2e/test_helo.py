"""End-to-end tests of the EHLO/HELO argument check (RFC 5321 4.1.1.1)
and of log escaping: the real daemon on loopback, raw clients for what
a polite client never sends, smtplib for the message path.

A refused name gets "501 5.5.2 Syntax: EHLO hostname" without being
echoed, and the session stays where it was. What the client sent goes
to the log only, escaped, so no network string can forge a log line or
reach a terminal as an escape sequence. The log is read back the way a
machine would: each line split into key=value pairs by shlex.
"""

import base64
import mailbox
import shlex
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

HOST = "mx.example.test"
USERS = ["alice@example.test"]
PASSWORD = "alice secret 1"
EXTRA = """
[limits]
banner_delay = 0
errors = 50
"""


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS, extra=EXTRA).start()
    yield srv
    srv.assert_clean_stop()


def raw(srv, name="smtp"):
    c = srv.connect(name)
    assert c.reply().startswith("220 ")
    return c


def reply(c, line):
    """The last line of the reply to one raw command (bytes allowed)."""
    if isinstance(line, str):
        line = line.encode()
    c.send(line + b"\r\n")
    r = c.reply()
    while r[3:4] == "-":
        r = c.reply()
    return r


def events(srv, name):
    """The key=value pairs of every log line of event name."""
    out = []
    for line in srv.stderr().splitlines():
        if f" event={name} " not in line + " ":
            continue
        # the timestamp, then key=value words; quoted values unescaped
        words = shlex.split(line.split(" ", 1)[1])
        out.append(dict(w.split("=", 1) for w in words))
    return out


def assert_log_is_inert(srv):
    """No byte in the log that a terminal or a line parser would obey."""
    raw_log = srv.stderr_path.read_bytes()
    for b in raw_log:
        assert b == 0x0a or (0x20 <= b < 0x7f) or b >= 0x80, \
            f"raw control byte {b:#x} in the log"
    # valid UTF-8 throughout, and every line one event of ours
    for line in raw_log.decode("utf-8").splitlines():
        words = shlex.split(line.split(" ", 1)[1])
        assert words[0].startswith("level=") and \
            words[1].startswith("event="), line
        assert words[1] != "event=forged", line


BAD_NAMES = [
    "bad..name.example",
    ".example.org",
    "-lead.example",
    "mail.example.org (hi)",
    "user@example.org",
    "a" * 64 + ".example",
    ("a." * 300) + "example",         # the review's overlong name
    "[300.1.1.1]",
    "[192.0.2.1",
    "[IPv6:2001:db8::1::2]",
    "[tag:a b]",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_name_501_not_echoed_then_retry(server, name):
    with raw(server) as c:
        r = reply(c, f"EHLO {name}")
        assert r == "501 5.5.2 Syntax: EHLO hostname"
        assert reply(c, f"HELO {name}") == "501 5.5.2 Syntax: HELO hostname"
        # still GREETED: no MAIL before a good EHLO
        assert reply(c, "MAIL FROM:<a@b.example>") == \
            "503 5.5.1 Send EHLO or HELO first"
        assert reply(c, "EHLO client.example").startswith("250 ")
        assert reply(c, "MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
        assert reply(c, "QUIT") == "221 2.0.0 Bye"
    got = [e for e in events(server, "smtp.helo_refused")]
    assert [e["verb"] for e in got] == ["EHLO", "HELO"]
    assert all(e["helo"] == name and e["reason"] for e in got)


def test_missing_and_8bit_names(server):
    with raw(server) as c:
        assert reply(c, "EHLO") == "501 5.5.2 Syntax: EHLO hostname"
        assert reply(c, b"EHLO b\xfccher.example") == \
            "501 5.5.2 Syntax: EHLO hostname"
        assert reply(c, "EHLO b\u00fccher.example") == \
            "501 5.5.2 Syntax: EHLO hostname"
        assert reply(c, "HELO client.example").startswith("250 ")
    got = events(server, "smtp.helo_refused")
    assert [(e["helo"], e["reason"]) for e in got] == [
        ("", "empty"),
        ("b\\xfccher.example", "8bit-character"),
        ("b\u00fccher.example", "8bit-character"),
    ]
    assert_log_is_inert(server)


def test_refused_ehlo_keeps_the_transaction(server):
    with raw(server) as c:
        assert reply(c, "EHLO client.example").startswith("250 ")
        assert reply(c, "MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
        assert reply(c, "EHLO bad..name") == \
            "501 5.5.2 Syntax: EHLO hostname"
        # the transaction goes on: an accepted EHLO would have reset it
        assert reply(c, "RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
        assert reply(c, "RSET") == "250 2.0.0 Ok"


GOOD_NAMES = [
    "client.example",
    "mail.example.org.",
    "localhost",
    "WORKSTATION",
    "MY_PC.corp.example",
    "xn--bcher-kva.example",
    "[127.0.0.1]",
    "[IPv6:::1]",
    "[IPv6:::ffff:127.0.0.1]",
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_valid_names_accepted(server, name):
    with raw(server) as c:
        r = reply(c, f"EHLO {name}")
        assert r.startswith("250 ") and r != "250 " and "501" not in r
        assert reply(c, f"HELO {name}") == \
            f"250 {HOST} Hello {name} [127.0.0.1]"
    assert events(server, "smtp.helo_refused") == []


LONGEST = ".".join(["a" * 63] * 4)   # 255 octets, the most we take


@pytest.mark.parametrize("name", ["[127.0.0.1]", LONGEST])
def test_received_carries_the_checked_name(server, name):
    lst = server.listener("smtp")
    with smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT) as c:
        assert c.ehlo(name)[0] == 250
        c.sendmail("s@remote.example", ["alice@example.test"],
                   "From: <s@remote.example>\r\nTo: <alice@example.test>\r\n"
                   "Subject: helo\r\nMessage-ID: <helo@test>\r\n\r\nhi\r\n")
    server.wait_log("event=deliver.ok")
    path = server.maildir("alice@example.test") / "new"
    data = next(path.iterdir()).read_bytes()
    # a Maildir file ends its lines in LF
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    # RFC 5322 2.1.1: no line over 998 octets; no 8-bit in the header
    assert all(len(ln) <= 998 for ln in head.split(b"\n"))
    assert all(b < 0x80 for b in head)
    box = mailbox.Maildir(str(server.maildir("alice@example.test")),
                          create=False)
    msg = next(iter(box))
    assert msg.get_all("Received")[0].startswith(f"from {name} (")
    assert f"smtp.helo={name}" in msg["Authentication-Results"] or \
        f'smtp.helo="{name}"' in msg["Authentication-Results"]


# ---- log escaping -----------------------------------------------------------

def test_escape_sequence_in_helo_is_escaped_in_log(server):
    with raw(server) as c:
        r = reply(c, b"EHLO a\x1b]0;pwn\x07\x1b[2J.example")
        assert r.startswith("500 5.5.2 ")
        assert "pwn" not in r
        r = reply(c, b"HELO x\x00level=error event=forged")
        assert r.startswith("500 5.5.2 ")
        assert reply(c, "EHLO client.example").startswith("250 ")
    got = events(server, "smtp.helo_refused")
    assert [(e["verb"], e["helo"], e["reason"]) for e in got] == [
        ("EHLO", "a\\x1b]0;pwn\\x07\\x1b[2J.example", "control-character"),
        ("HELO", "x\\x00level=error event=forged", "control-character"),
    ]
    assert_log_is_inert(server)


def test_quoted_local_part_cannot_forge_keys(server):
    forged = '"x> reason=ok verdict=ham"@remote.example'
    with raw(server) as c:
        assert reply(c, "EHLO client.example").startswith("250 ")
        assert reply(c, f"MAIL FROM:<{forged}>") == "250 2.1.0 Ok"
        assert reply(c, f"RCPT TO:<{forged}>").startswith("550 5.7.1 ")
    got = events(server, "smtp.rcpt_refused")
    assert len(got) == 1
    assert got[0]["to"] == f"<{forged}>"
    assert got[0]["reason"] == "relay-denied"
    assert "verdict" not in got[0]
    assert_log_is_inert(server)


def b64(raw_bytes):
    return base64.b64encode(raw_bytes).decode()


@pytest.fixture
def auth_server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=EXTRA)
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([d.netjes_bin(), "user", "add", USERS[0],
                        "--users-file", str(srv.data_dir / "users")],
                       input=PASSWORD + "\n", capture_output=True, text=True,
                       env=d.sanitizer_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    srv.start()
    yield srv
    srv.assert_clean_stop()


def test_auth_user_names_are_escaped_in_log(auth_server):
    srv = auth_server
    with srv.connect_tls("smtps") as c:
        assert c.reply().startswith("220 ")
        assert reply(c, "EHLO client.example").startswith("250 ")
        # a name that tries to close the value and add keys
        evil = b'x" result=ok user=alice@example.test'
        r = reply(c, "AUTH PLAIN " + b64(b"\0" + evil + b"\0pw"))
        assert r.startswith("535 ")
        # CR LF inside the base64: refused, and nothing of it forges
        r = reply(c, "AUTH PLAIN " + b64(
            b"\0bob\r\n2026-01-01T00:00:00.000Z level=info event=forged"
            b"\0pw"))
        assert r.startswith("501 ") or r.startswith("535 ")
        # ESC and 8-bit garbage in the name
        r = reply(c, "AUTH PLAIN " + b64(b"\0a\x1b[2J\xff\0pw"))
        assert r[:1] in ("5",)
    got = events(srv, "smtp.auth")
    assert len(got) == 3
    assert got[0]["user"] == evil.decode()
    assert got[0]["result"].startswith("unknown")
    # control bytes never pass SASL (sasl.c): refused before any lookup,
    # logged without the name
    assert [(e["user"], e["result"]) for e in got[1:]] == \
        [("", "error"), ("", "error")]
    assert_log_is_inert(srv)
