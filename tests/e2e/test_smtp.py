"""End-to-end tests of the SMTP dialogue: the real daemon on loopback.

Clients are Python's smtplib, swaks and raw sockets (for what a polite
client never sends: pipelined bytes after STARTTLS, smuggling attempts,
BDAT). Messages are read back from the Maildir with Python's mailbox
module. Every daemon is stopped with SIGTERM and must exit 0 with no
sanitizer report.
"""

import mailbox
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import ehlo  # noqa: E402

HOST = "mx.example.test"
USERS = ["alice@example.test", "bob@example.test", "john-doe@example.test"]
EXTRA = """
[limits]
banner_delay = 0
message_size = 20000
recipients = 5
errors = 50

[alias "info@example.test"]
to = alice, bob@example.test
"""


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS, extra=EXTRA).start()
    yield srv
    srv.assert_clean_stop()


def smtp(srv, name="smtp"):
    lst = srv.listener(name)
    c = smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT)
    return c


def message(msgid, body="hello\r\n", extra=""):
    return (f"From: <sender@remote.example>\r\nTo: <alice@example.test>\r\n"
            f"Subject: test\r\nMessage-ID: <{msgid}>\r\n{extra}\r\n{body}")


def maildir_ids(srv, addr, folder=None, timeout=d.IO_TIMEOUT, want=None):
    """Message-IDs in addr's Maildir, waiting until want are there."""
    path = srv.maildir(addr, folder)
    deadline = time.monotonic() + timeout
    while True:
        ids = []
        if (path / "new").is_dir():
            for m in mailbox.Maildir(str(path), create=False):
                ids.append(m["Message-ID"])
        if want is None or sorted(ids) == sorted(want) or \
                time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def raw(srv, name="smtp"):
    c = srv.connect(name)
    assert c.reply().startswith("220 ")
    return c


# ---- the basic path -------------------------------------------------------

def test_message_lands_in_maildir_exactly_once(server):
    with smtp(server) as c:
        c.ehlo("client.example")
        code, text = c.mail("sender@remote.example")
        assert code == 250
        assert c.rcpt("alice@example.test")[0] == 250
        code, text = c.data(message("once@test"))
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
    ids = maildir_ids(server, "alice@example.test", want=["<once@test>"])
    assert ids == ["<once@test>"]
    server.wait_log("event=deliver.ok")
    time.sleep(0.2)
    assert maildir_ids(server, "alice@example.test") == ["<once@test>"]
    msg = next(iter(mailbox.Maildir(str(server.maildir("alice@example.test")),
                                    create=False)))
    received = msg.get_all("Received")[0]
    assert "by mx.example.test (netjes) with ESMTP id" in received
    assert "for <alice@example.test>" in received
    assert msg["Delivered-To"] == "alice@example.test"
    # the spool is empty once delivered
    server.wait_log("op=remove")
    assert list((server.data_dir / "spool" / "queue").iterdir()) == []


def test_ehlo_lists_extensions(server):
    with raw(server) as c:
        lines = ehlo(c)
        assert lines[0] == f"250-{HOST} Hello client.example [127.0.0.1]"
        words = [line[4:] for line in lines[1:]]
        for ext in ("PIPELINING", "SIZE 20000", "8BITMIME",
                    "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN",
                    "STARTTLS"):
            assert ext in words
        assert not any(w.startswith("AUTH") for w in words)


def test_subaddress_and_alias(server):
    with smtp(server) as c:
        c.sendmail("s@remote.example", ["alice+lists@example.test"],
                   message("sub@test"))
        c.sendmail("s@remote.example", ["john-doe+x@example.test"],
                   message("dash@test"))
        c.sendmail("s@remote.example", ["info@example.test",
                                        "alice@example.test"],
                   message("alias@test"))
    assert sorted(maildir_ids(server, "alice@example.test",
                              want=["<sub@test>", "<alias@test>"])) == \
        ["<alias@test>", "<sub@test>"]
    assert maildir_ids(server, "bob@example.test", want=["<alias@test>"]) == \
        ["<alias@test>"]
    assert maildir_ids(server, "john-doe@example.test",
                       want=["<dash@test>"]) == ["<dash@test>"]


def test_postmaster_resolves_without_a_user(server):
    with smtp(server) as c:
        c.ehlo("client.example")
        c.mail("")
        assert c.rcpt("<postmaster>")[0] == 250
        assert c.rcpt("PostMaster@Example.TEST")[0] == 250
        assert c.data(message("pm@test"))[0] == 250
    assert maildir_ids(server, "postmaster@example.test",
                       want=["<pm@test>"]) == ["<pm@test>"]


def test_unknown_user_550_at_rcpt(server):
    with raw(server) as c:
        ehlo(c)
        assert c.cmd("MAIL FROM:<s@remote.example>") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<nobody@example.test>") == (
            "550 5.1.1 <nobody@example.test>: Recipient address rejected: "
            "User unknown")
        assert c.cmd("DATA") == "554 5.5.1 No valid recipients"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


RELAY_BATTERY = [
    "victim@remote.example",
    "victim%remote.example@example.test",
    "victim%remote.example@[127.0.0.1]",
    "remote.example!victim@example.test",
    "remote.example!victim",
    "@example.test:victim@remote.example",
    "@example.test,@other.example:victim@remote.example",
    '"victim@remote.example"@example.test',
    '"victim@remote.example"',
    "victim@[127.0.0.1]",
    "victim@[IPv6:::1]",
    "victim@remote.example.",
    "victim@REMOTE.example",
    "victim@example.test.remote.example",
    "victim@remote.example@example.test",
    "postmaster@remote.example",
    "alice@example.test@remote.example",
]


@pytest.mark.parametrize("rcpt", RELAY_BATTERY)
def test_relay_battery_nothing_relays(server, rcpt):
    with raw(server) as c:
        ehlo(c)
        assert c.cmd("MAIL FROM:<s@remote.example>") == "250 2.1.0 Ok"
        reply = c.cmd(f"RCPT TO:<{rcpt}>")
        assert reply[:1] in ("5",), reply
        assert c.cmd("QUIT") == "221 2.0.0 Bye"
    time.sleep(0.1)
    assert "event=smtp.accepted" not in server.stderr()


def test_bare_postmaster_is_accepted(server):
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<>")
        assert c.cmd("RCPT TO:<postmaster>") == "250 2.1.5 Ok"
        assert c.cmd("RCPT TO:<POSTMASTER>") == "250 2.1.5 Ok"


def test_relay_to_remote_denied_wording(server):
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        assert c.cmd("RCPT TO:<v@remote.example>") == (
            "550 5.7.1 <v@remote.example>: Relay access denied")


def test_trusted_network_gets_honest_no_outbound(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS, extra=EXTRA)
    plain = srv.config_text
    srv.config_text = lambda: plain().replace(
        "log_level = debug", "log_level = debug\ntrusted_networks = 127.0.0.0/8")
    srv.start()
    try:
        with raw(srv) as c:
            ehlo(c)
            c.cmd("MAIL FROM:<s@example.test>")
            assert c.cmd("RCPT TO:<v@remote.example>") == (
                "550 5.3.0 <v@remote.example>: Outbound delivery is not "
                "available yet")
            assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
    finally:
        srv.assert_clean_stop()


# ---- commands, limits, malformed input ---------------------------------------

def test_simple_commands(server):
    with raw(server) as c:
        assert c.cmd("MAIL FROM:<a@b.example>") == \
            "503 5.5.1 Send EHLO or HELO first"
        assert c.cmd("HELO client.example") == \
            f"250 {HOST} Hello client.example [127.0.0.1]"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("RSET") == "250 2.0.0 Ok"
        assert c.cmd("VRFY alice").startswith("252 2.5.0 ")
        assert c.cmd("EXPN staff") == "502 5.5.1 EXPN not available"
        assert c.cmd("HELP").startswith("214 2.0.0 ")
        assert c.cmd("RCPT TO:<alice@example.test>") == \
            "503 5.5.1 Need MAIL command"
        assert c.cmd("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
        assert c.cmd("MAIL FROM:<a@b.example>") == \
            "503 5.5.1 Nested MAIL command"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"
        assert c.at_eof()


def test_the_state_table(server):
    """Every refusal the command table gives by state, and that the
    session goes on after each one."""
    with raw(server) as c:
        # before EHLO
        for cmd in ("MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.test>"):
            assert c.cmd(cmd) == "503 5.5.1 Send EHLO or HELO first", cmd
        assert c.cmd("AUTH PLAIN") == "503 5.5.1 Send EHLO first"
        assert any("CHUNKING" in ln for ln in ehlo(c))
        # no transaction yet
        assert c.cmd("DATA") == "503 5.5.1 Need RCPT command"
        assert c.cmd("RCPT TO:<alice@example.test>") == \
            "503 5.5.1 Need MAIL command"
        assert c.cmd("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
        assert c.cmd("DATA") == "554 5.5.1 No valid recipients"
        # the transaction is still there
        assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
        assert c.cmd("MAIL FROM:<a@b.example>") == \
            "503 5.5.1 Nested MAIL command"
        # between BDAT chunks only BDAT, RSET, NOOP and QUIT
        c.send(b"BDAT 5\r\nhello")
        assert c.reply() == "250 2.0.0 5 octets received"
        only = "503 5.5.1 Only BDAT, RSET, NOOP or QUIT during a BDAT " \
            "transfer"
        for cmd in ("DATA", "MAIL FROM:<x@b.example>", "HELP", "EHLO x",
                    "STARTTLS", "VRFY alice"):
            assert c.cmd(cmd) == only, cmd
        # a line that is no command at all is the parser's 500, as ever
        assert c.cmd("FOOBAR").startswith("500 5.5.")
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("RSET") == "250 2.0.0 Ok"
        # and back to a fresh transaction
        assert c.cmd("MAIL FROM:<a@b.example>") == "250 2.1.0 Ok"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


@pytest.mark.parametrize("line,prefix", [
    ("FOOBAR", "500 5.5."),
    ("", "500 5.5."),
    ("MAIL FROM:alice@example.test", "501 5.1.7"),
    ("MAIL FROM:<a@b.example> BOGUS=1", "555 5.5.4"),
    ("RCPT TO:<>", "501 5.1.3"),
    ("X" * 1200, "500 5.5.2"),
    ("NOOP\nQUIT", "500 5.5.2"),
    ("NOOP\rQUIT", "500 5.5.2"),
    ("MAIL FROM:<a@b.example> SIZE=abc", "501 5."),
])
def test_malformed_command_and_session_continues(server, line, prefix):
    with raw(server) as c:
        ehlo(c)
        assert c.cmd(line).startswith(prefix)
        assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_size_refused_early_and_enforced(server):
    with raw(server) as c:
        ehlo(c)
        assert c.cmd("MAIL FROM:<s@remote.example> SIZE=20001") == (
            "552 5.3.4 Message size exceeds fixed limit of 20000 octets")
        assert c.cmd("MAIL FROM:<s@remote.example> SIZE=100") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
        assert c.cmd("DATA").startswith("354 ")
        c.send("Subject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 25 + ".\r\n")
        assert c.reply().startswith("552 5.3.4")
        assert c.cmd("NOOP") == "250 2.0.0 Ok"


def test_too_many_recipients(server):
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        for i in range(5):
            assert c.cmd("RCPT TO:<alice@example.test>") == "250 2.1.5 Ok"
        assert c.cmd("RCPT TO:<alice@example.test>") == \
            "452 4.5.3 Too many recipients"


def test_too_many_errors_421(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   extra="[limits]\nbanner_delay = 0\nerrors = 3\n").start()
    try:
        with raw(srv) as c:
            assert c.cmd("BOGUS").startswith("500 ")
            assert c.cmd("BOGUS").startswith("500 ")
            assert c.cmd("BOGUS").startswith("500 ")
            assert c.reply().startswith("421 4.7.0 ")
            assert c.at_eof()
    finally:
        srv.assert_clean_stop()


def test_early_talker_554(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   banner_delay=0.5).start()
    try:
        with srv.connect() as c:
            c.send("EHLO impatient.example\r\n")
            assert c.reply().startswith("554 5.5.0 ")
            assert c.at_eof()
        with srv.connect() as c:
            assert c.reply() == f"220 {HOST} ESMTP netjes"
            assert c.cmd("NOOP") == "250 2.0.0 Ok"
    finally:
        srv.assert_clean_stop()


def test_connections_per_ip(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   extra="[limits]\nbanner_delay = 0\nconnections_per_ip = 2\n"
                   ).start()
    try:
        a, b = raw(srv), raw(srv)
        with srv.connect() as c:
            assert c.reply().startswith("421 4.7.0 ")
        a.close()
        b.close()
    finally:
        srv.assert_clean_stop()


def test_connections_total(tmp_path):
    # three clients at three addresses: the per-address limit is never
    # reached, the total one is
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   extra="[limits]\nbanner_delay = 0\nconnections = 2\n"
                   "connections_per_ip = 5\n").start()
    lst = srv.listener("smtp")
    held = []
    try:
        for src in ("127.0.0.2", "127.0.0.3"):
            sock = socket.create_connection((lst.address, lst.port),
                                            timeout=d.IO_TIMEOUT,
                                            source_address=(src, 0))
            held.append(d.SmtpLine(sock))
            assert held[-1].reply().startswith("220 ")
        sock = socket.create_connection((lst.address, lst.port),
                                        timeout=d.IO_TIMEOUT,
                                        source_address=("127.0.0.4", 0))
        with d.SmtpLine(sock) as c:
            assert c.reply().startswith("421 4.7.0 ")
        held.pop().close()
        # a place is free again once a session ended
        d.wait_for(lambda: _banner_from(lst, "127.0.0.5"), 5,
                   "a session after one closed")
    finally:
        for c in held:
            c.close()
        srv.assert_clean_stop()


def _banner_from(lst, src):
    sock = socket.create_connection((lst.address, lst.port),
                                    timeout=d.IO_TIMEOUT,
                                    source_address=(src, 0))
    with d.SmtpLine(sock) as c:
        return c.reply().startswith("220 ")


# ---- pipelining, BDAT ------------------------------------------------------------

def test_pipelining_replies_in_order(server):
    with raw(server) as c:
        ehlo(c)
        c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>\r\n"
               "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
               "DATA\r\n")
        assert c.reply() == "250 2.1.0 Ok"
        assert c.reply() == "250 2.1.5 Ok"
        assert c.reply().startswith("550 5.1.1 ")
        assert c.reply() == "250 2.1.5 Ok"
        assert c.reply().startswith("354 ")
        # the message, then a whole second transaction, in one write
        c.send(message("pipe1@test") + ".\r\nMAIL FROM:<s@remote.example>\r\n"
               "RCPT TO:<bob@example.test>\r\nBDAT 10 LAST\r\n0123456789"
               "NOOP\r\n")
        assert c.reply().startswith("250 2.0.0 Ok: queued as ")
        assert c.reply() == "250 2.1.0 Ok"
        assert c.reply() == "250 2.1.5 Ok"
        assert c.reply().startswith("250 2.0.0 Ok: queued as ")
        assert c.reply() == "250 2.0.0 Ok"
    assert maildir_ids(server, "alice@example.test", want=["<pipe1@test>"]) == \
        ["<pipe1@test>"]


def test_swaks_pipelining(server):
    lst = server.listener("smtp")
    out = subprocess.run(
        ["swaks", "--server", f"{lst.address}:{lst.port}", "--pipeline",
         "--from", "s@remote.example", "--to", "bob@example.test",
         "--header", "Subject: swaks-pipelined", "--timeout", "10"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "queued as" in out.stdout
    d.wait_for(lambda: len(maildir_ids(server, "bob@example.test")) == 1,
               d.IO_TIMEOUT, "the message in bob's Maildir")
    box = mailbox.Maildir(str(server.maildir("bob@example.test")), create=False)
    assert [m["Subject"] for m in box] == ["swaks-pipelined"]


def test_bdat_chunks(server):
    body = message("bdat@test", body="line one\r\nline two\r\n")
    data = body.encode()
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        c.cmd("RCPT TO:<alice@example.test>")
        c.send(b"BDAT 20\r\n" + data[:20])
        assert c.reply() == "250 2.0.0 20 octets received"
        c.send(f"BDAT {len(data) - 20}\r\n".encode() + data[20:])
        assert c.reply() == f"250 2.0.0 {len(data) - 20} octets received"
        c.send(b"BDAT 0 LAST\r\n")
        assert c.reply().startswith("250 2.0.0 Ok: queued as ")
        # a BDAT without a transaction: refused, and its octets are eaten
        c.send(b"BDAT 9 LAST\r\nQUIT\r\nXYZ")
        assert c.reply().startswith("503 5.5.1 ")
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert maildir_ids(server, "alice@example.test", want=["<bdat@test>"]) == \
        ["<bdat@test>"]


# ---- STARTTLS ---------------------------------------------------------------------

def test_starttls_with_smtplib(server):
    with smtp(server) as c:
        c.ehlo("client.example")
        c.starttls(context=d.insecure_context())
        code, text = c.ehlo("client.example")
        assert b"STARTTLS" not in text
        c.sendmail("s@remote.example", ["alice@example.test"],
                   message("tls@test"))
    assert maildir_ids(server, "alice@example.test", want=["<tls@test>"]) == \
        ["<tls@test>"]
    m = next(iter(mailbox.Maildir(str(server.maildir("alice@example.test")),
                                  create=False)))
    assert "with ESMTPS" in m["Received"]
    assert "version=TLSv1.3 cipher=" in m["Received"]


def test_starttls_pipelined_commands_are_discarded(server):
    with raw(server) as c:
        ehlo(c)
        # the injected commands arrive in the same segment as STARTTLS
        c.send("STARTTLS\r\nMAIL FROM:<evil@remote.example>\r\n"
               "RCPT TO:<alice@example.test>\r\n")
        assert c.reply() == "220 2.0.0 Ready to start TLS"
        ctx = d.insecure_context()
        tls = ctx.wrap_socket(c.sock, server_hostname=HOST)
        t = d.SmtpLine(tls)
        # the session starts over: no HELO, no transaction
        assert t.cmd("RCPT TO:<alice@example.test>") == \
            "503 5.5.1 Send EHLO or HELO first"
        assert t.cmd("EHLO client.example").startswith("250-")
        while True:
            line = t.reply()
            if line[3:4] != "-":
                break
        assert t.cmd("RCPT TO:<alice@example.test>") == \
            "503 5.5.1 Need MAIL command"
        assert t.cmd("STARTTLS") == "503 5.5.1 TLS already active"
        t.close()


# ---- SMTP smuggling ------------------------------------------------------------------

SMUGGLE_ENDINGS = [
    b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r", b"\r\n.\n", b"\r.\r\n",
    b"\n.\r", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n",
]


@pytest.mark.parametrize("ending", SMUGGLE_ENDINGS)
def test_smuggling_battery(server, ending):
    """A fake end of data, then a second transaction: the only real end
    is the smuggled message's own CRLF.CRLF, so the server must answer
    exactly once for the data, then the NOOP, and never run the smuggled
    MAIL FROM."""
    smuggled = (b"MAIL FROM:<evil@remote.example>\r\n"
                b"RCPT TO:<bob@example.test>\r\nDATA\r\n"
                b"Message-ID: <smuggled@test>\r\n\r\nevil\r\n.\r\n")
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        c.cmd("RCPT TO:<alice@example.test>")
        assert c.cmd("DATA").startswith("354 ")
        c.send(b"Message-ID: <outer@test>\r\n\r\nhello" + ending + smuggled)
        reply = c.reply()
        if b"\r" in ending.replace(b"\r\n", b"") or \
                b"\n" in ending.replace(b"\r\n", b""):
            assert reply.startswith("554 5.6.0"), reply
        else:
            assert reply[:1] in ("2", "5"), reply
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
    time.sleep(0.3)
    log = server.stderr()
    assert "from=<evil@remote.example>" not in log
    assert maildir_ids(server, "bob@example.test") == []


def test_bare_lf_message_rejected(server):
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        c.cmd("RCPT TO:<alice@example.test>")
        c.cmd("DATA")
        c.send(b"Subject: x\r\n\r\nline\nother\r\n.\r\n")
        assert c.reply().startswith("554 5.6.0")


def test_dot_stuffing(server):
    with raw(server) as c:
        ehlo(c)
        c.cmd("MAIL FROM:<s@remote.example>")
        c.cmd("RCPT TO:<alice@example.test>")
        c.cmd("DATA")
        c.send(b"Message-ID: <dots@test>\r\n\r\n..leading dot\r\n.\r\n")
        assert c.reply().startswith("250 2.0.0 ")
    maildir_ids(server, "alice@example.test", want=["<dots@test>"])
    m = next(iter(mailbox.Maildir(str(server.maildir("alice@example.test")),
                                  create=False)))
    assert m.get_payload() == ".leading dot\n"
