"""netjes ARC (RFC 8617) against Debian's python3-dkim (dkimpy), both ways.

- Chains of 1, 2 and 3 hops sealed by dkimpy's arc_sign validate as pass
  in `netjes arc verify`; chains sealed by `netjes arc seal` validate in
  dkimpy's arc_verify; mixed chains (dkimpy then netjes, and the other
  way round) validate in both.
- Broken chains fail in both: a modified AMS, a missing instance, a body
  changed after the last seal, and a cv=fail set added over a broken
  chain (which netjes then refuses to seal again).
- A body changed by a hop before it seals (a mailing-list footer) keeps
  the chain passing, with oldest-pass naming that hop.

dkimpy 1.1.4 signs ARC only with rsa-sha256 (arc_sign fixes the
algorithm) and cannot verify an ed25519-sha256 AMS or AS, so ed25519
chains are checked netjes to netjes, and dkimpy is asked only to fail
them for that reason.

Keys are served by a real nsd on loopback (the dns_server fixture):
netjes resolves with --nameserver, dkimpy's dnsfunc asks the same server.
"""
import json
import os
import re
import subprocess

import pytest

import dkim
import authres  # noqa: F401
from dnslib import DNSRecord  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOMAIN = "arc.example"
SRV_ID = "mx.arc.example"


def _testsuites():
    env = os.environ.get("NETJES_TESTSUITES")
    if env:
        return env
    return os.path.join(os.path.dirname(ROOT), "shared", "testsuites")


DKIMPY_DATA = os.path.join(_testsuites(), "dkimpy-data")

MESSAGE = (b"Received: from origin.example by mx.origin.example; "
           b"Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"From: Sender <sender@origin.example>\r\n"
           b"To: List <list@lists.example>\r\n"
           b"Subject: forwarded  through\r\n\tthree hops\r\n"
           b"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
           b"Message-ID: <arc-1@origin.example>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n"
           b"\r\n"
           b"Hello over ARC.  \r\n"
           b"Second line\twith a tab.\r\n\r\n\r\n")


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def zone_strings(value):
    return " ".join('"' + value[i:i + 255] + '"'
                    for i in range(0, len(value), 255))


@pytest.fixture(scope="module")
def keys(tmp_path_factory, netjes_bin):
    if not os.path.isdir(DKIMPY_DATA):
        pytest.fail(f"no dkimpy test data at {DKIMPY_DATA}")
    d = tmp_path_factory.mktemp("arckeys")
    k = {"py": {"priv": read(os.path.join(DKIMPY_DATA, "2048_testkey.key")),
                "txt": read(os.path.join(
                    DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt"),
                    "r").strip()}}
    for sel, alg in (("nj-rsa", "rsa"), ("nj-ed", "ed25519")):
        path = d / f"{sel}.key"
        r = subprocess.run([netjes_bin, "dkim", "keygen", "--domain", DOMAIN,
                            "--selector", sel, "--algorithm", alg,
                            "--out", str(path), "--json"],
                           capture_output=True, text=True, check=True)
        k[sel] = {"path": str(path), "txt": json.loads(r.stdout)["value"]}
    return k


@pytest.fixture
def dns(keys, dns_server):
    zone = "".join(f"{sel}._domainkey IN TXT {zone_strings(k['txt'])}\n"
                   for sel, k in keys.items())
    return dns_server({DOMAIN: zone})


def make_dnsfunc(srv):
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        q = DNSRecord.question(name, "TXT")
        reply = DNSRecord.parse(q.send("127.0.0.1", srv.port,
                                       timeout=timeout))
        for rr in reply.rr:
            if rr.rtype == 16:
                return b"".join(rr.rdata.data)
        return None
    return dnsfunc


# --- the two sealers and verifiers ---------------------------------------

def netjes_verify(netjes_bin, srv, msg):
    r = subprocess.run([netjes_bin, "arc", "verify", "--json",
                        "--nameserver", srv.addr, "--dns-timeout", "5"],
                       input=msg, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return json.loads(r.stdout)


def netjes_seal(netjes_bin, srv, keys, sel, msg, check=True):
    r = subprocess.run([netjes_bin, "arc", "seal", "--domain", DOMAIN,
                        "--selector", sel, "--key", keys[sel]["path"],
                        "--authserv-id", SRV_ID, "--ip", "192.0.2.7",
                        "--helo", "relay.example",
                        "--mail-from", "sender@origin.example",
                        "--nameserver", srv.addr, "--dns-timeout", "5"],
                       input=msg, capture_output=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def dkimpy_verify(srv, msg):
    cv, _, reason = dkim.arc_verify(msg, dnsfunc=make_dnsfunc(srv))
    return cv, reason


def dkimpy_seal(srv, keys, msg):
    """One dkimpy hop: the receiving ADMD's AR (with arc= from dkimpy's
    own validation) on top, then arc_sign's set above it."""
    cv, _ = dkimpy_verify(srv, msg)
    arc = {b"pass": "pass", b"fail": "fail"}.get(cv, "none")
    # arc_sign merges every AR field of its authserv-id: one id per hop
    hop = len(re.findall(rb"(?im)^ARC-Seal:", msg)) + 1
    srv_id = f"mx{hop}.{SRV_ID}"
    ar = (f"Authentication-Results: {srv_id}; spf=pass "
          f"smtp.mailfrom=sender@origin.example; arc={arc}\r\n").encode()
    msg = ar + msg
    fields = dkim.arc_sign(msg, b"py", DOMAIN.encode(), keys["py"]["priv"],
                           srv_id.encode(), linesep=b"\r\n")
    assert len(fields) == 3, fields
    return b"".join(fields) + msg


def hops(srv, keys, netjes_bin, plan, msg=MESSAGE):
    for who in plan:
        if who == "py":
            msg = dkimpy_seal(srv, keys, msg)
        else:
            msg = netjes_seal(netjes_bin, srv, keys, who, msg).stdout
    return msg


def drop_set(msg, instance):
    """Remove the three fields of one ARC set (folded lines included)."""
    head, body = msg.split(b"\r\n\r\n", 1)
    fields = re.split(rb"\r\n(?![ \t])", head)
    keep = [f for f in fields if not (
        re.match(rb"(?i)arc-(seal|message-signature|authentication-results)"
                 rb":", f) and re.search(rb"(?<![a-z])i\s*=\s*%d\s*;" %
                                         instance, f))]
    assert len(keep) == len(fields) - 3
    return b"\r\n".join(keep) + b"\r\n\r\n" + body


def tamper_ams(msg, instance):
    """Change the t= of the AMS of one instance (its own signature
    breaks, and so does every seal over it)."""
    m = re.search(rb"ARC-Message-Signature: i=%d;.*?t=(\d+);" % instance,
                  msg, re.S)
    assert m, msg[:400]
    t = m.group(1)
    return msg[:m.start(1)] + str(int(t) - 1).encode() + msg[m.end(1):]


def change_body(msg):
    return msg.replace(b"Hello over ARC.", b"Hello over ARC!", 1)


# --- chains that validate ----------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3])
def test_dkimpy_chain_netjes_verifies(netjes_bin, keys, dns, n):
    msg = hops(dns, keys, netjes_bin, ["py"] * n)
    assert dkimpy_verify(dns, msg)[0] == b"pass"
    res = netjes_verify(netjes_bin, dns, msg)
    assert res["result"] == "pass", res
    assert res["instances"] == n and res["oldest_pass"] == 0
    assert [s["cv"] for s in res["sets"]] == ["none"] + ["pass"] * (n - 1)
    assert res["sets"][0]["aar"].startswith(f"mx1.{SRV_ID};")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_netjes_chain_dkimpy_verifies(netjes_bin, keys, dns, n):
    msg = hops(dns, keys, netjes_bin, ["nj-rsa"] * n)
    assert msg.startswith(b"ARC-Seal: i=%d; a=rsa-sha256;" % n)
    cv, reason = dkimpy_verify(dns, msg)
    assert cv == b"pass", reason
    res = netjes_verify(netjes_bin, dns, msg)
    assert res["result"] == "pass" and res["instances"] == n, res
    # the AAR holds our own checks, with arc= of the incoming chain
    aar = res["sets"][-1]["aar"]
    assert aar.startswith(SRV_ID + ";")
    assert ("arc=none" if n == 1 else "arc=pass") in aar
    assert "smtp.remote-ip=192.0.2.7" in aar


@pytest.mark.parametrize("n", [1, 2, 3])
def test_netjes_ed25519_chain(netjes_bin, keys, dns, n):
    plan = ["nj-ed" if i % 2 == 0 else "nj-rsa" for i in range(n)]
    msg = hops(dns, keys, netjes_bin, plan)
    res = netjes_verify(netjes_bin, dns, msg)
    assert res["result"] == "pass" and res["instances"] == n, res
    assert res["sets"][0]["as"]["result"] == "pass"
    # dkimpy 1.1.4 has no ed25519 in ARC: it fails for that reason only
    cv, reason = dkimpy_verify(dns, msg)
    assert cv == b"fail" and "ed25519" in reason


@pytest.mark.parametrize("plan", [["py", "nj-rsa"], ["nj-rsa", "py"],
                                  ["py", "nj-rsa", "py"],
                                  ["nj-rsa", "py", "nj-rsa"]])
def test_mixed_chains(netjes_bin, keys, dns, plan):
    msg = hops(dns, keys, netjes_bin, plan)
    cv, reason = dkimpy_verify(dns, msg)
    assert cv == b"pass", reason
    res = netjes_verify(netjes_bin, dns, msg)
    assert res["result"] == "pass" and res["instances"] == len(plan), res


def test_modified_before_sealing_keeps_pass_with_oldest_pass(netjes_bin,
                                                              keys, dns):
    """Hop 2 validates, adds a footer, then seals: AMS 1 no longer
    verifies, the chain still passes, oldest-pass is 2."""
    one = hops(dns, keys, netjes_bin, ["py"])
    assert netjes_verify(netjes_bin, dns, one)["result"] == "pass"
    footer = one + b"-- \r\nlist footer\r\n"
    ar = (f"Authentication-Results: {SRV_ID}; arc=pass\r\n").encode()
    msg = ar + footer
    two = b"".join(dkim.arc_sign(msg, b"py", DOMAIN.encode(),
                                 keys["py"]["priv"], SRV_ID.encode(),
                                 linesep=b"\r\n")) + msg
    res = netjes_verify(netjes_bin, dns, two)
    assert res["result"] == "pass", res
    assert res["oldest_pass"] == 2
    assert res["sets"][0]["ams"]["result"] == "fail"
    assert res["sets"][0]["ams"]["reason"] == "body hash mismatch"
    assert dkimpy_verify(dns, two)[0] == b"pass"


# --- chains that fail --------------------------------------------------------

@pytest.mark.parametrize("plan", [["py", "py"], ["nj-rsa", "nj-rsa"],
                                  ["py", "nj-rsa"]])
def test_modified_ams_fails(netjes_bin, keys, dns, plan):
    msg = hops(dns, keys, netjes_bin, plan)
    for inst in (1, 2):
        bad = tamper_ams(msg, inst)
        res = netjes_verify(netjes_bin, dns, bad)
        assert res["result"] == "fail", res
        if inst == 2:
            assert "ARC-Message-Signature i=2" in res["reason"]
        else:
            assert "ARC-Seal i=" in res["reason"]
        assert dkimpy_verify(dns, bad)[0] == b"fail"


@pytest.mark.parametrize("plan", [["py", "py", "py"],
                                  ["nj-rsa", "nj-rsa", "nj-rsa"]])
def test_missing_instance_fails(netjes_bin, keys, dns, plan):
    msg = hops(dns, keys, netjes_bin, plan)
    for inst in (1, 2):
        bad = drop_set(msg, inst)
        res = netjes_verify(netjes_bin, dns, bad)
        assert res["result"] == "fail", res
        assert f"i={inst} is missing" in res["reason"]
        assert dkimpy_verify(dns, bad)[0] != b"pass"


@pytest.mark.parametrize("plan", [["py", "py"], ["nj-rsa", "nj-ed"]])
def test_body_changed_after_last_seal_fails(netjes_bin, keys, dns, plan):
    msg = change_body(hops(dns, keys, netjes_bin, plan))
    res = netjes_verify(netjes_bin, dns, msg)
    assert res["result"] == "fail"
    assert res["reason"] == "ARC-Message-Signature i=2: body hash mismatch"
    if plan[-1] == "py":
        assert dkimpy_verify(dns, msg)[0] == b"fail"


@pytest.mark.parametrize("first", ["py", "nj-rsa"])
def test_cv_fail_propagates(netjes_bin, keys, dns, first):
    """A broken chain sealed by netjes gets cv=fail; both verifiers then
    fail it, and netjes will not seal it again."""
    broken = change_body(hops(dns, keys, netjes_bin, [first]))
    sealed = netjes_seal(netjes_bin, dns, keys, "nj-rsa", broken).stdout
    assert re.match(rb"ARC-Seal: i=2; a=rsa-sha256; t=\d+; cv=fail;", sealed)
    res = netjes_verify(netjes_bin, dns, sealed)
    assert res["result"] == "fail"
    assert "cv=fail" in res["reason"]
    assert dkimpy_verify(dns, sealed)[0] != b"pass"
    again = netjes_seal(netjes_bin, dns, keys, "nj-rsa", sealed, check=False)
    assert again.returncode == 1
    assert b"cv=fail" in again.stderr


def test_unsealed_message_is_none(netjes_bin, keys, dns):
    res = netjes_verify(netjes_bin, dns, MESSAGE)
    assert res["result"] == "none" and res["instances"] == 0


def test_unknown_selector_fails(netjes_bin, keys, dns):
    msg = hops(dns, keys, netjes_bin, ["nj-rsa"])
    bad = msg.replace(b"s=nj-rsa;", b"s=gone;")
    res = netjes_verify(netjes_bin, dns, bad)
    assert res["result"] == "fail" and not res["temporary"]
    assert "no key record" in res["reason"]
