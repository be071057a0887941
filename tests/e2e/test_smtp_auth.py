"""End-to-end tests of SMTP AUTH (RFC 4954): PLAIN and LOGIN, offered
only under TLS (after STARTTLS or on the smtps listener) and only when
the users file exists.

The users file is made with `netjes user add` (password on stdin), so
the daemon checks real yescrypt hashes. Clients are smtplib, swaks and
a raw line client. Every daemon must stop cleanly on SIGTERM.
"""

import base64
import mailbox
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import ehlo  # noqa: E402

HOST = "mx.example.test"
PASSWORDS = {"alice@example.test": "alice secret 1",
             "bob@example.test": "b0b-pw"}
EXTRA = """
[limits]
banner_delay = 0
errors = 50
"""


def add_users(users_file, passwords):
    for user, pw in passwords.items():
        r = subprocess.run([d.netjes_bin(), "user", "add", user,
                            "--users-file", str(users_file)],
                           input=pw + "\n", capture_output=True, text=True,
                           env=d.sanitizer_env(), timeout=60)
        assert r.returncode == 0, r.stderr


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=EXTRA)
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    add_users(srv.data_dir / "users", PASSWORDS)
    srv.start()
    yield srv
    srv.assert_clean_stop()


def smtp_tls(srv):
    lst = srv.listener("smtp")
    c = smtplib.SMTP(lst.address, lst.port, timeout=d.IO_TIMEOUT)
    c.ehlo("client.example")
    c.starttls(context=d.insecure_context())
    c.ehlo("client.example")
    return c


def b64(s):
    return base64.b64encode(s.encode()).decode()


def plain(user, pw):
    return b64(f"\0{user}\0{pw}")


def message(msgid):
    return (f"From: <alice@example.test>\r\nTo: <bob@example.test>\r\n"
            f"Subject: auth\r\nMessage-ID: <{msgid}>\r\n\r\nhello\r\n")


def maildir_messages(srv, addr, want, timeout=d.IO_TIMEOUT):
    path = srv.maildir(addr)
    found = []

    def ready():
        found.clear()
        if (path / "new").is_dir():
            found.extend(mailbox.Maildir(str(path), create=False))
        return len(found) >= want
    d.wait_for(ready, timeout, f"{want} message(s) for {addr}")
    return found


# ---- not offered, not accepted without TLS ------------------------------------

def test_no_auth_before_starttls_538(server):
    with server.connect() as c:
        assert c.reply().startswith("220 ")
        lines = ehlo(c)
        assert not any("AUTH" in line for line in lines)
        assert any("STARTTLS" in line for line in lines)
        assert c.cmd("AUTH PLAIN " + plain("alice@example.test",
                                           PASSWORDS["alice@example.test"])) \
            == "538 5.7.11 Encryption required for requested " \
               "authentication mechanism"
        assert c.cmd("AUTH LOGIN").startswith("538 5.7.11 ")
        # still unauthenticated: no relay
        assert c.cmd("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
        assert c.cmd("RCPT TO:<v@remote.example>").startswith("550 5.7.1 ")
    assert "smtp.auth" not in server.stderr()


def test_not_offered_without_users_file(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=EXTRA).start()
    try:
        with smtp_tls(srv) as c:
            assert not c.has_extn("auth")
            code, text = c.docmd("AUTH", "PLAIN " + plain("a@example.test",
                                                          "x"))
            assert (code, text) == (503, b"5.5.1 AUTH not available")
    finally:
        srv.assert_clean_stop()


# ---- PLAIN and LOGIN over STARTTLS ---------------------------------------------

@pytest.mark.parametrize("mech,initial", [("PLAIN", True), ("PLAIN", False),
                                          ("LOGIN", True), ("LOGIN", False)])
def test_auth_smtplib_and_delivery(server, mech, initial):
    user, pw = "alice@example.test", PASSWORDS["alice@example.test"]
    with smtp_tls(server) as c:
        assert c.has_extn("auth")
        assert c.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        c.user, c.password = user, pw
        code, text = c.auth(mech, getattr(c, "auth_" + mech.lower()),
                            initial_response_ok=initial)
        assert (code, text) == (235, b"2.7.0 Authentication successful")
        # a second AUTH is refused
        assert c.docmd("AUTH", "PLAIN " + plain(user, pw)) == \
            (503, b"5.5.1 Already authenticated")
        # authenticated: remote domains get the honest "no outbound"
        c.mail("alice@example.test")
        code, text = c.rcpt("v@remote.example")
        assert code == 550 and text.startswith(b"5.3.0 ")
        c.rset()
        c.sendmail("alice@example.test", ["bob@example.test"],
                   message(f"auth-{mech}-{initial}@test"))
    msgs = maildir_messages(server, "bob@example.test", 1)
    assert msgs[0]["Message-ID"] == f"<auth-{mech}-{initial}@test>"
    assert "with ESMTPSA" in msgs[0]["Received"]
    log = server.stderr()
    assert f"mech={mech} user=alice@example.test result=ok" in log
    assert pw not in log
    assert b64(pw) not in log


def test_login_picks_a_mechanism(server):
    with smtp_tls(server) as c:
        code, text = c.login("bob@example.test", PASSWORDS["bob@example.test"])
        assert code == 235


def test_wrong_password_535(server):
    with smtp_tls(server) as c:
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            c.login("alice@example.test", "not the password")
        assert e.value.smtp_code == 535
        assert e.value.smtp_error == b"5.7.8 Authentication credentials invalid"
        # an unknown user looks the same
        assert c.docmd("AUTH", "PLAIN " + plain("nobody@example.test",
                                                "x")) == \
            (535, b"5.7.8 Authentication credentials invalid")
        # not authenticated: no relay
        c.mail("alice@example.test")
        code, _ = c.rcpt("v@remote.example")
        assert code == 550
        c.rset()
        # the right one still works on the same connection
        code, _ = c.login("alice@example.test", PASSWORDS["alice@example.test"])
        assert code == 235
    log = server.stderr()
    assert "user=alice@example.test result=bad" in log
    assert "user=nobody@example.test result=unknown" in log
    assert "not the password" not in log


def test_exchange_by_hand(server):
    """334 challenges, cancel, bad base64, AUTH in a transaction
    (on the smtps listener)."""
    with server.connect_tls() as c:
        assert c.reply().startswith("220 ")
        lines = ehlo(c)
        assert "250-AUTH PLAIN LOGIN" in lines or "250 AUTH PLAIN LOGIN" in lines
        assert c.cmd("AUTH PLAIN") == "334 "
        assert c.cmd("*") == "501 5.7.0 Authentication aborted"
        assert c.cmd("AUTH LOGIN") == "334 " + b64("Username:")
        assert c.cmd("!!!") == "501 5.5.2 Cannot decode base64 response"
        assert c.cmd("AUTH CRAM-MD5").startswith("504 5.5.4 ")
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        # smtps is submission: no transaction before a login
        assert c.cmd("MAIL FROM:<alice@example.test>") == \
            "530 5.7.0 Authentication required"
        assert c.cmd("RSET") == "250 2.0.0 Ok"
        assert c.cmd("AUTH LOGIN") == "334 " + b64("Username:")
        assert c.cmd(b64("alice@example.test")) == "334 " + b64("Password:")
        assert c.cmd(b64(PASSWORDS["alice@example.test"])) == \
            "235 2.7.0 Authentication successful"
        assert c.cmd("QUIT").startswith("221 ")


def test_pipelined_after_auth_waits_for_verification(server):
    with server.connect_tls() as c:
        assert c.reply().startswith("220 ")
        ehlo(c)
        c.send("AUTH PLAIN " + plain("alice@example.test",
                                     PASSWORDS["alice@example.test"]) +
               "\r\nMAIL FROM:<alice@example.test>\r\n"
               "RCPT TO:<v@remote.example>\r\n")
        assert c.reply() == "235 2.7.0 Authentication successful"
        assert c.reply() == "250 2.1.0 Ok"
        assert c.reply().startswith("550 5.3.0 ")


def test_smtps_listener_offers_auth(server):
    lst = server.listener("smtps")
    with smtplib.SMTP_SSL(lst.address, lst.port, timeout=d.IO_TIMEOUT,
                          context=d.insecure_context()) as c:
        c.ehlo("client.example")
        assert c.has_extn("auth")
        code, _ = c.login("alice@example.test", PASSWORDS["alice@example.test"])
        assert code == 235
        c.sendmail("alice@example.test", ["bob@example.test"],
                   message("smtps-auth@test"))
    msgs = maildir_messages(server, "bob@example.test", 1)
    assert "with ESMTPSA" in msgs[0]["Received"]


def test_swaks_auth_plain_tls(server):
    lst = server.listener("smtp")
    r = subprocess.run(
        ["swaks", "--server", lst.address, "--port", str(lst.port),
         "--ehlo", "client.example", "--tls", "--auth", "PLAIN",
         "--auth-user", "alice@example.test",
         "--auth-password", PASSWORDS["alice@example.test"],
         "--from", "alice@example.test", "--to", "bob@example.test",
         "--header", "Message-Id: <swaks-auth@test>"],
        capture_output=True, text=True, timeout=60)
    # exit 0 includes the 221 to QUIT after STARTTLS (test_tls_close.py)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  235 2.7.0 Authentication successful" in r.stdout
    assert "<~  250 2.0.0 Ok: queued as " in r.stdout
    msgs = maildir_messages(server, "bob@example.test", 1)
    assert msgs[0]["Message-ID"] == "<swaks-auth@test>"
