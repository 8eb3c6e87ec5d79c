# SPDX-License-Identifier: MIT
"""Deterministic query corpus for the differential test, derived from the zone files.

Every query is built as raw wire bytes (so case, flags, EDNS and even malformed packets are
exactly what we say), and carries a tag naming the case it exercises.
"""

import random
import struct
from dataclasses import dataclass, field

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone

T = dns.rdatatype.from_text
CLASS_IN, CLASS_CH, CLASS_HS, CLASS_NONE, CLASS_ANY = 1, 3, 4, 254, 255

# Asked at every owner name and empty non-terminal.
TYPES_AT_OWNERS = ["A", "AAAA", "NS", "SOA", "MX", "TXT", "CNAME", "DNAME", "DS", "ANY",
                   "TYPE65280", "SRV", "PTR", "HTTPS", "CAA", "RRSIG", "NSEC", "DNSKEY",
                   "NULL", "TYPE731"]
# Sampled at derived names (children, siblings, wildcard matches).
TYPES_DERIVED = ["AAAA", "TXT", "MX", "NS", "CNAME", "ANY", "DS", "SOA", "TYPE65280", "DNAME"]

OUT_OF_ZONE = [".", "example.", "EXAMPLE.", "other.example.", "ample.", "xdiff.example.",
               "diff.example.com.", "www.diff.example.com.", "outside.test.", "www.outside.test.",
               "com.", "nested.example.org.", "xnested.example.", "iff.example."]

# Names whose answers do not fit in 512 (or 1232) bytes: asked with every size/transport.
BIG_CASES = [("big", "TXT"), ("bigA", "A"), ("huge", "TXT"), ("manymx", "MX"),
             ("bigdeleg", "A"), ("bigdeleg", "NS"), ("x.bigdeleg", "A"), ("cname-to-big", "TXT"),
             ("@", "ANY"), ("big", "ANY"), ("huge", "ANY"), ("www", "A")]

EDNS_PAYLOADS = [512, 1232, 4096, 1400, 100, 65535, 1024, 511, 0]

# --- the DNSSEC-signed zones (signed.py): sec.example. (NSEC), sec3.example. (NSEC3) -------
# Asked at every owner name and empty non-terminal of a signed zone (plus the name's types).
SIGNED_TYPES = ["A", "AAAA", "TXT", "MX", "NS", "SOA", "CNAME", "DNAME", "DS", "DNSKEY",
                "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "ANY"]
# Sampled at derived names (children, siblings, wildcard matches) of a signed zone.
SIGNED_DERIVED = ["AAAA", "TXT", "MX", "NS", "DS", "RRSIG", "NSEC", "NSEC3", "ANY", "CNAME",
                  "DNSKEY", "SOA"]
# Asked at the NSEC3 owner names (hashed labels) themselves: not names of the zone's tree.
NSEC3_OWNER_TYPES = ["NSEC3", "A", "RRSIG", "ANY", "TXT", "NSEC3PARAM"]
SIGNED_PAYLOADS = [4096, 1232, 1400, 512, 1024, 65535]
# Denial of existence and wildcard cases, relative to the signed zone's origin, with the types
# asked (each in every variant of CorpusBuilder.signed_variants).
SIGNED_DENIAL = [
    ("nx", ["A", "DS", "NSEC", "NSEC3", "RRSIG"]),     # NXDOMAIN
    ("0", ["A"]), ("zzzz", ["A", "TXT"]),              # before the first / after the last name
    ("a.www", ["A"]), ("www.nx", ["AAAA"]),            # below an existing / a missing name
    ("www", ["MX", "DS", "NSEC", "CNAME"]),            # NODATA
    ("b.ent", ["A", "TXT", "DS"]), ("ent", ["A", "NSEC"]), ("nx.ent", ["A"]),  # ENTs
    ("lower", ["A"]), ("x.Lower", ["TXT"]),
    ("foo.wild", ["A", "TXT", "MX", "AAAA", "DS", "RRSIG", "NSEC", "NSEC3", "ANY", "CNAME"]),
    ("a.b.wild", ["A", "MX"]),                         # next closer is not the query name
    ("*.wild", ["A", "TXT", "MX", "NSEC"]),            # the wildcard owner itself
    ("exists.wild", ["A", "TXT"]), ("a.exists.wild", ["A"]),
    ("ent.wild", ["A", "TXT"]), ("x.ent.wild", ["A"]),  # ENT below the wildcard's parent
    ("foo.wcname", ["A", "CNAME", "MX"]), ("foo.wcname-nx", ["A", "CNAME"]),
    ("foo.wcname-out", ["A"]),
    ("x.w.wnest", ["TXT", "A"]), ("w.wnest", ["TXT"]), ("foo.wnest", ["TXT"]),
    ("wnest", ["A", "DS"]),
    ("cname1", ["A", "MX"]), ("cname-to-nx", ["A", "CNAME"]), ("cname-to-wild", ["A", "MX"]),
    ("cname-to-wnodata", ["A"]), ("cname-to-ent", ["A"]), ("cname-to-deleg", ["A"]),
    ("cname-to-secure", ["A"]), ("cname-out", ["A"]), ("cname-case", ["A"]),
    ("www.dname", ["A", "MX"]), ("nx.dname", ["A"]), ("cname.dname", ["A"]),
    ("dname", ["DNAME", "TXT", "A"]), ("www.dname-out", ["A"]),
    # Labels with any octet (RFC 2181 11), in NSEC/NSEC3 order around the names that have them:
    # a prefix of a label, zero and 0x01 octets next to existing names, a wildcard, a CNAME.
    ("bin\\000", ["A", "TXT"]), ("bin\\000\\000", ["A"]), ("bin\\000w", ["A"]),
    ("bin\\000x", ["A", "TXT", "MX"]), ("bin\\001\\000", ["A"]), ("x.bin\\000x", ["A"]),
    ("\\000", ["A", "TXT"]), ("\\000\\001", ["A", "TXT"]), ("\\001", ["A"]),
    ("foo.wild\\000", ["TXT", "A"]), ("wild\\000", ["TXT"]),
    ("a\\000.b\\001", ["A", "CNAME"]), ("b\\001", ["A"]),
]
# Delegations of the signed zone: DS or its proof of absence with the referral, glue,
# opt-out, DS-NODATA at insecure cuts, names below the cut and the empty non-terminals above.
SIGNED_DELEGATIONS = ["secure", "insecure", "insecure2", "a.b.deep-deleg", "deep.b.sec-ent",
                      "bigsec"]
SIGNED_DELEG_NAMES = [("", ["DS", "NS", "A", "DNSKEY", "ANY"]), ("host.", ["A", "DS"]),
                      ("ns.", ["A", "AAAA"]), ("a.b.", ["DS"])]
SIGNED_DELEG_EXTRA = [("b.deep-deleg", ["DS", "A"]), ("deep-deleg", ["DS"]),
                      ("b.sec-ent", ["DS", "A"]), ("sec-ent", ["DS", "NS"])]
# Answers that do not fit with their signatures: every payload, UDP and TCP, DO on and off.
SIGNED_BIG = [("big", "TXT"), ("bigger", "TXT"), ("huge", "TXT"), ("bigger", "RRSIG"),
              ("big", "ANY"), ("@", "ANY"), ("@", "DNSKEY"), ("@", "NS"), ("@", "MX"),
              ("@", "RRSIG"), ("bigsec", "NS"), ("bigsec", "DS"), ("x.bigsec", "A"),
              ("nx", "A"), ("foo.wild", "TXT"), ("foo.wild", "MX"), ("www", "A"),
              ("cname-to-nx", "A")]


@dataclass
class Edns:
    version: int = 0
    payload: int = 1232
    do: bool = False
    zflags: int = 0  # extended flags other than DO (must be ignored and cleared)
    options: list = field(default_factory=list)  # [(code, bytes)]

    def wire(self):
        flags = (0x8000 if self.do else 0) | self.zflags
        ttl = (0 << 24) | (self.version << 16) | flags
        rdata = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in self.options)
        return b"\x00" + struct.pack("!HHIH", 41, self.payload, ttl, len(rdata)) + rdata

    def text(self):
        parts = ["v%d" % self.version, str(self.payload)]
        if self.do:
            parts.append("DO")
        if self.zflags:
            parts.append("Z=%04x" % self.zflags)
        parts += ["opt%d:%s" % (c, d.hex() or "-") for c, d in self.options]
        return "+edns(" + ",".join(parts) + ")"


@dataclass
class Query:
    tag: str
    wire: bytes
    tcp: bool
    desc: str
    qname: str = ""     # empty, and qtype/qclass None, for hand-made (malformed) packets
    qtype: int = None
    qclass: int = None
    edns: Edns = None
    qid: int = 0


FLAG_BITS = {"QR": 0x8000, "AA": 0x0400, "TC": 0x0200, "RD": 0x0100, "RA": 0x0080,
             "Z": 0x0040, "AD": 0x0020, "CD": 0x0010}


def build_wire(qid, qname, qtype, qclass, flags=(), opcode=0, edns=None):
    bits = (opcode & 0xF) << 11
    for f in flags:
        bits |= FLAG_BITS[f]
    arcount = 1 if edns is not None else 0
    header = struct.pack("!HHHHHH", qid, bits, 1, 0, 0, arcount)
    question = qname.to_wire() + struct.pack("!HH", qtype, qclass)
    return header + question + (edns.wire() if edns is not None else b"")


def random_case(name, rng):
    """0x20 mixing: flip the case of random letters, keep everything else (escapes too)."""
    labels = []
    for label in name.labels:
        out = bytearray(label)
        for i, c in enumerate(out):
            if (65 <= c <= 90 or 97 <= c <= 122) and rng.random() < 0.5:
                out[i] = c ^ 0x20
        labels.append(bytes(out))
    return dns.name.Name(labels)


class CorpusBuilder:
    def __init__(self, seed, mix_case=True):
        self.rng = random.Random(seed)
        self.mix_case = mix_case
        self.queries = []

    # -- one query -------------------------------------------------------------------------
    def add(self, tag, qname, qtype, qclass=CLASS_IN, flags=None, opcode=0, edns="random",
            tcp=None, case="random"):
        rng = self.rng
        if isinstance(qname, str):
            qname = dns.name.from_text(qname)
        if isinstance(qtype, str):
            qtype = T(qtype)
        if case == "random" and rng.random() < 0.25:
            mixed = random_case(qname, rng)  # drawn even when unused: same corpus otherwise
            qname = mixed if self.mix_case else qname
        if edns == "random":
            edns = self.random_edns()
        if flags is None:
            flags = [f for f, p in (("RD", 0.5), ("CD", 0.1), ("AD", 0.1)) if rng.random() < p]
        if tcp is None:
            tcp = rng.random() < 0.1
        qid = len(self.queries) % 65536
        wire = build_wire(qid, qname, qtype, qclass, flags, opcode, edns)
        desc = "%s %s %s%s%s%s%s" % (
            qname.to_text(), dns.rdataclass.to_text(qclass), dns.rdatatype.to_text(qtype),
            (" opcode=%d" % opcode) if opcode else "",
            "".join(" +" + f.lower() for f in flags),
            (" " + edns.text()) if edns is not None else " noedns",
            " tcp" if tcp else " udp")
        self.queries.append(Query(tag, wire, tcp, desc, qname.to_text(), qtype, qclass, edns,
                                  qid))

    def add_raw(self, tag, wire, desc, tcp=False):
        qid = struct.unpack("!H", wire[:2])[0] if len(wire) >= 2 else 0
        self.queries.append(Query(tag, wire, tcp, "raw: " + desc, qid=qid))

    def random_edns(self):
        rng = self.rng
        if rng.random() < 0.3:
            return None
        e = Edns(payload=rng.choice(EDNS_PAYLOADS), do=rng.random() < 0.3)
        if rng.random() < 0.03:
            e.version = rng.choice([1, 2, 255])
        if rng.random() < 0.03:
            e.zflags = rng.choice([0x0001, 0x4000, 0x7fff])
        if rng.random() < 0.15:
            e.options = [self.random_option()]
        if rng.random() < 0.03:
            e.options += [self.random_option(), self.random_option()]
        return e

    def random_option(self):
        rng = self.rng
        return rng.choice([
            (3, b""),                                              # NSID request (RFC 5001)
            (65001, bytes(rng.randrange(256) for _ in range(5))),  # unknown/local option
            (10, bytes(rng.randrange(256) for _ in range(8))),     # client cookie (RFC 7873)
            (12, b"\x00" * 16),                                    # padding (RFC 7830)
            (8, b"\x00\x01\x18\x00\xc0\x00\x02"),                  # ECS 192.0.2.0/24 (RFC 7871)
            (11, b""),                                             # tcp-keepalive (RFC 7828)
            (15, b"\x00\x00"),                                     # EDE in a query (RFC 8914)
            (9, b""),                                              # EXPIRE (RFC 7314)
        ])

    def signed_edns(self):
        """EDNS for the signed zones: mostly DO, some EDNS without DO, some without EDNS."""
        rng = self.rng
        r = rng.random()
        if r < 0.1:
            return None
        return Edns(payload=rng.choice(SIGNED_PAYLOADS), do=r >= 0.25)

    def add_signed(self, tag, qname, qtype, edns="signed", tcp=None, **kw):
        if edns == "signed":
            edns = self.signed_edns()
        if tcp is None:
            tcp = self.rng.random() < 0.15
        self.add(tag, qname, qtype, edns=edns, tcp=tcp, **kw)

    # -- corpus sections ---------------------------------------------------------------------
    def zone_names(self, origin, path):
        zone = dns.zone.from_file(path, origin=origin, relativize=False, check_origin=False)
        owners = list(zone.nodes.keys())
        apex = zone.origin
        ents = set()
        for name in owners:
            parent = name.parent() if name != apex else apex
            while parent != apex and parent.is_subdomain(apex):
                if parent not in zone.nodes:
                    ents.add(parent)
                parent = parent.parent()
        present = {name: sorted({rds.rdtype for rds in node.rdatasets})
                   for name, node in zone.nodes.items()}
        return apex, owners, sorted(ents), present

    def label(self):
        return "q%04d" % self.rng.randrange(10000)

    def add_zone(self, origin, path):
        rng = self.rng
        apex, owners, ents, present = self.zone_names(origin, path)
        for name in owners + ents:
            types = [T(t) for t in TYPES_AT_OWNERS] + present.get(name, [])
            for qtype in sorted(set(types)):
                self.add("owner", name, qtype)
            # Children: NXDOMAIN, wildcard matches, names under cuts and DNAMEs.
            is_wild = name.labels[0] == b"*"
            base = name.parent() if is_wild else name
            derived = [("child", dns.name.Name((self.label().encode(),) + base.labels)),
                       ("child-www", dns.name.Name((b"www",) + base.labels)),
                       ("grandchild", dns.name.Name((b"a", self.label().encode()) + base.labels))]
            if name != apex:
                first = name.labels[0] if not is_wild else b"x"
                derived.append(("sibling", dns.name.Name((first + b"-nx",) + name.labels[1:])))
                derived.append(("sibling", dns.name.Name((b"zz" + first,) + name.labels[1:])))
            if is_wild:
                derived.append(("wild-self", name))
                derived.append(("wild-deep", dns.name.Name((b"y", b"x") + base.labels)))
            for tag, qname in derived:
                self.add(tag, qname, "A")
                for qtype in rng.sample(TYPES_DERIVED, 3):
                    self.add(tag, qname, qtype)

    def add_big(self, origin):
        zone = dns.name.from_text(origin)
        for rel, qtype in BIG_CASES:
            name = zone if rel == "@" else dns.name.from_text(rel, zone)
            for tcp in (False, True):
                sizes = [None, 512, 1232, 4096, 1400, 65535] if not tcp else [None, 4096]
                for payload in sizes:
                    edns = None if payload is None else Edns(payload=payload)
                    self.add("big", name, qtype, flags=[], edns=edns, tcp=tcp, case="none")

    def add_out_of_zone(self):
        for name in OUT_OF_ZONE:
            for qtype in ("A", "SOA", "NS", "ANY", "DS", "TXT"):
                self.add("out-of-zone", name, qtype)
                self.add("out-of-zone", name, qtype, edns=Edns(), flags=["RD"])

    def add_dname_specials(self):
        long_prefix = ".".join(["l" * 30] * 2)  # makes the substituted name exceed 255 octets
        for prefix in (long_prefix, "l" * 60, "short", "a.b.c.d", long_prefix + ".x"):
            for qtype in ("A", "TXT", "CNAME"):
                self.add("dname-long", prefix + ".dname-long.diff.example.", qtype)
        for name in ("www.dname.diff.example.", "cname.dname.diff.example.",
                     "nx.dname.diff.example.", "www.dname-child.diff.example.",
                     "ns1.dname-child.diff.example.", "www.dname-nested.diff.example.",
                     "a.dname-loop.diff.example.", "a.a.dname-loop.diff.example.",
                     "www.dname-apex-like.diff.example.", "cname1.dname-apex-like.diff.example.",
                     "dname.dname-apex-like.diff.example.",
                     "www.dname.dname-apex-like.diff.example.",
                     "WWW.Dname-Mixed.diff.example.", "www.dname-out.diff.example.",
                     "www.dname-up.nested.example.", "cname1.dname-up.nested.example.",
                     "www.dname.dname-up.nested.example."):
            for qtype in ("A", "AAAA", "CNAME", "DNAME", "ANY", "TXT"):
                self.add("dname", name, qtype)

    def add_apex_ds(self):
        for name in ("child.diff.example.", "diff.example.", "nested.example.",
                     "grandchild.child.diff.example.", "sub.diff.example."):
            for edns in (None, Edns(do=True)):
                for tcp in (False, True):
                    self.add("ds", name, "DS", edns=edns, tcp=tcp)

    def add_chaos(self):
        for name in ("version.bind.", "version.server.", "id.server.", "hostname.bind.",
                     "authors.bind.", "VERSION.BIND.", "Id.Server.", "foo.bind.", "bind.",
                     "x.version.bind.", "www.diff.example."):
            for qtype in ("TXT", "A", "ANY", "SOA", "NS"):
                self.add("chaos", name, qtype, qclass=CLASS_CH)
            self.add("chaos", name, "TXT", qclass=CLASS_CH, tcp=True)
            self.add("chaos", name, "TXT", qclass=CLASS_CH, edns=Edns(do=True))
        for name in ("version.bind.", "id.server."):
            self.add("chaos", name, "TXT", qclass=CLASS_IN)
            self.add("chaos", name, "TXT", qclass=CLASS_HS)

    def add_classes(self):
        for name in ("www.diff.example.", "diff.example.", "nx.diff.example.", "example."):
            for qclass in (CLASS_ANY, CLASS_NONE, CLASS_HS, 1234):
                for qtype in ("A", "SOA"):
                    self.add("qclass", name, qtype, qclass=qclass)

    def add_opcodes(self):
        for opcode in (1, 2, 3, 4, 5, 6, 15):
            for name, qtype in (("www.diff.example.", "A"), ("diff.example.", "SOA"),
                                ("example.", "SOA")):
                self.add("opcode", name, qtype, opcode=opcode, flags=[], edns=None, tcp=False)
                self.add("opcode", name, qtype, opcode=opcode, flags=["RD"], edns=Edns())

    def add_meta_types(self):
        for name in ("diff.example.", "www.diff.example.", "child.diff.example.", "example."):
            for qtype in ("AXFR", "IXFR", "MAILA", "MAILB", "OPT", "TSIG", "TKEY", "TYPE0",
                          "TYPE65535", "TYPE128", "NXT", "SIG", "A6", "MD"):
                self.add("meta", name, qtype, tcp=False)
            for qtype in ("AXFR", "IXFR"):
                self.add("meta", name, qtype, tcp=True, edns=None)

    def add_edns_matrix(self):
        """Every EDNS variant on a few representative names."""
        cases = [("www.diff.example.", "A"), ("nx.diff.example.", "A"),
                 ("x.sub.diff.example.", "A"), ("foo.wild.diff.example.", "TXT")]
        variants = [Edns(version=v, payload=p, do=d, zflags=z, options=o)
                    for v in (0, 1) for p in (0, 100, 512, 4096) for d in (False, True)
                    for z in (0, 0x0100) for o in ([], [(3, b"")], [(65001, b"abc")],
                                                   [(3, b""), (10, b"12345678")])]
        for name, qtype in cases:
            for e in variants:
                self.add("edns", name, qtype, edns=e, flags=["RD"], case="none")
            for tcp in (False, True):
                self.add("edns", name, qtype, edns=Edns(options=[(11, b"")]), tcp=tcp)
                self.add("edns", name, qtype, edns=Edns(options=[(12, b"\x00" * 32)]), tcp=tcp)

    def add_malformed(self):
        www = dns.name.from_text("www.diff.example.").to_wire()
        q = www + struct.pack("!HH", 1, 1)
        opt = Edns().wire()

        def hdr(qid, flags=0, qd=1, an=0, ns=0, ar=0):
            return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)

        cases = [
            ("no question", hdr(0xa001, qd=0)),
            ("no question, edns", hdr(0xa002, qd=0, ar=1) + opt),
            ("two questions", hdr(0xa003, qd=2) + q + q),
            ("question count 1, no question", hdr(0xa004)),
            ("truncated question", hdr(0xa005) + www[:6]),
            ("trailing garbage", hdr(0xa006) + q + b"\xde\xad\xbe\xef"),
            ("two OPT records", hdr(0xa007, ar=2) + q + opt + opt),
            ("OPT with non-root owner", hdr(0xa008, ar=1) + q + b"\x01x" + opt[1:]),
            ("OPT in answer section", hdr(0xa009, an=1) + q + opt),
            ("TC set in query", hdr(0xa00a, flags=0x0200) + q),
            ("Z set in query", hdr(0xa00b, flags=0x0040) + q),
            ("RA set in query", hdr(0xa00c, flags=0x0080) + q),
            ("AA set in query", hdr(0xa00d, flags=0x0400) + q),
            ("compression loop in qname", hdr(0xa00e) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)),
            ("forward pointer in qname", hdr(0xa00f) + b"\xc0\x20" + struct.pack("!HH", 1, 1)),
            ("extended label type", hdr(0xa010) + b"\x41\x00" + struct.pack("!HH", 1, 1)),
            ("EDNS option overruns RDATA", hdr(0xa011, ar=1) + q
             + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x09"),
            ("OPT RDLENGTH overruns packet", hdr(0xa012, ar=1) + q
             + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x10"),
            ("qname longer than 255", hdr(0xa013) + (b"\x3f" + b"a" * 63) * 4 + b"\x00"
             + struct.pack("!HH", 1, 1)),
            ("authority record in query", hdr(0xa014, ns=1) + q + b"\xc0\x0c"
             + struct.pack("!HHIH", 1, 1, 0, 4) + b"\x7f\x00\x00\x01"),
            ("answer record in query", hdr(0xa015, an=1) + q + b"\xc0\x0c"
             + struct.pack("!HHIH", 1, 1, 0, 4) + b"\x7f\x00\x00\x01"),
            ("uppercase with pointer to question", hdr(0xa016, ar=1) + b"\x03WwW" + www[4:]
             + struct.pack("!HH", 1, 1) + opt),
            ("short header", b"\xa0\x17\x00"),
            ("response bit set", hdr(0xa018, flags=0x8000) + q),
        ]
        for desc, wire in cases:
            self.add_raw("malformed", wire, desc)
        for desc, wire in cases[:4]:
            self.add_raw("malformed", wire, desc + " (tcp)", tcp=True)


    # -- the signed zones ---------------------------------------------------------------------
    def add_signed_zone(self, origin, path):
        """Every owner, ENT and NSEC3 owner of a signed zone, and names derived from them."""
        rng = self.rng
        apex, owners, ents, present = self.zone_names(origin, path)
        # dnssec-signzone does not write names in a fixed order: sort them (canonical order).
        nsec3_owners = sorted(n for n in owners if set(present[n]) <= {T("NSEC3"), T("RRSIG")})
        names = sorted(n for n in owners if n not in nsec3_owners) + ents
        for name in names:
            types = [T(t) for t in SIGNED_TYPES] + present.get(name, [])
            for qtype in sorted(set(types)):
                self.add_signed("sec-owner", name, qtype)
            is_wild = name.labels[0] == b"*"
            base = name.parent() if is_wild else name
            derived = [("sec-child", dns.name.Name((self.label().encode(),) + base.labels)),
                       ("sec-child", dns.name.Name((b"a", self.label().encode())
                                                   + base.labels))]
            if name != apex:
                first = name.labels[0] if not is_wild else b"x"
                derived.append(("sec-sibling", dns.name.Name((first + b"-nx",)
                                                             + name.labels[1:])))
                derived.append(("sec-sibling", dns.name.Name((b"zz" + first,)
                                                             + name.labels[1:])))
            if is_wild:
                derived.append(("sec-wild", dns.name.Name((b"y", b"x") + base.labels)))
            for tag, qname in derived:
                self.add_signed(tag, qname, "A")
                for qtype in rng.sample(SIGNED_DERIVED, 2):
                    self.add_signed(tag, qname, qtype)
        # NSEC3 owner names are not part of the zone's tree (RFC 5155 7.2.8): ask for them,
        # and for names that look hashed but are not owners.
        for name in nsec3_owners:
            for qtype in NSEC3_OWNER_TYPES:
                self.add_signed("sec-nsec3-owner", name, qtype)
            label = name.labels[0]
            fake = label[:-1] + (b"0" if label[-1:] != b"0" else b"1")
            self.add_signed("sec-nsec3-owner", dns.name.Name((fake,) + name.labels[1:]), "A")
            self.add_signed("sec-nsec3-owner", dns.name.Name((b"x",) + name.labels), "NSEC3")

    def signed_variants(self, tag, qname, qtype):
        """One case with DO over UDP and TCP, DO at 512 bytes, without DO, without EDNS."""
        variants = [(Edns(payload=4096, do=True), False), (Edns(payload=1232, do=True), True),
                    (Edns(payload=512, do=True), False), (Edns(payload=1232), False),
                    (None, False)]
        for edns, tcp in variants:
            self.add(tag, qname, qtype, edns=edns, tcp=tcp)

    def add_signed_cases(self, origin):
        zone = dns.name.from_text(origin)
        for rel, qtypes in SIGNED_DENIAL:
            for qtype in qtypes:
                self.signed_variants("sec-denial", dns.name.from_text(rel, zone), qtype)
        for deleg in SIGNED_DELEGATIONS:
            for prefix, qtypes in SIGNED_DELEG_NAMES:
                for qtype in qtypes:
                    self.signed_variants("sec-deleg", dns.name.from_text(prefix + deleg, zone),
                                         qtype)
        for rel, qtypes in SIGNED_DELEG_EXTRA:
            for qtype in qtypes:
                self.signed_variants("sec-deleg", dns.name.from_text(rel, zone), qtype)
        for rel, qtype in SIGNED_BIG:
            name = zone if rel == "@" else dns.name.from_text(rel, zone)
            for payload in (None, 512, 1232, 1400, 4096):
                for do in ((False, True) if payload else (False,)):
                    edns = None if payload is None else Edns(payload=payload, do=do)
                    self.add("sec-big", name, qtype, flags=[], edns=edns, tcp=False,
                             case="none")
            for edns in (None, Edns(payload=4096), Edns(payload=4096, do=True),
                         Edns(payload=512, do=True)):
                self.add("sec-big", name, qtype, flags=[], edns=edns, tcp=True, case="none")


def build(zones, seed, mix_case=True, signed=()):
    """zones: [(origin, path)]. Returns the list of Query in a fixed order for a given seed.

    signed: [(origin, path)] of the DNSSEC-signed zones; their queries come last, so the rest
    of the corpus is the same with and without them.

    mix_case=False keeps query names as written (a debugging aid: it separates case-handling
    bugs from the rest; the random draws, and so the rest of the corpus, stay the same)."""
    b = CorpusBuilder(seed, mix_case)
    for origin, path in zones:
        b.add_zone(origin, path)
    b.add_big("diff.example.")
    b.add_out_of_zone()
    b.add_dname_specials()
    b.add_apex_ds()
    b.add_chaos()
    b.add_classes()
    b.add_opcodes()
    b.add_meta_types()
    b.add_edns_matrix()
    b.add_malformed()
    for origin, path in signed:
        b.add_signed_zone(origin, path)
        b.add_signed_cases(origin)
    return b.queries
