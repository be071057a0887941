"""End-to-end tests of SIGHUP: the daemon reloads its configuration, its
users file and its certificate without dropping a session.

A session keeps the rules it started with (limits, local domains,
recipients, whether AUTH is offered) until it ends; sessions that start
after the reload get the new ones. A configuration with any error is
refused as a whole and the daemon goes on with the old one. Listeners
cannot move without a restart: a reload that changes them keeps them and
says so. Every daemon stops with SIGTERM and must exit 0 without a
sanitizer report, so an old generation of the settings freed too early
(use after free) or never (leak) fails here.
"""

import base64
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
from mailtest import (  # noqa: E402
    cert_fingerprint, ehlo, make_cert, peer_fingerprint)

HOST = "mx.example.test"
SENDER = "sender@remote.example"


def settings(recipients=2, domains=("example.test",), extra=""):
    text = ("\n[limits]\nbanner_delay = 0\nerrors = 50\n"
            f"recipients = {recipients}\n{extra}\n")
    for dom in domains:
        text += f'\n[domain "{dom}"]\n'
    return text


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST,
                   users=["alice@example.test", "bob@example.test"],
                   extra=settings())
    srv.start()
    yield srv
    srv.assert_clean_stop()


def open_session(srv, name="smtp"):
    c = srv.connect(name)
    assert c.reply().startswith("220 ")
    ehlo(c)
    return c


def send_data(c, msgid):
    assert c.cmd("DATA").startswith("354 ")
    c.send(f"From: <{SENDER}>\r\nSubject: reload\r\nMessage-ID: <{msgid}>"
           f"\r\n\r\nhello\r\n.\r\n")
    assert c.reply().startswith("250 2.0.0 Ok: queued as ")


def maildir_ids(srv, addr, want, timeout=d.IO_TIMEOUT):
    """Message-IDs in addr's Maildir once want are there (or the time is
    up: the caller's comparison then shows what arrived)."""
    path = srv.maildir(addr)
    deadline = time.monotonic() + timeout
    while True:
        ids = []
        if (path / "new").is_dir():
            ids = sorted(m["Message-ID"] for m in
                         mailbox.Maildir(str(path), create=False))
        if ids == sorted(want) or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def add_user(srv, user, password):
    r = subprocess.run([d.netjes_bin(), "user", "add", user, "--users-file",
                        str(srv.data_dir / "users")],
                       input=password + "\n", capture_output=True, text=True,
                       env=d.sanitizer_env(), timeout=60)
    assert r.returncode == 0, r.stderr


def auth_plain(c, user, password):
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return c.cmd(f"AUTH PLAIN {token}")


def addr(srv, name="smtp"):
    lst = srv.listener(name)
    return lst.address, lst.port


# ---- open sessions keep their rules, new ones get the new rules -----------

def test_open_session_keeps_old_rules_new_session_gets_new(server):
    old = open_session(server)
    assert old.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    assert old.cmd("RCPT TO:<alice@example.test>").startswith("250 ")

    # a new domain with a new user, a new user in the old domain, and
    # room for one more recipient per message
    server.extra = settings(recipients=3, domains=("example.test",
                                                   "new.test"))
    server.users += ["dave@example.test", "carol@new.test"]
    line = server.reload()
    assert "result=ok" in line and "generation=2" in line
    assert "domains=2" in line and "users=4" in line

    # the open transaction goes on under the rules it started with
    assert old.cmd("RCPT TO:<dave@example.test>").startswith("550 5.1.1 ")
    assert old.cmd("RCPT TO:<carol@new.test>").startswith("550 5.7.1 ")
    assert old.cmd("RCPT TO:<bob@example.test>").startswith("250 ")
    assert old.cmd("RCPT TO:<postmaster@example.test>") == \
        "452 4.5.3 Too many recipients"
    send_data(old, "old@reload")
    # the first generation lives as long as its last session
    assert "event=config.retired generation=1" not in server.stderr()
    assert old.cmd("QUIT") == "221 2.0.0 Bye"
    old.close()
    server.wait_log("event=config.retired generation=1")

    new = open_session(server)
    assert new.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    for rcpt in ("dave@example.test", "carol@new.test", "alice@example.test"):
        assert new.cmd(f"RCPT TO:<{rcpt}>").startswith("250 "), rcpt
    assert new.cmd("RCPT TO:<bob@example.test>") == \
        "452 4.5.3 Too many recipients"
    send_data(new, "new@reload")
    assert new.cmd("QUIT") == "221 2.0.0 Bye"
    new.close()

    assert maildir_ids(server, "alice@example.test",
                       ["<old@reload>", "<new@reload>"]) == \
        ["<new@reload>", "<old@reload>"]
    assert maildir_ids(server, "bob@example.test", ["<old@reload>"]) == \
        ["<old@reload>"]
    assert maildir_ids(server, "dave@example.test", ["<new@reload>"]) == \
        ["<new@reload>"]
    assert maildir_ids(server, "carol@new.test", ["<new@reload>"]) == \
        ["<new@reload>"]


def test_session_outlives_several_reloads(server):
    old = open_session(server)
    assert old.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    # two generations come and go while the first one is still in use
    for n in (3, 4):
        server.extra = settings(recipients=n)
        assert "result=ok" in server.reload()
    # the unused second generation is gone at once, the first is in use
    server.wait_log("event=config.retired generation=2")
    assert "event=config.retired generation=1" not in server.stderr()
    for rcpt in ("alice@example.test", "bob@example.test"):
        assert old.cmd(f"RCPT TO:<{rcpt}>").startswith("250 ")
    assert old.cmd("RCPT TO:<postmaster@example.test>").startswith("452 ")
    send_data(old, "outlived@reload")
    assert old.cmd("QUIT") == "221 2.0.0 Bye"
    old.close()
    with smtplib.SMTP(*addr(server), timeout=d.IO_TIMEOUT) as c:
        refused = c.sendmail(SENDER, ["alice@example.test", "bob@example.test",
                                      "postmaster@example.test"],
                             "Subject: x\r\nMessage-ID: <four@reload>\r\n\r\nx\r\n")
        assert refused == {}
    assert maildir_ids(server, "bob@example.test",
                       ["<outlived@reload>", "<four@reload>"]) == \
        ["<four@reload>", "<outlived@reload>"]


def test_removed_user_refused_new_alias_resolves(server):
    server.users = ["alice@example.test"]
    server.extra = settings() + '\n[alias "info@example.test"]\nto = alice\n'
    assert "result=ok" in server.reload()
    c = open_session(server)
    assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    assert c.cmd("RCPT TO:<bob@example.test>").startswith("550 5.1.1 ")
    assert c.cmd("RCPT TO:<info@example.test>").startswith("250 ")
    send_data(c, "alias@reload")
    c.cmd("QUIT")
    c.close()
    assert maildir_ids(server, "alice@example.test", ["<alias@reload>"]) == \
        ["<alias@reload>"]


# ---- a broken configuration is refused whole -----------------------------

def test_broken_config_is_refused_and_the_old_one_serves(server):
    good = settings(recipients=3, domains=("example.test", "new.test"))
    # valid parts (a new domain, a higher limit) next to two errors
    server.extra = good.replace("errors = 50\n",
                                "errors = 50\nbogus_limit = 1\n") + \
        "\n[listener \"half\"]\naddress = 127.0.0.1\n"
    server.users += ["carol@new.test"]
    line = server.reload()
    assert "level=error" in line and "result=failed" in line
    assert "action=kept-old-config" in line
    log = server.stderr()
    assert "event=config.error" in log and "bogus_limit" in log
    assert f"file={server.config_path}" in log and "line=" in log

    # nothing of it applies: no new domain, the old limit
    c = open_session(server)
    assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    assert c.cmd("RCPT TO:<carol@new.test>").startswith("550 5.7.1 ")
    assert c.cmd("RCPT TO:<alice@example.test>").startswith("250 ")
    assert c.cmd("RCPT TO:<bob@example.test>").startswith("250 ")
    assert c.cmd("RCPT TO:<postmaster@example.test>").startswith("452 ")
    send_data(c, "kept@reload")
    c.cmd("QUIT")
    c.close()
    assert maildir_ids(server, "bob@example.test", ["<kept@reload>"]) == \
        ["<kept@reload>"]

    # once fixed, the same change goes through
    server.extra = good
    assert "result=ok" in server.reload()
    c = open_session(server)
    assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    assert c.cmd("RCPT TO:<carol@new.test>").startswith("250 ")
    c.cmd("QUIT")
    c.close()


def test_unreadable_config_file_is_refused(server):
    server.config_path.unlink()
    line = server.reload(write=False)
    assert "result=failed" in line and str(server.config_path) in line
    with server.connect() as c:
        assert c.reply().startswith("220 ")
    server.write_files()


def test_log_level_change_applies(server):
    quiet = server.config_text().replace("log_level = debug",
                                         "log_level = warn")
    server.config_path.write_text(quiet)
    # the reload itself still shows, at the level it ran under
    assert "result=ok" in server.reload(write=False)
    with server.connect() as c:
        assert c.reply().startswith("220 ")
        assert c.cmd("QUIT") == "221 2.0.0 Bye"
        assert c.at_eof()
    # errors still go out
    server.config_path.write_text(quiet + "\n[bogus]\n")
    assert "level=error" in server.reload(write=False)
    log = server.stderr()
    after = log[log.index("event=config.reload result=ok"):]
    assert "event=smtp.connect" not in after
    assert "event=smtp.disconnect" not in after


# ---- listeners stay; a restart is needed to move them ---------------------

def test_listener_change_needs_restart_rest_applies(server):
    smtps = server.listener("smtps")
    old_port = smtps.port
    smtps.port = d.free_port()
    server.extra = settings(recipients=3)
    line = server.reload()
    assert "result=ok" in line
    assert "level=warn event=config.reload setting=listeners " \
        "result=restart-needed" in server.stderr()
    # the old socket still answers, the new port was never bound
    assert d.port_is_free("127.0.0.1", smtps.port)
    with socket.create_connection(("127.0.0.1", old_port),
                                  timeout=d.IO_TIMEOUT) as raw:
        with d.insecure_context().wrap_socket(raw,
                                              server_hostname=HOST) as tls:
            assert tls.recv(100).startswith(b"220 ")
    smtps.port = old_port
    # the rest of the file applies
    c = open_session(server)
    assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
    for rcpt in ("alice@example.test", "bob@example.test",
                 "postmaster@example.test"):
        assert c.cmd(f"RCPT TO:<{rcpt}>").startswith("250 "), rcpt
    c.cmd("QUIT")
    c.close()


# ---- users file: AUTH appears for new sessions only -----------------------

def test_users_file_created_then_reload_offers_auth(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=settings()).start()
    try:
        old = srv.connect_tls()
        assert old.reply().startswith("220 ")
        assert not any("AUTH" in ln for ln in ehlo(old))

        add_user(srv, "erin@example.test", "erin pw")
        assert "users=1" in srv.reload()

        with smtplib.SMTP_SSL(*addr(srv, "smtps"), timeout=d.IO_TIMEOUT,
                              context=d.insecure_context()) as c:
            c.ehlo("client.example")
            assert c.has_extn("auth")
            assert c.login("erin@example.test", "erin pw")[0] == 235
            assert c.sendmail("erin@example.test", ["erin@example.test"],
                              "Subject: x\r\nMessage-ID: <erin@reload>"
                              "\r\n\r\nx\r\n") == {}
        # the session from before the reload keeps its view
        assert not any("AUTH" in ln for ln in ehlo(old))
        # smtps is submission: without a login there is no transaction
        assert old.cmd(f"MAIL FROM:<{SENDER}>") == \
            "530 5.7.0 Authentication required"
        assert old.cmd("QUIT") == "221 2.0.0 Bye"
        old.close()
        assert maildir_ids(srv, "erin@example.test", ["<erin@reload>"]) == \
            ["<erin@reload>"]
    finally:
        srv.assert_clean_stop()


def test_old_session_authenticates_after_reload(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=settings())
    srv.data_dir.mkdir(parents=True)
    add_user(srv, "erin@example.test", "erin pw")
    srv.start()
    try:
        old = srv.connect_tls()
        assert old.reply().startswith("220 ")
        assert any("AUTH" in ln for ln in ehlo(old))
        add_user(srv, "finn@example.test", "finn pw")
        assert "users=2" in srv.reload()
        # the old generation's users db still checks passwords (the
        # file is read afresh); its worker lives until the session ends
        assert auth_plain(old, "erin@example.test", "erin pw") == \
            "235 2.7.0 Authentication successful"
        assert old.cmd("MAIL FROM:<erin@example.test>").startswith("250 ")
        # recipients are the old generation's: finn is not one yet
        assert old.cmd("RCPT TO:<finn@example.test>").startswith("550 5.1.1")
        assert old.cmd("QUIT") == "221 2.0.0 Bye"
        old.close()
        srv.wait_log("event=config.retired generation=1")
        with srv.connect_tls() as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert auth_plain(c, "finn@example.test", "finn pw") == \
                "235 2.7.0 Authentication successful"
            assert c.cmd("MAIL FROM:<finn@example.test>").startswith("250 ")
            assert c.cmd("RCPT TO:<finn@example.test>").startswith("250 ")
            c.cmd("QUIT")
    finally:
        srv.assert_clean_stop()


# ---- users file: a change alone needs no SIGHUP ---------------------------

def test_users_file_change_is_picked_up_without_sighup(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=settings())
    srv.data_dir.mkdir(parents=True)
    add_user(srv, "erin@example.test", "erin pw")
    srv.start()
    try:
        old = open_session(srv)
        assert old.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")

        add_user(srv, "finn@example.test", "finn pw")
        srv.wait_log("event=users.reload result=ok generation=2 users=2")
        # no SIGHUP went out: the config was not read again
        assert "event=config.reload" not in srv.stderr()
        # a new user is a recipient and logs in at once
        with srv.connect_tls() as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert auth_plain(c, "finn@example.test", "finn pw") == \
                "235 2.7.0 Authentication successful"
            assert c.cmd("MAIL FROM:<finn@example.test>").startswith("250 ")
            assert c.cmd("RCPT TO:<finn@example.test>").startswith("250 ")
            c.cmd("QUIT")
        with srv.connect() as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
            assert c.cmd("RCPT TO:<finn@example.test>").startswith("250 ")
            c.cmd("QUIT")
        # the session from before keeps its recipients
        assert old.cmd("RCPT TO:<finn@example.test>").startswith("550 5.1.1")
        assert old.cmd("RCPT TO:<erin@example.test>").startswith("250 ")

        # a users file that cannot be read keeps the users we have, and
        # says so once (not at every look)
        users = srv.data_dir / "users"
        users.rename(srv.data_dir / "users.away")
        users.mkdir()
        srv.wait_log("event=users.reload result=failed")
        assert "action=kept-old-users" in srv.stderr()
        time.sleep(2.5)
        assert srv.stderr().count("event=users.reload result=failed") == 1
        with srv.connect_tls() as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert auth_plain(c, "finn@example.test", "finn pw") == \
                "235 2.7.0 Authentication successful"
            c.cmd("QUIT")
        # readable again: news after the failure, a generation of its own
        users.rmdir()
        (srv.data_dir / "users.away").rename(users)
        srv.wait_log("event=users.reload result=ok generation=3 users=2")
        assert old.cmd("QUIT") == "221 2.0.0 Bye"
        old.close()
        srv.wait_log("event=config.retired generation=1")
    finally:
        srv.assert_clean_stop()


# ---- certificates ---------------------------------------------------------

def test_config_naming_a_new_certificate(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    first, first_key = make_cert(certs, "first", HOST)
    second, second_key = make_cert(certs, "second", HOST)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=first,
                   tls_key=first_key, extra=settings()).start()
    try:
        old = srv.connect_tls()
        assert peer_fingerprint(old) == cert_fingerprint(first)
        assert old.reply().startswith("220 ")

        srv.tls_cert, srv.tls_key = second, second_key
        assert "result=ok" in srv.reload()
        assert f"event=tls.reload cert={second} result=ok" in srv.stderr()
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == cert_fingerprint(second)
            assert c.reply().startswith("220 ")
        assert old.cmd("NOOP") == "250 2.0.0 Ok"
        assert old.cmd("QUIT") == "221 2.0.0 Bye"
        old.close()
    finally:
        srv.assert_clean_stop()


def test_missing_certificate_refuses_the_whole_reload(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    cert, key = make_cert(certs, "live", HOST)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert, tls_key=key,
                   users=["alice@example.test", "bob@example.test"],
                   extra=settings()).start()
    try:
        srv.tls_cert = certs / "missing.crt"
        srv.extra = settings(recipients=3)
        line = srv.reload()
        assert "result=failed" in line and "error=certificate" in line
        assert "action=kept-old-certificate" in srv.stderr()
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == cert_fingerprint(cert)
            assert c.reply().startswith("220 ")
        # the limits, on the MX listener (smtps wants a login first)
        with srv.connect() as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert c.cmd(f"MAIL FROM:<{SENDER}>").startswith("250 ")
            assert c.cmd("RCPT TO:<alice@example.test>").startswith("250")
            assert c.cmd("RCPT TO:<bob@example.test>").startswith("250")
            # the limit of the refused file did not apply
            assert c.cmd("RCPT TO:<postmaster@example.test>") == \
                "452 4.5.3 Too many recipients"
            c.cmd("QUIT")
    finally:
        srv.assert_clean_stop()
