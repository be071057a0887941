"""End-to-end tests of the SMTP AUTH failure throttle ([auth]
max_failures, failure_window, failure_delay).

Failures are counted per client address across connections: after the
first one every AUTH reply to that address waits failure_delay, doubling;
at max_failures the AUTH gets 421 4.7.0 and the session ends, in new
sessions too, until failure_window has passed since the last failure.
Each test's clients come from their own loopback address (127.0.0.x), so
the counts of one test never leak into another and a second address
shows that the count is per address. Users are made with `netjes user
add`, so real password hashes are checked.
"""

import base64
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import ehlo  # noqa: E402
from redisserver import RedisServer  # noqa: E402

HOST = "mx.example.test"
USER = "alice@example.test"
PASSWORD = "alice secret 1"
WRONG = "Not-The-Password-42"
WINDOW = 3          # seconds, failure_window
MAX_FAILURES = 3


def throttle_conf(max_failures=MAX_FAILURES, window=WINDOW, delay=0):
    return f"""
[limits]
banner_delay = 0
errors = 50

[auth]
max_failures = {max_failures}
failure_window = {window}
failure_delay = {delay}
"""


def start(tmp_path, extra):
    srv = d.Daemon(tmp_path, hostname=HOST, extra=extra)
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([d.netjes_bin(), "user", "add", USER,
                        "--users-file", str(srv.data_dir / "users")],
                       input=PASSWORD + "\n", capture_output=True, text=True,
                       env=d.sanitizer_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    return srv.start()


def plain(user, pw):
    return base64.b64encode(f"\0{user}\0{pw}".encode()).decode()


def smtps_from(srv, source_ip):
    """A line client on the smtps listener whose address is source_ip,
    greeted and past EHLO."""
    lst = srv.listener("smtps")
    raw = socket.create_connection((lst.address, lst.port),
                                   timeout=d.IO_TIMEOUT,
                                   source_address=(source_ip, 0))
    try:
        tls = d.insecure_context().wrap_socket(raw, server_hostname=HOST)
    except Exception:
        raw.close()
        raise
    c = d.SmtpLine(tls)
    assert c.reply().startswith("220 ")
    ehlo(c)
    return c


def timed_auth(c, pw):
    """(reply, seconds from sending AUTH to its reply)."""
    t0 = time.monotonic()
    reply = c.cmd("AUTH PLAIN " + plain(USER, pw))
    return reply, time.monotonic() - t0


BAD = "535 5.7.8 Authentication credentials invalid"
BLOCKED = "Too many failed authentications, try later"


def assert_blocked(reply):
    assert reply.startswith("421 4.7.0 "), reply
    assert BLOCKED in reply, reply


def test_blocked_after_max_failures_and_across_connections(tmp_path):
    ip = "127.0.0.21"
    srv = start(tmp_path, throttle_conf())
    try:
        with smtps_from(srv, ip) as c:
            for _ in range(MAX_FAILURES - 1):
                assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            # the session goes on between failures
            assert c.cmd("NOOP") == "250 2.0.0 Ok"
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, WRONG)))
            assert c.at_eof()
        last_failure = time.monotonic()
        # a new connection from the same address is refused, even with
        # the right password: reconnecting does not reset the count
        with smtps_from(srv, ip) as c:
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)))
            assert c.at_eof()
        # AUTH LOGIN is refused as well, before any challenge
        with smtps_from(srv, ip) as c:
            assert_blocked(c.cmd("AUTH LOGIN"))
            assert c.at_eof()
        # the count is per address: another one logs in
        with smtps_from(srv, "127.0.0.22") as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
        # only AUTH is refused: mail to a local user still comes in on
        # the smtp listener from the blocked address
        lst = srv.listener("smtp")
        raw = socket.create_connection((lst.address, lst.port),
                                       timeout=d.IO_TIMEOUT,
                                       source_address=(ip, 0))
        with d.SmtpLine(raw) as c:
            assert c.reply().startswith("220 ")
            ehlo(c)
            assert c.cmd("MAIL FROM:<x@remote.example>") == "250 2.1.0 Ok"
            assert c.cmd(f"RCPT TO:<{USER}>") == "250 2.1.5 Ok"
        # after the window (counted from the last failure; refused tries
        # do not extend it) the right password works again
        time.sleep(max(0.0, last_failure + WINDOW + 0.3 - time.monotonic()))
        with smtps_from(srv, ip) as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
            assert c.cmd("QUIT").startswith("221 ")
    finally:
        srv.assert_clean_stop()
    log = srv.stderr().splitlines()
    failed = [ln for ln in log if "event=smtp.auth " in ln and
              f"client={ip} " in ln and "result=bad" in ln]
    assert len(failed) == MAX_FAILURES, "\n".join(log)
    for n, line in enumerate(failed, 1):
        assert line.startswith("level=warn ") or " level=warn " in line, line
        assert f"user={USER} " in line
        assert line.endswith(f"failures={n}"), line
    blocked = [ln for ln in log if "event=smtp.auth_blocked" in ln]
    # the third failure, then the two refused reconnects
    assert len(blocked) == 3, "\n".join(log)
    for line in blocked:
        assert f"client={ip} failures={MAX_FAILURES} window={WINDOW}" in line
    assert any("reason=auth-blocked" in ln for ln in log)
    assert not any(WRONG in ln or PASSWORD in ln for ln in log)


def test_reply_waits_for_the_failure_delay(tmp_path):
    """After one failure the next AUTH reply waits failure_delay, a
    success as well as a failure (a success sent sooner would tell a
    client with many connections which guess was right); the first
    failure is not delayed."""
    ip = "127.0.0.23"
    delay = 1.5
    srv = start(tmp_path, throttle_conf(max_failures=10, window=60,
                                        delay=delay))
    try:
        with smtps_from(srv, ip) as c:
            reply, first = timed_auth(c, WRONG)
            assert reply == BAD
            reply, second = timed_auth(c, WRONG)
            assert reply == BAD
            assert second >= delay, (first, second)
            # the second failure doubled it
            reply, third = timed_auth(c, PASSWORD)
            assert reply == "235 2.7.0 Authentication successful"
            assert third >= 2 * delay, (first, second, third)
        # another address has no delay
        with smtps_from(srv, "127.0.0.24") as c:
            reply, other = timed_auth(c, WRONG)
            assert reply == BAD
    finally:
        srv.assert_clean_stop()
    # the undelayed replies are quicker than the delay: the wait is the
    # throttle's, not a slow password check
    assert first < delay and other < delay, (first, other)
    failed = [ln for ln in srv.stderr().splitlines()
              if "event=smtp.auth " in ln and f"client={ip} " in ln and
              "result=bad" in ln]
    assert [ln.rsplit(" ", 1)[1] for ln in failed] == ["failures=1",
                                                       "failures=2"]


def test_client_gone_during_delay_still_counts(tmp_path):
    """A client that hangs up rather than wait for a delayed reply has
    still used up its try; the server stays clean."""
    ip = "127.0.0.25"
    srv = start(tmp_path, throttle_conf(max_failures=3, window=60, delay=5))
    try:
        with smtps_from(srv, ip) as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            c.send("AUTH PLAIN " + plain(USER, WRONG) + "\r\n")
            srv.wait_log(f"client={ip} mech=PLAIN user={USER} result=bad "
                         "failures=2")
        srv.wait_log("event=smtp.disconnect")
        with smtps_from(srv, ip) as c:
            c.send("AUTH PLAIN " + plain(USER, WRONG) + "\r\n")
            # the third failure blocks at once: no delay before the 421
            assert_blocked(c.reply())
            assert c.at_eof()
    finally:
        srv.assert_clean_stop()


def test_shutdown_does_not_wait_out_the_delay(tmp_path):
    ip = "127.0.0.27"
    delay = 20
    srv = start(tmp_path, throttle_conf(max_failures=5, window=60,
                                        delay=delay))
    with smtps_from(srv, ip) as c:
        assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
        c.send("AUTH PLAIN " + plain(USER, WRONG) + "\r\n")
        srv.wait_log("failures=2")
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        assert c.reply().startswith("421 4.3.2 ")
        assert c.at_eof()
        assert time.monotonic() - t0 < delay / 2
    srv.assert_clean_stop()


def test_throttle_off(tmp_path):
    """max_failures = 0 and failure_delay = 0: failures are only
    logged."""
    ip = "127.0.0.26"
    srv = start(tmp_path, throttle_conf(max_failures=0, window=60, delay=0))
    try:
        with smtps_from(srv, ip) as c:
            for _ in range(8):
                assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
    finally:
        srv.assert_clean_stop()
    assert "failures=8" in srv.stderr()
    assert "event=smtp.auth_blocked" not in srv.stderr()


@pytest.mark.parametrize("bad_value", ["max_failures = 1001",
                                       "failure_window = 0",
                                       "failure_delay = 31"])
def test_config_check_refuses_bad_values(tmp_path, bad_value):
    conf = tmp_path / "netjes.conf"
    conf.write_text(f"[auth]\n{bad_value}\n")
    r = subprocess.run([d.netjes_bin(), "config", "check", "-c", str(conf)],
                       capture_output=True, text=True, env=d.sanitizer_env(),
                       timeout=60)
    assert r.returncode != 0
    assert bad_value.split()[0] in r.stderr


# ---- the shared count ([store]) --------------------------------------------

def test_shared_count_blocks_on_the_other_mx(tmp_path):
    """Two netjes on one Redis ([store] backend = redis): a client that
    used up its failures on one MX is refused on the other, even with
    the right password; another client is not; the count is in Redis
    under the client's key."""
    redis = RedisServer(tmp_path).start()
    store = f"[store]\nbackend = redis\nredis = {redis.addr}\n"
    ip = "127.0.0.41"
    a = start(tmp_path / "a", throttle_conf(window=60) + store)
    b = start(tmp_path / "b", throttle_conf(window=60) + store)
    try:
        assert "event=store.open backend=redis" in a.stderr()
        with smtps_from(a, ip) as c:
            for _ in range(MAX_FAILURES - 1):
                assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, WRONG)))
        with smtps_from(b, ip) as c:
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)))
            assert c.at_eof()
        with smtps_from(b, "127.0.0.42") as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
        with socket.create_connection(("127.0.0.1", redis.port),
                                      timeout=5) as s:
            s.sendall(f"GET authfail:{ip}\r\nTTL authfail:{ip}\r\n"
                      .encode())
            time.sleep(0.2)
            got = s.recv(256).decode()
        assert got.startswith(f"${len(str(MAX_FAILURES))}\r\n"
                              f"{MAX_FAILURES}\r\n:"), got
        ttl = int(got.split(":")[1].split("\r")[0])
        assert 0 < ttl <= 60
    finally:
        a.assert_clean_stop()
        b.assert_clean_stop()
        redis.stop()


def test_redis_down_counts_locally(tmp_path):
    """The store gone: AUTH still works, failures still count and block
    on this MX (no information is not a verdict either way)."""
    redis = RedisServer(tmp_path).start()
    store = f"[store]\nbackend = redis\nredis = {redis.addr}\n"
    ip = "127.0.0.43"
    srv = start(tmp_path, throttle_conf(window=60) + store)
    try:
        redis.stop()
        with smtps_from(srv, "127.0.0.44") as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
        with smtps_from(srv, ip) as c:
            for _ in range(MAX_FAILURES - 1):
                assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, WRONG)))
        assert "event=smtp.auth_store" in srv.stderr()
        assert "result=unavailable action=local-count-only" in srv.stderr()
    finally:
        srv.assert_clean_stop()
        redis.stop()


def test_count_survives_a_restart(tmp_path):
    """The embedded store (LMDB in DATA_DIR/state): a restart does not
    give a guesser a fresh count."""
    ip = "127.0.0.45"
    srv = start(tmp_path, throttle_conf(window=60))
    try:
        with smtps_from(srv, ip) as c:
            for _ in range(MAX_FAILURES - 1):
                assert c.cmd("AUTH PLAIN " + plain(USER, WRONG)) == BAD
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, WRONG)))
    finally:
        srv.assert_clean_stop()
    srv.start()
    try:
        # the first attempt after the restart is checked, then refused:
        # the count came back from the store
        with smtps_from(srv, ip) as c:
            assert_blocked(c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)))
        with smtps_from(srv, "127.0.0.46") as c:
            assert c.cmd("AUTH PLAIN " + plain(USER, PASSWORD)) == \
                "235 2.7.0 Authentication successful"
        state = srv.data_dir / "state"
        assert state.is_dir() and (state.stat().st_mode & 0o777) == 0o700
    finally:
        srv.assert_clean_stop()
