#!/usr/bin/python3
"""bench/smtp driver: SMTP throughput, netjes vs Postfix, one run.

Run by bench/smtp/run.sh inside a private network and mount namespace
(its own loopback; /etc/resolv.conf bind-mounted to name the local
unbound on 127.0.0.1:53, which forwards the benchmark zone to nsd), so
both servers and the milters resolve the same names and nothing leaves
the machine. For each server it:

  1. starts it in its own cpuacct cgroup (all its processes, exited
     ones included, are counted: Postfix forks one smtpd per session);
  2. runs Postfix's smtp-source (-s SESSIONS -l SIZE -m N, one message
     per connection) against it and times it: "accepted" messages/s;
  3. waits until all N messages are files in the recipient's Maildir
     (new/) and counts them: "delivered" messages/s, end to end;
  4. reports the CPU seconds the server used per message in that time.

Both deliver to a Maildir in the same directory tree on the same disk:
netjes through its durable spool (fsync before 250) and its delivery
runner; Postfix through its queue and virtual(8) (home_mailbox style
Maildir, virtual_mailbox_base). Rows:

  plain   no checks: netjes with the client in trusted_networks (its
          checks run only for mail from outside); Postfix as shipped
  checks  netjes checks the client (iprev, SPF, DKIM, DMARC, ARC);
          Postfix with OpenDKIM (verify) and OpenDMARC (SPF self-check)
          as milters, each on its own loopback socket and pid file

Output: one "BENCH impl=... row=... key=value ..." line per run.
"""

import argparse
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
import postfix as pf  # noqa: E402

SMTP_SOURCE = "/usr/sbin/smtp-source"
CGROOT = Path("/sys/fs/cgroup/cpuacct")
SENDER = "bench@sender.bench.example"
RCPT = "user@example.test"
NETJES_PORT = 2525
POSTFIX_PORT = 2526
DKIM_PORT = 8891
DMARC_PORT = 8893
DELIVER_TIMEOUT = 900


class Cgroup:
    """A cpuacct cgroup (v1) whose members' CPU time adds up, exited
    processes included; None-like (cpu() is None) when unavailable."""

    def __init__(self, name):
        self.path = CGROOT / f"netjes-bench-{os.getpid()}-{name}"
        try:
            self.path.mkdir()
        except OSError:
            self.path = None

    def enter(self):
        """preexec_fn: move the child (before exec) into the group."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def cpu(self):
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self):
        if self.path is None:
            return
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def maildir_count(new):
    try:
        return sum(1 for _ in os.scandir(new))
    except FileNotFoundError:
        return 0


def wait_port(port, timeout=30):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"bench/smtp: nothing listens on port {port}")


# ---- netjes -------------------------------------------------------------------

class Netjes:
    def __init__(self, binary, tmp, checks):
        self.bin = binary
        self.dir = tmp / ("netjes-checks" if checks else "netjes")
        self.checks = checks
        self.extra_limits = ""
        self.proc = None
        self.cg = Cgroup("netjes-" + ("checks" if checks else "plain"))
        self.new = self.dir / "data" / "mail" / "example.test" / "user" / "new"

    def config(self):
        trusted = "" if self.checks else "127.0.0.0/8"
        return (f"[server]\nhostname = mx.bench.test\n"
                f"data_dir = {self.dir / 'data'}\nlog_level = info\n"
                f"trusted_networks = {trusted}\n\n"
                f"[dns]\nnameserver = 127.0.0.1:53\n\n"
                f"[limits]\nbanner_delay = 0\nconnections_per_ip = 100000\n"
                f"{self.extra_limits}\n"
                f'[listener "smtp"]\naddress = 127.0.0.1\n'
                f"port = {NETJES_PORT}\nmode = smtp\n\n"
                f'[domain "example.test"]\n')

    def start(self):
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        (self.dir / "netjes.conf").write_text(self.config())
        # a mailbox that receives; the placeholder hash cannot log in
        (self.dir / "data" / "users").write_text(
            f"{RCPT}:{{CRYPT}}$y$j9T$placeholder$"
            f"notarealhashnotarealhashnotarealhash00:::\n")
        self.log = open(self.dir / "netjes.log", "wb")
        self.proc = subprocess.Popen(
            [self.bin, "serve", "-c", str(self.dir / "netjes.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log, preexec_fn=self.cg.enter)
        wait_port(NETJES_PORT)

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()
        self.cg.remove()


# ---- Postfix (and its milters) ------------------------------------------------

MILTER_CONF = {
    "opendkim": """Mode v
Socket inet:{port}@127.0.0.1
PidFile {dir}/opendkim.pid
Syslog no
Background no
InternalHosts {dir}/internal
Nameservers 127.0.0.1
""",
    "opendmarc": """Socket inet:{port}@127.0.0.1
PidFile {dir}/opendmarc.pid
Syslog false
Background false
AuthservID mx.bench.test
SPFSelfValidate true
SPFIgnoreResults true
IgnoreHosts {dir}/internal
TrustedAuthservIDs mx.bench.test
""",
}


class Milter:
    def __init__(self, name, port, tmp, cg):
        self.name = name
        self.port = port
        self.dir = tmp / name
        self.cg = cg
        self.proc = None

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        # no client is internal: 127.0.0.1 (the default) would be signed
        # or skipped instead of checked
        (self.dir / "internal").write_text("192.0.2.1\n")
        conf = self.dir / f"{self.name}.conf"
        conf.write_text(MILTER_CONF[self.name].format(port=self.port,
                                                      dir=self.dir))
        self.log = open(self.dir / "stderr", "wb")
        # (opendkim's -c is canonicalization; its config file is -x)
        opt = "-x" if self.name == "opendkim" else "-c"
        self.proc = subprocess.Popen(
            [f"/usr/sbin/{self.name}", "-f", opt, str(conf)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=self.cg.enter)
        wait_port(self.port)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()


class Postfix:
    def __init__(self, tmp, checks):
        name = "postfix-checks" if checks else "postfix"
        self.dir = tmp / name
        self.checks = checks
        self.cg = Cgroup(name)
        self.milters = []
        pw = pwd.getpwnam("postfix")
        self.mail = self.dir / "mail"
        self.new = self.mail / "example.test" / "user" / "new"
        main = {
            "virtual_mailbox_domains": "example.test",
            "virtual_mailbox_base": str(self.mail),
            "virtual_mailbox_maps": f"texthash:{self.dir}/vmailbox",
            "virtual_uid_maps": f"static:{pw.pw_uid}",
            "virtual_gid_maps": f"static:{pw.pw_gid}",
        }
        if checks:
            main["smtpd_milters"] = (f"inet:127.0.0.1:{DKIM_PORT}, "
                                     f"inet:127.0.0.1:{DMARC_PORT}")
            main["milter_default_action"] = "accept"
            self.milters = [Milter("opendkim", DKIM_PORT, tmp, self.cg),
                            Milter("opendmarc", DMARC_PORT, tmp, self.cg)]
        self.inst = pf.PostfixInstance(root=self.dir, myhostname="mx.bench.test",
                                       smtpd_port=POSTFIX_PORT, main=main)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mail.mkdir(exist_ok=True)
        os.chown(self.mail, self.uid, self.gid)
        (self.dir / "vmailbox").write_text(f"{RCPT} example.test/user/\n")
        for m in self.milters:
            m.start()
        self.inst.start(preexec_fn=self.cg.enter)

    def stop(self):
        self.inst.stop()
        for m in self.milters:
            m.stop()
        self.cg.remove()


# ---- the measurement ----------------------------------------------------------

def auth_results(new):
    """The methods in one delivered message's Authentication-Results
    headers ("spf,dmarc"), or "none": proof that a row checked."""
    import email.parser
    for entry in os.scandir(new):
        with open(entry.path, "rb") as f:
            msg = email.parser.BytesHeaderParser().parse(f)
        found = []
        for h in msg.get_all("Authentication-Results") or []:
            for part in str(h).replace("\n", " ").split(";")[1:]:
                word = part.strip().split("=", 1)[0]
                if word and word not in found:
                    found.append(word)
        return ",".join(found) or "none"
    return "none"


def measure(impl, row, server, port, args):
    cmd = [SMTP_SOURCE, "-s", str(args.sessions), "-l", str(args.size),
           "-m", str(args.n), "-f", SENDER, "-t", RCPT, f"127.0.0.1:{port}"]
    c0 = server.cg.cpu()
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=DELIVER_TIMEOUT)
    t1 = time.monotonic()
    if r.returncode != 0 or r.stderr.strip():
        print(f"bench/smtp: smtp-source against {impl}: exit {r.returncode}"
              f" {r.stderr.strip()[:500]}", file=sys.stderr)
    deadline = t0 + DELIVER_TIMEOUT
    while maildir_count(server.new) < args.n and time.monotonic() < deadline:
        time.sleep(0.02)
    t2 = time.monotonic()
    c1 = server.cg.cpu()
    # a duplicate would show up as more than N files shortly after
    time.sleep(1)
    count = maildir_count(server.new)
    cpu = f"{(c1 - c0) * 1000 / args.n:.3f}" if c0 is not None else "-"
    line = (f"BENCH impl={impl} row={row} n={args.n} "
            f"sessions={args.sessions} size={args.size} delivered={count} "
            f"accept_s={t1 - t0:.2f} deliver_s={t2 - t0:.2f} "
            f"accepted_rate={args.n / (t1 - t0):.1f} "
            f"delivered_rate={args.n / (t2 - t0):.1f} "
            f"cpu_ms_per_msg={cpu} auth_results={auth_results(server.new)}")
    print(line, flush=True)


def run_one(impl, row, make, port, args):
    server = make()
    try:
        server.start()
        measure(impl, row, server, port, args)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netjes", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rows", default="plain,checks")
    args = ap.parse_args()
    tmp = Path(args.tmp)
    for row in args.rows.split(","):
        checks = row == "checks"
        run_one("netjes", row, lambda: Netjes(args.netjes, tmp, checks),
                NETJES_PORT, args)
        run_one("postfix", row, lambda: Postfix(tmp, checks),
                POSTFIX_PORT, args)


if __name__ == "__main__":
    main()
