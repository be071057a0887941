"""Postfix as the sending MTA in front of netjes.

A private Postfix instance (tests/lib/postfix.py: its own config, queue
and log, never /etc/postfix or the system queue) takes messages from
smtplib on its loopback smtpd and relays them to a real `netjes serve`
(relayhost = [127.0.0.1]:PORT) with STARTTLS against netjes'
self-signed certificate (smtp_tls_security_level = may). The messages
are read back from netjes' Maildir with Python's mailbox module and
matched with what Postfix logged: every message arrives exactly once
with its body intact (8-bit and over 1 MB included), netjes' Received
header names Postfix's HELO and ESMTPS, Postfix logged status=sent with
netjes' queue id from "250 ... queued as", and a recipient netjes does
not know is refused at RCPT (550 5.1.1), so Postfix bounces it and
netjes never takes it.
"""

import hashlib
import mailbox
import re
import smtplib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
import postfix as pf  # noqa: E402

NETJES_HOST = "mx.example.test"
POSTFIX_HOST = "relay.postfix.test"
USERS = ["alice@example.test", "bob@example.test"]
WAIT = 90.0  # Postfix's queue manager and a sanitizer build, on a busy box


def message(msgid, to, body, extra=""):
    return (f"From: Bob <bob@example.test>\r\nTo: {to}\r\n"
            f"Subject: postfix interop {msgid}\r\n"
            f"Message-ID: <{msgid}>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
            f"{extra}\r\n").encode() + body


def large_body(size):
    """size bytes of distinct numbered 76-octet lines (no repeats, so a
    dropped, doubled or reordered line changes the digest)."""
    lines = []
    total = 0
    i = 0
    while total < size:
        line = f"{i:08d} " + hashlib.sha256(str(i).encode()).hexdigest()[:64]
        line = (line + "." * 76)[:76] + "\r\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines).encode()


EIGHT_BIT = ("Grüße aus Köln — naïve café, 東京, ½ € ünd ß.\r\n" * 40).encode()
LARGE = large_body(1_300_000)

# (message-id, envelope recipients, body, extra headers, MAIL options)
MESSAGES = [
    ("plain@pf", ["alice@example.test"], b"hello through postfix\r\n", "", []),
    ("8bit@pf", ["alice@example.test"], EIGHT_BIT,
     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
     "Content-Transfer-Encoding: 8bit\r\n", ["BODY=8BITMIME"]),
    ("large@pf", ["bob@example.test"], LARGE, "", []),
    ("both@pf", ["alice@example.test", "bob@example.test"],
     b"one copy each\r\n", "", []),
    # netjes knows alice, not nobody: one recipient delivered, one bounced
    ("mixed@pf", ["alice@example.test", "nobody@example.test"],
     b"alice gets this; nobody does not exist\r\n", "", []),
]


def send_to_postfix(inst, msgs):
    with smtplib.SMTP("127.0.0.1", inst.smtpd_port, timeout=30) as c:
        c.ehlo("client.example.test")
        for msgid, rcpts, body, extra, opts in msgs:
            to = ", ".join(f"<{r}>" for r in rcpts)
            refused = c.sendmail("bob@example.test", rcpts,
                                 message(msgid, to, body, extra),
                                 mail_options=opts)
            assert refused == {}, refused


def maildir(srv, addr):
    path = srv.maildir(addr)
    if not (path / "new").is_dir():
        return []
    md = mailbox.Maildir(str(path), create=False)
    return [(md.get_message(k), md.get_bytes(k)) for k in md.keys()]


def body_of(raw):
    """The body of a Maildir file, CRLF or LF, as CRLF lines."""
    raw = raw.replace(b"\r\n", b"\n")
    _, _, body = raw.partition(b"\n\n")
    return body.replace(b"\n", b"\r\n")


def settled(records, msgids):
    """Postfix gave every recipient of every message a final status."""
    by_id = {r.message_id: r for r in records.values() if r.message_id}
    for msgid, rcpts, *_ in MESSAGES:
        if f"<{msgid}>" not in msgids:
            continue
        rec = by_id.get(f"<{msgid}>")
        if rec is None:
            return False
        final = {x.to for x in rec.deliveries if x.status in
                 ("sent", "bounced")}
        if final != set(rcpts):
            return False
    return True


def start_pair(tmp, main=None):
    srv = d.Daemon(tmp, hostname=NETJES_HOST, users=USERS,
                   listeners=[d.Listener("smtp", "smtp")],
                   extra="[limits]\nbanner_delay = 0\n").start()
    inst = pf.PostfixInstance(
        myhostname=POSTFIX_HOST,
        relayhost=f"[127.0.0.1]:{srv.listener('smtp').port}", main=main)
    return srv, inst


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    """netjes behind Postfix, after every message in MESSAGES went through."""
    tmp = tmp_path_factory.mktemp("postfix")
    srv, inst = start_pair(tmp)
    try:
        inst.start()
        send_to_postfix(inst, MESSAGES)
        ids = {f"<{m[0]}>" for m in MESSAGES}
        recs = inst.wait_records(lambda r: settled(r, ids), WAIT,
                                 "Postfix to settle every recipient")
        # the bounce Postfix made for nobody@ goes to bob through netjes
        bounce_qids = [r.notification for r in recs.values()
                       if r.notification]
        assert len(bounce_qids) == 1, inst.log()
        recs = inst.wait_records(
            lambda r: any(x.status == "sent" for x in
                          r.get(bounce_qids[0], pf.Record("")).deliveries),
            WAIT, "the bounce to reach netjes")
        # netjes said 250 for every copy once it was spooled; wait until
        # its delivery runner put each one into the Maildir
        sent = sum(1 for r in recs.values() for x in r.deliveries
                   if x.status == "sent")
        srv.wait_log("event=deliver.ok", count=sent, timeout=WAIT)
        yield srv, inst, recs
    finally:
        inst.stop()
        inst.remove()
        srv.assert_clean_stop()


def by_msgid(msgs):
    out = {}
    for m, raw in msgs:
        out.setdefault(m["Message-ID"], []).append((m, raw))
    return out


def test_every_message_arrives_exactly_once(relayed):
    srv, _, _ = relayed
    alice = by_msgid(maildir(srv, "alice@example.test"))
    bob = by_msgid(maildir(srv, "bob@example.test"))
    want_alice = {f"<{m[0]}>" for m in MESSAGES if "alice@example.test" in m[1]}
    want_bob = {f"<{m[0]}>" for m in MESSAGES if "bob@example.test" in m[1]}
    for want, got in ((want_alice, alice), (want_bob, bob)):
        for msgid in want:
            assert len(got.get(msgid, [])) == 1, (msgid, sorted(got))
    # alice has nothing else; bob has the bounce besides his own
    assert set(alice) == want_alice
    assert set(bob) - want_bob and len(set(bob) - want_bob) == 1
    assert not srv.maildir("nobody@example.test").exists()


@pytest.mark.parametrize("msgid,addr,body", [
    ("<8bit@pf>", "alice@example.test", EIGHT_BIT),
    ("<large@pf>", "bob@example.test", LARGE),
    ("<plain@pf>", "alice@example.test", b"hello through postfix\r\n"),
])
def test_body_intact(relayed, msgid, addr, body):
    srv, _, _ = relayed
    [(m, raw)] = by_msgid(maildir(srv, addr))[msgid]
    got = body_of(raw)
    assert len(got) == len(body)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest()


def test_received_names_postfix_and_esmtps(relayed):
    srv, _, _ = relayed
    for m, _ in maildir(srv, "alice@example.test"):
        top = " ".join(m.get_all("Received")[0].split())
        assert top.startswith(f"Received: from {POSTFIX_HOST} ([127.0.0.1])") \
            or top.startswith(f"from {POSTFIX_HOST} ([127.0.0.1])"), top
        assert f"by {NETJES_HOST} (netjes) with ESMTPS id " in top, top
        assert "version=TLSv1." in top, top
        # and below it, Postfix's own Received for the smtplib hop
        below = " ".join(m.get_all("Received")[1].split())
        assert f"by {POSTFIX_HOST} (Postfix)" in below, below


def test_postfix_logged_sent_with_netjes_queue_id(relayed):
    srv, inst, recs = relayed
    assert "Untrusted TLS connection established to 127.0.0.1" in inst.log()
    delivered = {}
    for box in ("alice@example.test", "bob@example.test"):
        for m, _ in maildir(srv, box):
            top = " ".join(m.get_all("Received")[0].split())
            qid = re.search(r"with ESMTPS id (\S+)", top).group(1)
            delivered.setdefault(m["Message-ID"], set()).add(qid)
    for msgid, rcpts, *_ in MESSAGES:
        [rec] = [r for r in recs.values() if r.message_id == f"<{msgid}>"]
        for x in rec.deliveries:
            if x.to == "nobody@example.test":
                continue
            assert x.status == "sent", rec.lines
            assert x.relay.startswith("127.0.0.1[127.0.0.1]:"), rec.lines
            m = re.match(r"250 2\.0\.0 Ok: queued as (\S+)$", x.reply)
            assert m, x.reply
            # the id netjes gave Postfix is the id in its Received header
            assert m.group(1) in delivered[f"<{msgid}>"], (x.reply, delivered)
            assert "event=smtp.accepted session=" in srv.stderr()
            assert f"queue_id={m.group(1)} " in srv.stderr()


def test_unknown_recipient_refused_at_rcpt_and_bounced_by_postfix(relayed):
    srv, inst, recs = relayed
    [rec] = [r for r in recs.values() if r.message_id == "<mixed@pf>"]
    [bad] = [x for x in rec.deliveries if x.to == "nobody@example.test"]
    assert bad.status == "bounced", rec.lines
    assert bad.dsn == "5.1.1", rec.lines
    assert "said: 550 5.1.1" in bad.reply, bad.reply
    assert "(in reply to RCPT TO command)" in " ".join(rec.lines)
    assert rec.notification, rec.lines
    # the bounce is Postfix's: a DSN from its MAILER-DAEMON in bob's box
    bob = by_msgid(maildir(srv, "bob@example.test"))
    [dsn_id] = set(bob) - {"<large@pf>", "<both@pf>"}
    [(dsn, _)] = bob[dsn_id]
    assert dsn["From"].startswith("MAILER-DAEMON@" + POSTFIX_HOST) or \
        f"MAILER-DAEMON@{POSTFIX_HOST}" in dsn["From"], dsn["From"]
    assert dsn.get_content_type() == "multipart/report"
    assert "nobody@example.test" in dsn.as_string()
    # netjes refused at RCPT and never took a message for nobody: the
    # one copy it accepted of this message has one recipient, alice
    log = srv.stderr()
    assert "nobody@example.test" not in "".join(
        line for line in log.splitlines(True) if "event=deliver" in line)
    [(m, _)] = by_msgid(maildir(srv, "alice@example.test"))["<mixed@pf>"]
    assert "for <alice@example.test>" in " ".join(
        m.get_all("Received")[0].split())


def test_pipelined_quit_after_dot_over_starttls(tmp_path):
    """With PIPELINING, Postfix sends QUIT right behind the final dot:
    under STARTTLS netjes must still get the 250 for the dot onto the
    wire before it closes, or Postfix defers the message ("lost
    connection while sending end of data") and sends it again."""
    srv, inst = start_pair(tmp_path)
    try:
        inst.start()
        send_to_postfix(inst, MESSAGES[:1])
        recs = inst.wait_records(
            lambda r: any(x.to == "alice@example.test" for rec in r.values()
                          for x in rec.deliveries), WAIT,
            "Postfix's first delivery attempt")
        [x] = [x for rec in recs.values() for x in rec.deliveries]
        assert x.status == "sent", inst.log()
        assert x.reply.startswith("250 2.0.0 Ok: queued as "), x.reply
        srv.wait_log("event=deliver.ok", timeout=WAIT)
        assert len(maildir(srv, "alice@example.test")) == 1
    finally:
        inst.stop()
        inst.remove()
        srv.assert_clean_stop()
