#!/usr/bin/python3
"""Generate the SPF benchmark zone and cases (fixed seed, deterministic).

    gen.py OUTDIR [NCASES]

writes OUTDIR/spfbench.example.zone (for nsd) and OUTDIR/cases.txt
("IP SENDER HELO" per line).

The mix is meant to look like real senders: 8 "providers" publish
_spf records with ip4 and ip6 lists (some split into two nested
netblock includes, the way large providers do); 60 sender domains each
publish `v=spf1 [mx] [a] ip4:... include:P1 .. include:Pk -all|~all`
with 2-4 provider includes, and have two MX hosts with A and AAAA
records. Clients: 35% pass through a provider's IPv4 block, 10% through
a provider's IPv6 block, 15% from an MX host, 10% from the domain's own
ip4, 30% from an address nobody lists (fail or softfail), in shuffled
order. Every evaluation takes 3 to 9 DNS lookups.
"""
import ipaddress
import os
import random
import sys

ORIGIN = "spfbench.example"
SEED = 7208


def main():
    out = sys.argv[1]
    ncases = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    r = random.Random(SEED)
    zone = [f"$ORIGIN {ORIGIN}.", "$TTL 86400",
            f"@ IN SOA ns.{ORIGIN}. hostmaster.{ORIGIN}. 1 3600 600 86400 3600",
            f"@ IN NS ns.{ORIGIN}.", "ns IN A 127.0.0.1"]
    # address pools: providers take 10.P.0.0/16 and 2001:db8:P::/48
    providers = []
    for p in range(8):
        v4 = [f"10.{p}.{b * 16}.0/{r.choice([20, 22, 24])}" for b in
              range(r.randint(4, 8))]
        v6 = [f"2001:db8:{p}:{b:x}00::/56" for b in range(r.randint(2, 3))]
        name = f"_spf.prov{p}"
        if p % 3 == 0:  # nested netblocks, like _spf.google.com
            half = len(v4) // 2
            zone.append(f'_nb1.prov{p} IN TXT "v=spf1 ' +
                        " ".join("ip4:" + x for x in v4[:half]) + ' ~all"')
            zone.append(f'_nb2.prov{p} IN TXT "v=spf1 ' +
                        " ".join("ip4:" + x for x in v4[half:]) + " " +
                        " ".join("ip6:" + x for x in v6) + ' ~all"')
            zone.append(f'{name} IN TXT "v=spf1 include:_nb1.prov{p}.'
                        f'{ORIGIN} include:_nb2.prov{p}.{ORIGIN} ~all"')
        else:
            zone.append(f'{name} IN TXT "v=spf1 ' +
                        " ".join("ip4:" + x for x in v4) + " " +
                        " ".join("ip6:" + x for x in v6) + ' ~all"')
        providers.append((f"{name}.{ORIGIN}", v4, v6))

    domains = []
    for d in range(60):
        dom = f"d{d}.{ORIGIN}"
        # 2-4 includes, at most one of the nested providers (p % 3 == 0),
        # so no domain goes past the 10-lookup limit of RFC 7208 4.6.4
        while True:
            incs = r.sample(range(8), r.randint(2, 4))
            if sum(1 for i in incs if i % 3 == 0) <= 1:
                break
        own = f"172.16.{d}.0/{r.choice([24, 26, 28])}"
        mx = [f"172.17.{d}.{10 + i}" for i in range(2)]
        mx6 = [f"2001:db8:ff:{d:x}::{10 + i}" for i in range(2)]
        terms = []
        if d % 4 != 3:
            terms.append("mx")
        if d % 5 == 0:
            terms.append("a")
        terms.append("ip4:" + own)
        if d % 2 == 0:
            terms.append(f"ip6:2001:db8:fe:{d:x}::/64")
        terms += [f"include:{providers[i][0]}" for i in incs]
        terms.append(r.choice(["-all", "-all", "~all"]))
        zone.append(f'd{d} IN TXT "v=spf1 {" ".join(terms)}"')
        zone.append(f"d{d} IN A {mx[0]}")
        for i in range(2):
            zone.append(f"d{d} IN MX {10 * (i + 1)} mx{i}.d{d}")
            zone.append(f"mx{i}.d{d} IN A {mx[i]}")
            zone.append(f"mx{i}.d{d} IN AAAA {mx6[i]}")
        domains.append((dom, incs, own, mx, mx6, d % 4 != 3))

    cases = []
    for _ in range(ncases):
        dom, incs, own, mx, mx6, has_mx = r.choice(domains)
        k = r.random()
        if k < 0.35:
            v4 = providers[r.choice(incs)][1]
            net = ipaddress.ip_network(r.choice(v4))
            ip = net[r.randrange(net.num_addresses)]
        elif k < 0.45:
            net = ipaddress.ip_network(r.choice(providers[r.choice(incs)][2]))
            ip = net[r.randrange(1 << 20)]
        elif k < 0.60 and has_mx:
            ip = r.choice(mx + mx6)
        elif k < 0.70:
            net = ipaddress.ip_network(own)
            ip = net[r.randrange(net.num_addresses)]
        else:
            ip = f"192.0.2.{r.randrange(1, 255)}" if r.random() < 0.8 \
                else f"2001:db8:dead::{r.randrange(1, 0xffff):x}"
        local = r.choice(["alice", "bob", "billing", "noreply", "news"])
        cases.append(f"{ip} {local}@{dom} mail.{dom}")

    with open(os.path.join(out, f"{ORIGIN}.zone"), "w") as f:
        f.write("\n".join(zone) + "\n")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
