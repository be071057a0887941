"""A private Postfix instance on loopback, for interop tests and benches.

PostfixInstance writes its own main.cf and master.cf into ROOT/etc and
keeps its queue (ROOT/queue), data (ROOT/data) and log (ROOT/maillog,
through postlogd) under ROOT as well, so nothing outside ROOT is read
for configuration or written: /etc/postfix and the system queue are
never touched. It is started with `postfix -c ROOT/etc start` and must
be stopped with stop() (tests call it from a finalizer), which runs
`postfix -c ROOT/etc stop` and waits, bounded, for the master to exit.

The daemons run as Debian's `postfix` user (mail_owner), so ROOT is made
traversable (0755). Only Postfix's own programs from the package are run;
every wait is bounded.

The log is parsed into per-queue-id records (`log_records()`): the
Message-ID cleanup saw, and each delivery attempt (recipient, status,
the remote reply), which is how a test learns what the peer said.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTFIX = os.environ.get("POSTFIX", "/usr/sbin/postfix")
POSTQUEUE = "/usr/sbin/postqueue"
MASTER_DIST = "/usr/share/postfix/master.cf.dist"
CMD_TIMEOUT = 60
STOP_TIMEOUT = 30

# The services of Debian's master.cf a relaying instance uses (chroot
# off: a private instance has no chroot jail to copy files into).
BASE_SERVICES = [
    "pickup    unix  n       -       n       60      1       pickup",
    "cleanup   unix  n       -       n       -       0       cleanup",
    "qmgr      unix  n       -       n       300     1       qmgr",
    "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
    "rewrite   unix  -       -       n       -       -       trivial-rewrite",
    "bounce    unix  -       -       n       -       0       bounce",
    "defer     unix  -       -       n       -       0       bounce",
    "trace     unix  -       -       n       -       0       bounce",
    "verify    unix  -       -       n       -       1       verify",
    "flush     unix  n       -       n       1000?   0       flush",
    "proxymap  unix  -       -       n       -       -       proxymap",
    "proxywrite unix -       -       n       -       1       proxymap",
    "smtp      unix  -       -       n       -       -       smtp",
    "relay     unix  -       -       n       -       -       smtp",
    "showq     unix  n       -       n       -       -       showq",
    "error     unix  -       -       n       -       -       error",
    "retry     unix  -       -       n       -       -       error",
    "discard   unix  -       -       n       -       -       discard",
    "local     unix  -       n       n       -       -       local",
    "virtual   unix  -       n       n       -       -       virtual",
    "lmtp      unix  -       -       n       -       -       lmtp",
    "anvil     unix  -       -       n       -       1       anvil",
    "scache    unix  -       -       n       -       1       scache",
    "postlog   unix-dgram n  -       n       -       1       postlogd",
]


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def installed():
    return os.path.isfile(POSTFIX) and os.access(POSTFIX, os.X_OK)


# "postfix/smtp[12]: 4F3A21C0: to=<a@b>, relay=..., status=sent (250 ...)"
_LOG_RE = re.compile(
    r"postfix(?:/[\w.-]+)+\[\d+\]: ([0-9A-Za-z]+): (.*)$")
_KV_RE = re.compile(r"([\w-]+)=(<[^>]*>|[^,\s]*)")


class Delivery:
    """One delivery attempt of one recipient, as Postfix logged it."""

    def __init__(self, fields, reply):
        self.to = fields.get("to", "").strip("<>")
        self.status = fields.get("status", "")
        self.dsn = fields.get("dsn", "")
        self.relay = fields.get("relay", "")
        self.reply = reply


class Record:
    """What the log says about one Postfix queue id."""

    def __init__(self, qid):
        self.qid = qid
        self.message_id = None
        self.sender = None
        self.deliveries = []
        self.lines = []
        self.removed = False
        self.notification = None   # queue id of the bounce it caused


def parse_log(text):
    """{queue id: Record} from the text of a Postfix maillog."""
    records = {}
    for line in text.splitlines():
        m = _LOG_RE.search(line)
        if not m:
            continue
        qid, rest = m.group(1), m.group(2)
        rec = records.setdefault(qid, Record(qid))
        rec.lines.append(line)
        if rest == "removed":
            rec.removed = True
            continue
        if rest.startswith("sender non-delivery notification: "):
            rec.notification = rest.split(": ", 1)[1].strip()
            continue
        head, _, reply = rest.partition(" (")
        fields = dict(_KV_RE.findall(head))
        if "message-id" in fields:
            rec.message_id = fields["message-id"]
        if "from" in fields and rec.sender is None:
            rec.sender = fields["from"].strip("<>")
        if "status" in fields:
            rec.deliveries.append(Delivery(fields, reply.rstrip(")")))
    return records


class PostfixInstance:
    """One private Postfix: its own config, queue, data and log under root.

    main: extra main.cf settings ({name: value}), applied last;
    services: extra master.cf lines (transports such as a milter's or
    a Maildir delivery agent's).
    """

    def __init__(self, root=None, myhostname="postfix.example.test",
                 relayhost=None, smtpd_port=None, main=None, services=None,
                 smtpd_args=None):
        # The daemons open files by absolute path after dropping to the
        # postfix user, so every directory above root must be searchable
        # by others: pytest's tmp_path (under a 0700 directory) is not.
        # Without a root, a fresh directory in the temporary directory.
        self.own_root = root is None
        if root is None:
            root = tempfile.mkdtemp(prefix="netjes-postfix-")
        self.root = Path(root)
        self.check_searchable(self.root.parent)
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        self.data = self.root / "data"
        self.maillog = self.root / "maillog"
        self.myhostname = myhostname
        self.relayhost = relayhost
        self.smtpd_port = smtpd_port or free_port()
        self.main = dict(main or {})
        self.services = list(services or [])
        self.smtpd_args = list(smtpd_args or [])
        self.started = False

    @staticmethod
    def check_searchable(path):
        for p in [path.resolve(), *path.resolve().parents]:
            if not os.stat(p).st_mode & 0o001:
                raise AssertionError(f"{p} is not searchable by the postfix "
                                     f"user: put the instance elsewhere")

    # -- configuration ----------------------------------------------------

    def main_settings(self):
        s = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.myhostname,
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions":
                "permit_mynetworks, reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP",
            "append_dot_mydomain": "no",
            "biff": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            # names are loopback addresses: no DNS from the client side
            "smtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "may",
            "smtp_tls_loglevel": "1",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.root),
            # a deferred message is retried soon (tests wait, bounded)
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
            "delay_warning_time": "0h",
        }
        if self.relayhost:
            s["relayhost"] = self.relayhost
        s.update(self.main)
        return s

    def master_lines(self):
        smtpd = (f"127.0.0.1:{self.smtpd_port} inet n - n - - smtpd")
        lines = [smtpd] + [f"  -o {a}" for a in self.smtpd_args]
        return lines + BASE_SERVICES + self.services

    def write(self):
        # the queue directory belongs to root; `postfix check` creates
        # its subdirectories with the owners Postfix wants
        for d in (self.root, self.etc, self.queue):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        main = "".join(f"{k} = {v}\n" for k, v in self.main_settings().items())
        (self.etc / "main.cf").write_text(main)
        (self.etc / "master.cf").write_text("\n".join(self.master_lines())
                                            + "\n")
        self.maillog.touch()

    # -- process ----------------------------------------------------------

    def postfix(self, *args, timeout=CMD_TIMEOUT, check=True,
                preexec_fn=None):
        """Run `postfix -c ETC ARGS...`; its output, or an error.

        preexec_fn runs in the child before exec (a benchmark puts the
        instance into its own cgroup that way to count its CPU time).
        """
        r = subprocess.run([POSTFIX, "-c", str(self.etc), *args],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout, preexec_fn=preexec_fn)
        if check and r.returncode != 0:
            raise AssertionError(f"postfix {' '.join(args)} exited "
                                 f"{r.returncode}:\n{r.stdout}{r.stderr}")
        return r.stdout + r.stderr

    def start(self, preexec_fn=None):
        self.write()
        self.postfix("check")
        self.started = True
        self.postfix("start", preexec_fn=preexec_fn)
        self.wait_banner()
        return self

    def master_pid(self):
        try:
            return int((self.queue / "pid" / "master.pid").read_text())
        except (OSError, ValueError):
            return None

    def wait_banner(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.smtpd_port),
                                              timeout=5) as s:
                    if s.recv(512).startswith(b"220 "):
                        return
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"Postfix smtpd on port {self.smtpd_port} did "
                             f"not greet within {timeout}s ({last}):\n"
                             f"{self.log()[-3000:]}")

    def stop(self):
        """Stop the instance; wait (bounded) until its master is gone."""
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        self.postfix("stop", check=False)
        deadline = time.monotonic() + STOP_TIMEOUT
        while pid is not None and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        if pid is not None:
            self.postfix("abort", check=False)
            raise AssertionError(f"Postfix master {pid} did not stop")

    def flush(self):
        subprocess.run([POSTQUEUE, "-c", str(self.etc), "-f"],
                       capture_output=True, timeout=CMD_TIMEOUT)

    # -- the log ----------------------------------------------------------

    def log(self):
        try:
            return self.maillog.read_text(errors="replace")
        except OSError:
            return ""

    def records(self):
        return parse_log(self.log())

    def wait_records(self, predicate, timeout, what):
        """Poll the log until predicate(records) is true (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recs = self.records()
            if predicate(recs):
                return recs
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for "
                             f"{what}; Postfix log:\n{self.log()[-4000:]}")

    def remove(self):
        """Remove root (only a directory the instance made itself)."""
        if self.own_root and not self.started:
            shutil.rmtree(self.root, ignore_errors=True)
