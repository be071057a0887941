#!/usr/bin/python3
"""DKIM verify and sign throughput of dkimpy (Debian's python3-dkim), one
core, in process, on the same corpus and key as the C drivers.

    dkim_dkimpy.py verify PUBTXT LIST SECONDS
    dkim_dkimpy.py sign KEY.pem LIST SECONDS

verify: dkim.verify(msg, dnsfunc=...) with a dnsfunc that answers the
key record from memory (warm cache). sign: dkim.sign(...) relaxed/relaxed
with dkimpy's default header selection, rsa-sha256 or, for an Ed25519
PEM key, ed25519-sha256; dkimpy parses the key on every call (that is
its API). Same output line and check hash as the C drivers.
"""
import os
import sys
import time

import dkim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import ed25519_seed  # noqa: E402

FNV_OFF, FNV_PRIME, MASK = 1469598103934665603, 1099511628211, (1 << 64) - 1


def check_add(h, s):
    for b in s.encode() + b"\n":
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def main():
    op, keyarg, listfile, secs = sys.argv[1], sys.argv[2], sys.argv[3], \
        float(sys.argv[4])
    msgs = [open(p.strip(), "rb").read() for p in open(listfile)
            if p.strip()]
    if op == "verify":
        txt = open(keyarg, "rb").read().strip()

        def one(m):
            ok = dkim.verify(m, dnsfunc=lambda name, timeout=5: txt)
            return "pass" if ok else "fail"
    else:
        key = open(keyarg, "rb").read()
        alg, seed = b"rsa-sha256", ed25519_seed(key)
        if seed:
            key, alg = seed, b"ed25519-sha256"

        def one(m):
            dkim.sign(m, b"s2048", b"bench.example", key,
                      canonicalize=(b"relaxed", b"relaxed"),
                      signature_algorithm=alg)
            return "ok"
    h, ok = FNV_OFF, 0
    for m in msgs:
        r = one(m)
        ok += r in ("pass", "ok")
        h = check_add(h, r)
    n, t0 = 0, time.monotonic()
    while True:
        for m in msgs:
            one(m)
        n += len(msgs)
        t = time.monotonic() - t0
        if t >= secs:
            break
    avg = sum(len(m) for m in msgs) // len(msgs)
    print(f"BENCH impl=dkimpy op={op} n={n} secs={t:.3f} rate={n / t:.1f} "
          f"check={h:016x} ok={ok}/{len(msgs)} avg_bytes={avg}")


if __name__ == "__main__":
    main()
