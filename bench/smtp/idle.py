#!/usr/bin/python3
"""bench/smtp idle memory: what an idle SMTP session costs the server.

Opens N plain SMTP sessions to the server, each greeted and past EHLO,
and leaves them idle; the server's memory is read from
/proc/PID/smaps_rollup (PSS and RSS, summed over every process of the
server) before the first session and once all are open; the growth
divided by the sessions held is the cost of one idle session. Every
session is closed at the end and the server stopped.

netjes is one process (one event loop); Postfix runs one smtpd process
per session, so its figure is per process (for context: it is what the
process-per-session design costs, shared pages counted once by PSS).
A session the server refused (421 at the limit) is not counted as held.
"""

import argparse
import os
import resource
import socket
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import smtp_bench as sb  # noqa: E402

IO_TIMEOUT = 10


def rollup(pid):
    """(PSS KB, RSS KB) of one process; (0, 0) if it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return pss, rss


def group_memory(cg):
    pids = (cg.path / "cgroup.procs").read_text().split()
    tot = [0, 0]
    for p in pids:
        pss, rss = rollup(int(p))
        tot[0] += pss
        tot[1] += rss
    return tot[0], tot[1], len(pids)


def read_reply(f):
    """The last line of one (multi-line) reply, or "" at EOF."""
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line.decode(errors="replace").rstrip()


def open_session(port, i):
    # spread over loopback source addresses: per-address limits of the
    # server are not what is measured here
    src = f"127.0.{(i // 250) % 250 + 1}.{i % 250 + 1}"
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT,
                                 source_address=(src, 0))
    f = s.makefile("rb")
    if not read_reply(f).startswith("220"):
        f.close()
        s.close()
        return None
    s.sendall(b"EHLO idle.bench.test\r\n")
    if not read_reply(f).startswith("250"):
        f.close()
        s.close()
        return None
    return s, f


def hold(port, n):
    held, refused = [], 0
    for i in range(n):
        try:
            r = open_session(port, i)
        except OSError:
            r = None
        if r is None:
            refused += 1
        else:
            held.append(r)
    return held, refused


def measure(impl, cg, port, n):
    time.sleep(0.5)
    pss0, rss0, procs0 = group_memory(cg)
    t0 = time.monotonic()
    held, refused = hold(port, n)
    t1 = time.monotonic()
    time.sleep(1)
    pss1, rss1, procs1 = group_memory(cg)
    k = len(held)
    per_pss = (pss1 - pss0) / k if k else 0
    per_rss = (rss1 - rss0) / k if k else 0
    print(f"BENCH impl={impl} op=idle asked={n} held={k} refused={refused} "
          f"procs={procs0}->{procs1} pss_kb={pss0}->{pss1} "
          f"rss_kb={rss0}->{rss1} pss_kb_per_session={per_pss:.1f} "
          f"rss_kb_per_session={per_rss:.1f} open_s={t1 - t0:.1f}",
          flush=True)
    for s, f in held:
        f.close()
        s.close()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n + 256)
    if hard != resource.RLIM_INFINITY and want > hard:
        hard = want    # root may raise the hard limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netjes", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--postfix-n", type=int, default=500)
    args = ap.parse_args()
    tmp = Path(args.tmp) / "idle"
    tmp.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o755)
    # our sockets and the server's (it inherits the limit)
    raise_nofile(2 * max(args.n, args.postfix_n))

    nj = sb.Netjes(args.netjes, tmp, checks=False)
    nj.extra_limits = "idle_timeout = 600\n"
    try:
        nj.start()
        measure("netjes", nj.cg, sb.NETJES_PORT, args.n)
    finally:
        nj.stop()

    pfx = sb.Postfix(tmp, checks=False)
    pfx.inst.main.update({
        "default_process_limit": str(args.postfix_n + 50),
        "smtpd_client_connection_count_limit": "0",
        "smtpd_timeout": "600s",
    })
    try:
        pfx.start()
        measure("postfix", pfx.cg, sb.POSTFIX_PORT, args.postfix_n)
    finally:
        pfx.stop()


if __name__ == "__main__":
    main()
