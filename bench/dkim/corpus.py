#!/usr/bin/python3
"""Build the DKIM benchmark corpus (fixed seed, deterministic).

    corpus.py OUTDIR KEYFILE PUBTXTFILE [N [EDKEYFILE EDPUBTXTFILE]]

writes OUTDIR/plain/NNNN.eml (unsigned, CRLF), OUTDIR/signed/NNNN.eml
(signed by dkimpy, rsa-sha256 relaxed/relaxed, d=bench.example
s=s2048: a signer none of the measured verifiers wrote), and the lists
OUTDIR/plain.list and OUTDIR/signed.list. With an Ed25519 key (PKCS#8
PEM, as `netjes dkim keygen --algorithm ed25519` writes it) also
OUTDIR/signed-ed/NNNN.eml and OUTDIR/signed-ed.list: the same messages
signed ed25519-sha256 (RFC 8463) relaxed/relaxed, s=s25519.

The mix is sized like ordinary mail: 50% short plain text (0.5-4 KB),
30% multipart/alternative text+HTML (3-15 KB), 15% with a base64
attachment (20-100 KB), 5% quoted-printable HTML newsletters (30-60 KB);
8 to 14 header fields each, some folded.
"""
import base64
import os
import random
import sys

import dkim

SEED = 6376
WORDS = ("the quick brown fox jumps over lazy dog mail server netjes "
         "neatly properly signed sealed envelope dinner ready game lost "
         "hungry yet invoice meeting tomorrow report attached please find "
         "regards thanks schedule").split()


def para(r, nbytes):
    out, n = [], 0
    while n < nbytes:
        line = " ".join(r.choice(WORDS) for _ in range(r.randint(6, 12)))
        out.append(line)
        n += len(line) + 2
    return out


def headers(r, i, ctype):
    h = [f"Received: from mx{r.randint(1, 9)}.example.net (mx.example.net "
         f"[192.0.2.{r.randint(1, 254)}])\r\n\tby mail.bench.example "
         f"with ESMTPS id {r.getrandbits(40):x}\r\n\tfor "
         f"<user{i}@bench.example>; Tue, 4 Jun 2024 10:{i % 60:02d}:00 +0000",
         f"From: Sender {i} <sender{i}@bench.example>",
         f"To: Recipient <rcpt{r.randint(1, 99)}@example.org>",
         f"Subject: {' '.join(r.choice(WORDS) for _ in range(r.randint(3, 9)))}",
         f"Date: Tue, 4 Jun 2024 10:{i % 60:02d}:{r.randint(0, 59):02d} +0000",
         f"Message-ID: <{r.getrandbits(64):x}.{i}@bench.example>",
         "MIME-Version: 1.0", f"Content-Type: {ctype}"]
    if r.random() < 0.5:
        h.append(f"Cc: a{r.randint(1, 9)}@example.org,\r\n b{r.randint(1, 9)}"
                 "@example.org")
    if r.random() < 0.4:
        h.append("List-Unsubscribe: <https://bench.example/u/"
                 f"{r.getrandbits(80):x}>")
    if r.random() < 0.5:
        h.append(f"X-Mailer: bench {r.randint(1, 9)}.{r.randint(0, 9)}")
    return h


def message(r, i):
    k = r.random()
    if k < 0.5:
        body = para(r, r.randint(500, 4000))
        return headers(r, i, "text/plain; charset=utf-8"), body
    b = f"=-=b{i:04d}=-="
    if k < 0.8:
        n = r.randint(1500, 7500)
        body = [f"--{b}", "Content-Type: text/plain; charset=utf-8", ""]
        body += para(r, n)
        body += [f"--{b}", "Content-Type: text/html; charset=utf-8", "",
                 "<html><body>"]
        body += ["<p>" + x + "</p>" for x in para(r, n)]
        body += ["</body></html>", f"--{b}--"]
        return headers(r, i, f'multipart/alternative; boundary="{b}"'), body
    if k < 0.95:
        body = [f"--{b}", "Content-Type: text/plain; charset=utf-8", ""]
        body += para(r, r.randint(300, 2000))
        blob = base64.b64encode(r.randbytes(r.randint(15000, 75000)))
        body += [f"--{b}", "Content-Type: application/pdf; name=\"r.pdf\"",
                 "Content-Transfer-Encoding: base64", ""]
        body += [blob[j:j + 76].decode() for j in range(0, len(blob), 76)]
        body += [f"--{b}--"]
        return headers(r, i, f'multipart/mixed; boundary="{b}"'), body
    body = []
    for x in para(r, r.randint(30000, 60000)):
        body.append("<p style=3D\"margin:0\">" + x[:50] + "=")
        body.append(x[50:] + "</p>")
    return (headers(r, i, "text/html; charset=utf-8") +
            ["Content-Transfer-Encoding: quoted-printable"], body)


def ed25519_seed(pem):
    """dkimpy wants an Ed25519 key as the base64 of its 32-byte seed; a
    PKCS#8 PEM of one (48 bytes, OID 1.3.101.112) ends with exactly those
    32 bytes. None for any other key."""
    der = base64.b64decode(b"".join(
        x for x in pem.splitlines() if not x.startswith(b"-----")))
    if len(der) != 48 or der[9:12] != b"\x2b\x65\x70":
        return None
    return base64.b64encode(der[-32:])


def main():
    out, keyfile, pubfile = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    r = random.Random(SEED)
    key = open(keyfile, "rb").read()
    pub = open(pubfile, "rb").read().strip()
    ed = None
    if len(sys.argv) > 6:
        ed = (ed25519_seed(open(sys.argv[5], "rb").read()),
              open(sys.argv[6], "rb").read().strip())
        assert ed[0], "the fifth argument is not an Ed25519 key"

    def dnsfunc(name, timeout=5):
        if name == b"s2048._domainkey.bench.example.":
            return pub
        if ed and name == b"s25519._domainkey.bench.example.":
            return ed[1]
        return None

    lists = {"plain": [], "signed": []}
    if ed:
        lists["signed-ed"] = []
    for d in lists:
        os.makedirs(os.path.join(out, d), exist_ok=True)
    for i in range(n):
        h, body = message(r, i)
        msg = ("\r\n".join(h) + "\r\n\r\n" + "\r\n".join(body) +
               "\r\n").encode()
        hdrs = [b"from", b"to", b"cc", b"subject", b"date", b"message-id",
                b"mime-version", b"content-type", b"list-unsubscribe",
                b"from"]
        sig = dkim.sign(msg, b"s2048", b"bench.example", key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=hdrs)
        out_msgs = [("plain", msg), ("signed", sig + msg)]
        if ed:
            sig = dkim.sign(msg, b"s25519", b"bench.example", ed[0],
                            canonicalize=(b"relaxed", b"relaxed"),
                            include_headers=hdrs,
                            signature_algorithm=b"ed25519-sha256")
            out_msgs.append(("signed-ed", sig + msg))
        for d, data in out_msgs[1:]:
            assert dkim.verify(data, dnsfunc=dnsfunc), (d, i)
        for d, data in out_msgs:
            p = os.path.join(out, d, f"{i:04d}.eml")
            with open(p, "wb") as f:
                f.write(data)
            lists[d].append(p)
    for d, paths in lists.items():
        with open(os.path.join(out, f"{d}.list"), "w") as f:
            f.write("\n".join(paths) + "\n")


if __name__ == "__main__":
    main()
