"""`netjes analyze` end to end against a real nsd on loopback.

The zone is the one of test_auth_cli.py: a sender domain with PTR, SPF,
a DKIM key and DMARC p=reject. The message is signed by dkimpy. The same
message and client go through `netjes auth` (the authentication module
on its own) and `netjes analyze` (the check pipeline, stage by stage):
one engine, so their Authentication-Results must be the same header,
byte for byte. On top, analyze gives the verdict: the action, the
deciding reason, the SMTP reply, and the findings behind it; postmaster@
is never refused, [auth] dmarc_policy = monitor asks for nothing, and a
trusted network is not judged.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import authres

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
import authzone  # noqa: E402
from authzone import DOMAIN  # noqa: E402
from mailtest import rsa_key_pair  # noqa: E402

AUTHSERV = "mx.netjes.test"


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    return rsa_key_pair(tmp_path_factory.mktemp("analyzekey"))


@pytest.fixture
def dns(dns_server, rsa_key):
    return dns_server(authzone.zones(rsa_key[1]))


def signed_message(rsa_key, body="Hello, DMARC.\r\n"):
    return authzone.signed_message(rsa_key[0], body)


GOOD = ("127.0.0.5", f"mail.{DOMAIN}", f"bounce@{DOMAIN}")
BAD = ("127.0.0.6", f"liar.{DOMAIN}", "someone@other.example")


def run(netjes_bin, cmd, srv, client, msg, extra=(), check=True):
    ip, helo, mailfrom = client
    args = [netjes_bin, cmd, "--ip", ip, "--helo", helo, "--mail-from",
            mailfrom, "--authserv-id", AUTHSERV, "--nameserver", srv.addr,
            "--dns-timeout", "5", *extra]
    r = subprocess.run(args, input=msg, capture_output=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def analyze(netjes_bin, srv, client, msg, extra=()):
    r = run(netjes_bin, "analyze", srv, client, msg, ("--json", *extra))
    return json.loads(r.stdout)


def symbols(data):
    return {f["symbol"] for f in data["findings"]}


def test_same_results_as_auth(netjes_bin, dns, rsa_key):
    for client, body in ((GOOD, "Hello, DMARC.\r\n"),
                         (BAD, "Hello, changed.\r\n")):
        msg = signed_message(rsa_key, body)
        header = run(netjes_bin, "auth", dns, client, msg).stdout.decode()
        data = analyze(netjes_bin, dns, client, msg)
        assert data["authentication_results"] == header.rstrip("\n")
        parsed = authres.AuthenticationResultsHeader.parse(
            data["authentication_results"])
        assert parsed.authserv_id == AUTHSERV


def test_good_mail_is_accepted_with_the_facts(netjes_bin, dns, rsa_key):
    data = analyze(netjes_bin, dns, GOOD, signed_message(rsa_key))
    assert data["action"] == "accept"
    assert data["reply"] is None
    assert {"IPREV_PASS", "SPF_PASS", "SPF_HELO_PASS", "DKIM_VALID",
            "DMARC_PASS"} <= symbols(data)
    assert float(data["score"]) == 0
    assert "X-Spam-Status: No, score=0.0 required=5.0" in \
        data["spam_headers"]
    assert "X-Spam-Flag" not in data["spam_headers"]
    for f in data["findings"]:
        assert f["reason"] and f["check"]


def test_dmarc_reject_names_the_domain(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key, "Hello, changed.\r\n")
    data = analyze(netjes_bin, dns, BAD, msg)
    assert data["action"] == "reject"
    assert data["decided_by"] == "DMARC_POLICY_REJECT"
    assert {"SPF_FAIL", "DKIM_INVALID", "DMARC_POLICY_REJECT"} <= \
        symbols(data)
    assert data["reply"]["code"] == 550
    assert data["reply"]["status"] == "5.7.1"
    assert data["reply"]["text"].startswith(
        f"Message rejected: DMARC policy of {DOMAIN} says reject")
    dm = [f for f in data["findings"]
          if f["symbol"] == "DMARC_POLICY_REJECT"][0]
    assert dm["wants"] == "reject"
    # the text form says the same
    out = run(netjes_bin, "analyze", dns, BAD, msg).stdout.decode()
    assert out.startswith("action: reject\n")
    assert "reply: 550 5.7.1 Message rejected: DMARC policy of" in out
    assert "\nAuthentication-Results: mx.netjes.test;" in out
    assert "X-Spam-Flag: YES" in out


def test_postmaster_is_never_refused(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key, "Hello, changed.\r\n")
    data = analyze(netjes_bin, dns, BAD, msg,
                   ("--rcpt", "<postmaster@example.net>"))
    assert data["action"] == "add_header"
    assert data["reply"] is None
    assert "postmaster@example.net is never refused" in data["reason"]
    assert "X-Spam-Flag: YES" in data["spam_headers"]


def test_monitor_and_trusted(netjes_bin, dns, rsa_key, tmp_path):
    msg = signed_message(rsa_key, "Hello, changed.\r\n")
    conf = tmp_path / "monitor.conf"
    conf.write_text("[auth]\ndmarc_policy = monitor\n")
    data = analyze(netjes_bin, dns, BAD, msg, ("-c", str(conf)))
    assert data["action"] != "reject"
    assert "DMARC_POLICY_REJECT" in symbols(data)
    assert all("wants" not in f for f in data["findings"])

    conf = tmp_path / "trusted.conf"
    conf.write_text("[server]\ntrusted_networks = 127.0.0.0/24\n")
    data = analyze(netjes_bin, dns, BAD, msg, ("-c", str(conf)))
    assert data["action"] == "accept"
    assert "trusted_networks" in data["reason"]


def test_usage_errors_exit_2(netjes_bin, dns, rsa_key):
    msg = signed_message(rsa_key)
    for extra in (("--now", "soon"), ("--bogus",), ("stray",)):
        r = run(netjes_bin, "analyze", dns, GOOD, msg, extra, check=False)
        assert r.returncode == 2, (extra, r.stderr)
        assert r.stdout == b""
    r = subprocess.run([netjes_bin, "analyze", "--ip", "127.0.0.5"],
                       input=msg, capture_output=True, timeout=60)
    assert r.returncode == 2 and b"--helo is required" in r.stderr
    r = subprocess.run([netjes_bin, "analyze", "--ip", "nope", "--helo",
                        "x", "--mail-from", ""], input=msg,
                       capture_output=True, timeout=60)
    assert r.returncode == 2 and b"not an IP address" in r.stderr
    r = subprocess.run([netjes_bin, "help", "analyze"], capture_output=True,
                       timeout=60)
    assert r.returncode == 0 and b"usage: netjes analyze" in r.stdout
