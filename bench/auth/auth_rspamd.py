#!/usr/bin/python3
"""Drive a running rspamd with the benchmark corpus; measure its CPU.

    auth_rspamd.py HOST:PORT CASES SECONDS INFLIGHT PIDS RESULTS

Sends every message of CASES ("IP HELO MAILFROM RCPT HOSTNAME PATH"
lines) to rspamd's HTTP protocol (POST /checkv2 with the envelope in
the IP, Helo, From, Rcpt and Hostname headers, one connection per
message as rspamc does), keeping INFLIGHT requests open at once.

One untimed pass first: it warms rspamd's caches (SPF records, DKIM
keys) and the resolver's, and fixes each message's symbols, written to
RESULTS one line per message (the authentication symbols only, sorted).
Then requests go round the corpus until SECONDS have passed.

The client's own cost must not count for rspamd, so rspamd's CPU time is
read from /proc/PID/stat (utime + stime) of the processes listed in PIDS
(a comma-separated list: the scanner workers) before and after the timed
part; the printed cpu_us is per message (client_cpu_us: this client's
own, for comparison). The BENCH line also counts, over
the warm-up pass, how many messages carried each authentication symbol.
"""
import asyncio
import json
import os
import sys
import time

AUTH_PREFIXES = ("R_SPF_", "R_DKIM_", "DKIM_", "DMARC_", "ARC_")
COUNTED = ("R_SPF_ALLOW", "R_DKIM_ALLOW", "DMARC_POLICY_ALLOW", "ARC_ALLOW",
           "ARC_NA", "R_DKIM_REJECT", "R_SPF_FAIL", "ARC_REJECT",
           "DMARC_POLICY_REJECT")
TICK = os.sysconf("SC_CLK_TCK")


def load(path):
    cases = []
    for line in open(path):
        if not line.strip():
            continue
        ip, helo, mailfrom, rcpt, host, msgpath = line.split()
        body = open(msgpath, "rb").read()
        head = (f"POST /checkv2 HTTP/1.0\r\nIP: {ip}\r\nHelo: {helo}\r\n"
                f"From: <{mailfrom}>\r\nRcpt: <{rcpt}>\r\n"
                f"Hostname: {host}\r\nContent-Length: {len(body)}\r\n\r\n")
        cases.append(head.encode() + body)
    return cases


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


async def scan(host, port, request):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    reply = await reader.read()
    writer.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head[:16]:
        raise RuntimeError(f"rspamd: {head[:80]!r}")
    return json.loads(body)


def auth_symbols(reply):
    return sorted(s for s in reply.get("symbols", {})
                  if s.startswith(AUTH_PREFIXES))


async def run(host, port, cases, inflight, secs, keep):
    """Scan in order with INFLIGHT at once; keep[i] = symbols if keep."""
    n = len(cases)
    state = {"next": 0, "done": 0}
    stop_at = None if keep is not None else time.monotonic() + secs

    async def worker():
        while True:
            i = state["next"]
            if keep is not None and i >= n:
                return
            if stop_at is not None and time.monotonic() >= stop_at:
                return
            state["next"] += 1
            reply = await scan(host, port, cases[i % n])
            if keep is not None:
                keep[i] = auth_symbols(reply)
            state["done"] += 1

    await asyncio.gather(*(worker() for _ in range(inflight)))
    return state["done"]


def main():
    addr, casefile, secs, inflight, pids, results = sys.argv[1:7]
    host, port = addr.rsplit(":", 1)
    secs, inflight = float(secs), int(inflight)
    pids = [int(p) for p in pids.split(",") if p]
    cases = load(casefile)
    symbols = [None] * len(cases)
    asyncio.run(run(host, int(port), cases, inflight, 0, symbols))
    with open(results, "w") as f:
        for s in symbols:
            f.write(" ".join(s) + "\n")
    counts = {c: sum(c in s for s in symbols) for c in COUNTED}

    c0, t0, p0 = cpu_seconds(pids), time.monotonic(), time.process_time()
    done = asyncio.run(run(host, int(port), cases, inflight, secs, None))
    t, cpu = time.monotonic() - t0, cpu_seconds(pids) - c0
    client = time.process_time() - p0
    print(f"BENCH impl=rspamd op=auth inflight={inflight} n={done} "
          f"secs={t:.3f} rate={done / t:.1f} cpu_s={cpu:.3f} "
          f"cpu_us={cpu * 1e6 / done:.1f} "
          f"client_cpu_us={client * 1e6 / done:.1f} msgs={len(cases)} " +
          " ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
