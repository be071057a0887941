"""The clock and the signed header list on the command line, checked
against Debian's python3-dkim (dkimpy).

- `netjes dkim verify --now` on a message dkimpy signed with a short x=:
  pass before x= (and at it), fail "signature expired" after it, policy
  "in the future" well before t=; `netjes auth --now` says the same in
  its dkim= result.
- `netjes arc seal --timestamp T --headers from:to:subject`: dkimpy's
  arc_verify passes the seal, the AMS and AS carry t=T and the AMS
  h=from:to:subject; `netjes arc verify --now` passes it from T on and
  fails it as from the future before.
- Bad values of --now, --timestamp and --headers are usage errors
  (exit 2) that name the option.

dkimpy's sign() writes no x=, so the test signer adds x= to the tag list
dkimpy signs (a subclass), and the signature stays dkimpy's own. Keys
are served by nsd on loopback (the dns_server fixture).
"""
import json
import os
import re
import subprocess
import time

import pytest

import dkim
from dnslib import DNSRecord

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOMAIN = "clock.example"
EXPIRE = 60

MESSAGE = (b"From: Sender <sender@origin.example>\r\n"
           b"To: Rcpt <rcpt@clock.example>\r\n"
           b"Subject: judged as of its arrival\r\n"
           b"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
           b"Message-ID: <clock-1@origin.example>\r\n"
           b"\r\n"
           b"Signed, sealed, and checked later.\r\n")


def _testsuites():
    env = os.environ.get("NETJES_TESTSUITES")
    if env:
        return env
    return os.path.join(os.path.dirname(ROOT), "shared", "testsuites")


DKIMPY_DATA = os.path.join(_testsuites(), "dkimpy-data")


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
    k = {"py": {"priv": read(os.path.join(DKIMPY_DATA, "2048_testkey.key")),
                "txt": read(os.path.join(
                    DKIMPY_DATA, "2048_testkey_wo_markers.pub.txt"),
                    "r").strip()}}
    path = tmp_path_factory.mktemp("clockkeys") / "nj.key"
    r = subprocess.run([netjes_bin, "dkim", "keygen", "--domain", DOMAIN,
                        "--selector", "nj", "--out", str(path), "--json"],
                       capture_output=True, text=True, check=True)
    k["nj"] = {"path": str(path), "txt": json.loads(r.stdout)["value"]}
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


class ExpiringDKIM(dkim.DKIM):
    """dkimpy's signer with x= = t= + EXPIRE among the signed tags."""

    def gen_header(self, fields, include_headers, canon_policy, header_name,
                   pk, standardize=False):
        fields = list(fields)
        names = [f[0] for f in fields]
        if header_name == b"DKIM-Signature" and b"x" not in names:
            t = int(dict(fields)[b"t"])
            fields.insert(names.index(b"t") + 1,
                          (b"x", str(t + EXPIRE).encode()))
        return super().gen_header(fields, include_headers, canon_policy,
                                  header_name, pk, standardize)


def run(netjes_bin, args, msg=b""):
    return subprocess.run([netjes_bin, *args], input=msg,
                          capture_output=True, timeout=60)


def tag(field, name):
    m = re.search(rb"(?:^|;)\s*" + name + rb"\s*=\s*([^;]*)", field)
    assert m, field
    return re.sub(rb"\s+", b"", m.group(1)).decode()


def field(msg, name):
    m = re.search(rb"(?ims)^" + name + rb":(.*?)\r\n(?![ \t])", msg)
    assert m, msg[:600]
    return m.group(1)


@pytest.fixture
def signed(keys, dns):
    d = ExpiringDKIM(MESSAGE)
    sig = d.sign(b"py", DOMAIN.encode(), keys["py"]["priv"],
                 include_headers=[b"from", b"to", b"subject"])
    msg = sig + MESSAGE
    t = int(tag(field(msg, b"DKIM-Signature"), b"t"))
    assert int(tag(field(msg, b"DKIM-Signature"), b"x")) == t + EXPIRE
    # dkimpy itself accepts its signature (it allows x= 10 h of slack)
    assert dkim.verify(msg, dnsfunc=make_dnsfunc(dns))
    return msg, t


# --- dkim verify --now / auth --now --------------------------------------

def dkim_verify_at(netjes_bin, dns, msg, now):
    r = run(netjes_bin, ["dkim", "verify", "--json", "--nameserver",
                         dns.addr, "--dns-timeout", "5", "--now", str(now)],
            msg)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    res = json.loads(r.stdout)
    assert len(res) == 1 and res[0]["selector"] == "py", res
    return res[0]


def test_dkim_verify_now_around_a_short_x(netjes_bin, dns, signed):
    msg, t = signed
    x = t + EXPIRE
    for now in (t, t + EXPIRE // 2, x):
        res = dkim_verify_at(netjes_bin, dns, msg, now)
        assert res["result"] == "pass" and res["reason"] is None, (now, res)
    for now in (x + 1, x + 86400 * 400):
        res = dkim_verify_at(netjes_bin, dns, msg, now)
        assert res["result"] == "fail", (now, res)
        assert res["reason"] == f"signature expired (x={x})", res
    res = dkim_verify_at(netjes_bin, dns, msg, t - 301)
    assert res["result"] == "policy", res
    assert res["reason"] == f"signature timestamp t={t} is in the future"


def test_auth_now_judges_dkim_as_of_then(netjes_bin, dns, signed):
    msg, t = signed

    def auth_at(now):
        r = run(netjes_bin, ["auth", "--json", "--ip", "127.0.0.1",
                             "--helo", "origin.example", "--mail-from",
                             "sender@origin.example", "--nameserver",
                             dns.addr, "--dns-timeout", "5",
                             "--now", str(now)], msg)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        out = json.loads(r.stdout)
        assert len(out["dkim"]) == 1, out["dkim"]
        return out["dkim"][0], out["authentication_results"]

    d, hdr = auth_at(t + 1)
    assert d["result"] == "pass", d
    assert "dkim=pass" in hdr
    d, hdr = auth_at(t + EXPIRE + 1)
    assert d["result"] == "fail", d
    assert "expired" in d["reason"], d
    assert "dkim=fail" in hdr


# --- arc seal --timestamp --headers / arc verify --now --------------------

def seal(netjes_bin, dns, keys, extra, msg=MESSAGE):
    return run(netjes_bin, ["arc", "seal", "--domain", DOMAIN,
                            "--selector", "nj", "--key", keys["nj"]["path"],
                            "--authserv-id", "mx.clock.example",
                            "--ip", "192.0.2.7", "--helo", "relay.example",
                            "--mail-from", "sender@origin.example",
                            "--nameserver", dns.addr, "--dns-timeout", "5",
                            *extra], msg)


def test_arc_seal_timestamp_and_headers_dkimpy_verifies(netjes_bin, dns,
                                                        keys):
    # a month ago: the seal says when, not the clock of the machine
    ts = int(time.time()) - 30 * 86400
    r = seal(netjes_bin, dns, keys, ["--timestamp", str(ts),
                                     "--headers", "from:to:subject"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout
    ams = field(out, b"ARC-Message-Signature")
    ase = field(out, b"ARC-Seal")
    assert tag(ams, b"t") == str(ts)
    assert tag(ase, b"t") == str(ts)
    assert tag(ams, b"h") == "from:to:subject"
    assert tag(ase, b"cv") == "none"

    cv, results, reason = dkim.arc_verify(out, dnsfunc=make_dnsfunc(dns))
    assert cv == b"pass", (cv, reason, results)

    def arc_at(now, msg=out):
        r = run(netjes_bin, ["arc", "verify", "--json", "--nameserver",
                             dns.addr, "--dns-timeout", "5",
                             "--now", str(now)], msg)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return json.loads(r.stdout)

    assert arc_at(ts)["result"] == "pass"
    assert arc_at(ts - 300)["result"] == "pass"
    v = arc_at(ts - 301)
    assert v["result"] == "fail", v
    assert f"t={ts} is in the future" in v["reason"], v

    # the message changed in a header outside h=: the seal still holds
    moved = out.replace(b"Date: Mon, 1 Jan 2024", b"Date: Tue, 2 Jan 2024")
    cv, _, reason = dkim.arc_verify(moved, dnsfunc=make_dnsfunc(dns))
    assert cv == b"pass", reason
    # ... and one inside it breaks the AMS for both verifiers
    bad = out.replace(b"Subject: judged", b"Subject: Judged")
    cv, _, _ = dkim.arc_verify(bad, dnsfunc=make_dnsfunc(dns))
    assert cv == b"fail"
    v = arc_at(ts, bad)
    assert v["result"] == "fail" and "body hash" not in v["reason"], v
    assert arc_at(ts, moved)["result"] == "pass"


def test_arc_seal_default_timestamp_is_now(netjes_bin, dns, keys):
    before = int(time.time())
    r = seal(netjes_bin, dns, keys, [])
    after = int(time.time())
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    t = int(tag(field(r.stdout, b"ARC-Seal"), b"t"))
    assert before <= t <= after
    h = tag(field(r.stdout, b"ARC-Message-Signature"), b"h")
    assert h.split(":").count("from") == 2     # the default: oversigned


# --- usage errors -------------------------------------------------------------

BAD_TIMES = ["", "abc", "-5", "+5", "0", "12x", "12 ", " 12", "1.5",
             "99999999999999999999"]


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("cmd", [
    ["dkim", "verify", "--now"],
    ["arc", "verify", "--now"],
    ["auth", "--ip", "192.0.2.1", "--helo", "h.example", "--mail-from", "",
     "--now"],
])
def test_bad_now_is_a_usage_error(netjes_bin, cmd, value):
    r = run(netjes_bin, [*cmd, value], MESSAGE)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert "--now wants seconds since 1970-01-01 UTC" in err
    assert f"not '{value}'" in err
    assert r.stdout == b""


def seal_args(keys, extra):
    return ["arc", "seal", "--domain", DOMAIN, "--selector", "nj",
            "--key", keys["nj"]["path"], "--ip", "192.0.2.7",
            "--helo", "relay.example", "--mail-from", "a@origin.example",
            *extra]


@pytest.mark.parametrize("value", BAD_TIMES)
def test_bad_timestamp_is_a_usage_error(netjes_bin, keys, value):
    r = run(netjes_bin, seal_args(keys, ["--timestamp", value]), MESSAGE)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "--timestamp wants seconds" in r.stderr.decode()
    assert r.stdout == b""


@pytest.mark.parametrize("value, why", [
    ("", "empty"),
    ("from::to", "empty"),
    ("from:", "empty"),
    (":from", "empty"),
    ("to:subject", "must include From"),
    ("from:to subject", "printable US-ASCII"),
    ("from:to\tx", "printable US-ASCII"),
    ("from:s\u00fcbject", "printable US-ASCII"),
    ("from:ARC-Seal", "ARC-Seal cannot be signed"),
])
def test_bad_headers_is_a_usage_error(netjes_bin, keys, value, why):
    r = run(netjes_bin, seal_args(keys, ["--headers", value]), MESSAGE)
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert "--headers" in err and why in err, err
    assert r.stdout == b""


def test_option_belongs_to_its_subcommand(netjes_bin, keys):
    r = run(netjes_bin, seal_args(keys, ["--now", "1700000000"]), MESSAGE)
    assert r.returncode == 2
    assert "seal takes --timestamp, not --now" in r.stderr.decode()
    r = run(netjes_bin, ["arc", "verify", "--timestamp", "1700000000"],
            MESSAGE)
    assert r.returncode == 2
    assert "verify takes no '--timestamp'" in r.stderr.decode()


def test_help_names_the_options(netjes_bin):
    for cmd, opts in (("dkim", ["--now UNIXTIME"]),
                      ("arc", ["--now UNIXTIME", "--timestamp UNIXTIME",
                               "--headers from:to:subject"]),
                      ("auth", ["--now UNIXTIME"])):
        r = run(netjes_bin, ["help", cmd])
        assert r.returncode == 0
        for o in opts:
            assert o.encode() in r.stdout, (cmd, o)
    man = run(netjes_bin, ["doc", "man"]).stdout
    assert b"\\-\\-timestamp" in man and b"\\-\\-now" in man
