"""`netjes dns` against a real authoritative server (nsd) on loopback,
against misbehaving servers (SERVFAIL, silence), and cross-checked with
an independent client (kdig from knot-dnsutils)."""
import json
import shutil
import subprocess
import time

import pytest

from dnsserver import RCODE

LONG_A, LONG_B, LONG_C = "a" * 255, "b" * 255, "c" * 50
TLSA_HEX = "0123456789ABCDEF" * 4

ZONES = {
    "example.test": f"""
www          A     192.0.2.10
www          AAAA  2001:db8::10
@            MX    10 mx1
@            MX    20 mx2
mx1          A     192.0.2.25
multi        TXT   "v=spf1" " ip4:192.0.2.0/24" " -all"
long         TXT   "{LONG_A}" "{LONG_B}" "{LONG_C}"
esc          TXT   "quote \\" backslash \\\\ tab\\009end"
alias        CNAME www
alias2       CNAME alias
dangling     CNAME nowhere
a.ent        A     192.0.2.99
_25._tcp.mx1 TLSA  3 1 1 {TLSA_HEX}
""",
    "2.0.192.in-addr.arpa": "10 PTR www.example.test.\n",
    "127.in-addr.arpa": "5.0.0 PTR mail.example.test.\n",
}


def netjes(binary, *args, timeout=30):
    t = time.monotonic()
    p = subprocess.run([binary, "dns", *args], capture_output=True,
                       text=True, timeout=timeout)
    p.elapsed = time.monotonic() - t
    assert "Sanitizer" not in p.stderr, p.stderr
    return p


@pytest.fixture
def nsd(dns_server):
    return dns_server(ZONES)


def lookup(binary, server, qtype, name, *extra):
    p = netjes(binary, qtype, name, "--nameserver", server.addr, *extra)
    assert p.returncode == 0, p.stderr
    return p.stdout


def lookup_json(binary, server, qtype, name, *extra):
    return json.loads(lookup(binary, server, qtype, name, "--json", *extra))


def test_a_and_aaaa(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "A", "www.example.test") == \
        "www.example.test. 300 IN A 192.0.2.10\n"
    # names are matched case-insensitively, shown as asked
    assert lookup(netjes_bin, nsd, "aaaa", "WWW.Example.Test.") == \
        "WWW.Example.Test. 300 IN AAAA 2001:db8::10\n"


def test_mx(netjes_bin, nsd):
    lines = sorted(lookup(netjes_bin, nsd, "MX", "example.test").splitlines())
    assert lines == ["example.test. 300 IN MX 10 mx1.example.test.",
                     "example.test. 300 IN MX 20 mx2.example.test."]


def test_txt_several_strings(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "TXT", "multi.example.test") == \
        'multi.example.test. 300 IN TXT "v=spf1" " ip4:192.0.2.0/24" " -all"\n'
    j = lookup_json(netjes_bin, nsd, "TXT", "multi.example.test")
    rec = j["records"][0]
    assert rec["strings"] == ["v=spf1", " ip4:192.0.2.0/24", " -all"]
    assert rec["text"] == "v=spf1 ip4:192.0.2.0/24 -all"


def test_txt_longer_than_255(netjes_bin, nsd):
    j = lookup_json(netjes_bin, nsd, "TXT", "long.example.test")
    rec = j["records"][0]
    assert [len(s) for s in rec["strings"]] == [255, 255, 50]
    assert rec["text"] == LONG_A + LONG_B + LONG_C


def test_txt_escapes(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "TXT", "esc.example.test") == \
        'esc.example.test. 300 IN TXT "quote \\" backslash \\\\ tab\\009end"\n'
    j = lookup_json(netjes_bin, nsd, "TXT", "esc.example.test")
    assert j["records"][0]["strings"] == ['quote " backslash \\ tab\tend']


def test_cname_following(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "A", "alias2.example.test") == \
        "www.example.test. 300 IN A 192.0.2.10\n"
    j = lookup_json(netjes_bin, nsd, "A", "alias2.example.test")
    assert j["name"] == "alias2.example.test"
    assert j["canonname"] == "www.example.test"
    assert j["records"][0]["address"] == "192.0.2.10"
    assert lookup(netjes_bin, nsd, "CNAME", "alias.example.test") == \
        "alias.example.test. 300 IN CNAME www.example.test.\n"
    j = lookup_json(netjes_bin, nsd, "A", "dangling.example.test")
    assert j["status"] == "NXDOMAIN"


def test_ptr_by_address(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "PTR", "192.0.2.10") == \
        "10.2.0.192.in-addr.arpa. 300 IN PTR www.example.test.\n"
    # loopback reverse names come from the server, not a built-in zone
    assert lookup(netjes_bin, nsd, "PTR", "127.0.0.5") == \
        "5.0.0.127.in-addr.arpa. 300 IN PTR mail.example.test.\n"


def test_tlsa(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "TLSA", "_25._tcp.mx1.example.test") == \
        f"_25._tcp.mx1.example.test. 300 IN TLSA 3 1 1 {TLSA_HEX}\n"
    rec = lookup_json(netjes_bin, nsd, "TLSA",
                      "_25._tcp.mx1.example.test")["records"][0]
    assert (rec["usage"], rec["selector"], rec["matching_type"]) == (3, 1, 1)


def test_nxdomain_nodata_empty_nonterminal(netjes_bin, nsd):
    assert lookup(netjes_bin, nsd, "A", "nope.example.test") == \
        ";; NXDOMAIN nope.example.test. A (no such name)\n"
    assert lookup(netjes_bin, nsd, "MX", "www.example.test").startswith(
        ";; NODATA www.example.test. MX")
    # ent.example.test only exists as the parent of a.ent.example.test
    assert lookup(netjes_bin, nsd, "A", "ent.example.test").startswith(
        ";; NODATA ent.example.test. A")


def test_json_fields(netjes_bin, nsd):
    j = lookup_json(netjes_bin, nsd, "MX", "example.test")
    assert {k: j[k] for k in ("name", "type", "status", "rcode", "secure",
                              "canonname")} == {
        "name": "example.test", "type": "MX", "status": "OK", "rcode": 0,
        "secure": False, "canonname": "example.test"}
    recs = sorted(j["records"], key=lambda r: r["preference"])
    assert [(r["name"], r["ttl"], r["type"], r["preference"], r["exchange"],
             r["data"]) for r in recs] == [
        ("example.test", 300, "MX", 10, "mx1.example.test",
         "10 mx1.example.test."),
        ("example.test", 300, "MX", 20, "mx2.example.test",
         "20 mx2.example.test.")]
    j = lookup_json(netjes_bin, nsd, "A", "nope.example.test")
    assert (j["status"], j["rcode"], j["records"]) == ("NXDOMAIN", 3, [])
    j = lookup_json(netjes_bin, nsd, "TXT", "www.example.test")
    assert (j["status"], j["rcode"], j["records"]) == ("NODATA", 0, [])


def test_servfail(netjes_bin, fake_dns):
    srv = fake_dns(rcodes={"broken.test": RCODE.SERVFAIL})
    j = lookup_json(netjes_bin, srv, "TXT", "broken.test")
    assert (j["status"], j["rcode"], j["records"]) == ("SERVFAIL", 2, [])
    assert lookup(netjes_bin, srv, "A", "broken.test").startswith(
        ";; SERVFAIL broken.test. A rcode=SERVFAIL")
    # the same server's other answers still come through as they are
    assert lookup_json(netjes_bin, srv, "A", "other.test")["status"] == \
        "NXDOMAIN"


def test_timeout(netjes_bin, fake_dns):
    srv = fake_dns(blackhole=True)
    p = netjes(netjes_bin, "A", "slow.test", "--nameserver", srv.addr,
               "--dns-timeout", "1", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "TIMEOUT"
    assert p.elapsed < 5, p.elapsed
    assert srv.queries >= 1
    p = netjes(netjes_bin, "A", "slow.test", "--nameserver", srv.addr,
               "--dns-timeout", "0.5")
    assert p.stdout.startswith(";; TIMEOUT slow.test. A")
    assert p.elapsed < 5


@pytest.mark.parametrize("args", [
    [],
    ["A"],
    ["A", "a.test", "extra"],
    ["BOGUS", "a.test"],
    ["A", "a..test"],
    ["A", "a.test", "--dns-timeout", "0"],
    ["A", "a.test", "--dns-timeout", "soon"],
    ["A", "a.test", "--nameserver"],
    ["A", "a.test", "--frobnicate"],
])
def test_usage_errors(netjes_bin, args):
    p = netjes(netjes_bin, *args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.splitlines()) == 1
    assert "netjes help dns" in p.stderr


def test_bad_nameserver_is_local_error(netjes_bin):
    # a name where an address belongs is a usage error (exit 2)
    p = netjes(netjes_bin, "A", "a.test", "--nameserver", "dns.example")
    assert p.returncode == 2
    assert "IPv4 or IPv6 address" in p.stderr


def kdig(server, qtype, name):
    p = subprocess.run(["kdig", f"@127.0.0.1", "-p", str(server.port),
                        "+short", "+norecurse", name, qtype],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return sorted(line for line in p.stdout.splitlines() if line)


@pytest.mark.skipif(shutil.which("kdig") is None, reason="kdig missing")
@pytest.mark.parametrize("qtype,name", [
    ("A", "www.example.test"),
    ("AAAA", "www.example.test"),
    ("MX", "example.test"),
    ("TXT", "multi.example.test"),
    ("TXT", "long.example.test"),
    ("TXT", "esc.example.test"),
    ("TLSA", "_25._tcp.mx1.example.test"),
    ("PTR", "10.2.0.192.in-addr.arpa"),
    ("SOA", "example.test"),
])
def test_agrees_with_kdig(netjes_bin, nsd, qtype, name):
    ours = lookup_json(netjes_bin, nsd, qtype, name)
    theirs = kdig(nsd, qtype, name)
    assert theirs, "kdig got nothing"
    data = sorted(r["data"] for r in ours["records"])
    if qtype == "TLSA":  # kdig splits long hex into words
        theirs = [" ".join(t.split()[:3] + ["".join(t.split()[3:])]).upper()
                  for t in theirs]
    assert data == theirs
