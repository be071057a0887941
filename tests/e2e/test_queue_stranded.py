"""A client that hangs up right after the final dot still gets its
message delivered: once the message reached the spool it is ours,
whether or not the client read the 250 (no message waits in the spool
for the next start).
"""

import socket
import sys

import pytest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

USER = "alice@example.test"
COUNT = 20


def send_and_hang_up(lst, n):
    s = socket.create_connection((lst.address, lst.port), timeout=d.IO_TIMEOUT)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            assert line, "server closed early"
            if line[3:4] != b"-":
                return line
    assert reply().startswith(b"220")
    for cmd, code in ((b"EHLO client.example", b"250"),
                      (b"MAIL FROM:<sender@remote.example>", b"250"),
                      (f"RCPT TO:<{USER}>".encode(), b"250"),
                      (b"DATA", b"354")):
        s.sendall(cmd + b"\r\n")
        assert reply().startswith(code), cmd
    s.sendall(f"From: <sender@remote.example>\r\nTo: <{USER}>\r\n"
              f"Subject: hang up {n}\r\nMessage-ID: <hangup-{n}@test>\r\n"
              f"\r\nbody {n}\r\n.\r\n".encode())
    # no wait for the 250: the client is gone while the commit runs
    s.shutdown(socket.SHUT_RDWR)
    f.close()
    s.close()


def delivered(srv):
    new = srv.maildir(USER) / "new"
    if not new.is_dir():
        return set()
    ids = set()
    for p in new.iterdir():
        for line in p.read_bytes().split(b"\n"):
            if line.lower().startswith(b"message-id:"):
                ids.add(line.split(b":", 1)[1].strip().decode())
            if not line.strip():
                break
    return ids


# checked: the hang-up lands while the checks run (CHECK), then the
# commit; trusted: no checks, the hang-up lands in the commit itself
@pytest.mark.parametrize("trusted", [False, True], ids=["checked", "trusted"])
def test_hang_up_after_dot_is_delivered_without_restart(tmp_path, trusted):
    extra = "[server]\ntrusted_networks = 127.0.0.0/8\n" if trusted else ""
    srv = d.Daemon(tmp_path, users=[USER], extra=extra).start()
    try:
        lst = srv.listener("smtp")
        for n in range(COUNT):
            send_and_hang_up(lst, n)
        want = {f"<hangup-{n}@test>" for n in range(COUNT)}
        d.wait_for(lambda: delivered(srv) >= want, 20,
                   f"{COUNT} messages delivered")
        assert delivered(srv) == want
    finally:
        srv.assert_clean_stop()
