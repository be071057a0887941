"""Every Authentication-Results header `netjes auth` prints must parse
with an independent RFC 8601 parser: Debian's python3-authres.

The checks run against a zone file (--zone), so each case is quick and
needs no DNS server: passes and failures of every method, the null
sender, permerrors with long reasons in comments, odd From fields,
quoted values, a missing From, and headers folded over many lines. For
each, the parsed methods, results and properties must match what
`--json` reports for the same message.
"""
import json
import os
import subprocess

import pytest

import authres

ZONE = """$TTL 300
5.0.0.127.in-addr.arpa. PTR mail.auth.example.
6.0.0.127.in-addr.arpa. PTR liar.auth.example.
mail.auth.example. A 127.0.0.5
liar.auth.example. A 192.0.2.1
auth.example. TXT "v=spf1 ip4:127.0.0.5 -all"
mail.auth.example. TXT "v=spf1 a -all"
_dmarc.auth.example. TXT "v=DMARC1; p=reject; sp=quarantine; pct=50"
_dmarc.bad.example. TXT "v=DMARC1; p=maybe"
bad.example. TXT "v=spf1 ip4:1.2.3.4/99 -all"
"""

CASES = [
    # (ip, helo, mail-from, From value)
    ("127.0.0.5", "mail.auth.example", "user@auth.example",
     "User <user@auth.example>"),
    ("127.0.0.6", "liar.auth.example", "user@auth.example",
     "\"Doe, (John)\" <user@auth.example>"),
    ("127.0.0.5", "mail.auth.example", "", "user@sub.auth.example"),
    ("127.0.0.7", "mail.auth.example", "x@bad.example", "x@bad.example"),
    ("127.0.0.5", "mail.auth.example", "\"odd local\"@auth.example",
     "=?utf-8?q?J=C3=B6rg?= <j@auth.example>"),
    ("127.0.0.5", "mail.auth.example", "a@auth.example",
     "a@auth.example, b@other.example"),
    ("127.0.0.5", "mail.auth.example", "a@auth.example", "MAILER-DAEMON"),
    ("2001:db8::1", "[2001:db8::1]", "a@slow.example", "a@slow.example"),
    ("127.0.0.5", "mail.auth.example", "a@auth.example", None),
]


@pytest.fixture(scope="module")
def zone_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("authres") / "auth.zone"
    path.write_text(ZONE)
    return str(path)


def run_auth(netjes_bin, zone_file, ip, helo, mailfrom, from_value,
             json_out=False):
    msg = ""
    if from_value is not None:
        msg += f"From: {from_value}\r\n"
    msg += "Subject: test\r\nMessage-ID: <1@auth.example>\r\n\r\nbody\r\n"
    args = [netjes_bin, "auth", "--ip", ip, "--helo", helo,
            "--mail-from", mailfrom, "--zone", zone_file,
            "--authserv-id", "mx.netjes.test", "--dmarc-seed", "7"]
    if json_out:
        args.append("--json")
    r = subprocess.run(args, input=msg.encode(), capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


@pytest.mark.parametrize("case", range(len(CASES)))
def test_header_parses(netjes_bin, zone_file, case):
    ip, helo, mailfrom, from_value = CASES[case]
    out = run_auth(netjes_bin, zone_file, ip, helo, mailfrom, from_value)
    lines = out.rstrip("\n").split("\n")
    # exactly one header field: one first line, the rest continuations
    assert lines[0].startswith("Authentication-Results: mx.netjes.test;")
    assert all(line.startswith("\t") for line in lines[1:])
    assert all(len(line.expandtabs(8)) <= 78 for line in lines)

    parsed = authres.AuthenticationResultsHeader.parse(out.strip())
    assert parsed.authserv_id == "mx.netjes.test"
    got = [(r.method, r.result) for r in parsed.results]

    data = json.loads(run_auth(netjes_bin, zone_file, ip, helo, mailfrom,
                               from_value, json_out=True))
    want = [("iprev", data["iprev"]["result"]),
            ("spf", data["spf"]["mailfrom"]["result"])]
    if data["spf"]["helo"] is not None:
        want.append(("spf", data["spf"]["helo"]["result"]))
    if data["dkim"]:
        want += [("dkim", d["result"]) for d in data["dkim"]]
    else:
        want.append(("dkim", "none"))
    want.append(("dmarc", data["dmarc"]["result"]))
    # arc=none too when there is no chain: the AR says it looked
    want.append(("arc", data["arc"]["result"]))
    assert got == want
    assert data["authentication_results"] == out.rstrip("\n")

    props = {}
    for r in parsed.results:
        for p in r.properties:
            props[(r.method, p.type, p.name)] = p.value
    assert props[("iprev", "policy", "iprev")] == data["iprev"]["ip"]
    if data["dmarc"]["header_from"]:
        assert props[("dmarc", "header", "from")] == \
            data["dmarc"]["header_from"]


def test_dmarc_disposition_properties(netjes_bin, zone_file):
    out = run_auth(netjes_bin, zone_file, "127.0.0.6", "liar.auth.example",
                   "user@elsewhere.example", "user@auth.example")
    parsed = authres.AuthenticationResultsHeader.parse(out.strip())
    dm = [r for r in parsed.results if r.method == "dmarc"][0]
    assert dm.result == "fail"
    props = {(p.type, p.name): p.value for p in dm.properties}
    assert props[("policy", "dmarc")] == "reject"
    assert props[("policy", "evaluated-disposition")] == "reject"
    assert props[("policy", "applied-disposition")] in ("reject",
                                                        "quarantine")
