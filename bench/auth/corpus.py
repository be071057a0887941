#!/usr/bin/python3
"""Build the full-authentication benchmark corpus (fixed seed).

    corpus.py OUTDIR [N]

writes, for N messages (default 300):

  OUTDIR/msg/NNNN.eml   the message as the last hop hands it over (CRLF)
  OUTDIR/cases.txt      one line per message: IP HELO MAILFROM RCPT
                        HOSTNAME PATH (HOSTNAME: the client's
                        forward-confirmed reverse name)
  OUTDIR/example.zone and OUTDIR/*.in-addr.arpa.zone: every record the
                        checks need, for nsd
  OUTDIR/zones.txt      "ZONE FILE" per line

The world (all under the TLD "example", so each sender is its own
organizational domain by the public suffix list's default rule):

  - 8 sender domains with DMARC records (p=reject, quarantine or none,
    some with adkim=s or a subdomain for the return path), each signing
    with its own RSA-2048 key (rsa-sha256, relaxed/relaxed);
  - 2 email service providers sending for them from their own netblocks
    (SPF include chains two deep), and signing a second DKIM signature
    with their own domain on half of the messages;
  - 2 forwarders that relay unchanged and add an ARC set (dkimpy
    arc_sign, i=1 and i=2), with SRS return paths in their own domain;
  - PTR and A records for every sending address, so iprev passes.

The mix: 35% direct from the provider, 45% through one forwarder (ARC
i=1), 20% through both (ARC i=1 and i=2). Every message passes SPF, all
of its DKIM signatures, DMARC and (when sealed) ARC: the benchmark
measures the full work of a pass, and asserts it was done.

Keys are generated with openssl for each run; everything else is fixed
by the seed. The message bodies come from bench/dkim/corpus.py.
"""
import base64
import hashlib
import os
import random
import subprocess
import sys

import dkim

sys.dont_write_bytecode = True     # no __pycache__ left in bench/dkim
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "dkim"))
import corpus as dkim_corpus  # noqa: E402  (bench/dkim/corpus.py)

SEED = 8617
SENDERS = [
    # domain, DMARC record tail, return-path domain, provider
    ("shop1", "p=reject; rua=mailto:dmarc@shop1.example", "shop1", "esp1"),
    ("shop2", "p=quarantine; pct=100", "bounce.shop2", "esp1"),
    ("news1", "p=none; rua=mailto:agg@news1.example", "news1", "esp2"),
    ("bank1", "p=reject; adkim=s; aspf=s", "bank1", "own"),
    ("club1", "p=reject; sp=quarantine", "mail.club1", "esp2"),
    ("travel1", "p=quarantine; adkim=r", "travel1", "esp1"),
    ("games1", "p=none", "games1", "esp2"),
    ("city1", "p=reject", "city1", "own"),
]
FORWARDERS = ["fwd1", "fwd2"]
NET = {"esp1": "198.51.100.", "esp2": "198.51.100.", "own": "192.0.2.",
       "fwd": "203.0.113."}
REV = {"198.51.100.": "100.51.198.in-addr.arpa",
       "192.0.2.": "2.0.192.in-addr.arpa",
       "203.0.113.": "113.0.203.in-addr.arpa"}
SIGN_HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id",
                b"mime-version", b"content-type", b"list-unsubscribe",
                b"from"]
ARC_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id",
               b"mime-version", b"content-type"]


def rsa_key():
    """An RSA-2048 key: (PEM private key, base64 DER public key)."""
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                          "-pkeyopt", "rsa_keygen_bits:2048"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"],
                         input=pem, check=True, capture_output=True).stdout
    return pem, base64.b64encode(der).decode()


def txt(value):
    """A TXT record's rdata: strings of at most 255 characters."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "( " + " ".join(f'"{p}"' for p in parts) + " )"


class World:
    def __init__(self):
        self.fwd = []          # example. zone lines
        self.rev = {z: [] for z in REV.values()}
        self.keys = {}         # "sel._domainkey.dom" -> (pem, pub)
        self.records = {}      # TXT name -> value, for dkimpy's checks
        self.hosts = {}        # provider -> [(ip, name)]

    def add_txt(self, name, value):
        self.fwd.append(f"{name}. 3600 IN TXT {txt(value)}")
        self.records[name + "."] = value

    def add_host(self, name, ip):
        """A and PTR for a sending host, and an SPF record for its HELO."""
        self.fwd.append(f"{name}. 3600 IN A {ip}")
        self.add_txt(name, "v=spf1 a -all")
        net = ip[:ip.rindex(".") + 1]
        self.rev[REV[net]].append(
            f"{ip[len(net):]}.{REV[net]}. 3600 IN PTR {name}.")

    def add_key(self, selector, domain):
        pem, pub = rsa_key()
        self.keys[f"{selector}._domainkey.{domain}"] = pem
        self.add_txt(f"{selector}._domainkey.{domain}",
                     f"v=DKIM1; k=rsa; p={pub}")

    def dnsfunc(self, name, timeout=5):
        return self.records.get(name.decode(), "").encode() or None


def build_world():
    w = World()
    # Providers: esp1 from one block, esp2 through a two-deep include.
    w.hosts["esp1"] = [(f"198.51.100.{10 + k}", f"out{k}.esp1.example")
                       for k in range(6)]
    w.hosts["esp2"] = [(f"198.51.100.{140 + k}", f"o{k}.mta.esp2.example")
                       for k in range(6)]
    w.hosts["own"] = []
    w.add_txt("_spf.esp1.example",
              "v=spf1 ip4:198.51.100.0/27 ip4:198.51.100.96/27 "
              "ip6:2001:db8:e1::/48 ~all")
    w.add_txt("_spf.esp2.example",
              "v=spf1 include:_nb1.esp2.example include:_nb2.esp2.example "
              "~all")
    w.add_txt("_nb1.esp2.example", "v=spf1 ip4:198.51.100.128/27 "
              "ip6:2001:db8:e2::/48 -all")
    w.add_txt("_nb2.esp2.example", "v=spf1 ip4:198.51.100.192/26 -all")
    for p in ("esp1", "esp2"):
        w.add_key("k1", f"{p}.example")
        w.add_txt(f"{p}.example", f"v=spf1 include:_spf.{p}.example -all")
        w.add_txt(f"_dmarc.{p}.example", "v=DMARC1; p=none")
        for ip, name in w.hosts[p]:
            w.add_host(name, ip)
    for k, (dom, dmarc, rp, prov) in enumerate(SENDERS):
        d = f"{dom}.example"
        w.add_key("s2024", d)
        w.add_txt(f"_dmarc.{d}", f"v=DMARC1; {dmarc}")
        if prov == "own":
            hosts = [(f"192.0.2.{10 + 10 * k + j}", f"mx{j}.{d}")
                     for j in range(2)]
            for ip, name in hosts:
                w.add_host(name, ip)
                w.fwd.append(f"{d}. 3600 IN MX 10 {name}.")
            w.hosts[dom] = hosts
            spf = "v=spf1 mx a:smtp.%s ip4:192.0.2.240/28 -all" % d
            w.fwd.append(f"smtp.{d}. 3600 IN A 192.0.2.241")
        else:
            spf = f"v=spf1 include:_spf.{prov}.example -all"
        w.add_txt(f"{rp}.example", spf)
        if rp != dom:
            w.add_txt(d, spf)
    for f in FORWARDERS:
        d = f"{f}.example"
        base = 16 * (FORWARDERS.index(f) + 1)
        w.hosts[f] = [(f"203.0.113.{base + j}", f"mx{j}.{d}")
                      for j in range(3)]
        for ip, name in w.hosts[f]:
            w.add_host(name, ip)
        w.add_txt(d, f"v=spf1 ip4:203.0.113.{base}/28 -all")
        w.add_txt(f"_dmarc.{d}", "v=DMARC1; p=none")
        w.add_key("arc", d)
    return w


def body(r, i, dom):
    """Headers and body from bench/dkim's generator, as this sender's."""
    h, b = dkim_corpus.message(r, i)
    keep = [x for x in h if not x.startswith(("From:", "Message-ID:",
                                               "Received:"))]
    return ([f"From: {dom.capitalize()} <news@{dom}.example>",
             f"Message-ID: <{r.getrandbits(64):x}.{i}@{dom}.example>"]
            + keep, b)


def sign(w, msg, selector, domain):
    key = w.keys[f"{selector}._domainkey.{domain}"]
    return dkim.sign(msg, selector.encode(), domain.encode(), key,
                     canonicalize=(b"relaxed", b"relaxed"),
                     include_headers=SIGN_HEADERS) + msg


def seal(w, msg, fwd, hop, prev_ip, prev_helo, mailfrom, origin):
    """One forwarding hop: Received, the hop's A-R, then its ARC set."""
    srv = f"mx.{fwd}.example"
    arc = "arc=pass (i=1); " if hop == 2 else ""
    ar = (f"Authentication-Results: {srv}; {arc}spf=pass "
          f"smtp.mailfrom={mailfrom.split('@')[1]}; dkim=pass "
          f"header.d={origin}; dmarc=pass header.from={origin}\r\n")
    rcv = (f"Received: from {prev_helo} ({prev_helo} [{prev_ip}])\r\n"
           f"\tby {srv} with ESMTPS; Tue, 4 Jun 2024 10:00:0{hop} +0000\r\n")
    msg = (ar + rcv).encode() + msg
    key = w.keys[f"arc._domainkey.{fwd}.example"]
    sets = dkim.arc_sign(msg, b"arc", f"{fwd}.example".encode(), key,
                         srv.encode(), include_headers=ARC_HEADERS)
    assert sets, f"dkimpy did not seal hop {hop}"
    return b"".join(sets) + msg


def srs(r, mailfrom, fwd):
    local, dom = mailfrom.split("@")
    h = hashlib.sha1(f"{r.random()}".encode()).hexdigest()[:4]
    return f"SRS0={h}=T4={dom}={local}@{fwd}.example"


def one(w, r, i):
    dom, _, rp, prov = SENDERS[i % len(SENDERS)]
    h, b = body(r, i, dom)
    msg = ("\r\n".join(h) + "\r\n\r\n" + "\r\n".join(b) + "\r\n").encode()
    msg = sign(w, msg, "s2024", f"{dom}.example")
    if prov != "own" and r.random() < 0.5:
        msg = sign(w, msg, "k1", f"{prov}.example")
    ip, helo = r.choice(w.hosts[dom if prov == "own" else prov])
    mailfrom = f"bounces+{i}@{rp}.example"
    k = r.random()
    hops = 0 if k < 0.35 else 1 if k < 0.80 else 2
    origin = mailfrom
    for hop in range(1, hops + 1):
        fwd = FORWARDERS[hop - 1]
        msg = seal(w, msg, fwd, hop, ip, helo, mailfrom, f"{dom}.example")
        ip, helo = r.choice(w.hosts[fwd])
        mailfrom = srs(r, origin, fwd)
    assert dkim.verify(msg, dnsfunc=w.dnsfunc), i
    if hops:
        cv, _, reason = dkim.arc_verify(msg, dnsfunc=w.dnsfunc)
        assert cv == b"pass", (i, cv, reason)
    rcpt = f"user{r.randint(1, 50)}@rcpt.example"
    return msg, (ip, helo, mailfrom, rcpt, helo)


def write_zones(w, out):
    soa = ("@ 3600 IN SOA ns.example. hostmaster.example. 1 3600 600 "
           "86400 3600\n@ 3600 IN NS ns.example.\n")
    zones = {"example": w.fwd + ["ns.example. 3600 IN A 127.0.0.1"]}
    zones.update(w.rev)
    with open(os.path.join(out, "zones.txt"), "w") as zl:
        for z, lines in zones.items():
            p = os.path.join(out, f"{z}.zone")
            with open(p, "w") as f:
                f.write(f"$ORIGIN {z}.\n$TTL 3600\n" + soa +
                        "\n".join(lines) + "\n")
            zl.write(f"{z} {p}\n")


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    r = random.Random(SEED)
    w = build_world()
    os.makedirs(os.path.join(out, "msg"), exist_ok=True)
    cases = []
    for i in range(n):
        msg, (ip, helo, mf, rcpt, host) = one(w, r, i)
        p = os.path.join(out, "msg", f"{i:04d}.eml")
        with open(p, "wb") as f:
            f.write(msg)
        cases.append(f"{ip} {helo} {mf} {rcpt} {host} {p}")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")
    write_zones(w, out)


if __name__ == "__main__":
    main()
