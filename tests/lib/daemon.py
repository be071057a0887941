"""Run a real `netjes serve` for end-to-end tests.

A Daemon writes a configuration with listeners on free loopback ports and
a data directory inside the test's tmp directory, starts the binary,
waits until every listener is bound (the server prints one "listening
on" line per listener after listen() succeeded), and stops it with
SIGTERM. Its stderr goes to a file, so a chatty server never blocks on a
full pipe and a test can read the log afterwards.

Mail from outside is checked (SPF, DKIM, DMARC...) at the end of DATA,
so the daemon needs a DNS server: nameserver="127.0.0.1:PORT" points it
at one the test started (the dns_server fixture); by default a quiet
dnslib server that answers NXDOMAIN at once is started with the daemon,
so tests that do not care about DNS neither wait for timeouts nor
depend on the machine's resolver.

The binary is $NETJES_BIN, or build/asan/src/netjes under the repository
root. Sanitizer options make any ASan, UBSan or LeakSanitizer report turn
into a non-zero exit status, which Daemon.stop() reports.
"""

import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

START_TIMEOUT = 30.0  # sanitizer builds start slowly on a busy machine
STOP_TIMEOUT = 30.0
IO_TIMEOUT = 10.0

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}


def netjes_bin():
    """$NETJES_BIN (a relative path is taken from the repository root)."""
    path = Path(os.environ.get("NETJES_BIN", "build/asan/src/netjes"))
    return str(path if path.is_absolute() else ROOT / path)


def sanitizer_env(extra=None):
    env = dict(os.environ)
    for k, v in SAN_ENV.items():
        env.setdefault(k, v)
    env.update(extra or {})
    return env


_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port the kernel just handed out and released on host.

    The kernel may hand the same ephemeral port out twice in a row once it
    is released, so ports already given to this test process are skipped:
    two listeners of one daemon must never get the same port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(1000):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise AssertionError("no fresh free port after 1000 tries")


def port_is_free(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_for(predicate, timeout, what):
    """Poll predicate until true; AssertionError naming what on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Listener:
    def __init__(self, name, mode, address="127.0.0.1", port=None):
        self.name = name
        self.mode = mode
        self.address = address
        self.port = port if port is not None else free_port(address)

    def text(self):
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


def default_listeners():
    return [Listener("smtp", "smtp"), Listener("submission", "submission"),
            Listener("smtps", "smtps")]


class Daemon:
    """One netjes serve process with its own config and data directory."""

    def __init__(self, tmp_path, hostname="mx.example.test", listeners=None,
                 tls_cert=None, tls_key=None, data_dir=None, users=None,
                 extra="", banner_delay=0, nameserver=None):
        self.tmp = Path(tmp_path)
        self.hostname = hostname
        self.listeners = listeners if listeners is not None else default_listeners()
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.data_dir = Path(data_dir) if data_dir else self.tmp / "data"
        self.config_path = self.tmp / "netjes.conf"
        # users: addresses written to the users file (a passwd-file with a
        # placeholder hash: they receive mail, they cannot log in);
        # extra: config text appended as is ([alias], [limits], ...)
        self.users = list(users or [])
        self.extra = extra
        self.banner_delay = banner_delay
        self.nameserver = nameserver
        self._own_dns = None
        self.proc = None
        self.stderr_path = None
        self._stderr_file = None
        self._starts = 0

    # -- configuration --------------------------------------------------

    def config_text(self):
        lines = ["[server]", f"hostname = {self.hostname}",
                 f"data_dir = {self.data_dir}", "log_level = debug", ""]
        if "[limits]" not in self.extra:
            lines += ["[limits]", f"banner_delay = {self.banner_delay}", ""]
        if "[dns]" not in self.extra:
            lines += ["[dns]", f"nameserver = {self._dns_addr()}", ""]
        if self.tls_cert:
            lines += ["[tls]", f"cert = {self.tls_cert}", f"key = {self.tls_key}", ""]
        for lst in self.listeners:
            lines += [f'[listener "{lst.name}"]', f"address = {lst.address}",
                      f"port = {lst.port}", f"mode = {lst.mode}", ""]
        return "\n".join(lines) + "\n" + self.extra

    def _dns_addr(self):
        if self.nameserver is not None:
            return self.nameserver
        if self._own_dns is None:
            import sys
            here = str(Path(__file__).resolve().parent)
            if here not in sys.path:
                sys.path.insert(0, here)
            from dnsserver import FakeDnsServer
            self._own_dns = FakeDnsServer().start()
        return self._own_dns.addr

    def listener(self, name):
        for lst in self.listeners:
            if lst.name == name:
                return lst
        raise KeyError(name)

    # -- process --------------------------------------------------------

    def write_files(self):
        """Write the config and the users file as they stand now."""
        self.config_path.write_text(self.config_text())
        if self.users:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            (self.data_dir / "users").write_text("".join(
                f"{u}:{{CRYPT}}$y$j9T$placeholder$notarealhashnotarealhashnotarealhash00:::\n"
                for u in self.users))

    def spawn(self, args=None, cwd=None, env=None):
        """Start the process without waiting for it to be ready."""
        self.write_files()
        self._starts += 1
        self.stderr_path = self.tmp / f"netjes-{self._starts}.stderr"
        self._stderr_file = open(self.stderr_path, "wb")
        if args is None:
            args = ["serve", "-c", str(self.config_path)]
        self.proc = subprocess.Popen(
            [netjes_bin()] + args, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._stderr_file,
            cwd=cwd or self.tmp, env=sanitizer_env(env),
            start_new_session=True)
        return self.proc

    def start(self, **kw):
        self.spawn(**kw)
        want = len(self.listeners)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"netjes serve exited with {self.proc.returncode} "
                    f"before listening:\n{self.stderr()}")
            return self.stderr().count("event=server.listening ") >= want
        wait_for(ready, START_TIMEOUT, "netjes serve to listen")
        return self

    def stderr(self):
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(errors="replace")

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self._stderr_file:
                self._stderr_file.close()
                self._stderr_file = None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL the server's process group (the root parent and the
        unprivileged child, as a service manager would) and wait until
        every member is gone, so the ports are free again."""
        pgid = self.proc.pid
        os.killpg(pgid, signal.SIGKILL)
        self.wait_exit()

        def gone():
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return True
            return False
        wait_for(gone, STOP_TIMEOUT, "the killed server's processes to end")

    def reload(self, write=True):
        """SIGHUP (after writing the files, unless write is False) and
        wait for the reload's result line; returns that line."""
        if write:
            self.write_files()
        needle = "event=config.reload result="
        done = self.stderr().count(needle)
        self.send_signal(signal.SIGHUP)
        self.wait_log(needle, count=done + 1)
        return [ln for ln in self.stderr().splitlines() if needle in ln][done]

    def stop(self, sig=signal.SIGTERM):
        """Stop with sig and return the exit status (kill on a hang)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.wait_exit()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.wait_exit()
            raise AssertionError(f"netjes serve ignored {sig!r}:\n{self.stderr()}")
        self.proc = None
        if self._own_dns is not None:
            self._own_dns.stop()
            self._own_dns = None
        return rc

    def assert_clean_stop(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        log = self.stderr()
        assert rc == 0, f"netjes serve exited with {rc}:\n{log}"
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in log, f"sanitizer report:\n{log}"

    def give(self, path):
        """Files a test makes in the mail root as root belong to the
        server's account, like the rest of it (privsep: the server runs
        unprivileged): path and its parents below the mail root."""
        if os.geteuid() != 0:
            return
        root = self.data_dir / "mail"
        st = root.stat()
        path = Path(path)
        while path != root and root in path.parents:
            os.lchown(path, st.st_uid, st.st_gid)
            path = path.parent

    def maildir(self, addr, folder=None):
        """The Maildir of a local address under the default mail root."""
        local, domain = addr.rsplit("@", 1)
        path = self.data_dir / "mail" / domain / local
        return path / f".{folder}" if folder else path

    def wait_log(self, needle, count=1, timeout=IO_TIMEOUT):
        wait_for(lambda: self.stderr().count(needle) >= count, timeout,
                 f"{needle!r} in the server log")

    # -- clients ----------------------------------------------------------

    def connect(self, name="smtp", timeout=IO_TIMEOUT):
        lst = self.listener(name)
        return SmtpLine.connect(lst.address, lst.port, timeout)

    def connect_tls(self, name="smtps", context=None, timeout=IO_TIMEOUT):
        lst = self.listener(name)
        return SmtpLine.connect_tls(lst.address, lst.port, self.hostname,
                                    context or insecure_context(), timeout)


def insecure_context(minimum=None, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def verifying_context(cafile, minimum=None, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(cafile))
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


class SmtpLine:
    """A line-level SMTP client: send raw lines, read raw replies."""

    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb")

    @classmethod
    def connect(cls, host, port, timeout=IO_TIMEOUT):
        return cls(socket.create_connection((host, port), timeout=timeout))

    @classmethod
    def connect_tls(cls, host, port, server_hostname, context, timeout=IO_TIMEOUT):
        raw = socket.create_connection((host, port), timeout=timeout)
        try:
            tls = context.wrap_socket(raw, server_hostname=server_hostname)
        except Exception:
            raw.close()
            raise
        return cls(tls)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def reply(self):
        """One reply line without its CRLF; "" at EOF."""
        line = self.rfile.readline()
        if line == b"":
            return ""
        assert line.endswith(b"\r\n"), f"reply not ended by CRLF: {line!r}"
        return line[:-2].decode()

    def at_eof(self):
        return self.rfile.readline() == b""

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
