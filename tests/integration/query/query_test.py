#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Queries answered outside the usual lookup path, holdfast against knotd on the same zone.

tsig  RFC 8945 5.2 with `kdig -y`: a query signed with a configured key gets a signed answer
      that kdig verifies; an unknown key gets NOTAUTH/BADKEY, a wrong secret NOTAUTH/BADSIG
      (unsigned error TSIGs); over UDP and TCP; a large answer over UDP is truncated (TC) and
      still signed; a query signed an hour ago gets NOTAUTH/BADTIME, signed. knotd (with the
      key in an ACL) answers each the same way.
edns  RFC 6891 7: a NOTIFY with an OPT for a zone served as a primary is answered NOTAUTH with
      an OPT; RFC 6891 6.1.1: a query with two OPT records is FORMERR (question echoed, no
      OPT) over UDP and TCP. Compared field by field with knotd.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest.mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hftest  # noqa: E402
import knotmaster  # noqa: E402

import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.tsig  # noqa: E402
import dns.tsigkeyring  # noqa: E402

KDIG = shutil.which("kdig") or "/usr/bin/kdig"
ZONE = "q.example."
KEY = ("query-key", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")
BODY = "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n" + "".join(
    'big TXT "record %02d padding padding padding padding"\n' % i for i in range(30))


def start_both(tmp, binary):
    """knotd and holdfast serving ZONE from the same file, both knowing KEY."""
    knot = knotmaster.KnotMaster(tmp, key=KEY)
    knot.add_zone(ZONE, knotmaster.zone_text(ZONE, 3, BODY), notify=False, tsig=True)
    knot.start()
    port = hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    hftest.write_xfr_config(cfg, port, os.path.join(tmp, "store"),
                            [{"domain": ZONE, "file": knot.zones[ZONE]["file"]}], keys=[KEY])
    hf = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start()
    hf.wait_serial(ZONE, 3, timeout=30)
    return knot, hf


def kdig(port, key, qname, qtype, *opts):
    """kdig's view of one signed query: (status, TSIG verified, answer count, TC)."""
    args = [KDIG, "@127.0.0.1", "-p", str(port), "-y", key, qname, qtype, "+retry=0",
            "+timeout=2"] + list(opts)
    out = subprocess.run(args, capture_output=True, text=True, timeout=20)
    text = out.stdout + out.stderr
    status = re.search(r"status: (\w+)", text)
    answers = re.search(r"ANSWER: (\d+)", text)
    flags = re.search(r"Flags: ([^;]*);", text)
    return (status.group(1) if status else "no answer",
            "TSIG PSEUDOSECTION" in text and "WARNING: reply verification" not in text,
            int(answers.group(1)) if answers else -1,
            bool(flags and " tc" in " " + flags.group(1)))


def case_tsig(tmp, binary):
    knot, hf = start_both(tmp, binary)
    good = "hmac-sha256:%s:%s" % (KEY[0], KEY[2])
    unknown = "hmac-sha256:stranger:%s" % KEY[2]
    wrong = "hmac-sha256:%s:b3RoZXJvdGhlcm90aGVyb3RoZXI=" % KEY[0]
    checks = [
        ("known key", good, "www." + ZONE, "A", ("NOERROR", True, 1, False)),
        ("unknown key", unknown, "www." + ZONE, "A", ("BADKEY", None, 0, False)),
        ("wrong secret", wrong, "www." + ZONE, "A", ("BADSIG", None, 0, False)),
        ("large answer", good, "big." + ZONE, "TXT", ("NOERROR", True, None, True)),
    ]
    for name, key, qname, qtype, want in checks:
        # +ignore: no retry over TCP after TC, the truncated UDP answer is what is checked.
        for transport in (["+notcp", "+ignore"], ["+tcp"]):
            if name == "large answer" and transport == ["+tcp"]:
                want = ("NOERROR", True, 30, False)
            got = {}
            for server, port in (("knotd", knot.port), ("holdfast", hf.port)):
                got[server] = kdig(port, key, qname, qtype, "+noedns", *transport)
            h, k = got["holdfast"], got["knotd"]
            for i, w in enumerate(want):
                if w is not None:
                    assert h[i] == w, "%s %s: holdfast %s, want %s" % (name, transport, h, want)
            # How much of a truncated answer is kept is each server's choice.
            assert (k[0], k[1], k[3]) == (h[0], h[1], h[3]), "%s %s: knotd %s, holdfast %s" % (
                name, transport, k, h)
            hftest.log("%s %s: %s (knotd %s)" % (name, transport[0], h, k))
    # RFC 8945 5.2.3: a good MAC with a time outside the fudge is BADTIME, and that answer
    # is signed (it carries a MAC and our time), unlike BADKEY/BADSIG.
    ring = dns.tsigkeyring.from_text({KEY[0]: (KEY[1], KEY[2])})
    q = dns.message.make_query("www." + ZONE, "A")
    q.use_tsig(ring, keyname=KEY[0])
    with unittest.mock.patch("time.time", return_value=time.time() - 3600):
        wire = q.to_wire()
    for server, port in (("knotd", knot.port), ("holdfast", hf.port)):
        reply = exchange(port, wire, tcp=False)
        assert reply is not None, "BADTIME: no reply from %s" % server
        assert reply[3] & 0xF == 9, "BADTIME: %s rcode %d, want NOTAUTH" % (server, reply[3] & 0xF)
        try:
            dns.message.from_wire(reply, keyring=ring, request_mac=q.mac)
            raise AssertionError("BADTIME: %s reply verified without a time error" % server)
        except dns.tsig.PeerBadTime:
            pass
        mac_len = struct.unpack("!H", reply[-(2 + 2 + 2 + 6 + 32 + 2):][:2])[0]
        assert mac_len == 32, "BADTIME: %s reply is not signed (MAC length %d)" % (server, mac_len)
        hftest.log("old time: %s NOTAUTH/BADTIME, signed" % server)
    hf.stop()  # must exit cleanly (ASan builds: no leak, no report)


def opt_rr():
    return b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


def exchange(port, wire, tcp):
    """The raw reply to `wire`, or None (no reply / connection closed)."""
    try:
        if tcp:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(struct.pack("!H", len(wire)) + wire)
                head = s.recv(2)
                if len(head) < 2:
                    return None
                (n,) = struct.unpack("!H", head)
                body = b""
                while len(body) < n:
                    chunk = s.recv(n - len(body))
                    if not chunk:
                        return None
                    body += chunk
                return body
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.sendto(wire, ("127.0.0.1", port))
            return s.recv(65535)
    except OSError:
        return None


def summary(reply):
    """What RFC 6891 cares about here: RCODE, opcode, flags, counts, question, the OPT."""
    if reply is None:
        return None
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    m = dns.message.from_wire(reply, ignore_trailing=True)
    return {"id": ident, "rcode": flags & 0xF, "opcode": (flags >> 11) & 0xF,
            "aa": bool(flags & 0x0400), "counts": (qd, an, ns, ar),
            "question": [str(r) for r in m.question], "edns": m.edns,
            "payload": m.payload if m.edns >= 0 else None}


def case_edns(tmp, binary):
    knot, hf = start_both(tmp, binary)
    notify = dns.message.make_query(ZONE, "SOA", use_edns=0)
    notify.flags = dns.opcode.to_flags(dns.opcode.NOTIFY) | 0x0400  # AA, as a primary sends
    q = dns.message.make_query("www." + ZONE, "A", use_edns=0).to_wire()
    two_opts = q[:10] + struct.pack("!H", 2) + q[12:] + opt_rr()
    cases = [("NOTIFY with OPT", notify.to_wire(), False, {"rcode": 9, "edns": 0}),
             ("two OPT records", two_opts, False, {"rcode": 1, "edns": -1}),
             ("two OPT records", two_opts, True, {"rcode": 1, "edns": -1})]
    for name, wire, tcp, want in cases:
        k = summary(exchange(knot.port, wire, tcp))
        h = summary(exchange(hf.port, wire, tcp))
        where = "%s over %s" % (name, "TCP" if tcp else "UDP")
        assert h is not None, "%s: no reply from holdfast" % where
        for field, value in want.items():
            assert h[field] == value, "%s: holdfast %s = %r, want %r (%s)" % (
                where, field, h[field], value, h)
        # Payload sizes are each server's own setting; everything else must agree.
        k.pop("payload"), h.pop("payload")
        assert k == h, "%s: knotd %s, holdfast %s" % (where, k, h)
        hftest.log("%s: %s (as knotd)" % (where, h))
    hf.stop()  # must exit cleanly (ASan builds: no leak, no report)


if __name__ == "__main__":
    hftest.run_cases(__doc__, {"tsig": case_tsig, "edns": case_edns},
                     tools=[(knotmaster.KNOTD, "knot"), (KDIG, "knot-dnsutils")],
                     cleanup=lambda: (hftest.cleanup_all(), knotmaster.cleanup_all()),
                     prefix="hf-query-")
