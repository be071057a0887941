"""Authentication checks inside the SMTP session, end to end.

The real daemon gets its DNS from a real nsd on loopback (the
dns_server fixture) that publishes, for auth.example, everything a
well-run sender has: SPF for 127.0.0.5, a DKIM key, a DMARC record with
p=reject, and PTR/A records for 127.0.0.5; quar.example asks for
p=quarantine. Messages are signed by Debian's python3-dkim (dkimpy),
sent by smtplib or a raw socket bound to 127.0.0.5, read back from the
Maildir with Python's mailbox module, and their Authentication-Results
header is parsed by python3-authres. The SERVFAIL case uses the
dnslib-based fake_dns fixture.
"""

import mailbox
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import authres
import dkim
import pytest
from dnslib import RCODE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import rsa_key_pair, txt_strings  # noqa: E402

HOST = "mx.example.test"
DOMAIN = "auth.example"
QUAR = "quar.example"
SELECTOR = "sel"
CLIENT_IP = "127.0.0.5"
USERS = ["alice@example.test"]


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    return rsa_key_pair(tmp_path_factory.mktemp("sessionkey"))


@pytest.fixture
def dns(dns_server, rsa_key):
    _, pub = rsa_key
    zone = (f"ns IN A 127.0.0.1\n"
            f"@ IN TXT \"v=spf1 ip4:{CLIENT_IP} -all\"\n"
            f"mail IN A {CLIENT_IP}\n"
            f"mail IN TXT \"v=spf1 a -all\"\n"
            f"_dmarc IN TXT \"v=DMARC1; p=reject; adkim=r; aspf=r\"\n"
            f"{SELECTOR}._domainkey IN TXT "
            f"{txt_strings('v=DKIM1; k=rsa; p=' + pub)}\n")
    quar = ("@ IN TXT \"v=spf1 -all\"\n"
            "_dmarc IN TXT \"v=DMARC1; p=quarantine\"\n")
    rev = f"5 IN PTR mail.{DOMAIN}.\n"
    other = "@ IN TXT \"v=spf1 -all\"\n"
    return dns_server({DOMAIN: zone, QUAR: quar,
                       "0.0.127.in-addr.arpa": rev, "other.example": other})


def start(tmp_path, nameserver, extra=""):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS,
                   nameserver=nameserver, extra=extra)
    return srv.start()


@pytest.fixture
def server(tmp_path, dns):
    srv = start(tmp_path, dns.addr)
    yield srv
    srv.assert_clean_stop()


def message(from_domain, msgid, extra=""):
    return (f"From: Sender <sender@{from_domain}>\r\n"
            f"To: <alice@example.test>\r\n"
            f"Subject: session checks\r\n"
            f"Message-ID: <{msgid}>\r\n"
            f"{extra}"
            f"\r\n"
            f"Hello from {from_domain}.\r\n").encode()


def signed(rsa_key, msgid, extra=""):
    key, _ = rsa_key
    msg = message(DOMAIN, msgid)
    sig = dkim.sign(msg, SELECTOR.encode(), DOMAIN.encode(), key,
                    include_headers=[b"from", b"to", b"subject"])
    if extra:
        # added after signing, as a forger on the path would
        return sig + extra.encode() + msg
    return sig + msg


def send(srv, mail_from, msg, helo=f"mail.{DOMAIN}", wait_iprev=False):
    lst = srv.listener("smtp")
    with smtplib.SMTP(lst.address, lst.port, timeout=30,
                      source_address=(CLIENT_IP, 0)) as c:
        c.ehlo(helo)
        if wait_iprev:
            # the name is looked up at connect; Received carries it
            # when it is known by DATA
            srv.wait_log("event=smtp.iprev")
        assert c.mail(mail_from)[0] == 250
        assert c.rcpt("alice@example.test")[0] == 250
        try:
            return c.data(msg)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error


def delivered(srv, folder=None, want=1, timeout=d.IO_TIMEOUT):
    path = srv.maildir("alice@example.test", folder)
    deadline = time.monotonic() + timeout
    while True:
        msgs = []
        if (path / "new").is_dir():
            msgs = list(mailbox.Maildir(str(path), create=False))
        if len(msgs) >= want or time.monotonic() > deadline:
            return msgs
        time.sleep(0.05)


def results(msg):
    """Our one AR header, parsed; it must sit right above Received."""
    keys = [k.lower() for k in msg.keys()]
    assert keys.count("authentication-results") == 1, keys
    ar = keys.index("authentication-results")
    assert keys[ar + 1] == "received", keys
    assert keys.index("delivered-to") < ar
    text = "Authentication-Results: " + " ".join(
        msg["Authentication-Results"].split())
    parsed = authres.AuthenticationResultsHeader.parse(text)
    assert parsed.authserv_id == HOST
    got = {}
    for r in parsed.results:
        helo = any(p.name == "helo" for p in r.properties)
        got.setdefault(r.method + ("/helo" if helo else ""), r.result)
    return got, parsed


def results_ours(msg):
    """Our AR header (the first one) when others follow it."""
    keys = [k.lower() for k in msg.keys()]
    ar = keys.index("authentication-results")
    assert keys[ar + 1] == "received"
    text = "Authentication-Results: " + " ".join(msg.get_all(
        "Authentication-Results")[0].split())
    parsed = authres.AuthenticationResultsHeader.parse(text)
    assert parsed.authserv_id == HOST
    return {r.method: r.result for r in parsed.results}, parsed


def queue_empty(srv):
    q = srv.data_dir / "spool" / "queue"
    return not q.is_dir() or list(q.iterdir()) == []


# ---- the cases ------------------------------------------------------------

def test_signed_message_passes_with_one_header_above_received(server,
                                                              rsa_key):
    code, text = send(server, f"bounce@{DOMAIN}", signed(rsa_key, "p@t"),
                      wait_iprev=True)
    assert code == 250, text
    msgs = delivered(server)
    assert len(msgs) == 1
    assert msgs[0]["Received"].startswith(
        f"from mail.{DOMAIN} (mail.{DOMAIN} [{CLIENT_IP}])")
    got, parsed = results(msgs[0])
    assert got["spf"] == "pass"
    assert got["spf/helo"] == "pass"
    assert got["dkim"] == "pass"
    assert got["dmarc"] == "pass"
    assert got["iprev"] == "pass"
    # no ARC headers: arc=none says the chain was looked for
    assert got["arc"] == "none"
    dk = [r for r in parsed.results if r.method == "dkim"][0]
    props = {p.type + "." + p.name: p.value for p in dk.properties}
    assert props["header.d"] == DOMAIN
    server.wait_log("event=smtp.auth_checked")
    log = server.stderr()
    assert "spf=pass" in log and "dmarc=pass" in log
    assert "action=accept" in log
    # one line per message, with everything about it
    server.wait_log("event=smtp.message ")
    line = [ln for ln in server.stderr().splitlines()
            if "event=smtp.message " in ln][0]
    for part in ("result=queued", f"client={CLIENT_IP}",
                 f"client_name=mail.{DOMAIN}", f"helo=mail.{DOMAIN}",
                 f"from=<bounce@{DOMAIN}>", "rcpts=<alice@example.test>",
                 "message_id=<p@t>", "action=accept", "score=0.0",
                 "decided_by=-", "tls=no"):
        assert part in line, (part, line)
    assert "SPF_PASS" in line and "DKIM_VALID" in line
    assert "DMARC_PASS" in line
    # the verdict's headers, SpamAssassin's way, below ours
    assert msgs[0]["X-Spam-Status"].startswith("No, score=0.0 required=5.0")
    assert msgs[0]["X-Spam-Score"] == "0.0"
    assert msgs[0]["X-Spam-Flag"] is None


def test_header_section_bigger_than_the_early_copy(server, rsa_key):
    """The headers stage runs as soon as the header section is in, from
    a copy of at most 256 KiB; a bigger section is checked at the end of
    data instead, with the same results."""
    pad = "".join(f"X-Pad-{i}: {'p' * 90}\r\n" for i in range(3000))
    code, text = send(server, f"bounce@{DOMAIN}",
                      signed(rsa_key, "big@t", extra=pad))
    assert code == 250, text
    msg = delivered(server)[0]
    got, _ = results(msg)
    # the pad is not among the signed fields (h=from:to:subject): the
    # signature holds, and DMARC aligns through it and SPF
    assert got == {"iprev": "pass", "spf": "pass", "spf/helo": "pass",
                   "dkim": "pass", "dmarc": "pass", "arc": "none"}
    assert msg["X-Pad-2999"] == "p" * 90


def test_dmarc_reject_refuses_at_end_of_data(server):
    code, text = send(server, "someone@other.example",
                      message(DOMAIN, "r@t"), helo="liar.other.example")
    assert code == 550, text
    assert text.startswith(b"5.7.1 ")
    assert DOMAIN.encode() in text
    server.wait_log("action=reject")
    server.wait_log("event=smtp.message ")
    line = [ln for ln in server.stderr().splitlines()
            if "event=smtp.message " in ln][0]
    assert "result=refused" in line and "action=reject" in line
    assert "decided_by=DMARC_POLICY_REJECT" in line
    assert "message_id=<r@t>" in line
    assert delivered(server, timeout=0.5) == []
    assert queue_empty(server)
    assert list((server.data_dir / "spool" / "tmp").iterdir()) == []


def test_score_thresholds_and_exempt_recipients(tmp_path, dns):
    """[verdict]: with DMARC only monitored, the score alone decides; a
    refusal names the score and the finding that added most; an exempt
    recipient gets the message, marked, instead."""
    msg = message(DOMAIN, "t@t")
    srv = start(tmp_path, dns.addr, extra="[auth]\ndmarc_policy = monitor\n"
                "[verdict]\nreject = 2.5\n")
    try:
        code, text = send(srv, "someone@other.example", msg,
                          helo="liar.other.example")
        assert code == 550, text
        assert text.startswith(b"5.7.1 Message rejected: score ")
        assert b"reached the reject threshold 2.5" in text
        assert b"(DMARC_POLICY_REJECT +2.0)" in text
        srv.wait_log("action=reject")
        assert "decided_by=DMARC_POLICY_REJECT" in srv.stderr()
        assert delivered(srv, timeout=0.5) == []
        assert queue_empty(srv)
    finally:
        srv.assert_clean_stop()

    srv = start(tmp_path, dns.addr, extra="[auth]\ndmarc_policy = monitor\n"
                "[verdict]\nadd_header = 1\nreject = 2.5\n"
                "exempt = alice\n")
    try:
        code, text = send(srv, "someone@other.example", msg,
                          helo="liar.other.example")
        assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        assert msgs[0]["X-Spam-Flag"] == "YES"
        status = " ".join(msgs[0]["X-Spam-Status"].split())
        assert status.startswith("Yes, score=")
        assert "required=1.0" in status
        assert "DMARC_POLICY_REJECT" in status and "SPF_FAIL" in status
        assert float(msgs[0]["X-Spam-Score"]) >= 2.5
        srv.wait_log("action=add_header")
        assert "alice@example.test is never refused" in srv.stderr()
    finally:
        srv.assert_clean_stop()


def test_dmarc_quarantine_goes_to_junk(server):
    code, text = send(server, "someone@other.example",
                      message(QUAR, "q@t"), helo="liar.other.example")
    assert code == 250, text
    msgs = delivered(server, folder="Junk")
    assert len(msgs) == 1
    got, _ = results(msgs[0])
    assert got["dmarc"] == "fail"
    assert delivered(server, timeout=0.2) == []


def test_monitor_policy_delivers_to_inbox(tmp_path, dns):
    srv = start(tmp_path, dns.addr, extra="[auth]\ndmarc_policy = monitor\n")
    try:
        code, text = send(srv, "someone@other.example",
                          message(DOMAIN, "m@t"), helo="liar.other.example")
        assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        got, parsed = results(msgs[0])
        assert got["dmarc"] == "fail"
        assert got["spf"] == "fail"
        dm = [r for r in parsed.results if r.method == "dmarc"][0]
        props = {p.type + "." + p.name: p.value for p in dm.properties}
        assert props["header.from"] == DOMAIN
        assert props["policy.applied-disposition"] == "reject"
        assert delivered(srv, folder="Junk", timeout=0.2) == []
    finally:
        srv.assert_clean_stop()


def test_forged_authentication_results_are_neutralised(server, rsa_key):
    forged = (f"Authentication-Results: {HOST.upper()};\r\n"
              f"\tdkim=pass header.d=paypal.example; dmarc=pass\r\n")
    foreign = "Authentication-Results: relay.other.example; spf=pass\r\n"
    code, text = send(server, f"bounce@{DOMAIN}",
                      signed(rsa_key, "f@t", extra=forged + foreign))
    assert code == 250, text
    msgs = delivered(server)
    assert len(msgs) == 1
    msg = msgs[0]
    ars = msg.get_all("Authentication-Results")
    ours = [a for a in ars if a.strip().lower().startswith(HOST)]
    assert len(ours) == 1, ars
    assert "paypal.example" not in ours[0]
    assert any("relay.other.example" in a for a in ars)
    renamed = msg.get_all("X-Forged-Authentication-Results")
    assert renamed and "paypal.example" in renamed[0]
    got, _ = results_ours(msg)
    assert got["dkim"] == "pass"
    server.wait_log("event=smtp.forged_authres")


def test_incoming_spam_headers_are_set_aside(server, rsa_key):
    """A sender's own verdict (X-Spam-Flag: NO ...) must not sit beside
    ours where a Sieve rule reads it: it gets the prefix X-Original-."""
    forged = ("X-Spam-Flag: NO\r\nX-Spam-Score: -100\r\n"
              "X-Spam-Status: No, score=-100.0 tests=ALL_TRUSTED\r\n")
    code, text = send(server, "someone@other.example",
                      message(DOMAIN, "xs@t", extra=forged),
                      helo="liar.other.example")
    assert code == 550, text            # DMARC p=reject: refused anyway
    code, text = send(server, "someone@other.example",
                      message(QUAR, "xs2@t", extra=forged),
                      helo="liar.other.example")
    assert code == 250, text
    msg = delivered(server, folder="Junk")[0]
    assert msg.get_all("X-Spam-Flag") == ["YES"]
    assert len(msg.get_all("X-Spam-Score")) == 1
    assert msg.get_all("X-Spam-Status")[0].startswith("Yes, score=")
    assert msg["X-Original-X-Spam-Flag"] == "NO"
    assert msg["X-Original-X-Spam-Score"] == "-100"
    assert msg["X-Original-X-Spam-Status"].startswith("No, score=-100.0")


def test_dns_servfail_never_rejects(tmp_path, fake_dns):
    fake = fake_dns(default=RCODE.SERVFAIL)
    srv = start(tmp_path, fake.addr)
    try:
        code, text = send(srv, "someone@other.example",
                          message(DOMAIN, "s@t"), helo="liar.other.example")
        assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        got, _ = results(msgs[0])
        assert got["dmarc"] == "temperror"
        assert got["spf"] == "temperror"
        assert fake.queries > 0
    finally:
        srv.assert_clean_stop()


def test_dns_deadline_bounds_the_checks(tmp_path, dns, fake_dns, rsa_key):
    """The PTR, the DKIM key and the DMARC record never get an answer:
    the message still goes on after one message deadline, shorter than
    one lookup's timeout, with temperror for exactly those checks, while
    SPF (answered) passes."""
    deadline = 1.5
    fake = fake_dns(upstream=dns, silent=[
        "5.0.0.127.in-addr.arpa", f"{SELECTOR}._domainkey.{DOMAIN}",
        f"_dmarc.{DOMAIN}"])
    srv = start(tmp_path, fake.addr,
                extra=f"[dns]\nnameserver = {fake.addr}\ntimeout = 8\n"
                      f"message_deadline = {deadline}\n")
    try:
        t0 = time.monotonic()
        code, text = send(srv, f"someone@mail.{DOMAIN}",
                          signed(rsa_key, "dl@t"))
        took = time.monotonic() - t0
        assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        got, parsed = results(msgs[0])
        assert got["spf"] == "pass"
        assert got["iprev"] == "temperror"
        assert got["dkim"] == "temperror"
        assert got["dmarc"] == "temperror"
        # each of them says why (python3-authres drops comments)
        text = " ".join(msgs[0]["Authentication-Results"].split())
        for part in text.split(";")[1:]:
            if part.split("=")[0].strip() in ("iprev", "dkim", "dmarc"):
                assert "deadline of 1.5 s" in part, part
        # a bound, not a measurement: one deadline, not a sum of
        # 8-second timeouts
        assert took < 2 * deadline, took
    finally:
        srv.assert_clean_stop()


def test_trusted_network_is_not_checked(tmp_path, dns):
    srv = d.Daemon(tmp_path, hostname=HOST, users=USERS, nameserver=dns.addr)
    plain = srv.config_text
    srv.config_text = lambda: plain().replace(
        "log_level = debug",
        "log_level = debug\ntrusted_networks = 127.0.0.0/8")
    srv.start()
    try:
        code, text = send(srv, "someone@other.example",
                          message(DOMAIN, "t@t"), helo="liar.other.example")
        assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        assert msgs[0].get_all("Authentication-Results") is None
        assert "event=smtp.auth_checked" not in srv.stderr()
        assert msgs[0]["X-Spam-Status"] is None
        srv.wait_log("event=smtp.message ")
        line = [ln for ln in srv.stderr().splitlines()
                if "event=smtp.message " in ln][0]
        assert "result=queued" in line and "action=accept" in line
        assert ('reason="the client is in trusted_networks: not '
                'filtered"') in line
    finally:
        srv.assert_clean_stop()


def test_pipelined_messages_keep_their_order(server, rsa_key):
    """Three messages in one pipelined stream: pass, reject, pass. The end
    of each message and the next transaction's commands go in one write,
    so the server holds them while the checks run."""
    bodies = [signed(rsa_key, "one@t"), message(DOMAIN, "two@t"),
              signed(rsa_key, "three@t")]
    senders = [f"bounce@{DOMAIN}", "someone@other.example",
               f"bounce@{DOMAIN}"]

    def commands(i):
        return (f"MAIL FROM:<{senders[i]}>\r\n"
                f"RCPT TO:<alice@example.test>\r\nDATA\r\n").encode()

    lst = server.listener("smtp")
    c = d.SmtpLine(socket.create_connection(
        (lst.address, lst.port), timeout=30, source_address=(CLIENT_IP, 0)))
    try:
        assert c.reply().startswith("220 ")
        c.send(f"EHLO mail.{DOMAIN}\r\n")
        while c.reply()[3:4] == "-":
            pass
        c.send(commands(0))
        assert [c.reply()[:3] for _ in range(3)] == ["250", "250", "354"]
        for i, body in enumerate(bodies):
            more = i + 1 < len(bodies)
            c.send(body + b".\r\n" + (commands(i + 1) if more else b""))
            end = c.reply()
            assert end.startswith("550 5.7.1 " if i == 1 else
                                  "250 2.0.0 Ok: queued as "), (i, end)
            if more:
                assert [c.reply()[:3] for _ in range(3)] == \
                    ["250", "250", "354"]
        assert c.cmd("QUIT").startswith("221")
    finally:
        c.close()
    msgs = delivered(server, want=2)
    assert sorted(m["Message-ID"] for m in msgs) == ["<one@t>", "<three@t>"]
    for m in msgs:
        got, _ = results(m)
        assert got["dmarc"] == "pass"


def test_authenticated_submission_is_not_checked(tmp_path, dns):
    """A logged-in user's mail is ours, not inbound: no checks, no AR
    header (a DMARC reject domain in From is not refused), and Received
    names the account."""
    srv = d.Daemon(tmp_path, hostname=HOST, nameserver=dns.addr)
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([d.netjes_bin(), "user", "add", "alice@example.test",
                        "--users-file", str(srv.data_dir / "users")],
                       input="alice pw 1\n", capture_output=True, text=True,
                       env=d.sanitizer_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    srv.start()
    try:
        lst = srv.listener("submission")
        with smtplib.SMTP(lst.address, lst.port, timeout=30,
                          source_address=(CLIENT_IP, 0)) as c:
            c.ehlo("laptop.example")
            c.starttls(context=d.insecure_context())
            c.ehlo("laptop.example")
            c.login("alice@example.test", "alice pw 1")
            # not hers: refused (553), her own address goes
            assert c.mail("someone@other.example")[0] == 553
            c.rset()
            assert c.mail("alice@example.test")[0] == 250
            assert c.rcpt("alice@example.test")[0] == 250
            # her own address in From, too (others get 550 5.7.1)
            code, text = c.data(message(DOMAIN, "a@t").replace(
                f"sender@{DOMAIN}".encode(), b"alice@example.test"))
            assert code == 250, text
        msgs = delivered(srv)
        assert len(msgs) == 1
        assert msgs[0].get_all("Authentication-Results") is None
        received = " ".join(msgs[0]["Received"].split())
        assert "(authenticated as alice@example.test)" in received
        assert "with ESMTPSA" in received
        assert "event=smtp.auth_checked" not in srv.stderr()
        assert msgs[0]["X-Spam-Status"] is None
        # its line says why nothing judged it, and that it went over TLS
        srv.wait_log("event=smtp.message ")
        line = [ln for ln in srv.stderr().splitlines()
                if "event=smtp.message " in ln][0]
        assert "result=queued" in line and "action=accept" in line
        assert ('reason="sent by our user alice@example.test (logged in): '
                'not filtered"') in line
        assert "tls=TLSv1." in line and "symbols=-" in line
    finally:
        srv.assert_clean_stop()
