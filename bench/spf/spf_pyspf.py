#!/usr/bin/python3
"""SPF evaluations per second through pyspf (Debian's python3-spf), in
process: spf.query(...).check() in a loop.

    spf_pyspf.py CASES SECONDS

pyspf resolves through dnspython's default resolver, which reads
/etc/resolv.conf (run.sh gives this process a private namespace whose
resolv.conf names the benchmark's DNS server). dnspython's resolver
cache is switched on so pyspf, like netjes and libspf2, answers repeated
lookups from an in-process cache; pyspf's own per-query cache is reset
by every spf.query. Same warm-up pass and check hash as the C drivers.
"""
import sys
import time

import dns.resolver
import spf

FNV_OFF, FNV_PRIME, MASK = 1469598103934665603, 1099511628211, (1 << 64) - 1


def check_add(h, s):
    for b in s.encode() + b"\n":
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def main():
    cases = [line.split() for line in open(sys.argv[1]) if line.strip()]
    secs = float(sys.argv[2])
    dns.resolver.get_default_resolver().cache = dns.resolver.Cache()

    def ev(c):
        return spf.query(i=c[0], s=c[1], h=c[2], timeout=5).check()[0]

    h, hist = FNV_OFF, {}
    for c in cases:
        res = ev(c)
        hist[res] = hist.get(res, 0) + 1
        h = check_add(h, res)
    n, t0, c0 = 0, time.monotonic(), time.process_time()
    while True:
        for c in cases:
            ev(c)
        n += len(cases)
        t = time.monotonic() - t0
        if t >= secs:
            break
    cpu = time.process_time() - c0
    extra = " ".join(f"{k}={hist.get(k, 0)}" for k in (
        "pass", "fail", "softfail", "neutral", "none", "temperror",
        "permerror"))
    print(f"BENCH impl=pyspf op=spf n={n} secs={t:.3f} rate={n / t:.1f} "
          f"cpu={cpu:.3f} cpu_rate={n / cpu:.1f} check={h:016x} {extra}")


if __name__ == "__main__":
    main()
