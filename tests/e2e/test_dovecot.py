"""Dovecot reads what netjes writes, as it is.

A user made with `netjes user add` logs in to Debian's Dovecot (its
passwd-file passdb and userdb on our users file) and reads over IMAP
the message netjes delivered through SMTP into its Maildir. The Dovecot
configuration is the one docs/DOVECOT.md gives, written into the test's
tmp directory; Dovecot runs on a free loopback port with its own
base_dir, state_dir and logs, and is always stopped.

Started as root, netjes gives the users file (0600) and the Maildirs
(0700/0600) to its own account; Dovecot's auth process runs as root to
read the file, and the mail processes take the uid and gid of the
Maildir's owner from a static userdb: our lines have no uid/gid fields,
and Dovecot's passwd-file userdb refuses such a line ("missing userdb
info"), so passwd-file serves as the passdb only.
"""

import imaplib
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import daemon as d  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"
HOST = "mx.example.test"
ALICE = "alice@example.test"
PASSWORD = "dove c0t pw"
EXTRA = """
[limits]
banner_delay = 0
"""



@pytest.fixture(autouse=True)
def dovecot_installed():
    """`make test` installs dovecot-imapd: missing is a failure, not a
    skip that would hide the test."""
    assert os.access(DOVECOT, os.X_OK), \
        f"{DOVECOT} not installed (scripts/deps.sh test: dovecot-imapd)"


def dovecot_conf(tmp, users, mail_root, uid, gid, port):
    """The passdb/userdb lines of docs/DOVECOT.md around a private
    instance: nothing of /etc/dovecot is read."""
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
info_log_path = {tmp}/dovecot.log
debug_log_path = {tmp}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {min(uid, 500)}
first_valid_gid = {min(gid, 500)}
mail_location = maildir:{mail_root}/%d/%n

passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {users}
}}
# our lines carry no uid/gid fields (passwd-file's userdb skips such a
# line as "missing userdb info"): every user is the Maildir's owner
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_root}/%d/%n
}}

service auth {{
  user = root
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class Dovecot:
    def __init__(self, tmp, conf_text, port):
        self.tmp = Path(tmp)
        self.conf = self.tmp / "dovecot.conf"
        self.conf.write_text(conf_text)
        self.port = port
        self.proc = None

    def log(self):
        p = self.tmp / "dovecot.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def start(self):
        for sub in ("run", "state"):
            (self.tmp / sub).mkdir(exist_ok=True)
            # the login and auth processes chdir into base_dir as their
            # own users
            os.chmod(self.tmp / sub, 0o755)
        self.errpath = self.tmp / "dovecot.stderr"
        self.errfile = open(self.errpath, "wb")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.errfile, stderr=self.errfile,
                                     start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"dovecot exited with {self.proc.returncode}:\n"
                    f"{self.errpath.read_text(errors='replace')}\n"
                    f"{self.log()}")
            return port_open(self.port)
        d.wait_for(ready, 30, "dovecot to listen")
        return self

    def stop(self):
        if self.proc is None:
            return
        try:
            subprocess.run([DOVECOT, "-c", str(self.conf), "stop"],
                           capture_output=True, timeout=20)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        finally:
            # whatever is left of its process group goes too
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=20)
            self.errfile.close()
            self.proc = None


def add_user(config_path, user, password):
    r = subprocess.run([d.netjes_bin(), "user", "add", user,
                        "-c", str(config_path)],
                       input=password + "\n", capture_output=True,
                       text=True, env=d.sanitizer_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Sanitizer" not in r.stderr, r.stderr


def test_dovecot_reads_users_file_and_maildir(tmp_path):
    # Dovecot's mail processes run as the Maildir's owner, who must be
    # able to walk down to it: pytest's own tmp root is private (0700),
    # so the data directory lives in a fresh directory others may cross
    base = Path(tempfile.mkdtemp(prefix="netjes-dovecot-"))
    os.chmod(base, 0o711)
    srv = d.Daemon(tmp_path, hostname=HOST, extra=EXTRA,
                   data_dir=base / "data")
    dove = None
    try:
        srv.data_dir.mkdir(parents=True)
        os.chmod(srv.data_dir, 0o711)
        srv.write_files()
        add_user(srv.config_path, ALICE, PASSWORD)
        users = srv.data_dir / "users"
        srv.start()
        try:
            with smtplib.SMTP("127.0.0.1", srv.listener("smtp").port,
                              timeout=d.IO_TIMEOUT) as s:
                s.sendmail("bob@remote.example", [ALICE],
                           b"From: <bob@remote.example>\r\n"
                           b"To: <alice@example.test>\r\n"
                           b"Subject: read me in dovecot\r\n"
                           b"Message-ID: <dovecot-1@remote.example>\r\n"
                           b"\r\n"
                           b"hello from netjes to dovecot\r\n")
            new = srv.maildir(ALICE) / "new"
            d.wait_for(lambda: new.is_dir() and any(new.iterdir()),
                       d.IO_TIMEOUT, "the delivery into alice's Maildir")
        finally:
            srv.assert_clean_stop()

        st = srv.maildir(ALICE).stat()
        if os.geteuid() == 0:
            # what the config below has to cope with
            ust = users.stat()
            assert ust.st_mode & 0o777 == 0o600
            assert st.st_mode & 0o777 == 0o700
            assert ust.st_uid == st.st_uid != 0

        port = d.free_port()
        dove = Dovecot(tmp_path, dovecot_conf(
            tmp_path, users, srv.data_dir / "mail", st.st_uid, st.st_gid,
            port), port).start()

        imap = imaplib.IMAP4("127.0.0.1", port, timeout=d.IO_TIMEOUT)
        try:
            with pytest.raises(imaplib.IMAP4.error):
                imap.login(ALICE, "not the password")
            typ, _ = imap.login(ALICE, PASSWORD)
            assert typ == "OK"
            typ, data = imap.select("INBOX", readonly=True)
            assert typ == "OK" and data == [b"1"], (typ, data)
            typ, data = imap.fetch(
                "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])")
            assert typ == "OK", data
            parts = [p[1] for p in data if isinstance(p, tuple)]
            assert parts[0].strip() == b"Subject: read me in dovecot"
            assert parts[1] == b"hello from netjes to dovecot\r\n"
            imap.logout()
        finally:
            try:
                imap.shutdown()
            except OSError:
                pass
        log = dove.log()
        assert "Fatal" not in log and "Panic" not in log, log
    except BaseException:
        if dove is not None:
            print(dove.log())
        raise
    finally:
        if dove is not None:
            dove.stop()
        shutil.rmtree(base, ignore_errors=True)
