#!/usr/bin/python3
"""Check that netjes and rspamd both did the checks, and compare them.

    compare.py NETJES_RESULTS RSPAMD_RESULTS

Both files have one line per message in corpus order: netjes's
"iprev=pass spf=pass helo=pass dmarc=pass arc=pass dkim=pass,pass", and
rspamd's authentication symbols. Each line becomes the verdicts
(spf, dkim, dmarc, arc): for rspamd R_SPF_ALLOW, R_DKIM_ALLOW without
R_DKIM_REJECT, DMARC_POLICY_ALLOW, and ARC_ALLOW / ARC_NA. Prints the
agreement; exits 1 when either side passed SPF, DKIM or DMARC on fewer
than 90% of the messages, or ARC on fewer than half: the corpus is built
so that all of them pass, and a benchmark of checks that did not run
would measure nothing.
"""
import sys


def netjes_verdicts(line):
    f = dict(kv.split("=", 1) for kv in line.split())
    dkim = f.get("dkim", "")
    return ("pass" if f["spf"] == "pass" else "fail",
            "pass" if dkim and all(d == "pass" for d in dkim.split(","))
            else "fail",
            "pass" if f["dmarc"] == "pass" else "fail",
            f["arc"] if f["arc"] in ("pass", "none") else "fail")


def rspamd_verdicts(line):
    s = set(line.split())
    return ("pass" if "R_SPF_ALLOW" in s else "fail",
            "pass" if "R_DKIM_ALLOW" in s and "R_DKIM_REJECT" not in s
            else "fail",
            "pass" if "DMARC_POLICY_ALLOW" in s else "fail",
            "pass" if "ARC_ALLOW" in s else
            "none" if "ARC_NA" in s else "fail")


def main():
    nj = [netjes_verdicts(x) for x in open(sys.argv[1]).read().splitlines()]
    rs = [rspamd_verdicts(x) for x in open(sys.argv[2]).read().splitlines()]
    if len(nj) != len(rs) or not nj:
        print(f"  result counts differ: netjes {len(nj)}, rspamd {len(rs)}")
        return 1
    n, ok = len(nj), True
    for name, v in (("netjes", nj), ("rspamd", rs)):
        for k, method in enumerate(("spf", "dkim", "dmarc", "arc")):
            passed = sum(x[k] == "pass" for x in v)
            need = n / 2 if method == "arc" else 0.9 * n
            if passed < need:
                print(f"  {name}: {method} passed on only {passed}/{n}")
                ok = False
    differ = [i for i in range(n) if nj[i] != rs[i]]
    print(f"  netjes and rspamd agree on (spf, dkim, dmarc, arc) for "
          f"{n - len(differ)}/{n} messages")
    for i in differ[:10]:
        print(f"    message {i}: netjes {nj[i]}, rspamd {rs[i]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
