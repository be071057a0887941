"""End-to-end tests of how a TLS session ends: the last reply arrives.

After STARTTLS the TLS records pass through a filter into the plain
connection below it; a session that closed as soon as the filter had
taken its "221" used to drop that reply with the connection (swaks then
exits 6, "remote host closed connection unexpectedly"). These tests read
the 221 over TLS with Python's ssl module, after STARTTLS and on the
implicit TLS listener, and insist on a proper close_notify after it:
with suppress_ragged_eofs off, an EOF without close_notify raises
instead of reading as the end of the stream.
"""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

HOST = "mx.example.test"
EXTRA = """
[limits]
banner_delay = 0
"""


@pytest.fixture
def server(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, users=["alice@example.test"],
                   extra=EXTRA).start()
    yield srv
    srv.assert_clean_stop()


def read_reply(f):
    """All lines of one reply, without CRLF."""
    lines = []
    while True:
        line = f.readline()
        assert line.endswith(b"\r\n"), f"truncated reply: {line!r}"
        lines.append(line[:-2].decode())
        if line[3:4] != b"-":
            return lines


def strict_wrap(sock):
    """TLS over sock; a missing close_notify raises (no ragged EOF)."""
    return d.insecure_context().wrap_socket(
        sock, server_hostname=HOST, suppress_ragged_eofs=False)


def starttls(srv):
    lst = srv.listener("smtp")
    raw = socket.create_connection((lst.address, lst.port),
                                   timeout=d.IO_TIMEOUT)
    f = raw.makefile("rb")
    assert read_reply(f)[0].startswith("220 ")
    raw.sendall(b"EHLO client.example\r\n")
    assert any(line[4:] == "STARTTLS" for line in read_reply(f))
    raw.sendall(b"STARTTLS\r\n")
    assert read_reply(f) == ["220 2.0.0 Ready to start TLS"]
    f.close()
    tls = strict_wrap(raw)
    return tls, tls.makefile("rb")


def quit_and_expect_clean_close(tls, f):
    tls.sendall(b"QUIT\r\n")
    assert read_reply(f) == ["221 2.0.0 Bye"]
    # b"" only after the server's close_notify
    assert f.read() == b""
    f.close()
    tls.close()


def test_starttls_quit_gets_221_and_close_notify(server):
    tls, f = starttls(server)
    tls.sendall(b"EHLO client.example\r\n")
    assert read_reply(f)[-1].startswith("250 ")
    quit_and_expect_clean_close(tls, f)


def test_starttls_quit_right_after_handshake(server):
    # nothing else was said under TLS: the 221 is the only record
    tls, f = starttls(server)
    quit_and_expect_clean_close(tls, f)


def test_starttls_pipelined_message_and_quit(server):
    tls, f = starttls(server)
    tls.sendall(b"EHLO client.example\r\n")
    read_reply(f)
    tls.sendall(b"MAIL FROM:<sender@remote.example>\r\n"
                b"RCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert read_reply(f)[0].startswith("250 ")
    assert read_reply(f)[0].startswith("250 ")
    assert read_reply(f)[0].startswith("354 ")
    # the end of data and QUIT in one segment: "250 queued" and "221"
    # leave together, right before the close
    tls.sendall(b"Subject: t\r\nMessage-ID: <tls-close@test>\r\n\r\n"
                b"hi\r\n.\r\nQUIT\r\n")
    assert read_reply(f)[0].startswith("250 2.0.0 Ok: queued as ")
    assert read_reply(f) == ["221 2.0.0 Bye"]
    assert f.read() == b""
    tls.close()


def test_smtps_quit_gets_221_and_close_notify(server):
    lst = server.listener("smtps")
    tls = strict_wrap(socket.create_connection((lst.address, lst.port),
                                               timeout=d.IO_TIMEOUT))
    f = tls.makefile("rb")
    assert read_reply(f)[0].startswith("220 ")
    quit_and_expect_clean_close(tls, f)


@pytest.mark.parametrize("how", ["--tls", "--tlsc"])
def test_swaks_over_tls_exits_0(server, how):
    lst = server.listener("smtp" if how == "--tls" else "smtps")
    args = ["--from", "sender@remote.example"]
    if how == "--tlsc":
        # smtps is submission: log in (a password set, then SIGHUP)
        r = subprocess.run(
            [d.netjes_bin(), "user", "passwd", "alice@example.test",
             "--users-file", str(server.data_dir / "users")],
            input="alice pw\n", capture_output=True, text=True,
            env=d.sanitizer_env(), timeout=60)
        assert r.returncode == 0, r.stderr
        assert "result=ok" in server.reload(write=False)
        args = ["--from", "alice@example.test", "--auth", "PLAIN",
                "--auth-user", "alice@example.test",
                "--auth-password", "alice pw"]
    r = subprocess.run(
        ["swaks", how, "--server", lst.address, "--port", str(lst.port),
         "--ehlo", "client.example", *args, "--to", "alice@example.test"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  221 2.0.0 Bye" in r.stdout
