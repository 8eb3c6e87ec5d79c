# SPDX-License-Identifier: MIT
"""Send one query to a server and reduce its response to comparable fields."""

import socket
import struct
import time

import dns.exception
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype

UDP_TIMEOUT = 1.0
TCP_TIMEOUT = 2.0
MALFORMED_TIMEOUT = 0.3  # servers legitimately drop some malformed packets: do not wait long
SECTIONS = ("answer", "authority", "additional")
FIELDS = ("status", "id", "opcode", "rcode", "flags", "question") + SECTIONS + (
    "edns", "edns.payload", "edns.flags", "edns.options")
FLAG_NAMES = (("QR", 0x8000), ("AA", 0x0400), ("TC", 0x0200), ("RD", 0x0100), ("RA", 0x0080),
              ("Z", 0x0040), ("AD", 0x0020), ("CD", 0x0010))


class Client:
    """A connected UDP socket per server; TCP opens one connection per query."""

    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.connect(self.addr)

    def close(self):
        self.udp.close()

    def ask(self, query):
        try:
            return self._tcp(query) if query.tcp else self._udp(query)
        except socket.timeout:
            return None
        except OSError as e:
            return e

    def _udp(self, query):
        self.udp.send(query.wire)
        wait = MALFORMED_TIMEOUT if query.tag == "malformed" else UDP_TIMEOUT
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.udp.settimeout(left)
            wire = self.udp.recv(65535)
            # A late answer to an earlier (timed-out) query carries another ID: skip it.
            if len(wire) < 2 or wire[:2] == query.wire[:2]:
                return wire

    def _tcp(self, query):
        with socket.create_connection(self.addr, timeout=TCP_TIMEOUT) as s:
            s.sendall(struct.pack("!H", len(query.wire)) + query.wire)
            head = _recv_exact(s, 2)
            if head is None:
                return None
            return _recv_exact(s, struct.unpack("!H", head)[0])


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None  # connection closed without (a complete) answer
        buf += chunk
    return buf


def _rr(rrset, rr):
    """(owner, ttl, class, type, rdata) with names exactly as they were on the wire."""
    return (rrset.name.to_text(), rrset.ttl, dns.rdataclass.to_text(rrset.rdclass),
            dns.rdatatype.to_text(rrset.rdtype), rr.to_text(origin=None, relativize=False))


def rr_text(rr):
    return "%s %d %s %s %s" % rr


def normalize(query, wire):
    """The fields of a response that the test compares, as hashable values."""
    if wire is None:
        return {"status": "no response"}
    if isinstance(wire, Exception):
        # A reset or closed TCP connection is the stream version of a dropped datagram.
        return {"status": "no response", "_detail": type(wire).__name__}
    out = {"status": "ok"}
    if len(wire) < 12:
        out["status"] = "short packet (%d bytes)" % len(wire)
        return out
    qid, bits = struct.unpack("!HH", wire[:4])
    out["id"] = "match" if wire[:2] == query.wire[:2] else "mismatch %d" % qid
    out["opcode"] = (bits >> 11) & 0xF
    out["flags"] = " ".join(n for n, b in FLAG_NAMES if bits & b)
    out["rcode"] = dns.rcode.to_text(bits & 0xF)
    out["_size"] = len(wire)
    out["_limit"] = query_limit(query)
    try:
        # Parse every opcode as QUERY: dnspython applies UPDATE/unknown-opcode semantics
        # otherwise; the real opcode was taken from the header above.
        plain = wire[:2] + bytes([wire[2] & 0x87]) + wire[3:]
        msg = dns.message.from_wire(plain, one_rr_per_rrset=True)
    except Exception as e:  # noqa: BLE001 - dnspython raises ValueError for odd opcodes too
        out["status"] = "unparseable (%s)" % type(e).__name__
        out["counts"] = struct.unpack("!HHHH", wire[4:12])
        return out
    out["rcode"] = dns.rcode.to_text(msg.rcode())
    out["question"] = tuple("%s %s %s" % (q.name.to_text(), dns.rdataclass.to_text(q.rdclass),
                                          dns.rdatatype.to_text(q.rdtype))
                            for q in msg.question)
    for name in SECTIONS:
        rrs = [_rr(rrset, rr) for rrset in getattr(msg, name) for rr in rrset]
        out[name] = tuple(sorted(rrs))
    if msg.edns < 0:
        out["edns"] = "none"
        out["edns.payload"] = out["edns.flags"] = out["edns.options"] = "-"
    else:
        out["edns"] = "v%d" % msg.edns
        out["edns.payload"] = msg.payload
        out["edns.flags"] = "%04x" % (msg.ednsflags & 0xFFFF)
        out["edns.options"] = tuple(sorted("%d:%s" % (o.otype, o.to_wire().hex())
                                           for o in msg.options))
    return out


def query_limit(query):
    """Largest response the server may send: 64 KiB over TCP, else the EDNS/512 limit."""
    if query.tcp:
        return 65535
    if query.edns is None:
        return 512
    return max(512, min(query.edns.payload, 1232))


def diff(ref, other):
    """Field names whose values differ."""
    return [f for f in FIELDS if ref.get(f) != other.get(f)]


def show_field(field, ref, other, names=("knotd", "other")):
    a, b = ref.get(field), other.get(field)
    if field in SECTIONS and isinstance(a, tuple) and isinstance(b, tuple):
        lines = ["    %s:" % field]
        lines += ["      only %-8s %s" % (names[0], rr_text(rr)) for rr in a if rr not in b]
        lines += ["      only %-8s %s" % (names[1], rr_text(rr)) for rr in b if rr not in a]
        if len(lines) == 1:  # same records, different multiplicity
            lines.append("      %s has %d records, %s has %d" % (names[0], len(a), names[1],
                                                              len(b)))
        return "\n".join(lines)
    return "    %s: %s=%r %s=%r" % (field, names[0], a, names[1], b)


def summary(resp):
    """One line: rcode, flags, section counts."""
    if resp.get("status") != "ok":
        return resp.get("status")
    return "%s [%s] an=%d ns=%d ar=%d %s" % (
        resp.get("rcode"), resp.get("flags"), len(resp.get("answer", ())),
        len(resp.get("authority", ())), len(resp.get("additional", ())), resp.get("edns"))
