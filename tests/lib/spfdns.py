"""A small real DNS server for SPF tests, on loopback, built on dnslib.

It serves one scenario's zone data in the format of the openspf/RFC 7208
YAML test suite, with that suite's driver conventions:

  * a name maps to a list of records: {TXT: text or [strings]}, {SPF: ...},
    {A: ip}, {AAAA: ip}, {MX: [prio, name]}, {PTR: name}, {CNAME: name},
    or the bare word TIMEOUT;
  * an SPF record also creates an identical TXT record unless the name
    lists a TXT record itself; "TXT: NONE" means no TXT record at all;
  * TIMEOUT: a query for a type with no record listed before the TIMEOUT
    entry is never answered (silence, so the client really times out);
  * names are case-insensitive and labels may hold spaces and '%';
  * a TXT record of no strings is served as one empty string (see
    _strings).

Type SPF (99) records are served too, as the suite lists them, though
RFC 7208 clients never ask for them. Answers too big for the client's UDP
size are truncated (TC) and the same port serves TCP.

Usage:
    with SpfDnsServer(zonedata) as srv:
        ... srv.port ...
"""

import socket
import socketserver
import struct
import threading

from dnslib import (AAAA, CNAME, EDNS0, DNSHeader, DNSLabel, DNSRecord, MX,
                    PTR, QTYPE, RCODE, RR, TXT, A)

TIMEOUT = "TIMEOUT"


def _key(name):
    """The lookup key of a name: lowercase, no final dot."""
    if isinstance(name, DNSLabel):
        name = ".".join(l.decode("latin-1") for l in name.label)
    name = str(name)
    if name.endswith("."):
        name = name[:-1]
    return name.lower()


def _label(name):
    """A DNSLabel from a zone name, keeping spaces and '%' as bytes."""
    name = str(name)
    if name.endswith("."):
        name = name[:-1]
    if name == "":
        return DNSLabel([])     # the root, as in a null MX (RFC 7505)
    return DNSLabel([l.encode("utf-8") for l in name.split(".")])


def _strings(v):
    """TXT value(s) as a list of byte strings of at most 255 bytes.

    A TXT record of no strings at all cannot be sent legally (RFC 1035
    3.3.14: one or more character-strings) and resolvers drop such a
    reply as malformed; it goes out as one empty string, the nearest
    legal form of "null text".
    """
    if isinstance(v, (list, tuple)):
        parts = [str(s).encode("utf-8") for s in v] or [b""]
    else:
        parts = [str(v).encode("utf-8")]
    out = []
    for p in parts:
        if not p:
            out.append(b"")
        while p:
            out.append(p[:255])
            p = p[255:]
    return out


class Zone:
    """Scenario zone data, normalised to {name: [(type, value) | TIMEOUT]}."""

    def __init__(self, zonedata):
        self.names = {}
        for name, records in (zonedata or {}).items():
            self.names[_key(name)] = self._normalise(records or [])

    @staticmethod
    def _normalise(records):
        out = []
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        generated = []
        for r in records:
            if not isinstance(r, dict):
                out.append(TIMEOUT if str(r) == TIMEOUT else None)
                continue
            for t, v in r.items():
                if t == "TXT" and v == "NONE":
                    continue
                out.append((t, v))
                if t == "SPF" and not has_txt:
                    generated.append(("TXT", v))
        return [r for r in out if r is not None] + generated

    def lookup(self, name, qtype):
        """(rcode, [(type, value, owner)]) or None for silence."""
        chain = []
        seen = set()
        key = _key(name)
        owner = name
        for _ in range(12):
            if key not in self.names:
                return (RCODE.NXDOMAIN if not chain else RCODE.NOERROR,
                        chain)
            records = self.names[key]
            answered = False
            found = []
            for r in records:
                if r == TIMEOUT:
                    if not answered:
                        return None
                    break
                t, v = r
                if t == qtype:
                    answered = True
                    found.append((t, v, owner))
            if found or qtype == "CNAME":
                return RCODE.NOERROR, chain + found
            cname = [v for r in records if r != TIMEOUT
                     for (t, v) in [r] if t == "CNAME"]
            if not cname:
                return RCODE.NOERROR, chain
            chain.append(("CNAME", cname[0], owner))
            seen.add(key)
            owner = cname[0]
            key = _key(cname[0])
            if key in seen:
                return RCODE.NOERROR, chain   # a loop: the client decides
        return RCODE.NOERROR, chain


def _rdata(t, v):
    if t == "A":
        return A(str(v))
    if t == "AAAA":
        return AAAA(str(v))
    if t == "MX":
        return MX(_label(v[1]), int(v[0]))
    if t == "PTR":
        return PTR(_label(v))
    if t == "CNAME":
        return CNAME(_label(v))
    if t in ("TXT", "SPF"):
        return TXT(_strings(v))
    raise ValueError("unknown record type " + t)


def answer(zone, data, limit=None):
    """The reply bytes for request bytes, or None to stay silent."""
    try:
        req = DNSRecord.parse(data)
    except Exception:
        return None
    q = req.q
    qtype = QTYPE.get(q.qtype)
    reply = DNSRecord(DNSHeader(id=req.header.id, qr=1, aa=1, ra=1,
                                rd=req.header.rd), q=q)
    res = zone.lookup(q.qname, qtype)
    if res is None:
        return None
    rcode, rrs = res
    reply.header.rcode = rcode
    for t, v, owner in rrs:
        rname = q.qname if owner is q.qname else _label(owner)
        rtype = 99 if t == "SPF" else getattr(QTYPE, t)
        reply.add_answer(RR(rname, rtype, rdata=_rdata(t, v), ttl=300))
    if any(ar.rtype == QTYPE.OPT for ar in req.ar):
        reply.add_ar(EDNS0(udp_len=4096))
    out = reply.pack()
    if limit is None:
        limit = 512
        for ar in req.ar:
            if ar.rtype == QTYPE.OPT:
                limit = max(512, ar.rclass)
    if len(out) > limit:
        reply.rr = []
        reply.header.tc = 1
        out = reply.pack()
    return out


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        out = answer(self.server.zone, data)
        if out is not None:
            sock.sendto(out, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        conn.settimeout(5)
        try:
            while True:
                hdr = conn.recv(2)
                if len(hdr) < 2:
                    return
                (n,) = struct.unpack("!H", hdr)
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                out = answer(self.server.zone, data, limit=65535)
                if out is None:
                    continue    # silence: the client times out
                conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            return


class _UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SpfDnsServer:
    """UDP and TCP on 127.0.0.1, one free port for both."""

    def __init__(self, zonedata=None, host="127.0.0.1"):
        self.zone = Zone(zonedata)
        self.host = host
        self.port = None
        self._servers = []
        self._threads = []

    def set_zone(self, zonedata):
        self.zone = Zone(zonedata)
        for s in self._servers:
            s.zone = self.zone

    def start(self):
        for _ in range(50):
            udp = _UDPServer((self.host, 0), _UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = _TCPServer((self.host, port), _TCPHandler)
            except OSError:
                udp.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for UDP and TCP together")
        self.port = port
        for s in (udp, tcp):
            s.zone = self.zone
            t = threading.Thread(target=s.serve_forever, daemon=True)
            t.start()
            self._servers.append(s)
            self._threads.append(t)
        return self

    def stop(self):
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers = []
        self._threads = []

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    import sys
    import time

    import yaml

    # Serve one scenario of a suite file: spfdns.py FILE INDEX
    docs = list(yaml.safe_load_all(open(sys.argv[1], "rb")))
    with SpfDnsServer(docs[int(sys.argv[2])]["zonedata"]) as srv:
        print(srv.address, flush=True)
        while True:
            time.sleep(3600)
