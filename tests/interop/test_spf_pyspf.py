"""netjes and pyspf (Debian's python3-spf) agree on generated SPF cases.

A few hundred cases are generated from a fixed seed: address lists in
every CIDR form, a/mx with dual CIDR lengths, include chains and
redirects, macros in exists/a/include and in explanations, ptr, the
10-term, 10-MX and void-lookup limits, and broken records. Each case
has its own domain under spf.example; all of them are served by one real
DNS server on loopback (tests/lib/spfdns.py). netjes resolves through it
with --nameserver; pyspf resolves through dnspython's stub resolver,
pointed at the same server: pyspf's own code path (spf.DNSLookup over
dnspython) does the real lookups, nothing is answered from Python.

A case agrees when both give the same result and, for a fail caused by a
record with exp=, the same explanation.

Known differences, kept out of the generated cases or reported as xfail,
never counted as agreement:
  * pyspf accepts a zero digit transformer (%{d0}) and uses all parts;
    RFC 7208 7.3 says the value MUST be nonzero, and netjes returns
    permerror (unit-tested in test_spf_macro.c). Not generated.
  * pyspf writes the IPv6 nibbles of %{i} in uppercase hex; RFC 7208 7.4
    shows them in lowercase, as netjes writes them. An explanation that
    differs from pyspf's in letter case only is reported as xfail.
"""
import ipaddress
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import spf
import dns.resolver as dns_resolver
from spfdns import SpfDnsServer  # noqa: E402

BASE = "spf.example"
SEED = 7208


class Gen:
    """Builds the zone and the cases; every case owns c<N>.spf.example."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.zone = {}
        self.cases = []

    def add(self, name, *records):
        self.zone.setdefault(name, []).extend(records)

    def case(self, kind, domain, ip, local="user", helo="mail.example.org",
             exp=False):
        self.cases.append({"id": f"{len(self.cases):03d}-{kind}",
                           "ip": str(ip), "sender": f"{local}@{domain}",
                           "helo": helo, "exp": exp})

    def dom(self):
        return f"c{len(self.cases)}.{BASE}"

    def v4(self, net="192.0.2.0/24"):
        n = ipaddress.ip_network(net)
        return n[self.r.randrange(n.num_addresses)]

    def v6(self, net="2001:db8::/48"):
        n = ipaddress.ip_network(net)
        return n[self.r.randrange(min(n.num_addresses, 1 << 40))]

    # -- families ------------------------------------------------------

    def ip_lists(self, count):
        for _ in range(count):
            d = self.dom()
            p4 = self.r.choice([0, 8, 16, 24, 25, 31, 32])
            p6 = self.r.choice([0, 32, 48, 56, 64, 127, 128])
            n4 = ipaddress.ip_network(f"{self.v4()}/{p4}", strict=False)
            n6 = ipaddress.ip_network(f"{self.v6()}/{p6}", strict=False)
            q = self.r.choice(["", "+", "-", "~", "?"])
            bare4 = self.r.random() < 0.3
            t4 = f"ip4:{n4.network_address}" + ("" if bare4 and p4 == 32
                                                else f"/{p4}")
            self.add(d, {"TXT": f"v=spf1 {q}{t4} ip6:{n6.network_address}"
                                f"/{p6} {self.r.choice(['-all', '~all', '?all', ''])}"})
            ip = self.r.choice([n4[0], self.v4("192.0.2.0/23"), n6[-1],
                                self.v6("2001:db8::/40"),
                                f"::ffff:{n4[-1]}"])
            self.case("ip", d, ip)

    def a_mx(self, count):
        for _ in range(count):
            d = self.dom()
            host4, host6 = self.v4(), self.v6()
            c4 = self.r.choice(["", "/24", "/32", "/0", "/30"])
            c6 = self.r.choice(["", "//64", "//128", "//0"])
            kind = self.r.choice(["a", "mx", "a:other", "mx:other"])
            if kind in ("a", "mx"):
                target = d
                mech = kind
            else:
                target = f"o.{d}"
                mech = f"{kind.split(':')[0]}:{target}"
            if mech.startswith("mx"):
                hosts = [f"mx{k}.{d}" for k in range(self.r.randint(1, 3))]
                for k, h in enumerate(hosts):
                    self.add(target, {"MX": [10 * k, h]})
                    self.add(h, {"A": str(self.v4())})
                self.add(hosts[-1], {"A": str(host4)}, {"AAAA": str(host6)})
            else:
                self.add(target, {"A": str(host4)}, {"AAAA": str(host6)})
            self.add(d, {"TXT": f"v=spf1 {mech}{c4}{c6} -all"})
            h4 = ipaddress.ip_network(f"{host4}/24", strict=False)
            h6 = ipaddress.ip_network(f"{host6}/64", strict=False)
            ip = self.r.choice([host4, host6, h4[7], h6[9], self.v4(),
                                self.v6()])
            self.case("a_mx", d, ip)

    def includes(self, count):
        for _ in range(count):
            d = self.dom()
            depth = self.r.randint(1, 4)
            names = [d] + [f"i{k}.{d}" for k in range(1, depth + 1)]
            ip = self.v4()
            for k, name in enumerate(names):
                nxt = names[k + 1] if k + 1 < len(names) else None
                terms = []
                if nxt:
                    terms.append(self.r.choice(["", "-", "~", "?"]) +
                                 f"include:{nxt}")
                if k == len(names) - 1:
                    style = self.r.choice(["match", "nomatch", "fail",
                                           "missing", "broken", "none"])
                    if style == "match":
                        terms.append(f"ip4:{ip}")
                    elif style == "fail":
                        terms.append("-all")
                    elif style == "missing":
                        self.zone.pop(name, None)
                        continue
                    elif style == "broken":
                        terms.append("ip4:300.1.1.1")
                    elif style == "none":
                        self.add(name, {"TXT": "not an spf record"})
                        continue
                terms.append(self.r.choice(["-all", "~all", "?all", ""]))
                self.add(name, {"TXT": "v=spf1 " + " ".join(
                    t for t in terms if t)})
            self.case("include", d, ip)

    def redirects(self, count):
        for _ in range(count):
            d = self.dom()
            t = f"r.{d}"
            ip = self.v4()
            style = self.r.choice(["plain", "with-all", "missing",
                                   "chain", "macro"])
            if style == "plain":
                self.add(d, {"TXT": f"v=spf1 ip4:198.51.100.1 redirect={t}"})
                self.add(t, {"TXT": f"v=spf1 ip4:{ip} -all"})
            elif style == "with-all":
                self.add(d, {"TXT": f"v=spf1 redirect={t} ?all"})
                self.add(t, {"TXT": f"v=spf1 ip4:{ip} -all"})
            elif style == "missing":
                self.add(d, {"TXT": f"v=spf1 redirect={t}"})
            elif style == "chain":
                self.add(d, {"TXT": f"v=spf1 redirect={t}"})
                self.add(t, {"TXT": f"v=spf1 redirect=r2.{d}"})
                self.add(f"r2.{d}", {"TXT": "v=spf1 ~all"})
            else:
                self.add(d, {"TXT": "v=spf1 redirect=_s.%{d}"})
                self.add(f"_s.{d}", {"TXT": f"v=spf1 ip4:{ip} ?all"})
            self.case("redirect", d, ip if self.r.random() < 0.7
                      else self.v4())

    def macros(self, count):
        locs = ["user", "foo-bar+baz", "a.b.c", "Strong-Bad", "x_y"]
        for _ in range(count):
            d = self.dom()
            ip = ipaddress.ip_address(self.r.choice(
                [str(self.v4()), str(self.v6())]))
            local = self.r.choice(locs)
            rev = ".".join(reversed(str(ip).split("."))) if ip.version == 4 \
                else ".".join(reversed(ip.exploded.replace(":", "")))
            v = "in-addr" if ip.version == 4 else "ip6"
            style = self.r.choice(["exists-ir", "exists-l", "a-d2",
                                   "include-o", "exists-h", "exp"])
            if style == "exists-ir":
                self.add(d, {"TXT": "v=spf1 exists:%{ir}.%{v}.bl." + d +
                             " -all"})
                if self.r.random() < 0.6:
                    self.add(f"{rev}.{v}.bl.{d}", {"A": "127.0.0.2"})
            elif style == "exists-l":
                delim = self.r.choice(["", "-", "+-", "."])
                digits = self.r.choice(["", "1", "2", "9"])
                rv = self.r.choice(["", "r"])
                self.add(d, {"TXT": f"v=spf1 exists:%{{l{digits}{rv}{delim}}}"
                                    f".u.{d} -all"})
                parts = local
                for ch in delim:
                    parts = parts.replace(ch, ".")
                p = parts.split(".")
                if rv:
                    p.reverse()
                if digits:
                    p = p[-int(digits):]
                if self.r.random() < 0.7:
                    self.add(".".join(p) + f".u.{d}", {"A": "127.0.0.2"})
            elif style == "a-d2":
                self.add(d, {"TXT": "v=spf1 a:h.%{d2} -all"})
                self.add(f"h.{d.split('.', 1)[1]}",
                         {"A": "192.0.2.200"}, {"AAAA": "2001:db8::200"})
                if self.r.random() < 0.5:
                    ip = ipaddress.ip_address(
                        "192.0.2.200" if ip.version == 4 else "2001:db8::200")
            elif style == "include-o":
                self.add(d, {"TXT": "v=spf1 include:_i.%{o} ~all"})
                self.add(f"_i.{d}", {"TXT": f"v=spf1 ip4:{self.v4()} "
                                            f"ip6:{ip}/64 -all"})
            elif style == "exists-h":
                helo = f"h{len(self.cases)}.example.org"
                self.add(d, {"TXT": "v=spf1 exists:%{h}.ok." + d + " -all"})
                self.add(f"{helo}.ok.{d}", {"A": "127.0.0.2"})
                self.case("macro-h", d, ip, local=local, helo=helo)
                continue
            else:
                text = self.r.choice([
                    "%{i} is not allowed to send for %{d} (%{s})",
                    "see http://%{d}/why?s=%{S}&ip=%{I}&l=%{l-}",
                    "%{c} via %{h}: %{o} said no %% %_%-",
                    "%{l1r-} at %{d2} from %{v}",
                ])
                self.add(d, {"TXT": "v=spf1 -all exp=explain.%{d}"})
                self.add(f"explain.{d}", {"TXT": text})
                self.case("macro-exp", d, ip, local=local, exp=True)
                continue
            self.case(f"macro-{style}", d, ip, local=local)

    def limits(self, count):
        for _ in range(count):
            d = self.dom()
            ip = self.v4()
            style = self.r.choice(["terms", "void", "mxcount"])
            if style == "terms":
                n = self.r.choice([9, 10, 11, 12])
                terms = [f"a:n{k}.{d}" for k in range(n)]
                for k in range(n):
                    self.add(f"n{k}.{d}", {"A": "192.0.2.254"})
                self.add(d, {"TXT": "v=spf1 " + " ".join(terms) +
                             f" ip4:{ip} -all"})
            elif style == "void":
                n = self.r.choice([1, 2, 3, 4])
                terms = [f"a:void{k}.{d}" for k in range(n)]
                self.add(d, {"TXT": "v=spf1 " + " ".join(terms) +
                             f" ip4:{ip} -all"})
            else:
                n = self.r.choice([9, 10, 11])
                for k in range(n):
                    self.add(d, {"MX": [k, f"m{k}.{d}"]})
                    self.add(f"m{k}.{d}", {"A": str(ip) if k == n - 1
                                           else "192.0.2.253"})
                self.add(d, {"TXT": "v=spf1 mx -all"})
            self.case(f"limit-{style}", d, ip)

    def ptrs(self, count):
        for k in range(count):
            d = self.dom()
            ip = ipaddress.ip_address(f"203.0.113.{k + 1}")
            rev = ".".join(reversed(str(ip).split("."))) + ".in-addr.arpa"
            host = f"host.{d}"
            style = self.r.choice(["valid", "invalid", "other", "none"])
            if style != "none":
                self.add(rev, {"PTR": host if style != "other"
                               else "host.elsewhere.example"})
            self.add(host, {"A": str(ip) if style != "invalid"
                            else "203.0.113.250"})
            self.add("host.elsewhere.example", {"A": str(ip)})
            self.add(d, {"TXT": self.r.choice(["v=spf1 ptr -all",
                                               f"v=spf1 ptr:{d} ~all"])})
            self.case(f"ptr-{style}", d, ip)

    def broken(self, count):
        bad = ["v=spf1 -all.", "v=spf1 a:museum", "v=spf1 ip4:1.2.3.4/33",
               "v=spf1 a//129", "v=spf1 include", "v=spf1 exists:%{c}.x.com",
               "v=spf1 redirect=a.example redirect=b.example",
               "v=spf1 moo=%{z} -all", "v=spf1 ptr:%{x}.example.com",
               "v=spf1 ?ip6:::1/129", "v=spf1 -all foo", "v=spf1 mx:/24",
               "v=spf1 ip4:1.2.3", "v=spf1 +all exp=%{r}.example.com",
               "v=spf10 -all", "v=spf1 a:foo.bar-", "v=spf1 -ALL",
               "v=spf1 ~all moo.cow-far_out=man:dog/cat"]
        for k in range(count):
            d = self.dom()
            self.add(d, {"TXT": bad[k % len(bad)]})
            if self.r.random() < 0.2:
                self.add(d, {"TXT": "v=spf1 +all"})     # two records
            self.case("broken", d, self.v4())

    def include_qualifiers(self):
        """Every DNS mechanism with every qualifier inside an include:,
        matching and not; the parent ends in ~all so an inner fail that
        leaked out would show (RFC 7208 5.2: only pass matches)."""
        ip = "203.0.113.200"
        for mech in ("a", "mx", "exists", "ptr"):
            for q in "+-~?":
                for hit in (True, False):
                    d = self.dom()
                    inc = f"inc.{d}"
                    if mech == "ptr":
                        target = d if hit else f"elsewhere.{d}"
                    else:
                        target = f"t.{d}"
                    if mech == "a" and hit:
                        self.add(target, {"A": ip})
                    elif mech == "a":
                        self.add(target, {"A": "198.51.100.1"})
                    elif mech == "mx":
                        self.add(target, {"MX": [10, f"h.{d}"]})
                        self.add(f"h.{d}", {"A": ip if hit
                                            else "198.51.100.1"})
                    elif mech == "exists" and hit:
                        self.add(target, {"A": "127.0.0.2"})
                    elif mech == "ptr" and hit:
                        # one validated PTR name per matching case
                        self.add("200.113.0.203.in-addr.arpa",
                                 {"PTR": f"host.{d}"})
                        self.add(f"host.{d}", {"A": ip})
                    self.add(d, {"TXT": f"v=spf1 include:{inc} ~all"})
                    self.add(inc, {"TXT": f"v=spf1 {q}{mech}:{target} "
                                          f"+all"})
                    self.case(f"incqual-{mech}{q}{'hit' if hit else 'miss'}",
                              d, ip)


def generate():
    g = Gen(SEED)
    g.ip_lists(60)
    g.a_mx(60)
    g.includes(50)
    g.redirects(30)
    g.macros(70)
    g.limits(30)
    g.ptrs(25)
    g.broken(36)
    g.include_qualifiers()
    return g.zone, g.cases


ZONE, CASES = generate()


def run_netjes(netjes_bin, addr, c):
    r = subprocess.run([netjes_bin, "spf", "--ip", c["ip"], "--sender",
                        c["sender"], "--helo", c["helo"], "--nameserver",
                        addr, "--dns-timeout", "5"],
                       capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    fields = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return (lines[0] if lines else f"exit {r.returncode}: {r.stderr}",
            fields.get("explanation"))


def run_pyspf(c):
    q = spf.query(i=c["ip"], s=c["sender"], h=c["helo"], timeout=5)
    res, _code, exp = q.check()
    return {"unknown": "permerror", "error": "temperror"}.get(res, res), exp


@pytest.fixture(scope="module")
def outcomes(netjes_bin):
    srv = SpfDnsServer(ZONE).start()
    saved = dns_resolver.default_resolver
    res = dns_resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = srv.port
    res.cache = None
    dns_resolver.default_resolver = res
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futs = {c["id"]: pool.submit(run_netjes, netjes_bin,
                                         srv.address, c) for c in CASES}
            pyfuts = {c["id"]: pool.submit(run_pyspf, c) for c in CASES}
            ours = {k: f.result() for k, f in futs.items()}
            theirs = {k: f.result() for k, f in pyfuts.items()}
    finally:
        dns_resolver.default_resolver = saved
        srv.stop()
    return ours, theirs


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_agree_with_pyspf(outcomes, case):
    ours, theirs = outcomes
    (r1, e1), (r2, e2) = ours[case["id"]], theirs[case["id"]]
    assert r1 == r2, (f"{case}: netjes {r1}, pyspf {r2}\n"
                      f"records: {ZONE.get(case['sender'].split('@')[1])}")
    if case["exp"] and r1 == "fail" and e1 != e2:
        if e1 is not None and e2 is not None and e1.lower() == e2.lower():
            pytest.xfail(f"explanation differs in letter case only "
                         f"(IPv6 nibbles): {e1!r} vs {e2!r}")
        pytest.fail(f"{case}: netjes {e1!r}, pyspf {e2!r}")
