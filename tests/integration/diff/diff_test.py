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
import json
import os
import re
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402
import corpus  # noqa: E402
import rules  # noqa: E402
import servers  # noqa: E402
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
          fix=each(lambda q, resp, zd: rules.without_options(resp, 9))),
    Known("extended-dns-error",
          "RFC 8914: Extended DNS Errors are optional. Both servers send EDE 20 (Not "
          "Authoritative) with REFUSED for IN names outside their zones, and that stays strict; "
          "elsewhere NSD adds EDE (21 Not Supported for unserved classes and CHAOS types, 0 "
          "for a DNAME expansion that is too long, 20 for reserved QTYPEs) and knotd does not.",
          when=lambda q, r, o, zd: not (q.qclass == 1 and all(
              x.get("rcode") == "REFUSED" for x in (r, o))) and any(
              x.get("rcode") not in (None, "NOERROR", "NXDOMAIN") for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.without_options(resp, 15))),
    Known("badvers-header",
          "RFC 6891 6.1.3/7: a BADVERS reply carries only an OPT; whether DO (RFC 3225) and CD "
          "are copied into it is not specified. knotd keeps DO and drops CD, NSD the reverse.",
          when=lambda q, r, o, zd: "BADVERS" in (r.get("rcode"), o.get("rcode")),
          fix=each(lambda q, resp, zd: rules.ignore(rules.without_flags(resp, "CD"),
                                                    "edns.flags"))),
    Known("apex-ns-in-positive-answers",
          "RFC 1034 4.3.2 / RFC 2181 9: the zone's NS RRset in the authority section of a "
          "positive answer (and its addresses in additional) is optional. NSD adds it, knotd "
          "sends minimal responses. Only for answers that end in data (not at a referral).",
          when=lambda q, r, o, zd: any(
              resp.get("rcode") == "NOERROR" and rules.answered_with_data(q, resp)
              for resp in (r, o)),
          fix=each(lambda q, resp, zd: rules.drop_unreferenced_addresses(rules.drop(
              resp, "authority",
              lambda rr: rr[3] == "NS" and rr[0].lower() in zd.apexes)))),
    Known("any-minimal-rrset-choice",
          "RFC 8482 4.1: an ANY query may be answered with one RRset of the node; both servers "
          "do that (over UDP and TCP) but pick different RRsets (knotd the lowest type, NSD "
          "e.g. SOA at the apex). Each answer must still be one complete RRset of the name.",
          when=lambda q, r, o, zd: q.qtype == 255 and all(
              rules.records(x, "answer") and zd.is_complete_rrset(rules.records(x, "answer"))
              for x in (r, o)),
          fix=each(lambda q, resp, zd: rules.ignore(resp, "answer", "additional"))),
    Known("rrsig-nsec-qtype-at-cname",
          "RFC 2181 10.1 / RFC 4035 2.5: RRSIG and NSEC may coexist with a CNAME, so whether a "
          "query for them at a CNAME owner follows the alias is unsettled for unsigned zones: "
          "knotd answers NODATA, NSD follows the chain.",
          when=lambda q, r, o, zd: q.qtype in (46, 47) and q.qname and (
              "CNAME" in zd.types_at(q.qname) or zd.below_wildcard_with(q.qname, "CNAME")),
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
          "different order). Only when a reply is within 64 bytes of its size limit.",
          when=lambda q, r, o, zd: any(rules.near_limit(x) for x in (r, o)),
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
    Known("malformed-query-handling",
          "RFC 1035 does not say how to treat malformed queries; for each packet in "
          "MALFORMED_OUTCOMES knotd and NSD pick different ones of: drop it, FORMERR, or "
          "answer the (first) question. Only those outcomes are accepted, nothing else.",
          when=lambda q, r, o, zd: q.tag == "malformed" and (
              rules.outcome(r) != rules.outcome(o)) and all(
              rules.outcome(x) in MALFORMED_OUTCOMES.get(q.desc, ()) for x in (r, o)),
          fix=each(lambda q, resp, zd: {"status": "accepted malformed-query outcome"})),
]


def explain(query, ref, other, zd):
    """Apply every applicable known difference; return (remaining fields, keys used)."""
    fields = compare.diff(ref, other)
    used = []
    for known in KNOWN_DIFFERENCES:
        if not fields:
            break
        if not known.when(query, ref, other, zd):
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
    p.add_argument("--budget", type=float, default=80.0,
                   help="give up after this many seconds of querying (CTest timeout is 110)")
    p.add_argument("--no-mixed-case", action="store_true",
                   help="debugging: send query names in zone-file case (no random 0x20 case)")
    p.add_argument("--zones-dir", default=ZONES_DIR, help="directory with the zone files")
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
    zones = [(origin, os.path.join(os.path.abspath(args.zones_dir), fname))
             for origin, fname in ZONES]
    queries = corpus.build(zones, args.seed, mix_case=not args.no_mixed_case)
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


def like_a_reference(query, ref, other, nsd, zd, fields):
    """--with-nsd: every differing field of holdfast must equal knotd's or nsd's value."""
    folded = [rules.lower_names(query, x, zd) for x in (ref, other, nsd)]
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
            missing, used = explain(query, r, o, zd)
            if not missing and n is not None:
                missing = like_a_reference(query, r, o, n, zd, fields)
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
                print("  %5d  %s" % (explained[known.key], known.key))
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
