#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Differential correctness test: knotd and holdfast (or nsd) answer the same corpus.

Modes:
  diff_test.py --holdfast BIN          knotd vs holdfast (the CTest mode)
  diff_test.py --holdfast BIN --with-nsd
                                       also run nsd; a known difference is then accepted only
                                       if holdfast answers like knotd or like nsd
  diff_test.py --peer nsd              knotd vs nsd: how the KNOWN_DIFFERENCES were derived

Differences are allowed only where knotd and NSD themselves disagree; each one is a row of
KNOWN_DIFFERENCES below with its justification.
"""

import argparse
import collections
import dataclasses
import json
import os
import re
import signal
import sys
import tempfile
import time

import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402
import corpus  # noqa: E402
import rules  # noqa: E402
import servers  # noqa: E402
import signed  # noqa: E402
import zonedata  # noqa: E402
from rules import Known, each  # noqa: E402

ZONES_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "data", "zones"))
ZONES = [("diff.example.", "diff.example.zone"),
         ("child.diff.example.", "child.diff.example.zone"),
         ("nested.example.", "nested.example.zone")]
DEFAULT_SEED = 20240101
# Give up when the peer leaves this many consecutive queries unanswered that knotd answered:
# a crashed or wedged server would otherwise turn the rest of the run into timeouts.
MAX_SILENT = 5

# Malformed packets (corpus.add_malformed) where knotd and NSD react differently, and the
# outcomes they chose ("drop" = no reply / connection closed, "answer" = NOERROR reply).
MALFORMED_OUTCOMES = {
    "raw: no question, edns": {"FORMERR", "answer"},
    "raw: no question, edns (tcp)": {"FORMERR", "answer"},
    "raw: no question (tcp)": {"FORMERR", "drop"},
    "raw: two questions": {"drop", "FORMERR"},
    "raw: two questions (tcp)": {"drop", "FORMERR"},
    "raw: question count 1, no question": {"drop", "FORMERR"},
    "raw: truncated question": {"drop", "FORMERR"},
    "raw: compression loop in qname": {"drop", "FORMERR"},
    "raw: forward pointer in qname": {"drop", "FORMERR"},
    "raw: extended label type": {"drop", "FORMERR"},
    "raw: qname longer than 255": {"drop", "FORMERR"},
    "raw: trailing garbage": {"FORMERR", "answer"},
    "raw: authority record in query": {"FORMERR", "answer"},
    "raw: answer record in query": {"FORMERR", "answer"},
}

# --------------------------------------------------------------------------------------------
# Known differences. Each row is a place where knotd 3.2 and NSD 4.6 answer the same query on
# the same zones differently (found with --peer nsd), so either behaviour is acceptable. The
# condition says where it applies, the normalization what it blanks out; everything else in
# the response is still compared. Keep rows narrow: a row that matches too much hides bugs.
# --------------------------------------------------------------------------------------------
KNOWN_DIFFERENCES = [
    Known("name-case-after-compression",
          "RFC 4343 4.1/4.2: output case need not survive name compression, and a server need "
          "not keep the case it loaded. knotd lower-cases zone data on load, NSD keeps it but "
          "compresses names against the query name (so they take the query's case). Owners "
          "equal to the query name must match exactly; other names compare case-insensitively.",
          when=lambda q, r, o, zd: True,
          fix=each(rules.lower_names)),
    Known("edns-expire-option",
          "RFC 7314: knotd answers an EDNS EXPIRE request with the zone's expire timer, NSD "
          "ignores the option; the option is informational and optional.",
          when=lambda q, r, o, zd: q.edns is not None and any(c == 9 for c, _ in q.edns.options),
          fix=each(lambda q, resp, zd: rules.without_options(resp, 9)),
          independent=True),
    Known("extended-dns-error",
          "RFC 8914: Extended DNS Errors are optional. Both servers send EDE 20 (Not "
          "Authoritative) with REFUSED for IN names outside their zones, and that stays strict; "
          "elsewhere NSD adds EDE (21 Not Supported for unserved classes and CHAOS types, 0 "
          "for a DNAME expansion that is too long, 20 for reserved QTYPEs) and knotd does not.",
          when=lambda q, r, o, zd: not (q.qclass == 1 and all(
              x.get("rcode") == "REFUSED" for x in (r, o))) and any(
              x.get("rcode") not in (None, "NOERROR", "NXDOMAIN") for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.without_options(resp, 15)),
          independent=True),
    Known("badvers-header",
          "RFC 6891 6.1.3/7: a BADVERS reply carries only an OPT; whether DO (RFC 3225) and CD "
          "are copied into it is not specified. knotd keeps DO and drops CD, NSD the reverse.",
          when=lambda q, r, o, zd: "BADVERS" in (r.get("rcode"), o.get("rcode")),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "CD"),
                                                    "edns.flags"))),
    Known("apex-ns-in-positive-answers",
          "RFC 1034 4.3.2 / RFC 2181 9: the zone's NS RRset in the authority section of a "
          "positive answer (and its addresses in additional) is optional. NSD adds it, knotd "
          "sends minimal responses. Only for answers that end in data (not at a referral). "
          "In signed zones with DO the NS RRset's RRSIG and the addresses' RRSIGs go with them.",
          when=lambda q, r, o, zd: any(
              resp.get("rcode") == "NOERROR" and rules.answered_with_data(q, resp)
              for resp in (r, o)),
          fix=each(lambda q, resp, zd: rules.drop_unreferenced_addresses(rules.drop(
              resp, "authority",
              lambda rr: rules.rtype_or_covered(rr) == "NS" and rr[0].lower() in zd.apexes))),
          independent=True),
    Known("any-minimal-rrset-choice",
          "RFC 8482 4.1: an ANY query may be answered with one RRset of the node; both servers "
          "do that (over UDP and TCP) but pick different RRsets (knotd the lowest type, NSD "
          "e.g. SOA at the apex). Each answer must still be one complete RRset of the name "
          "(with DO: and all of its RRSIGs, and no others).",
          when=lambda q, r, o, zd: q.qtype == 255 and all(
              rules.is_signed_rrset(q, rules.records(x, "answer"), zd)
              for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "answer", "additional"))),
    Known("rrsig-nsec-qtype-at-cname",
          "RFC 2181 10.1 / RFC 4035 2.5: RRSIG and NSEC may coexist with a CNAME, so whether a "
          "query for them at a CNAME owner that has none (unsigned zone; NSEC in an NSEC3 "
          "zone) follows the alias is unsettled: knotd answers NODATA, NSD follows the chain. "
          "For QTYPE=NSEC3 (RFC 5155: NSEC3 RRs live at hashed owner names only, so never at "
          "the CNAME owner) it is the reverse: knotd follows the chain, NSD answers NODATA "
          "with the denial for the CNAME owner. Not when the CNAME owner (or wildcard) has an "
          "RRset of the asked type: that is answered.",
          when=lambda q, r, o, zd: q.qtype in (46, 47, 50) and bool(q.qname) and (
              zd.alias_owner(q.qname) is not None and dns.rdatatype.to_text(q.qtype)
              not in zd.types_at(zd.alias_owner(q.qname))),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "TC"), "rcode",
                                                    "answer", "authority", "additional"))),
    Known("cname-chain-length-and-loops",
          "RFC 1034 3.6.2/4.3.2 leaves chain limits and loop handling to the implementation: "
          "knotd stops after 5 aliases (and repeats a wildcard CNAME to itself), NSD follows "
          "to the end or until the packet is full. The shorter answer must be a subset of the "
          "longer one.",
          when=lambda q, r, o, zd: any(len(rules.cname_chain(x)) >= 5 or rules.has_loop(q, x)
                                       for x in (r, o)),
          fix=lambda q, r, o, zd: rules.subset_pair(
              *[rules.ignore(rules.without_flags(x, "TC"), "rcode", "authority", "additional")
                for x in (r, o)], "answer")),
    Known("svcb-target-addresses",
          "RFC 9460 4.1 (SHOULD): addresses of an SVCB/HTTPS TargetName in the Additional "
          "section. knotd adds them, NSD 4.6 does not.",
          when=lambda q, r, o, zd: any(rr[3] in ("HTTPS", "SVCB") for x in (r, o)
                                       for rr in rules.records(x, "answer")),
          fix=each(lambda q, resp, zd: rules.drop(
              resp, "additional", lambda rr: rr[3] in ("A", "AAAA") and rr[0].lower() in {
                  n for a in rules.records(resp, "answer") if a[3] in ("HTTPS", "SVCB")
                  for n in rules.rdata_names(a)}))),
    Known("alias-into-another-served-zone",
          "RFC 1034 4.3.2 step 3 restarts the lookup at step 1 (zone selection); knotd only "
          "chases CNAME/DNAME targets inside the zone of the query name (a target below a "
          "local delegation gets that referral), NSD continues in any zone it serves. The "
          "in-zone part of the answer is still compared.",
          when=lambda q, r, o, zd: any(rules.chain_leaves_zone(q, x, zd) for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(rules.drop(
              resp, "answer", lambda rr: zd.zone_of(rr[0]) != zd.zone_of(q.qname)),
              "rcode", "authority", "additional"))),
    Known("referral-glue-does-not-fit",
          "RFC 9471 (2023) requires TC when in-domain glue does not fit; knotd sets TC and "
          "sends the glue that fits, NSD 4.6 (older than the RFC) omits glue silently. "
          "Prefer knotd's behaviour.",
          when=lambda q, r, o, zd: all(rules.is_referral(x) for x in (r, o)) and any(
              "TC" in rules.flags(x) for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "TC"),
                                                    "additional"))),
    Known("additional-section-does-not-fit",
          "RFC 2181 9 / RFC 1035 6.2: additional records that do not fit are dropped without "
          "TC; which ones is implementation-defined (knotd and NSD fill the section in a "
          "different order). Only when a reply is within 64 bytes of its size limit (160 "
          "bytes when it carries RRSIGs: an address with its RRSIG takes that much).",
          when=lambda q, r, o, zd: any(rules.near_limit(x, rules.additional_slack(x))
                                       for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "additional"))),
    Known("wildcard-ns",
          "RFC 4592 4.2: an NS RRset at a wildcard owner is discouraged and its meaning is "
          "undefined; knotd synthesizes a referral from it, NSD answers authoritatively.",
          when=lambda q, r, o, zd: bool(q.qname) and zd.below_wildcard_with(q.qname, "NS"),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "AA"), "answer",
                                                    "authority", "additional"))),
    Known("qclass-any",
          "RFC 1035 6.2: a QCLASS=* response should never be authoritative unless it covers "
          "all classes. NSD clears AA (and sends no SOA for NODATA), knotd answers as for IN.",
          when=lambda q, r, o, zd: q.qclass == 255,
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "AA"),
                                                    "authority"))),
    Known("question-in-error-responses",
          "RFC 1035 4.1.1 does not require the question to be echoed in an error reply; NSD "
          "omits it for REFUSED (unserved class), NOTIMP and FORMERR, knotd copies it.",
          when=lambda q, r, o, zd: all(x.get("rcode") in rules.ERROR_RCODES for x in (r, o))
          and any(x.get("question") == () for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "question"))),
    Known("chaos-other-than-txt",
          "CHAOS identity names (RFC 4892) are only defined for TXT; NSD answers ANY with the "
          "TXT, knotd refuses any other type.",
          when=lambda q, r, o, zd: q.qclass == 3 and q.qtype != 16,
          fix=each(lambda q, resp, zd: rules.ignore(resp, "rcode", "answer", "flags"))),
    Known("opcode-not-query",
          "NOTIFY/UPDATE for a zone without ACLs and obsolete IQUERY (RFC 3425) must fail, but "
          "the RCODE and whether question/OPT are echoed differ: knotd NOTAUTH for NOTIFY and "
          "UPDATE, NSD NXDOMAIN/NOTIMP and no question or OPT.",
          when=lambda q, r, o, zd: q.wire[2] & 0x78 != 0 and all(
              x.get("rcode") != "NOERROR" for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "rcode", "question", "edns",
                                                    "edns.payload", "edns.flags",
                                                    "edns.options"))),
    Known("meta-and-reserved-qtypes",
          "RFC 6895 3.1: TYPE0 is reserved and 128-255 are meta-TYPEs/QTYPEs without data; "
          "knotd answers NOTIMP, NSD treats them as ordinary types (NODATA) or REFUSED.",
          when=lambda q, r, o, zd: q.qtype is not None and (
              q.qtype == 0 or 128 <= q.qtype <= 250 or q.qtype in (253, 254)),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "AA"), "rcode",
                                                    "authority"))),
    Known("zone-transfer-refused",
          "AXFR/IXFR from a client no ACL allows (and over UDP) must be refused; the RCODE "
          "differs: knotd NOTAUTH, NSD REFUSED. Only for names in served zones (outside them "
          "both answer NOTAUTH), and the reply must still be an error.",
          when=lambda q, r, o, zd: q.qtype in (251, 252) and zd.zone_of(q.qname) and all(
              x.get("rcode") in ("NOTAUTH", "REFUSED", "NOTIMP", "FORMERR") for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "rcode"))),
    Known("rrsig-qtype-answer",
          "RFC 4035 does not define the answer to QTYPE=RRSIG (RRSIGs are not an RRset that "
          "stands alone, RFC 4034 3). knotd answers with the RRSIGs covering one type of the "
          "name (like a minimal ANY, RFC 8482), NSD with all RRSIGs of the name. Both answers "
          "must be only RRSIGs owned by the query name, and one must be the other's RRSIGs "
          "for some of the covered types (all of the RRSIGs for each of those types).",
          when=lambda q, r, o, zd: q.qtype == 46 and all(
              rules.records(x, "answer") and all(
                  rr[3] == "RRSIG" and rr[0].lower() == q.qname.lower()
                  for rr in rules.records(x, "answer")) for x in (r, o)),
          fix=lambda q, r, o, zd: rules.covered_subset_pair(r, o)),
    Known("malformed-query-handling",
          "RFC 1035 does not say how to treat malformed queries; for each packet in "
          "MALFORMED_OUTCOMES knotd and NSD pick different ones of: drop it, FORMERR, or "
          "answer the (first) question. Only those outcomes are accepted, nothing else.",
          when=lambda q, r, o, zd: q.tag == "malformed" and (
              rules.outcome(r) != rules.outcome(o)) and all(
              rules.outcome(x) in MALFORMED_OUTCOMES.get(q.desc, ()) for x in (r, o)),
          fix=each(lambda q, resp, zd: {"status": "accepted malformed-query outcome"})),
    Known("nsec3-nodata-at-wildcard-owner",
          "A query for a wildcard owner name itself (QNAME '*.x') is not a wildcard expansion "
          "(RFC 4592 2.2.1), so its NODATA proof is the NSEC3 matching QNAME (RFC 5155 7.2.3), "
          "which is what knotd sends; NSD answers as for wildcard NODATA (7.2.5) and also "
          "sends the NSEC3 matching the closest encloser (the wildcard's parent). The extra "
          "NSEC3 is harmless to a validator. Only that NSEC3 and its RRSIG may differ.",
          when=lambda q, r, o, zd: bool(q.qname) and q.qname.startswith("*.") and bool(
              zd.nsec3_owner(q.qname)) and zd.exists(q.qname),
          fix=each(lambda q, resp, zd: rules.drop(
              resp, "authority", lambda rr: rules.rtype_or_covered(rr) == "NSEC3"
              and rr[0].lower() == zd.nsec3_owner(q.qname.split(".", 1)[1])))),
    Known("nsec-qtype-from-wildcard",
          "A QTYPE=NSEC query for a name that only a wildcard owning an NSEC matches: both "
          "servers synthesize the wildcard's NSEC under the query name, but only NSD adds the "
          "NSEC proving that the query name does not exist (RFC 4035 3.1.3.3, needed by a "
          "validator since the RRSIG's label count shows the expansion); knotd omits it. "
          "Either is accepted: the NSEC RRs and their RRSIGs in authority are not compared.",
          when=lambda q, r, o, zd: q.qtype == 47 and bool(q.qname) and any(
              rules.synthesized_from_wildcard(q, x) for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.drop(
              resp, "authority", lambda rr: rules.rtype_or_covered(rr) == "NSEC"))),
    Known("udp-truncation",
          "RFC 2181 9 / RFC 1035 4.2.1: a UDP reply with TC set is a placeholder the client "
          "retries over TCP; what it still carries is up to the server (knotd keeps the RRsets "
          "that fit, NSD drops whole sections), and whether a reply needs TC at all depends on "
          "records other rows accept as differing (e.g. NSD's extra NS RRset). Accepted only if "
          "the same query over TCP gets replies that are equal or explained by the other rows, "
          "and each UDP reply is either its server's full reply (additional records may be "
          "left out) or, with TC, a part of it when the full reply exceeds the size limit.",
          when=lambda q, r, o, zd: not q.tcp and any("TC" in rules.flags(x) for x in (r, o))
          and all(rules.consistent_with_tcp(q, x, zd) for x in (r, o)),
          fix=lambda q, r, o, zd: truncated_pair(q, r, o, zd)),
    Known("knotd-error-zero-octet-label",
          "knotd error: Knot DNS 3.2 keys its zone tree by names whose labels are ended by zero "
          "octets (knot_dname_lf), so a label holding a zero octet (legal, RFC 2181 11) reads "
          "as two labels: bin\\000x.<zone> collides with x.bin.<zone>, such names sort out of "
          "canonical order (RFC 4034 6.1), closest enclosers and NSEC/NSEC3 proofs near them "
          "are wrong, and a name below a \\000 label can fail the lookup (NXDOMAIN without AA "
          "or SOA). NSD answers them as the RFCs say; with --with-nsd (as CTest runs it) every "
          "field of holdfast's reply that differs from knotd's must equal NSD's. Only where the "
          "query name or a name in either reply has a zero octet inside a label.",
          when=lambda q, r, o, zd: rules.mentions_zero_octet_label(q, r, o),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "rcode", "flags", *rules.SECTIONS))),
    # --- NSD errors: applied only with --peer nsd. knotd is right, so holdfast must answer
    # like knotd; these rows only keep the knotd-vs-nsd run free of NSD's own bugs.
    Known("nsd-error-proof-below-nsec3-owner",
          "NSD error: below an NSEC3 owner name (which does not exist as a name of the zone, "
          "RFC 5155 7.2.8) NSD takes the NSEC3 owner as the closest encloser and sends an "
          "NXDOMAIN proof without closest encloser or wildcard NSEC3s; knotd's proof (apex "
          "as closest encloser, RFC 5155 7.2.2) is the right one.",
          when=lambda q, r, o, zd: bool(q.qname) and zd.below_nsec3_owner(q.qname),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "TC"),
                                                    "authority")),
          peer="nsd"),
    Known("nsd-error-opt-out-closest-provable-encloser",
          "NSD error: at or below an empty non-terminal that has no NSEC3 (it only exists "
          "because of an insecure delegation below it, skipped by opt-out, RFC 5155 7.1) NSD "
          "uses the ENT as closest encloser and sends no NSEC3 matching it (NXDOMAIN), or no "
          "NSEC3 covering the next closer name (DS NODATA, RFC 5155 7.2.4); knotd proves from "
          "the closest provable encloser, as RFC 5155 7.2.1/7.2.4 require.",
          when=lambda q, r, o, zd: bool(q.qname) and zd.below_ent_without_nsec3(q.qname),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "TC"),
                                                    "authority")),
          peer="nsd"),
    Known("nsd-error-nsec-proof-for-dname-target",
          "NSD error: when the CNAME synthesized from a DNAME points to a name that does not "
          "exist, NSD sends only the NSEC denying the wildcard, not the NSEC covering the "
          "target (RFC 4035 3.1.3.2 needs both); knotd sends both.",
          when=lambda q, r, o, zd: bool(q.qname) and zd.is_nsec_signed(q.qname)
          and zd.dname_owner_above(q.qname),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "TC"),
                                                    "authority")),
          peer="nsd"),
]


def truncated_pair(query, ref, other, zd):
    """udp-truncation: blank out TC and the sections if the TCP replies agree."""
    tcp_query = dataclasses.replace(query, tcp=True)
    if explain(tcp_query, ref["_tcp"], other["_tcp"], zd)[0]:
        return ref, other
    return tuple(rules.ignore(rules.without_flags(x, "TC"), "answer", "authority", "additional")
                 for x in (ref, other))


# The server compared against knotd: rows marked peer="nsd" (NSD's own errors) apply only then.
PEER = "holdfast"


def explain(query, ref, other, zd):
    """Apply every applicable known difference; return (remaining fields, keys used)."""
    fields = compare.diff(ref, other)
    used = []
    for known in KNOWN_DIFFERENCES:
        if not fields:
            break
        if known.peer not in (None, PEER) or not known.when(query, ref, other, zd):
            continue
        before = [(f, ref.get(f), other.get(f)) for f in fields]
        ref, other = known.fix(query, ref, other, zd)
        fields = compare.diff(ref, other)
        if [(f, ref.get(f), other.get(f)) for f in fields] != before:
            used.append(known.key)
    return fields, used


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", nargs="?", help="holdfast binary (same as --holdfast)")
    p.add_argument("--holdfast", help="holdfast binary (default: $HOLDFAST_BIN)")
    p.add_argument("--peer", choices=("holdfast", "nsd"), default="holdfast",
                   help="server compared against knotd")
    p.add_argument("--with-nsd", action="store_true",
                   help="with --peer holdfast: also run nsd and check known differences")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--budget", type=float, default=120.0,
                   help="give up after this many seconds of querying (CTest timeout is 150)")
    p.add_argument("--no-mixed-case", action="store_true",
                   help="debugging: send query names in zone-file case (no random 0x20 case)")
    p.add_argument("--zones-dir", default=ZONES_DIR, help="directory with the zone files")
    p.add_argument("--dnssec-dir", default=signed.DNSSEC_DIR,
                   help="directory with the source of the signed zones (signed.py)")
    p.add_argument("--no-signed", action="store_true",
                   help="debugging: leave out the DNSSEC-signed zones and their queries")
    p.add_argument("--show", type=int, default=8, help="detailed diffs to print")
    p.add_argument("--groups", action="store_true",
                   help="print every group of unexplained differences (tag, fields)")
    p.add_argument("--tag", action="append", help="only run queries with this tag")
    p.add_argument("--skip", action="append", default=[], metavar="REGEX",
                   help="leave out queries whose description matches (to get past a crash)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
    p.add_argument("--dump", action="store_true", help="print a one-line summary per query")
    p.add_argument("--json", metavar="FILE", help="write the unexplained differences as JSON")
    p.add_argument("--explained", action="store_true",
                   help="also print examples of differences covered by KNOWN_DIFFERENCES")
    args = p.parse_args()
    args.holdfast = args.holdfast or args.binary or os.environ.get("HOLDFAST_BIN")
    if args.peer == "holdfast" and not args.holdfast:
        p.error("holdfast binary missing: give --holdfast BIN, BIN, or set HOLDFAST_BIN")
    if args.peer == "holdfast" and not os.access(args.holdfast, os.X_OK):
        p.error("holdfast binary %s is not executable" % args.holdfast)
    return args


def print_case(query, ref, other, nsd, fields, names):
    print("  [%s] %s" % (query.tag, query.desc))
    print("    %-8s %s" % (names[0], compare.summary(ref)))
    print("    %-8s %s" % (names[1], compare.summary(other)))
    if nsd is not None:
        print("    %-8s %s" % ("nsd", compare.summary(nsd)))
    for field in fields:
        print(compare.show_field(field, ref, other, names))


def run(args, workdir):
    global PEER
    PEER = args.peer
    zones = [(origin, os.path.join(os.path.abspath(args.zones_dir), fname))
             for origin, fname in ZONES]
    signed_zones = [] if args.no_signed else signed.sign_all(workdir, args.dnssec_dir)
    queries = corpus.build(zones, args.seed, mix_case=not args.no_mixed_case,
                           signed=signed_zones)
    zones = zones + signed_zones
    if args.tag:
        queries = [q for q in queries if q.tag in args.tag]
    for pattern in args.skip:
        queries = [q for q in queries if not re.search(pattern, q.desc)]

    started = []
    try:
        ref = servers.Knotd(workdir, zones)
        started.append(ref)  # before start(): a server that fails to start is still stopped
        ref.start()
        if args.peer == "nsd":
            peer = servers.Nsd(workdir, zones)
        else:
            peer = servers.Holdfast(workdir, zones, os.path.abspath(args.holdfast))
        started.append(peer)
        peer.start()
        third = None
        if args.with_nsd and args.peer == "holdfast":
            third = servers.Nsd(workdir, zones)
            started.append(third)
            third.start()
        return compare_all(args, queries, ref, peer, third, zonedata.ZoneData(zones))
    finally:
        for server in reversed(started):
            server.stop()
        for server in started:
            if server.proc is not None and server.proc.returncode not in (0, -15):
                print("warning: %s exited with %s; log tail:\n%s"
                      % (server.name, server.proc.returncode, server.log_tail()))


def like_a_reference(query, ref, other, nsd, zd, fields, used=()):
    """--with-nsd: every differing field of holdfast must equal knotd's or nsd's value.

    Not for what udp-truncation accepted (TC and the contents of truncated replies): which
    records a truncated reply keeps need not be knotd's or nsd's choice, as long as it is a
    part of holdfast's own full reply and that is too big (rules.consistent_with_tcp).
    Independent rows (e.g. NSD's apex NS RRset) are stripped from all three first: holdfast
    may send minimal responses like knotd and still, elsewhere, answer like NSD."""
    folded = [rules.lower_names(query, x, zd) for x in (ref, other, nsd)]
    for known in KNOWN_DIFFERENCES:
        if known.independent and any(known.when(query, ref, x, zd) for x in (other, nsd)):
            folded = [known.fix.one(query, x, zd) for x in folded]
    if "udp-truncation" in used:
        folded = [rules.without_flags(rules.ignore(x, *rules.SECTIONS), "TC") for x in folded]
    return [f for f in fields if folded[1].get(f) not in (folded[0].get(f), folded[2].get(f))]


def compare_all(args, queries, ref, peer, third, zd):
    names = (ref.name, peer.name)
    clients = [compare.Client(s.port) for s in (ref, peer, third) if s is not None]
    t0 = time.monotonic()
    unexplained = []
    aborted = None
    explained = collections.Counter()
    explained_examples = collections.defaultdict(list)
    try:
        silent = 0
        for i, query in enumerate(queries):
            answers = [compare.normalize(query, c.ask(query)) for c in clients]
            r, o = answers[0], answers[1]
            n = answers[2] if third is not None else None
            silent = silent + 1 if (o.get("status") == "no response"
                                    and r.get("status") == "ok") else 0
            if time.monotonic() - t0 > args.budget:
                aborted = "time budget of %.0f s used up at query %d of %d (%s too slow?)" % (
                    args.budget, i, len(queries), peer.name)
                unexplained.append((query, r, o, n, ["status"]))
                break
            if silent >= MAX_SILENT or peer.proc.poll() is not None:
                aborted = "%s stopped answering (exit status %s) at query %d: %s\n%s" % (
                    peer.name, peer.proc.poll(), i, query.desc, peer.log_tail(10))
                unexplained.append((query, r, o, n, ["status"]))
                break
            fields = compare.diff(r, o)
            if args.dump:
                print("%-60s | %-40s | %s" % (query.desc[:60], compare.summary(r),
                                              compare.summary(o)))
            if not fields:
                continue
            if not query.tcp and any("TC" in rules.flags(x) for x in answers):
                # For the udp-truncation row: the same query over TCP, the full replies.
                tcp_query = dataclasses.replace(query, tcp=True)
                for c, x in zip(clients, answers):
                    x["_tcp"] = compare.normalize(tcp_query, c.ask(tcp_query))
            missing, used = explain(query, r, o, zd)
            if not missing and n is not None:
                missing = like_a_reference(query, r, o, n, zd, fields, used)
            if missing:
                unexplained.append((query, r, o, n, missing))
                continue
            for key in used:
                explained[key] += 1
                if len(explained_examples[key]) < 2:
                    explained_examples[key].append((query, r, o, n, fields))
    finally:
        for c in clients:
            c.close()
    elapsed = time.monotonic() - t0

    if explained:
        print("known differences seen (queries per row):")
        for known in KNOWN_DIFFERENCES:
            if explained[known.key]:
                print("  %5d  %s%s" % (explained[known.key], known.key,
                                       "  (an NSD error: knotd is right)" if known.peer else ""))
                if args.explained:
                    for case in explained_examples[known.key]:
                        print_case(*case, names=names)
    if unexplained:
        groups = collections.OrderedDict()
        for case in unexplained:
            groups.setdefault((case[0].tag, tuple(case[4])), []).append(case)
        print("unexplained differences, grouped by (tag, fields): %d groups" % len(groups))
        for (tag, fields), cases in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print("  %5d  %-12s %s" % (len(cases), tag, " ".join(fields)))
        print("examples (first of each group%s):" % (", up to 3" if args.groups else ""))
        shown = 0
        for (tag, fields), cases in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            for case in cases[:3 if args.groups else 1]:
                if shown >= args.show and not args.groups:
                    break
                print_case(*case, names=names)
                shown += 1
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"tag": q.tag, "query": q.desc, "fields": fields,
                        names[0]: {k: v for k, v in r.items() if not k.startswith("_")},
                        names[1]: {k: v for k, v in o.items() if not k.startswith("_")}}
                       for q, r, o, n, fields in unexplained], f, indent=1)
    if aborted:
        print("ABORTED: " + aborted)
    print("diff: %d queries, %d unexplained differences (%s vs %s, seed %d, %.1f s)"
          % (len(queries), len(unexplained), names[0], names[1], args.seed, elapsed))
    return 1 if unexplained else 0


def main():
    args = parse_args()
    # CTest and Ctrl-C stop us with a signal: turn it into an exception so servers are killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    workdir = tempfile.mkdtemp(prefix="holdfast-diff-")
    try:
        return run(args, workdir)
    except (RuntimeError, OSError) as e:
        # A server that does not start is a failure of the test, not of the harness.
        print("diff: FAILED before comparing: %s" % e)
        return 1
    finally:
        if args.keep:
            print("kept %s" % workdir)
        else:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
