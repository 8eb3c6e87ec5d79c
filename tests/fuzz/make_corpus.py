#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/): wire-format queries for
query_fuzz and small zone files for zonefile_fuzz. The outputs are committed; re-run this after
changing it:  /usr/bin/python3 tests/fuzz/make_corpus.py

Query seeds use the names of query_fuzz.cc's zones. Bits of the message ID select the mode
(see query_fuzz.cc): bit 0 = TCP, bit 1 = 512-byte output buffer."""

import os
import shutil
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HERE = os.path.dirname(os.path.abspath(__file__))
QUERY_DIR = os.path.join(HERE, "corpus", "query")
ZONE_DIR = os.path.join(HERE, "corpus", "zonefile")

UDP, TCP, SMALL = 0x1000, 0x1001, 0x1002


def query(qname, qtype="A", qclass="IN", mode=UDP, edns=None, payload=1232, do=False,
          options=(), opcode=None, rd=True):
    msg = dns.message.make_query(qname, qtype, qclass, use_edns=edns, payload=payload,
                                 want_dnssec=do, options=list(options))
    msg.id = mode
    if not rd:
        msg.flags &= ~dns.flags.RD
    if opcode is not None:
        msg.set_opcode(opcode)
    return msg.to_wire()


def header(qid=UDP, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def question(wire_name, qtype=1, qclass=1):
    return wire_name + struct.pack("!HH", qtype, qclass)


def wire(name):
    return dns.name.from_text(name).to_wire()


def query_seeds():
    nsid = dns.edns.GenericOption(dns.edns.NSID, b"")
    cookie = dns.edns.GenericOption(dns.edns.COOKIE, bytes(range(8)))
    padding = dns.edns.GenericOption(12, bytes(16))
    ecs = dns.edns.ECSOption("192.0.2.0", 24)
    seeds = {
        # RFC 1034 4.3.2 answers
        "exact-a": query("www.example."),
        "exact-aaaa-tcp": query("www.example.", "AAAA", mode=TCP),
        "apex-soa": query("example.", "SOA"),
        "apex-ns": query("example.", "NS"),
        "apex-mx-additional": query("example.", "MX", edns=0),
        "apex-txt": query("example.", "TXT"),
        "apex-ds": query("example.", "DS"),
        "apex-any": query("example.", "ANY", mode=TCP),
        "srv-additional": query("_sip._udp.example.", "SRV", edns=0),
        "mixed-case-0x20": query("wWw.ExAmPlE.", "A"),
        "mixed-owner": query("www.mixed.example.", "A"),
        # negative answers (RFC 2308)
        "nxdomain": query("nope.example.", "A"),
        "nodata": query("www.example.", "MX"),
        "nxdomain-deep": query("a.b.c.nope.example.", "AAAA", edns=0, do=True),
        # CNAME (RFC 1034 3.6.2, RFC 6604)
        "cname-chain": query("alias.example.", "A"),
        "cname-upper-target": query("upper.example.", "A"),
        "cname-dangling": query("dangling.example.", "A"),
        "cname-out": query("out.example.", "A"),
        "cname-loop": query("loop1.example.", "A"),
        "cname-self": query("self.example.", "AAAA"),
        "cname-to-wildcard": query("to-wild.example.", "TXT"),
        "cname-to-dname": query("to-dname.example.", "A"),
        "cname-to-delegation": query("to-sub.example.", "A"),
        "cname-qtype-cname": query("alias.example.", "CNAME"),
        # wildcards (RFC 4592)
        "wildcard": query("x.wild.example.", "A"),
        "wildcard-deep": query("a.b.c.wild.example.", "MX", edns=0),
        "wildcard-nodata": query("x.wild.example.", "SRV"),
        "wildcard-ent-blocks": query("x.deep.wild.example.", "A"),
        "wildcard-ent": query("deep.wild.example.", "A"),
        "wildcard-in-ent-chain": query("q.c.d.e.deep.example.", "TXT"),
        "wildcard-literal": query("*.wild.example.", "A"),
        "wildcard-cname": query("q.cname-wild.example.", "A"),
        "apex-wildcard-zone": query("anything.wild.test.", "A"),
        "apex-wildcard-ent": query("b.wild.test.", "A"),
        # delegations (RFC 1034 4.2.1)
        "referral": query("host.deleg.example.", "A"),
        "referral-at-cut": query("deleg.example.", "NS"),
        "referral-glue": query("ns.deleg.example.", "AAAA"),
        "referral-nested": query("a.inner.deleg.example.", "A"),
        "referral-below-ents": query("host.z.y.x.example.", "A"),
        "referral-ns-cname": query("host.ns-cname.example.", "A"),
        "ds-at-cut": query("deleg.example.", "DS", edns=0, do=True),
        "ds-child-zone-apex": query("sub.example.", "DS"),
        "child-zone": query("host.sub.example.", "A"),
        "child-zone-wildcard": query("x.sub.example.", "AAAA"),
        # DNAME (RFC 6672)
        "dname-out": query("x.dn.example.", "A"),
        "dname-in-zone": query("www.dn2.example.", "A"),
        "dname-owner": query("dn.example.", "DNAME"),
        "dname-occluded": query("below.dn.example.", "A"),
        "dname-loop": query("a.dn-loop.example.", "A"),
        "dname-up": query("www.dn-up.example.", "A"),
        "dname-yxdomain": query(("a" * 60 + ".") * 2 + "dlong.example.", "A"),
        # size and truncation
        "big-udp-512": query("big.example.", "TXT"),
        "big-udp-edns": query("big.example.", "TXT", edns=0, payload=4096),
        "big-tcp": query("big.example.", "TXT", mode=TCP),
        "big-small-buffer": query("many.example.", "A", mode=SMALL, edns=0, payload=4096),
        "many-a-edns-1232": query("many.example.", "A", edns=0, payload=1232),
        "edns-payload-100": query("many.example.", "A", edns=0, payload=100),
        # EDNS (RFC 6891) and options
        "edns-badvers": query("www.example.", edns=1),
        "edns-do": query("www.example.", edns=0, do=True),
        "edns-nsid": query("www.example.", edns=0, options=[nsid]),
        "edns-cookie": query("www.example.", edns=0, options=[cookie]),
        "edns-padding-ecs": query("www.example.", edns=0, options=[padding, ecs]),
        # classes, opcodes, meta types
        "chaos-version": query("version.bind.", "TXT", "CH"),
        "chaos-id": query("id.server.", "TXT", "CH"),
        "chaos-hostname-a": query("hostname.bind.", "A", "CH"),
        "class-any": query("www.example.", "A", "ANY"),
        "class-none": query("www.example.", "A", "NONE"),
        "refused-outside": query("www.example.org.", "A"),
        "root": query(".", "NS"),
        "axfr-tcp": query("example.", "AXFR", mode=TCP),
        "axfr-udp": query("example.", "AXFR"),
        "ixfr": query("example.", "IXFR", mode=TCP),
        "type0": query("example.", 0),
        "type-opt": query("example.", "OPT"),
        "type-tsig": query("example.", "TSIG"),
        "type-unknown": query("www.example.", 65280),
        "opcode-notify": query("example.", "SOA", opcode=dns.opcode.NOTIFY),
        "opcode-update": query("example.", "SOA", opcode=dns.opcode.UPDATE),
        "opcode-status": query("example.", "A", opcode=dns.opcode.STATUS),
        "no-rd": query("www.example.", rd=False),
        # malformed
        "qdcount-2": header(qd=2) + question(wire("www.example.")) * 2,
        "qdcount-0": header(qd=0),
        "header-only-runt": header()[:11],
        "is-a-response": header(flags=0x8100) + question(wire("www.example.")),
        "truncated-question": (header() + question(wire("www.example.")))[:-3],
        "qname-pointer-loop": header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
        "qname-pointer-forward": header() + b"\xc0\x12" + struct.pack("!HH", 1, 1) + wire("www.example."),
        "label-too-long": header() + b"\x40" + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1),
        "trailing-garbage": header() + question(wire("www.example.")) + b"\xde\xad\xbe\xef",
        "answer-count-lies": header(an=3) + question(wire("www.example.")),
        "two-opts": (header(ar=2) + question(wire("www.example.")) +
                     (b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)) * 2),
        "opt-in-answer": (header(an=1) + question(wire("www.example.")) +
                          b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)),
    }
    return seeds


ZONES = {
    "basic": """$ORIGIN fuzz.example.
$TTL 3600
@ SOA ns hostmaster 1 7200 3600 1209600 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
alias CNAME www
""",
    "hard-cases": """$ORIGIN fuzz.example.
$TTL 300
@ SOA ns hostmaster 2 7200 3600 1209600 60
@ NS ns
ns A 192.0.2.1
*.wild A 192.0.2.9
a.b.c.ent TXT "deep"
*.c.ent TXT "wild in ent"
cut NS ns.cut
ns.cut A 192.0.2.53
x.y.cut A 192.0.2.54
dn DNAME fuzz.example.
below.dn A 192.0.2.7
loop CNAME loop
up CNAME WWW.FUZZ.EXAMPLE.
\\000\\255.esc A 192.0.2.10
* MX 10 ns
""",
    "rejected-cname-and-data": """$ORIGIN fuzz.example.
@ SOA ns hostmaster 3 1 1 1 1
@ NS ns
x CNAME ns
x A 192.0.2.1
""",
    "rejected-no-soa": "$ORIGIN fuzz.example.\n@ NS ns\nns A 192.0.2.1\n",
    "directives": """$ORIGIN fuzz.example.
$TTL 60
@ IN SOA ns hostmaster ( 4 7200 3600
        1209600 300 )
@ NS ns
$GENERATE 1-20 host$ A 192.0.2.$
ns A 192.0.2.1
_x._tcp SRV 0 0 1 ns
t TXT "a" "b" ( "c" )
""",
}


def main():
    for d in (QUERY_DIR, ZONE_DIR):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    seeds = query_seeds()
    for name, data in sorted(seeds.items()):
        with open(os.path.join(QUERY_DIR, name), "wb") as f:
            f.write(data)
    for name, text in sorted(ZONES.items()):
        with open(os.path.join(ZONE_DIR, name + ".zone"), "w") as f:
            f.write(text)
    print(f"{len(seeds)} query seeds in {QUERY_DIR}, {len(ZONES)} zone seeds in {ZONE_DIR}")


if __name__ == "__main__":
    main()
