"""Shared pytest fixtures: the netjes binary and DNS servers on loopback.

netjes_bin   path of the binary under test: $NETJES_BIN, else
             build/asan/src/netjes in the repository; fails when missing.
dns_server   factory: dns_server({"example.test": "zone text"}) starts a
             real nsd on 127.0.0.1 and a free port; stopped at teardown.
fake_dns     factory: fake_dns(rcodes={...}) or fake_dns(blackhole=True)
             starts a misbehaving dnslib server; stopped at teardown.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from dnsserver import FakeDnsServer, NsdServer  # noqa: E402


@pytest.fixture(scope="session")
def netjes_bin():
    path = os.environ.get("NETJES_BIN") or os.path.join(
        ROOT, "build", "asan", "src", "netjes")
    if not os.path.isabs(path):
        path = os.path.join(ROOT, path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"netjes binary not found at {path}: build it or set "
                    f"NETJES_BIN", pytrace=False)
    return path


@pytest.fixture
def dns_server():
    started = []

    def start(zones):
        srv = NsdServer(zones)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
def fake_dns():
    started = []

    def start(**kwargs):
        srv = FakeDnsServer(**kwargs)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()
