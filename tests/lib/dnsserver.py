"""Real and misbehaving DNS servers on loopback for the pytest suites.

NsdServer runs a real authoritative server (nsd from Debian) in the
foreground on 127.0.0.1 and a free port, with zone files the test gives
as text. FakeDnsServer is a tiny UDP server built on dnslib that answers
SERVFAIL (or any rcode) for chosen names, or never answers at all
("blackhole"), for the failure paths a real server will not produce on
demand. Both expose .port and .addr ("127.0.0.1:PORT") and must be
stopped with .stop() (the conftest fixtures do that at teardown).
Port 53 is never used.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from dnslib import DNSRecord, QTYPE, RCODE

NSD = os.environ.get("NSD", "/usr/sbin/nsd")
LOOPBACK = "127.0.0.1"


def free_port():
    """A port free for both UDP and TCP on loopback right now."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((LOOPBACK, 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((LOOPBACK, port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free loopback port")


def _default_head(origin):
    return (f"$ORIGIN {origin}.\n$TTL 300\n"
            f"@ IN SOA ns.{origin}. hostmaster.{origin}. "
            f"1 3600 600 86400 60\n"
            f"@ IN NS ns.{origin}.\n")


def query(addr, port, name, qtype, timeout=0.5):
    """One UDP query with dnslib; returns the parsed reply."""
    q = DNSRecord.question(name, qtype)
    return DNSRecord.parse(q.send(addr, port, timeout=timeout))


class NsdServer:
    """nsd serving the given zones ({origin: zone text}) on loopback.

    A zone text without an SOA record gets a default SOA and NS put in
    front, with $ORIGIN set, so tests only write the records they care
    about.
    """

    def __init__(self, zones):
        self.zones = {o.rstrip(".").lower(): t for o, t in zones.items()}
        self.dir = tempfile.mkdtemp(prefix="netjes-nsd-")
        self.port = free_port()
        self.addr = f"{LOOPBACK}:{self.port}"
        self.proc = None
        self.log = os.path.join(self.dir, "nsd.log")

    def _write(self):
        conf = [
            "server:",
            f"  port: {self.port}",
            f"  ip-address: {LOOPBACK}",
            '  username: ""',
            '  chroot: ""',
            f'  pidfile: "{self.dir}/nsd.pid"',
            f'  zonesdir: "{self.dir}"',
            '  database: ""',
            f'  xfrdfile: "{self.dir}/xfrd.state"',
            f'  zonelistfile: "{self.dir}/zone.list"',
            f'  logfile: "{self.log}"',
            "  server-count: 1",
            "  verbosity: 1",
            "  do-ip6: no",
            "  hide-version: yes",
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, text in self.zones.items():
            if " SOA " not in text.upper().replace("\t", " "):
                text = _default_head(origin) + text
            path = os.path.join(self.dir, f"{origin}.zone")
            with open(path, "w") as f:
                f.write(text if text.endswith("\n") else text + "\n")
            conf += ["zone:", f"  name: {origin}", f"  zonefile: {path}"]
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=10.0):
        self._write()
        conf = os.path.join(self.dir, "nsd.conf")
        check = subprocess.run(["/usr/sbin/nsd-checkconf", conf],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nsd.conf rejected: {check.stderr}")
        self.proc = subprocess.Popen([NSD, "-d", "-c", conf],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._wait(timeout)
        return self

    def _wait(self, timeout):
        origin = next(iter(self.zones), ".")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError(f"nsd exited: {out}{self._logtext()}")
            try:
                r = query(LOOPBACK, self.port, origin, "SOA", 0.2)
                if r.header.rcode == RCODE.NOERROR and r.rr:
                    return
            except (socket.timeout, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nsd did not answer in {timeout}s"
                           f"{self._logtext()}")

    def _logtext(self):
        try:
            with open(self.log) as f:
                return "\n" + f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class FakeDnsServer:
    """A UDP DNS server that misbehaves on purpose.

    rcodes maps names (case-insensitive, no final dot) to the rcode to
    answer, e.g. {"broken.test": RCODE.SERVFAIL}; other names get
    `default` (NXDOMAIN unless told). With blackhole=True it reads
    queries and never answers. Names in `silent` never get an answer;
    with `upstream` (a server with .port, such as NsdServer) every other
    query is passed on to it and its reply relayed, so one server can
    answer some names for real and leave others hanging. With delay
    (seconds) every answer goes out that much later, each on its own
    timer, so answers stay parallel (a slow resolver path, for
    bench/eom). .queries counts what it received.
    """

    def __init__(self, rcodes=None, default=RCODE.NXDOMAIN, blackhole=False,
                 silent=(), upstream=None, delay=0.0):
        self.rcodes = {k.rstrip(".").lower(): v
                       for k, v in (rcodes or {}).items()}
        self.default = default
        self.blackhole = blackhole
        self.silent = {n.rstrip(".").lower() for n in silent}
        self.upstream = upstream
        self.delay = delay
        self.queries = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.addr = f"{LOOPBACK}:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _reply(self, data):
        q = DNSRecord.parse(data)
        name = str(q.q.qname).rstrip(".").lower()
        if name in self.silent:
            return None
        if self.upstream is not None and name not in self.rcodes:
            return q.send(LOOPBACK, self.upstream.port, timeout=2)
        r = q.reply()
        r.header.rcode = self.rcodes.get(name, self.default)
        r.header.aa = 1
        return r.pack()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            if self.blackhole:
                continue
            if self.delay > 0:
                threading.Timer(self.delay, self._answer,
                                (data, peer)).start()
            else:
                self._answer(data, peer)

    def _answer(self, data, peer):
        try:
            reply = self._reply(data)
            if reply is not None:
                self.sock.sendto(reply, peer)
        except Exception:  # unparsable, or the socket closed: stay silent
            pass

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self.sock.close()


__all__ = ["NsdServer", "FakeDnsServer", "free_port", "query", "QTYPE",
           "RCODE"]
