"""End-to-end tests of `netjes serve`: the real daemon on loopback.

The server's frame around the SMTP dialogue (test_smtp.py has the
dialogue itself): it greets, answers QUIT with 221, frames lines strictly
(CRLF only, at most 1000 octets), speaks implicit TLS on smtps with a
self-signed certificate made on first start, reloads its certificate on
SIGHUP, and stops cleanly (exit 0, no leaks) on SIGTERM and SIGINT.
Every daemon started here is stopped with a signal and must exit 0, so
AddressSanitizer and LeakSanitizer reports fail the test that caused them.
"""

import json
import os
import signal
import socket
import time
import ssl
import stat
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import (  # noqa: E402
    cert_fingerprint, make_cert, peer_fingerprint)

HOST = "mx.example.test"
BANNER = f"220 {HOST} ESMTP netjes"


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST).start()
    yield srv
    srv.assert_clean_stop()


# ---- plain listeners: greeting, QUIT, placeholder replies, framing -------

def test_banner_on_smtp_port(server):
    with server.connect("smtp") as c:
        assert c.reply() == BANNER


def test_banner_on_submission_port(server):
    with server.connect("submission") as c:
        assert c.reply() == BANNER


def test_quit_says_221_and_closes(server):
    with server.connect() as c:
        assert c.reply() == BANNER
        assert c.cmd("QUIT") == "221 2.0.0 Bye"
        assert c.at_eof()


def test_quit_is_case_insensitive(server):
    with server.connect() as c:
        c.reply()
        assert c.cmd("quit") == "221 2.0.0 Bye"


def test_unknown_command_500_and_session_continues(server):
    with server.connect() as c:
        c.reply()
        assert c.cmd("FOOBAR").startswith("500 5.5.")
        assert c.cmd("").startswith("500 5.5.")
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


def test_line_over_1000_octets_500_and_session_continues(server):
    with server.connect() as c:
        c.reply()
        assert c.cmd("X" * 1200) == "500 5.5.2 Line too long (over 1000 octets)"
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


def test_line_limit_boundary(server):
    """998 octets + CRLF = 1000 is a line; one octet more is not."""
    with server.connect() as c:
        c.reply()
        assert c.cmd("N" * 998).startswith("500 5.5.2 Command")
        assert c.cmd("N" * 999) == "500 5.5.2 Line too long (over 1000 octets)"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


def test_huge_line_in_pieces_gets_one_500(server):
    """A long line streamed in chunks is dropped as it comes, answered once."""
    with server.connect() as c:
        c.reply()
        for _ in range(100):
            c.send(b"Y" * 4096)
        c.send(b"\r")
        c.send(b"\nQUIT\r\n")
        assert c.reply() == "500 5.5.2 Line too long (over 1000 octets)"
        assert c.reply() == "221 2.0.0 Bye"
        assert c.at_eof()


def test_bare_lf_does_not_end_a_line(server):
    """Only CRLF ends a line (no SMTP smuggling): QUIT<LF> is not QUIT."""
    with server.connect() as c:
        c.reply()
        assert c.cmd("QUIT\nQUIT").startswith("500 5.5.2 ")
        assert c.cmd("QUIT") == "221 2.0.0 Bye"


def test_pipelined_flood_is_answered_in_full(server):
    """A client that sends far more than it reads gets every reply, in order."""
    n = 20000
    with server.connect() as c:
        c.reply()
        sender = threading.Thread(
            target=c.send, args=(b"NOOP\r\n" * n + b"QUIT\r\n",))
        sender.start()
        for i in range(n):
            assert c.reply() == "250 2.0.0 Ok", f"reply {i}"
        assert c.reply() == "221 2.0.0 Bye"
        sender.join()


def test_several_sessions_at_once(server):
    conns = [server.connect() for _ in range(20)]
    try:
        for c in conns:
            assert c.reply() == BANNER
        for c in conns:
            assert c.cmd("QUIT") == "221 2.0.0 Bye"
    finally:
        for c in conns:
            c.close()


def test_connect_and_disconnect_are_logged(server):
    with server.connect() as c:
        c.reply()
        c.cmd("QUIT")
    server.wait_log("event=smtp.disconnect")
    log = server.stderr()
    assert "event=smtp.connect" in log and "listener=smtp client=127.0.0.1:" in log
    assert "reason=quit" in log


def test_ipv6_listener(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST,
                   listeners=[d.Listener("smtp6", "smtp", address="::1")]).start()
    try:
        assert ("event=server.listening listener=smtp6 mode=smtp "
                f"address=[::1]:{srv.listener('smtp6').port}") in srv.stderr()
        with srv.connect("smtp6") as c:
            assert c.reply() == BANNER
            assert c.cmd("QUIT") == "221 2.0.0 Bye"
    finally:
        srv.assert_clean_stop()


def test_startup_prints_one_line_per_listener(server):
    log = server.stderr()
    for lst in server.listeners:
        assert (f"event=server.listening listener={lst.name} mode={lst.mode} "
                f"address=127.0.0.1:{lst.port}") in log
    assert log.count("event=server.listening ") == len(server.listeners)


# ---- implicit TLS (smtps) -------------------------------------------------

@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_smtps_negotiates_and_verifies(server, version):
    cert = server.data_dir / "tls" / "selfsigned.crt"
    ctx = d.verifying_context(cert, minimum=version, maximum=version)
    with server.connect_tls(context=ctx) as c:
        assert c.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        assert c.reply() == BANNER
        assert c.cmd("NOOP") == "250 2.0.0 Ok"
        assert c.cmd("QUIT") == "221 2.0.0 Bye"
        assert c.at_eof()


def test_smtps_certificate_names_the_hostname(server):
    cert = server.data_dir / "tls" / "selfsigned.crt"
    with server.connect_tls(context=d.verifying_context(cert)) as c:
        peer = c.sock.getpeercert()
        assert ("DNS", HOST) in peer["subjectAltName"]
        assert peer_fingerprint(c) == cert_fingerprint(cert)


def test_smtps_banner_only_after_handshake(server):
    """Plain-text bytes on the smtps port get no SMTP greeting."""
    lst = server.listener("smtps")
    with socket.create_connection((lst.address, lst.port), timeout=5) as s:
        s.sendall(b"QUIT\r\n")
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert b"220" not in data and b"ESMTP" not in data


def legacy_client_context():
    """A client allowed to offer TLS 1.0 and 1.1 (and 1.2, for contrast)."""
    ctx = d.insecure_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def local_tls11_handshake_works(cert, key):
    """Prove the client can do TLS 1.1 at all: against a Python server."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1
    server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    server_ctx.load_cert_chain(str(cert), str(key))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        result = {}

        def serve():
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

        t = threading.Thread(target=serve)
        t.start()
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            with legacy_client_context().wrap_socket(raw) as tls:
                result["version"] = tls.version()
        except ssl.SSLError as e:
            result["error"] = str(e)
        t.join(timeout=10)
    return result.get("version") == "TLSv1.1", result


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused(tmp_path):
    """A client that provably speaks TLS 1.1 cannot get it from netjes."""
    certdir = tmp_path / "certs"
    certdir.mkdir()
    cert, key = make_cert(certdir, "legacy", HOST)
    ok, detail = local_tls11_handshake_works(cert, key)
    assert ok, f"the test client cannot do TLS 1.1 here, so this test proves nothing: {detail}"
    srv = d.Daemon(tmp_path, hostname=HOST).start()
    try:
        with pytest.raises(ssl.SSLError):
            srv.connect_tls(context=legacy_client_context()).close()
        ctx = legacy_client_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with srv.connect_tls(context=ctx) as c:
            assert c.sock.version() == "TLSv1.2"
            assert c.reply() == BANNER
    finally:
        srv.assert_clean_stop()


# ---- the self-signed default ---------------------------------------------

def test_selfsigned_created_once_and_reused(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST)
    tlsdir = srv.data_dir / "tls"
    assert not tlsdir.exists()
    srv.start()
    try:
        cert, key = tlsdir / "selfsigned.crt", tlsdir / "selfsigned.key"
        assert stat.S_IMODE(os.stat(tlsdir).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        assert "BEGIN PRIVATE KEY" in key.read_text()
        first = cert_fingerprint(cert)
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == first
        assert "event=tls.selfsigned" in srv.stderr()
        assert not [p for p in tlsdir.iterdir() if p.name.startswith(".")]
    finally:
        srv.assert_clean_stop()
    key_inode = os.stat(tlsdir / "selfsigned.key").st_ino

    srv.start()
    try:
        assert cert_fingerprint(tlsdir / "selfsigned.crt") == first
        assert os.stat(tlsdir / "selfsigned.key").st_ino == key_inode
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == first
        assert "event=tls.selfsigned" not in srv.stderr()
    finally:
        srv.assert_clean_stop()


def test_selfsigned_remade_when_hostname_changes(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST).start()
    srv.assert_clean_stop()
    first = cert_fingerprint(srv.data_dir / "tls" / "selfsigned.crt")
    srv.hostname = "other.example.test"
    srv.start()
    try:
        cert = srv.data_dir / "tls" / "selfsigned.crt"
        assert cert_fingerprint(cert) != first
        with srv.connect_tls(context=d.verifying_context(cert)) as c:
            assert ("DNS", "other.example.test") in c.sock.getpeercert()["subjectAltName"]
    finally:
        srv.assert_clean_stop()


def test_data_dir_created_with_parents(tmp_path):
    data = tmp_path / "a" / "b" / "data"
    srv = d.Daemon(tmp_path, hostname=HOST, data_dir=data).start()
    try:
        assert data.is_dir()
        # as root the unprivileged server must pass through (x), never
        # list or rename (tls/ below it stays root's)
        want = 0o711 if os.geteuid() == 0 else 0o700
        assert stat.S_IMODE(os.stat(data).st_mode) == want
        assert (data / "tls" / "selfsigned.key").exists()
    finally:
        srv.assert_clean_stop()


# ---- SIGHUP: certificate reload ------------------------------------------

def test_sighup_reload_new_cert_for_new_sessions_old_session_lives(tmp_path):
    certdir = tmp_path / "certs"
    certdir.mkdir()
    cert, key = make_cert(certdir, "live", HOST)
    old_fp = cert_fingerprint(cert)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert, tls_key=key).start()
    try:
        old = srv.connect_tls(context=d.verifying_context(cert))
        assert old.reply() == BANNER
        assert peer_fingerprint(old) == old_fp

        new_cert, new_key = make_cert(certdir, "next", HOST)
        new_fp = cert_fingerprint(new_cert)
        assert new_fp != old_fp
        os.replace(new_key, key)
        os.replace(new_cert, cert)
        srv.send_signal(signal.SIGHUP)
        srv.wait_log("event=tls.reload cert=")
        assert "result=ok" in srv.stderr()

        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == new_fp
            assert c.reply() == BANNER
        # the session opened before the reload still talks
        assert old.cmd("NOOP") == "250 2.0.0 Ok"
        assert old.cmd("QUIT") == "221 2.0.0 Bye"
        old.close()
    finally:
        srv.assert_clean_stop()


def test_sighup_with_broken_cert_keeps_the_old_one(tmp_path):
    certdir = tmp_path / "certs"
    certdir.mkdir()
    cert, key = make_cert(certdir, "live", HOST)
    fp = cert_fingerprint(cert)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert, tls_key=key).start()
    try:
        cert.write_text("not a certificate\n")
        srv.send_signal(signal.SIGHUP)
        srv.wait_log("event=tls.reload")
        log = srv.stderr()
        assert "level=error event=tls.reload" in log
        assert "action=kept-old-certificate" in log and str(cert) in log
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == fp
            assert c.reply() == BANNER
    finally:
        srv.assert_clean_stop()


def test_sighup_with_mismatched_key_keeps_the_old_one(tmp_path):
    certdir = tmp_path / "certs"
    certdir.mkdir()
    cert, key = make_cert(certdir, "live", HOST)
    fp = cert_fingerprint(cert)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert, tls_key=key).start()
    try:
        _, other_key = make_cert(certdir, "other", HOST)
        os.replace(other_key, key)
        srv.send_signal(signal.SIGHUP)
        srv.wait_log("event=tls.reload")
        assert "does not match" in srv.stderr()
        with srv.connect_tls() as c:
            assert peer_fingerprint(c) == fp
    finally:
        srv.assert_clean_stop()


# ---- start-up failures ----------------------------------------------------

def test_port_taken_exits_1_naming_the_listener(tmp_path):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        srv = d.Daemon(tmp_path, hostname=HOST, listeners=[
            d.Listener("smtp", "smtp"), d.Listener("busy", "submission", port=port)])
        srv.spawn()
        rc = srv.wait_exit()
        log = srv.stderr()
        assert rc == 1, log
        assert "level=error event=server.start result=failed" in log
        assert f"cannot listen on 127.0.0.1:{port} (listener busy)" in log
        assert "Address already in use" in log
        assert "Sanitizer" not in log
    finally:
        blocker.close()


def test_missing_configured_cert_exits_1_naming_the_file(tmp_path):
    missing = tmp_path / "nope.crt"
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=missing,
                   tls_key=tmp_path / "nope.key")
    srv.spawn()
    rc = srv.wait_exit()
    log = srv.stderr()
    assert rc == 1, log
    assert f"cannot read certificate {missing}: No such file or directory" in log


def test_config_error_exits_1(tmp_path):
    srv = d.Daemon(tmp_path)
    bad = tmp_path / "bad.conf"
    bad.write_text("[server]\nno_such_key = 1\n")
    srv.spawn(args=["serve", "-c", str(bad)])
    rc = srv.wait_exit()
    assert rc == 1, srv.stderr()
    assert "bad.conf:2" in srv.stderr()


def test_unknown_option_is_usage_error(tmp_path):
    srv = d.Daemon(tmp_path)
    srv.spawn(args=["serve", "--bogus"])
    assert srv.wait_exit() == 2
    assert "Try 'netjes help serve'" in srv.stderr()


def test_foreground_is_accepted(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST)
    srv.start(args=["serve", "--foreground", "-c", str(srv.config_path)])
    try:
        with srv.connect() as c:
            assert c.reply() == BANNER
    finally:
        srv.assert_clean_stop()


# ---- stopping ---------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_says_421_to_open_sessions_and_exits_0(tmp_path, sig):
    srv = d.Daemon(tmp_path, hostname=HOST).start()
    plain = srv.connect()
    tls = srv.connect_tls()
    try:
        assert plain.reply() == BANNER
        assert tls.reply() == BANNER
        srv.assert_clean_stop(sig)
        assert plain.reply() == f"421 4.3.2 {HOST} Service shutting down"
        assert tls.reply() == f"421 4.3.2 {HOST} Service shutting down"
        assert plain.at_eof()
    finally:
        plain.close()
        tls.close()


def test_signals_while_stopping_still_exit_0(tmp_path):
    """A service manager (or an impatient admin) may signal again while
    the server stops: every signal until the exit must leave exit 0,
    never a child killed halfway through its cleanup."""
    for _ in range(3):
        srv = d.Daemon(tmp_path, hostname=HOST).start()
        with srv.connect() as c:
            assert c.reply() == BANNER
            deadline = time.monotonic() + 30
            while srv.proc.poll() is None and time.monotonic() < deadline:
                srv.proc.send_signal(signal.SIGTERM)
                time.sleep(0.001)
        srv.assert_clean_stop()
        assert "killed" not in srv.stderr()


def test_json_log_format(tmp_path):
    """[server] log_format = json: every line the daemon writes is one
    JSON object, with ts, level, event and the same pairs as text; a
    client's ESC in HELO is the escape, not the byte, in JSON too."""
    srv = d.Daemon(tmp_path, hostname=HOST,
                   extra="[server]\nlog_format = json\n")
    srv.spawn()
    try:
        def events():
            out = []
            for line in srv.stderr().splitlines():
                out.append(json.loads(line))
            return out
        d.wait_for(lambda: sum(e["event"] == "server.listening"
                               for e in events()) == len(srv.listeners),
                   d.IO_TIMEOUT, "the listeners in JSON")
        with srv.connect() as c:
            assert c.reply() == BANNER
            assert c.cmd("EHLO bad\x1bname").startswith("500 5.5.2")
            assert c.cmd("QUIT") == "221 2.0.0 Bye"
        d.wait_for(lambda: any(e["event"] == "smtp.helo_refused"
                               for e in events()), d.IO_TIMEOUT,
                   "the refused HELO")
    finally:
        rc = srv.stop()
    evs = events()
    assert rc == 0
    assert all({"ts", "level", "event"} <= set(e) for e in evs)
    assert all(isinstance(v, str) for e in evs for v in e.values())
    refused = [e for e in evs if e["event"] == "smtp.helo_refused"][0]
    assert "\\x1b" in refused["helo"] and "\x1b" not in refused["helo"]
    assert any(e["event"] == "server.stop" for e in evs)
    assert "\x1b" not in srv.stderr()


def test_stop_closes_the_listeners(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST).start()
    lst = srv.listener("smtp")
    srv.assert_clean_stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lst.address, lst.port), timeout=5).close()


# ---- the embedded default ---------------------------------------------------

def test_embedded_default_answers_on_2525(tmp_path):
    """`netjes serve` without -c: loopback 2525/2587/2465, data in $NETJES_DATA.

    The default ports are fixed, so this test needs them free; if another
    program holds one, that is reported as a failure, not skipped."""
    busy = [p for p in (2525, 2587, 2465) if not d.port_is_free("127.0.0.1", p)]
    assert not busy, (f"127.0.0.1 port(s) {busy} are in use by another program; "
                      "this test runs the embedded default, which needs them")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    data = tmp_path / "netjes-data"
    srv = d.Daemon(tmp_path, listeners=d.default_listeners(), data_dir=data)
    srv.start(args=["serve"], cwd=cwd, env={"NETJES_DATA": str(data)})
    try:
        with d.SmtpLine.connect("127.0.0.1", 2525) as c:
            banner = c.reply()
            assert banner.startswith("220 ") and banner.endswith(" ESMTP netjes")
            assert c.cmd("QUIT") == "221 2.0.0 Bye"
        assert (data / "tls" / "selfsigned.crt").exists()
        assert not (cwd / "var").exists()
    finally:
        srv.assert_clean_stop()
