"""Debian's redis-server on a free loopback port, for the tests that
share state between two netjes instances. No persistence, its own
directory, always stopped. A missing redis-server is a failure: `make
test` installs it."""

import shutil
import socket
import subprocess
import time

import daemon as d

REDIS = "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "redis"
        self.port = None
        self.proc = None

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        assert shutil.which(REDIS), "redis-server is not installed " \
            "(scripts/deps.sh test installs it)"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = d.free_port()
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("redis-server did not answer PING")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
