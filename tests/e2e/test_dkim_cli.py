"""The `netjes dkim` command-line contract: keygen, sign, verify.

Offline: keys are published through --zone (the in-memory zone), so these
tests check the text and JSON formats, Unix line ends and exit codes
without a DNS server; tests/interop covers real DNS and other verifiers.
"""
import json
import os
import stat
import subprocess

import pytest

MSG = (b"From: Joe <joe@example.com>\nTo: Suzie <suzie@example.net>\n"
       b"Subject: Is dinner ready?\n\nHi.\n\nWe lost the game.\n")


def run(bin_, *args, stdin=b""):
    return subprocess.run([bin_, "dkim", *args], input=stdin,
                          capture_output=True, timeout=60)


@pytest.fixture
def published(netjes_bin, tmp_path):
    """Two keys (rsa, ed25519) for example.com and a zone file with both."""
    lines = ["$ORIGIN example.com."]
    keys = {}
    for sel, alg in (("r", "rsa"), ("e", "ed25519")):
        path = tmp_path / f"{sel}.key"
        r = run(netjes_bin, "keygen", "--domain", "example.com",
                "--selector", sel, "--algorithm", alg, "--out", str(path))
        assert r.returncode == 0, r.stderr
        line = r.stdout.decode().strip()
        assert line.startswith(f"{sel}._domainkey.example.com. IN TXT \"")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        lines.append(line)
        keys[sel] = str(path)
    zone = tmp_path / "zone"
    zone.write_text("\n".join(lines) + "\n")
    return keys, str(zone)


def test_sign_verify_text(netjes_bin, published):
    keys, zone = published
    r = run(netjes_bin, "sign", "--domain", "example.com", "--selector", "e",
            "--key", keys["e"], stdin=MSG)
    assert r.returncode == 0, r.stderr
    signed = r.stdout
    # Unix line ends in, Unix line ends out
    assert b"\r" not in signed and signed.endswith(MSG)
    assert signed.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256; "
                             b"c=relaxed/relaxed; d=example.com; s=e;")
    r = run(netjes_bin, "verify", "--zone", zone, stdin=signed)
    assert r.returncode == 0
    assert r.stdout == b"pass d=example.com s=e a=ed25519-sha256\n"
    r = run(netjes_bin, "verify", "--zone", zone,
            stdin=signed.replace(b"the game", b"the Game"))
    assert r.stdout == (b"fail d=example.com s=e a=ed25519-sha256 "
                        b"(body hash mismatch)\n")


def test_dual_sign_json(netjes_bin, published):
    keys, zone = published
    crlf = MSG.replace(b"\n", b"\r\n")
    once = run(netjes_bin, "sign", "--domain", "example.com", "--selector",
               "r", "--key", keys["r"], "--canon", "simple/simple",
               "--headers", "from:to:subject:from", stdin=crlf).stdout
    assert b"h=from:to:subject:from;" in once and once.endswith(crlf)
    twice = run(netjes_bin, "sign", "--domain", "example.com", "--selector",
                "e", "--key", keys["e"], "--algorithm", "ed25519-sha256",
                stdin=once).stdout
    r = run(netjes_bin, "verify", "--zone", zone, "--json", stdin=twice)
    res = json.loads(r.stdout)
    assert [(x["result"], x["selector"], x["algorithm"], x["reason"])
            for x in res] == [("pass", "e", "ed25519-sha256", None),
                              ("pass", "r", "rsa-sha256", None)]


def test_verify_none_and_missing_key(netjes_bin, published, tmp_path):
    keys, zone = published
    r = run(netjes_bin, "verify", "--zone", zone, stdin=MSG)
    assert r.returncode == 0 and r.stdout == b"none\n"
    r = run(netjes_bin, "sign", "--domain", "example.org", "--selector", "e",
            "--key", keys["e"], stdin=MSG)
    r = run(netjes_bin, "verify", "--zone", zone, stdin=r.stdout)
    assert r.returncode == 0
    assert r.stdout.startswith(b"permerror d=example.org s=e "
                               b"a=ed25519-sha256 (no key record at "
                               b"e._domainkey.example.org")


def test_usage_errors(netjes_bin, published, tmp_path):
    keys, zone = published
    assert run(netjes_bin).returncode == 2
    assert run(netjes_bin, "frobnicate").returncode == 2
    assert run(netjes_bin, "keygen", "--domain", "x").returncode == 2
    assert run(netjes_bin, "keygen", "--domain", "x", "--selector", "s",
               "--algorithm", "dsa").returncode == 2
    assert run(netjes_bin, "sign", "--domain", "x", "--selector", "s",
               "--key", keys["e"], "--algorithm", "rsa-sha1").returncode == 2
    assert run(netjes_bin, "sign", "--domain", "x", "--selector", "s",
               "--key", keys["e"], "--canon", "nowsp").returncode == 2
    assert run(netjes_bin, "verify", "--zone", zone, "--nameserver",
               "127.0.0.1").returncode == 2
    # a key file is never overwritten
    r = run(netjes_bin, "keygen", "--domain", "example.com", "--selector",
            "e", "--algorithm", "ed25519", "--out", keys["e"])
    assert r.returncode == 1 and b"exists" in r.stderr
    # an Ed25519 key cannot make rsa-sha256 signatures
    r = run(netjes_bin, "sign", "--domain", "x", "--selector", "s",
            "--key", keys["e"], "--algorithm", "rsa-sha256", stdin=MSG)
    assert r.returncode == 1
