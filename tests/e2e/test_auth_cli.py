"""`netjes auth` end to end against a real nsd on loopback.

The zone publishes everything a well-run sender has: PTR and A records
for 127.0.0.5 (iprev pass), an SPF record, a DKIM key, and a DMARC
record. The message is signed by Debian's python3-dkim (dkimpy), an
independent implementation, so the DKIM pass and the DMARC alignment
are checked on a signature netjes did not make. The failing variant
sends the same message from an address the zone does not vouch for,
after a change to the body, with a MAIL FROM in another domain. Every
printed header must parse with python3-authres.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import authres

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import authzone  # noqa: E402
from authzone import DOMAIN, SELECTOR  # noqa: E402
from mailtest import rsa_key_pair  # noqa: E402



@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    return rsa_key_pair(tmp_path_factory.mktemp("authkey"))


@pytest.fixture
def dns(dns_server, rsa_key):
    return dns_server(authzone.zones(rsa_key[1]))


def signed_message(rsa_key, body="Hello, DMARC.\r\n"):
    return authzone.signed_message(rsa_key[0], body)


def run_auth(netjes_bin, srv, ip, helo, mailfrom, msg, json_out=False):
    args = [netjes_bin, "auth", "--ip", ip, "--helo", helo, "--mail-from",
            mailfrom, "--authserv-id", "mx.netjes.test", "--nameserver",
            srv.addr, "--dns-timeout", "5"]
    if json_out:
        args.append("--json")
    r = subprocess.run(args, input=msg, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


def results(header):
    parsed = authres.AuthenticationResultsHeader.parse(header.strip())
    assert parsed.authserv_id == "mx.netjes.test"
    return {(r.method, tuple(sorted((p.type + "." + p.name, p.value)
                                    for p in r.properties))): r.result
            for r in parsed.results}, parsed


def test_all_pass(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key)
    out = run_auth(netjes_bin, dns, "127.0.0.5", f"mail.{DOMAIN}",
                   f"bounce@{DOMAIN}", msg)
    assert out.startswith("Authentication-Results: mx.netjes.test;")
    _, parsed = results(out)
    got = {r.method + ("/helo" if any(p.name == "helo"
                                      for p in r.properties) else ""):
           r.result for r in parsed.results}
    assert got == {"iprev": "pass", "spf": "pass", "spf/helo": "pass",
                   "dkim": "pass", "dmarc": "pass", "arc": "none"}
    dk = [r for r in parsed.results if r.method == "dkim"][0]
    props = {p.type + "." + p.name: p.value for p in dk.properties}
    assert props["header.d"] == DOMAIN
    assert props["header.s"] == SELECTOR
    assert len(props["header.b"]) == 8

    data = json.loads(run_auth(netjes_bin, dns, "127.0.0.5",
                               f"mail.{DOMAIN}", f"bounce@{DOMAIN}", msg,
                               json_out=True))
    assert data["iprev"]["name"] == f"mail.{DOMAIN}"
    assert data["dkim"][0]["result"] == "pass"
    assert data["dmarc"]["result"] == "pass"
    assert data["dmarc"]["spf_aligned"] and data["dmarc"]["dkim_aligned"]
    assert data["dmarc"]["disposition"]["applied"] == "none"
    assert data["dmarc"]["policy"]["p"] == "reject"


def test_failing_variant(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key).replace(b"Hello, DMARC.",
                                          b"Hello, forger.")
    out = run_auth(netjes_bin, dns, "127.0.0.6", f"liar.{DOMAIN}",
                   "someone@other.example", msg)
    _, parsed = results(out)
    got = {r.method: r.result for r in parsed.results
           if not any(p.name == "helo" for p in r.properties)}
    assert got == {"iprev": "fail", "spf": "fail", "dkim": "fail",
                   "dmarc": "fail", "arc": "none"}
    dm = [r for r in parsed.results if r.method == "dmarc"][0]
    props = {p.type + "." + p.name: p.value for p in dm.properties}
    assert props["header.from"] == DOMAIN
    assert props["policy.applied-disposition"] == "reject"


def test_null_sender_and_no_ptr(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key)
    out = run_auth(netjes_bin, dns, "127.0.0.9", f"mail.{DOMAIN}", "", msg)
    _, parsed = results(out)
    got = {r.method: r.result for r in parsed.results}
    assert got["iprev"] == "permerror"
    assert got["dkim"] == "pass"
    assert got["dmarc"] == "pass"
    spf = [r for r in parsed.results if r.method == "spf"][0]
    assert {p.name: p.value for p in spf.properties}["mailfrom"] == \
        f"postmaster@mail.{DOMAIN}"
