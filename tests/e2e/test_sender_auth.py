"""End-to-end tests of the sender rules for logged-in users
(smtp/sender_auth.c, wired in session.c).

After AUTH a user may use as envelope sender and in From: only their own
address, its subaddresses and aliases that deliver to them: another
address gets 553 5.7.1 at MAIL, a From: naming one gets 550 5.7.1 at
the end of DATA and the message is dropped. The null sender (bounces)
is allowed only from [server] trusted_networks. Clients are smtplib on
the submission listener after STARTTLS, from their own loopback
addresses (one trusted, one not).
"""

import mailbox
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

HOST = "mx.example.test"
PASSWORDS = {"alice@example.test": "alice secret 1",
             "bob@example.test": "b0b-pw"}
TRUSTED_IP = "127.0.0.31"
OUTSIDE_IP = "127.0.0.32"
EXTRA = """
[limits]
banner_delay = 0
errors = 50

[alias "sales@example.test"]
to = alice@example.test
"""


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=EXTRA)
    plain = srv.config_text
    srv.config_text = lambda: plain().replace(
        "log_level = debug",
        f"log_level = debug\ntrusted_networks = {TRUSTED_IP}/32")
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    for user, pw in PASSWORDS.items():
        r = subprocess.run([d.netjes_bin(), "user", "add", user,
                            "--users-file", str(srv.data_dir / "users")],
                           input=pw + "\n", capture_output=True, text=True,
                           env=d.sanitizer_env(), timeout=60)
        assert r.returncode == 0, r.stderr
    srv.start()
    yield srv
    srv.assert_clean_stop()


def submission(srv, source_ip, user="alice@example.test"):
    """smtplib on the submission listener, after STARTTLS and AUTH."""
    lst = srv.listener("submission")
    c = smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT,
                     source_address=(source_ip, 0))
    c.ehlo("laptop.example")
    c.starttls(context=d.insecure_context())
    c.ehlo("laptop.example")
    if user is not None:
        code, _ = c.login(user, PASSWORDS[user])
        assert code == 235
    return c


def message(from_field, msgid):
    return (f"From: {from_field}\r\nTo: <bob@example.test>\r\n"
            f"Subject: sender rules\r\nMessage-ID: <{msgid}>\r\n\r\n"
            f"hello\r\n").encode()


def send(c, mail_from, body):
    """MAIL, RCPT bob, DATA: the (code, text) of the end of DATA."""
    code, text = c.mail(mail_from)
    assert code == 250, text
    code, text = c.rcpt("bob@example.test")
    assert code == 250, text
    try:
        return c.data(body)
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error


def delivered(srv, want):
    path = srv.maildir("bob@example.test")
    found = []

    def ready():
        found.clear()
        if (path / "new").is_dir():
            found.extend(mailbox.Maildir(str(path), create=False))
        return len(found) >= want
    d.wait_for(ready, d.IO_TIMEOUT, f"{want} message(s) for bob")
    return found


def test_null_sender_refused_outside_trusted_networks(server):
    with submission(server, OUTSIDE_IP) as c:
        assert c.mail("") == (553, b"5.7.1 <> not owned by user")
        # the session goes on, and her own address is fine
        assert c.mail("alice@example.test")[0] == 250
        c.rset()
        # another local user's address is not hers
        assert c.mail("bob@example.test") == \
            (553, b"5.7.1 <bob@example.test> not owned by user")
    log = server.stderr()
    assert "event=smtp.sender_refused" in log
    assert "user=alice@example.test from=<>" in log
    assert "user=alice@example.test from=<bob@example.test>" in log


def test_null_sender_allowed_from_trusted_network(server):
    with submission(server, TRUSTED_IP) as c:
        code, text = send(c, "", message("<alice@example.test>",
                                          "bounce@t"))
        assert code == 250, text
    msgs = delivered(server, 1)
    assert msgs[0]["Message-ID"] == "<bounce@t>"
    # trust does not stand in for a login on submission
    with submission(server, TRUSTED_IP, user=None) as c:
        assert c.mail("")[0] == 530


def test_from_header_must_be_owned(server):
    with submission(server, OUTSIDE_IP) as c:
        # the envelope is hers, the From: is bob's: refused, dropped
        code, text = send(c, "alice@example.test",
                          message("Bob <bob@example.test>", "forged@t"))
        assert (code, text) == \
            (550, b"5.7.1 <bob@example.test> not owned by user")
        # one foreign mailbox among hers is enough
        code, text = send(c, "alice@example.test", message(
            "<alice@example.test>, <someone@other.example>", "two@t"))
        assert (code, text) == \
            (550, b"5.7.1 <someone@other.example> not owned by user")
        # her own address, a subaddress of it, an alias that reaches her
        for from_field, msgid in (("Alice <alice@example.test>", "own@t"),
                                  ("<alice+lists@example.test>", "sub@t"),
                                  ("Sales <sales@example.test>", "alias@t")):
            code, text = send(c, "alice@example.test",
                              message(from_field, msgid))
            assert code == 250, (from_field, text)
    msgs = delivered(server, 3)
    assert sorted(m["Message-ID"] for m in msgs) == \
        ["<alias@t>", "<own@t>", "<sub@t>"]
    own = [m for m in msgs if m["Message-ID"] == "<own@t>"][0]
    assert own["From"] == "Alice <alice@example.test>"
    assert "(authenticated as alice@example.test)" in \
        " ".join(own["Received"].split())
    log = server.stderr()
    assert "header_from=bob@example.test" in log
    assert "header_from=someone@other.example" in log
