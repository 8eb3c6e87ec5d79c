#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/): wire-format queries for
query_fuzz and small zone files for zonefile_fuzz. The outputs are committed; re-run this after
changing it:  /usr/bin/python3 tests/fuzz/make_corpus.py

Query seeds use the names of query_fuzz.cc's zones, the DNSSEC-signed ones included (read
from tests/fuzz/data/, whose NSEC3 owner names become seeds too). Bits of the message ID select
the mode (see query_fuzz.cc): bit 0 = TCP, bit 1 = 512-byte output buffer."""

import os
import re
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
DATA_DIR = os.path.join(HERE, "data")
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
    seeds.update(dnssec_seeds())
    return seeds


# Names of tests/fuzz/data/signed-source.zone (relative to nsec.test. and nsec3.test.) and the
# types asked for them, all with DO: answers, NODATA, NXDOMAIN (also before the first and after
# the last name of the chain), wildcards, ENTs, CNAME/DNAME chains, delegations and DS.
SIGNED_QUERIES = [
    ("@", ["SOA", "NS", "DNSKEY", "NSEC3PARAM", "NSEC", "DS", "MX", "TXT", "ANY", "RRSIG", "A"]),
    ("www", ["A", "AAAA", "MX", "RRSIG", "NSEC", "ANY"]),
    ("WwW", ["A"]),
    ("www.mixed", ["A", "TXT"]),
    ("mixed", ["A"]),  # empty non-terminal
    ("mail", ["A", "AAAA"]),
    ("ns1", ["A", "AAAA", "NS"]),
    ("nope", ["A", "NSEC", "NSEC3"]),
    ("a.b.c.nope", ["AAAA"]),
    ("0", ["A"]),  # sorts before every name of the zone
    ("zzzz", ["TXT"]),  # after every name
    ("_sip._udp", ["SRV"]),
    ("_udp", ["SRV"]),  # empty non-terminal
    ("ttl-short", ["A", "AAAA"]),
    ("caa-only", ["CAA", "ANY", "RRSIG", "A"]),
    ("alias", ["A", "CNAME", "RRSIG"]),
    ("upper", ["A"]),
    ("dangling", ["A"]),
    ("out", ["A"]),
    ("loop1", ["A"]),
    ("self", ["AAAA"]),
    ("to-wild", ["TXT", "SRV"]),
    ("to-dname", ["A"]),
    ("to-sub", ["A"]),
    ("to-insecure", ["A"]),
    ("to-ent", ["A"]),
    ("x.wild", ["A", "TXT", "MX", "AAAA", "RRSIG", "NSEC", "ANY"]),
    ("a.b.c.wild", ["MX"]),
    ("*.wild", ["A", "NSEC"]),
    ("exists.wild", ["A", "TXT"]),
    ("ent.wild", ["A", "TXT"]),
    ("x.ent.wild", ["A"]),
    ("deep.wild", ["A"]),
    ("x.deep.wild", ["A"]),
    ("host.deep.wild", ["A"]),
    ("q.c.d.e.deep", ["TXT", "A"]),
    ("c.d.e.deep", ["TXT"]),
    ("deep", ["A"]),
    ("q.cname-wild", ["A", "CNAME"]),
    ("q.cname-wild-nx", ["A"]),
    ("host.deleg", ["A"]),
    ("deleg", ["NS", "DS", "A", "ANY"]),
    ("ns.deleg", ["A", "AAAA"]),
    ("occluded.deleg", ["A"]),
    ("a.inner.deleg", ["A", "DS"]),
    ("sub", ["DS", "SOA", "NS"]),
    ("host.sub", ["A"]),
    ("x.sub", ["AAAA"]),
    ("host.insecure", ["A"]),
    ("insecure", ["DS", "NS", "A"]),
    ("deep.er.insecure", ["A"]),
    ("host.z.y.x", ["A"]),
    ("z.y.x", ["DS", "NS"]),
    ("y.x", ["DS", "A"]),  # empty non-terminals above an opt-out delegation
    ("x", ["A"]),
    ("q.x", ["A"]),
    ("host.sec.y2.x2", ["A"]),
    ("sec.y2.x2", ["DS"]),
    ("y2.x2", ["A"]),
    ("host.ns-cname", ["A"]),
    ("ns-cname", ["DS"]),
    ("bigsec", ["DS", "NS"]),
    ("host.bigsec", ["A"]),
    ("ns01.bigsec", ["A"]),
    ("x.dn", ["A"]),
    ("dn", ["DNAME", "A", "RRSIG"]),
    ("below.dn", ["A"]),
    ("www.dn2", ["A", "CNAME"]),
    ("nope.dn2", ["A"]),
    ("a.dn-loop", ["A"]),
    ("www.dn-up", ["A"]),
    ("x.www.dn-up", ["A"]),
    (("a" * 60 + ".") * 2 + "dlong", ["A"]),
    ("www.target", ["A"]),
    ("target", ["A"]),
    ("big", ["TXT"]),
    ("many", ["A"]),
]

# wild3.test.: an apex wildcard under NSEC3 (tests/fuzz/data/wild3-source.zone).
WILD3_QUERIES = [
    ("@", ["SOA", "DNSKEY", "NSEC3PARAM", "A", "ANY"]),
    ("anything", ["A", "TXT", "MX", "RRSIG"]),
    ("x.y.z", ["A"]),
    ("a.b", ["A", "TXT"]),
    ("b", ["A"]),  # empty non-terminal: NODATA, not the wildcard
    ("x.b", ["A"]),
    ("c", ["A", "CNAME"]),
    ("*", ["A", "NSEC3"]),
]


def seed_name(*parts):
    return "-".join(re.sub(r"[^A-Za-z0-9_*.-]", "_", p).replace("*", "star")[:40] for p in parts)


def absolute(rel, apex):
    return apex if rel == "@" else rel + "." + apex


def nsec3_owners(path):
    """The NSEC3 owner names of a signed zone file (one record per line, absolute names)."""
    owners = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 4 and "NSEC3" in fields[2:4] and fields[0] not in owners:
                owners.append(fields[0])
    return owners


def dnssec_seeds():
    seeds = {}
    for apex in ("nsec.test.", "nsec3.test."):
        for rel, types in SIGNED_QUERIES:
            for qtype in types:
                seeds[seed_name("do", apex, rel, qtype)] = query(
                    absolute(rel, apex), qtype, edns=0, do=True)
        # Small responses: TC with signatures (big, bigsec's glue), and signed denial in 512.
        for rel, qtype in [("big", "TXT"), ("many", "A"), ("bigsec", "NS"), ("host.bigsec", "A"),
                           ("x.wild", "A"), ("nope", "A"), ("@", "DNSKEY"), ("@", "ANY"),
                           ("q.c.d.e.deep", "TXT"), ("to-wild", "TXT"), ("www.dn2", "A"),
                           ("y.x", "DS"), ("host.insecure", "A")]:
            seeds[seed_name("do512", apex, rel, qtype)] = query(
                absolute(rel, apex), qtype, edns=0, do=True, payload=512)
        for rel, qtype in [("big", "TXT"), ("bigsec", "NS"), ("@", "DNSKEY")]:
            seeds[seed_name("do-small-buffer", apex, rel, qtype)] = query(
                absolute(rel, apex), qtype, edns=0, do=True, payload=4096, mode=SMALL)
            seeds[seed_name("do-tcp", apex, rel, qtype)] = query(
                absolute(rel, apex), qtype, edns=0, do=True, mode=TCP)
        # The same zones without DO: no signatures or proofs unless asked for by type.
        for rel, qtype in [("www", "A"), ("nope", "A"), ("www", "RRSIG"), ("www", "NSEC"),
                           ("caa-only", "ANY"), ("deleg", "DS"), ("host.deleg", "A"),
                           ("x.wild", "A"), ("@", "NSEC3PARAM")]:
            seeds[seed_name("nodo", apex, rel, qtype)] = query(absolute(rel, apex), qtype,
                                                               edns=0)
    for rel, types in WILD3_QUERIES:
        for qtype in types:
            seeds[seed_name("do", "wild3.test.", rel, qtype)] = query(
                absolute(rel, "wild3.test."), qtype, edns=0, do=True)
    # NSEC3 owner names: NSEC3 itself is asked for, and names at and below them.
    for zone in ("nsec3.test.", "wild3.test."):
        for i, owner in enumerate(nsec3_owners(os.path.join(DATA_DIR, zone + "zone"))):
            qtype = ["NSEC3", "A", "RRSIG", "ANY"][i % 4]
            seeds[seed_name("do-nsec3-owner", owner, qtype)] = query(owner, qtype, edns=0,
                                                                      do=True)
            if i % 5 == 0:
                seeds[seed_name("do-below-nsec3-owner", owner)] = query("x." + owner, "A",
                                                                       edns=0, do=True)
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


# Inputs a fuzzer found (named by their SHA-1) that were added to the seeds by hand: kept.
FOUND = re.compile(r"^[0-9a-f]{40}$")


def main():
    for d in (QUERY_DIR, ZONE_DIR):
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if not FOUND.match(name):
                os.remove(os.path.join(d, name))
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
