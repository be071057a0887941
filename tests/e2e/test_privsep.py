"""Least privilege: started as root, netjes binds its ports and keeps the
TLS key in a root parent; everything that parses network input runs as
the unprivileged [server] user. These tests look at the running
processes from outside (/proc), as an auditor would."""

import os
import pwd
import re
import shutil
import signal
import smtplib
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402
from mailtest import make_cert  # noqa: E402

HOST = "mx.example.test"

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="privilege separation needs root")


def account():
    try:
        return pwd.getpwnam("netjes")
    except KeyError:
        pytest.fail("no netjes account: make test creates it "
                    "(scripts/account.sh)")


def socket_inode_of_peer(local_port):
    """The inode of the server's end of the TCP connection whose client
    end is our local_port (/proc/net/tcp: local and remote address)."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == local_port:
                return fields[9]
    return None


def pids_holding(inode):
    want = f"socket:[{inode}]"
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                    pids.append(int(pid))
                    break
        except OSError:
            continue
    return pids


def uids(pid):
    """Real, effective, saved and filesystem uid of pid."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no Uid line for {pid}")


def groups(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Groups:"):
                return [int(x) for x in line.split()[1:]]
    return []


def children(pid):
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == pid:
            out.append(int(p))
    return out


def test_session_runs_unprivileged_and_mail_belongs_to_the_account(tmp_path):
    acct = account()
    srv = d.Daemon(tmp_path, hostname=HOST,
                   users=["alice@example.test"]).start()
    try:
        c = srv.connect()
        assert c.reply().startswith("220 ")
        port = c.sock.getsockname()[1]
        inode = socket_inode_of_peer(port)
        assert inode is not None
        holders = pids_holding(inode)
        # one process holds the accepted socket: the child, not root
        assert len(holders) == 1, holders
        (child,) = holders
        assert uids(child) == [acct.pw_uid] * 4
        assert groups(child) == [acct.pw_gid]
        # its parent is the root key holder the test started
        assert child in children(srv.proc.pid)
        assert uids(srv.proc.pid)[1] == 0
        # the root parent holds no listening socket and no connection
        parent_links = [os.readlink(f"/proc/{srv.proc.pid}/fd/{fd}")
                        for fd in os.listdir(f"/proc/{srv.proc.pid}/fd")]
        assert f"socket:[{inode}]" not in parent_links
        c.close()

        with smtplib.SMTP("127.0.0.1", srv.listener("smtp").port,
                          timeout=30) as s:
            s.sendmail("bob@elsewhere.example", ["alice@example.test"],
                       b"Subject: owned\r\n\r\nwho owns me\r\n")
        new = srv.maildir("alice@example.test") / "new"
        d.wait_for(lambda: new.is_dir() and any(new.iterdir()), 30,
                   "delivery")
        (msg,) = list(new.iterdir())
        st = msg.stat()
        assert (st.st_uid, st.st_gid) == (acct.pw_uid, acct.pw_gid)
        assert stat.S_IMODE(st.st_mode) == 0o600
        for p in (new, new.parent, new.parent / "cur", new.parent / "tmp"):
            st = p.stat()
            assert st.st_uid == acct.pw_uid
            assert stat.S_IMODE(st.st_mode) == 0o700, p
        users = srv.data_dir / "users"
        assert users.stat().st_uid == acct.pw_uid
        assert stat.S_IMODE(users.stat().st_mode) == 0o600
        # the key stays root's alone
        key = srv.data_dir / "tls" / "selfsigned.key"
        assert key.stat().st_uid == 0
        assert stat.S_IMODE((srv.data_dir / "tls").stat().st_mode) == 0o700
    finally:
        srv.assert_clean_stop()


def test_ordinary_user_runs_as_itself(tmp_path):
    """Started by an ordinary user (here nobody, through setpriv), netjes
    needs no account of its own: it serves as that user, every process
    of it, and its files are that user's."""
    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="netjes-plain-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        srv = d.Daemon(base, hostname=HOST)
        srv.data_dir.mkdir()
        os.chown(srv.data_dir, nobody.pw_uid, nobody.pw_gid)
        srv.write_files()
        err = open(base / "stderr", "wb")
        proc = subprocess.Popen(
            ["setpriv", f"--reuid={nobody.pw_uid}",
             f"--regid={nobody.pw_gid}", "--clear-groups", d.netjes_bin(),
             "serve", "-c", str(srv.config_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            env=d.sanitizer_env(), start_new_session=True)
        log = lambda: (base / "stderr").read_text(errors="replace")
        try:
            d.wait_for(lambda: log().count("event=server.listening ") ==
                       len(srv.listeners) or proc.poll() is not None,
                       d.IO_TIMEOUT, "listening")
            assert proc.poll() is None, log()
            c = srv.connect()
            assert c.reply().startswith("220 ")
            inode = socket_inode_of_peer(c.sock.getsockname()[1])
            (holder,) = pids_holding(inode)
            assert uids(holder) == [nobody.pw_uid] * 4
            for pid in [proc.pid] + children(proc.pid):
                assert uids(pid) == [nobody.pw_uid] * 4, pid
            c.close()
            for p in (srv.data_dir / "spool", srv.data_dir / "mail"):
                assert p.stat().st_uid == nobody.pw_uid, p
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
            err.close()
        assert rc == 0, log()
        assert "AddressSanitizer" not in log()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def private_scalar(key_path):
    """The private value of an EC key, as bytes (openssl's text dump)."""
    out = subprocess.run(["openssl", "pkey", "-in", str(key_path),
                          "-noout", "-text"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"priv:\s*\n((?:\s+[0-9a-f:]+\n)+)", out)
    assert m, out
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))


def memory_contains(pid, needles):
    """True when any needle is in pid's readable private memory."""
    found = False
    with open(f"/proc/{pid}/maps") as maps, \
            open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            # skip the sanitizers' huge reserved shadow ranges
            if "r" not in fields[1] or hi - lo > 256 << 20:
                continue
            if len(fields) > 5 and fields[5].startswith("["):
                if fields[5] not in ("[heap]", "[stack]"):
                    continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, OverflowError, ValueError):
                continue
            if any(n in data for n in needles):
                found = True
                break
    return found


def test_child_never_sees_the_private_key(tmp_path):
    """TLS works (the handshake signs through the parent), and neither the
    private value nor a line of the PEM is anywhere in the child's memory."""
    cert, key = make_cert(tmp_path, "mx", HOST)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert,
                   tls_key=key).start()
    try:
        for _ in range(3):
            with srv.connect_tls() as c:
                assert c.reply().startswith("220 ")
        (child,) = children(srv.proc.pid)
        pem_lines = [ln.encode() for ln in Path(key).read_text().splitlines()
                     if ln and not ln.startswith("-----")]
        needles = pem_lines + [private_scalar(key)]
        assert memory_contains(srv.proc.pid, needles), \
            "the search itself must find the key in the parent"
        assert not memory_contains(child, needles)
    finally:
        srv.assert_clean_stop()


def test_missing_account_refuses_with_the_command(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST,
                   extra="[server]\nuser = nosuchnetjesuser\n")
    srv.spawn()
    rc = srv.wait_exit()
    assert rc == 1
    err = srv.stderr()
    assert "nosuchnetjesuser" in err
    assert "useradd --system" in err


def test_root_as_server_user_is_refused(tmp_path):
    srv = d.Daemon(tmp_path, hostname=HOST, extra="[server]\nuser = root\n")
    srv.spawn()
    assert srv.wait_exit() == 1
    assert "unprivileged" in srv.stderr()


def test_bad_key_stops_the_start_with_the_reason(tmp_path):
    cert, _ = make_cert(tmp_path, "mx", HOST)
    srv = d.Daemon(tmp_path, hostname=HOST, tls_cert=cert,
                   tls_key=tmp_path / "missing.key")
    srv.spawn()
    assert srv.wait_exit() == 1
    assert "missing.key" in srv.stderr()
