# SPDX-License-Identifier: MIT
"""DNSSEC validation of holdfast's answers with `delv`, against each zone's own trust anchor.

Four signed zones (BIND dnssec-signzone, ECDSA P-256, one KSK and one ZSK each):
  val.example.    NSEC                                       secondary (AXFR/IXFR from knotd)
  val3.example.   NSEC3, salt aabbccdd, 5 iterations         secondary
  opt3.example.   NSEC3, salt aabbccdd, 5 iterations, opt-out secondary
  valp.example.   NSEC3, no salt, 0 iterations (RFC 9276)    primary, from the signed file
knotd serves the signed files as they are (no signing of its own) and is the hidden master;
holdfast transfers the three secondaries and loads the fourth from its file.

For every zone, `delv @127.0.0.1 -p PORT -a ANCHOR +root=ZONE NAME TYPE` (the anchor is the
zone's KSK, so the chain of trust starts at the apex) must say:
  "; fully validated"                      a positive A, TXT, MX, DNSKEY, a CNAME to an A, the
                                           DS of a secure delegation, wildcard answers (one and
                                           two labels below *.wild)
  "; negative response, fully validated"   with ";; resolution failed: ncache nxdomain":
                                           NXDOMAIN (a name below the apex, a name below an
                                           existing name, and once over TCP)
                                           with "ncache nxrrset": NODATA (existing name, missing
                                           type), NODATA at empty non-terminals (two levels, and
                                           the parent of the wildcard), wildcard NODATA, and the
                                           DS at the insecure delegation (a matching NSEC/NSEC3,
                                           or the opt-out proof in opt3.example.)
  "; unsigned answer"                      the wildcard answers of the opt-out zone: the NSEC3
                                           that covers the next closer name has opt-out set, so
                                           a validator may only call them insecure (RFC 5155
                                           9.2; what BIND does)
and must NOT say "fully validated" (the test can fail) for:
  - a record whose rdata was changed after signing (served with its old RRSIG: bogus)
  - a correct answer checked against the KSK of another signing of the zone (broken chain).
Without DO (no EDNS), the answers carry no RRSIG, NSEC or NSEC3.

Then the three secondaries are re-signed with the same keys at serial 2 (a name added, a TXT
removed, an empty non-terminal gone); knotd NOTIFYs, holdfast takes the change (IXFR) and the
new contents validate too (the new name, the new NODATA, the ENT now NXDOMAIN, the new SOA).

--server knotd runs the same checks against the knotd master itself (it serves the primary
zone's file too): that proves the zones, the expectations and the delv harness. With
--server holdfast (the default, what CTest runs), every failing check is also run against
knotd and both verdicts are shown.
"""

import concurrent.futures
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsseclib  # noqa: E402
from dnsseclib import hftest, knotmaster, log  # noqa: E402
import signzone  # noqa: E402
from xfrlib import START_TIMEOUT, Env, master, secondary, wait_serial  # noqa: E402

import dns.flags  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

BODY = """\
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.25
www A 192.0.2.80
www AAAA 2001:db8::80
www TXT "hello world"
alias CNAME www
*.wild A 192.0.2.99
*.wild TXT "wildcard"
host.deep.ent A 192.0.2.7
sub NS ns.sub
ns.sub A 192.0.2.53
sec NS ns.sec
sec DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.sec A 192.0.2.54
bad A 192.0.2.66
"""
# Serial 2: `new` added, www's TXT removed, host.deep.ent removed (ent and deep.ent go away).
BODY2 = BODY.replace('www TXT "hello world"\n', "").replace(
    "host.deep.ent A 192.0.2.7\n", "new A 192.0.2.100\n")
BAD_SIGNED, BAD_SERVED = "192.0.2.66", "192.0.2.67"  # `bad` A: signed, then changed

# Zones: origin -> (NSEC3 parameters or None, served by holdfast as a secondary?).
ZONES = {
    "val.example.": (None, True),
    "val3.example.": (signzone.Nsec3(iterations=5, salt="aabbccdd", optout=False), True),
    "opt3.example.": (signzone.Nsec3(iterations=5, salt="aabbccdd", optout=True), True),
    "valp.example.": (signzone.Nsec3(iterations=0, salt="-", optout=False), False),
}

# delv runs after this (monotonic) time are skipped: a server that makes every delv wait for
# its fetch timeouts still fails the test well within the CTest TIMEOUT.
DEADLINE = time.monotonic() + 80

SECURE, NXDOMAIN, NODATA, INSECURE, BOGUS = "secure", "nxdomain", "nodata", "insecure", "bogus"
# What delv prints for each expectation: (status line, resolution-failed text or None).
VERDICTS = {
    SECURE: ("fully validated", None),
    NXDOMAIN: ("negative response, fully validated", "ncache nxdomain"),
    NODATA: ("negative response, fully validated", "ncache nxrrset"),
    INSECURE: ("unsigned answer", None),
}
# Why delv may reject a bogus answer (the text after ";; resolution failed: ").
BOGUS_FAILURES = re.compile(r"broken trust chain|RRSIG failed to verify|no valid signature|"
                            r"bogus|insecurity proof failed|no valid RRSIG|failure")


class Case:
    """One delv query: qname relative to the zone ("@": the apex), the verdict it must get,
    regexes the answer lines must match (positive answers), +tcp, and anchor="other" for the
    KSK of another signing of the zone."""

    def __init__(self, name, qtype, expect, data=(), tcp=False, anchor="own", optout=None,
                 why=""):
        self.name, self.qtype, self.expect = name, qtype, expect
        self.data = [data] if isinstance(data, str) else list(data)
        self.tcp, self.anchor = tcp, anchor
        self.optout = optout  # the expectation in an opt-out zone, if different
        self.why = why

    def qname(self, origin):
        return origin if self.name == "@" else self.name + "." + origin

    def expected(self, nsec3):
        return self.optout if (self.optout and nsec3 and nsec3.optout) else self.expect

    def label(self, origin):
        return "%s %s%s%s" % (self.qname(origin), self.qtype, " +tcp" if self.tcp else "",
                              " (other KSK)" if self.anchor == "other" else "")


CASES = [
    Case("www", "A", SECURE, r"\sA\s+192\.0\.2\.80$", why="positive"),
    Case("www", "TXT", SECURE, r'\sTXT\s+"hello world"$', why="positive TXT"),
    Case("@", "MX", SECURE, r"\sMX\s+10 mail\.", why="positive at the apex"),
    Case("@", "DNSKEY", SECURE, r"\sDNSKEY\s+257 3 13 ", why="the zone's keys"),
    Case("alias", "A", SECURE, [r"\sCNAME\s+www\.", r"\sA\s+192\.0\.2\.80$"],
         why="CNAME to an A"),
    Case("sec", "DS", SECURE, r"\sDS\s+12345 13 2 ", why="DS of a secure delegation"),
    Case("x.wild", "A", SECURE, r"^x\.wild\.\S+\s+\d+\s+IN\s+A\s+192\.0\.2\.99$",
         optout=INSECURE, why="wildcard answer"),
    Case("a.b.wild", "TXT", SECURE, r'^a\.b\.wild\.\S+\s+\d+\s+IN\s+TXT\s+"wildcard"$',
         optout=INSECURE, why="wildcard answer, two labels"),
    Case("nx", "A", NXDOMAIN, why="NXDOMAIN"),
    Case("no.such.www", "TXT", NXDOMAIN, why="NXDOMAIN below an existing name"),
    Case("nx2", "AAAA", NXDOMAIN, tcp=True, why="NXDOMAIN over TCP"),
    Case("www", "MX", NODATA, why="NODATA"),
    Case("ent", "A", NODATA, why="NODATA at an empty non-terminal"),
    Case("deep.ent", "TXT", NODATA, why="NODATA at an empty non-terminal, second level"),
    Case("wild", "A", NODATA, why="NODATA at the wildcard's parent (an ENT)"),
    Case("x.wild", "MX", NODATA, why="wildcard NODATA"),
    Case("sub", "DS", NODATA, why="DS at an insecure delegation"),
    Case("bad", "A", BOGUS, why="rdata changed after signing"),
    Case("www", "A", BOGUS, anchor="other", why="another KSK as trust anchor"),
]

CASES2 = [  # after the re-signing at serial 2
    Case("@", "SOA", SECURE, r"\sSOA\s+\S+ \S+ 2 3600 ", why="new serial"),
    Case("new", "A", SECURE, r"\sA\s+192\.0\.2\.100$", why="added name"),
    Case("www", "A", SECURE, r"\sA\s+192\.0\.2\.80$", why="unchanged name"),
    Case("www", "TXT", NODATA, why="removed type"),
    Case("ent", "A", NXDOMAIN, why="former empty non-terminal"),
    Case("host.deep.ent", "A", NXDOMAIN, why="removed name"),
    Case("x.wild", "A", SECURE, r"\sA\s+192\.0\.2\.99$", optout=INSECURE, why="wildcard"),
    Case("nx", "A", NXDOMAIN, why="NXDOMAIN"),
]


class Zone:
    def __init__(self, tmp, origin, nsec3, secondary_zone):
        self.origin, self.nsec3, self.secondary = origin, nsec3, secondary_zone
        self.tmp = tmp
        src = os.path.join(tmp, origin + "src")
        with open(src, "w") as f:
            f.write(knotmaster.zone_text(origin, 1, BODY))
        self.signed = signzone.sign(src, origin, tmp, nsec3=nsec3)
        tamper(self.signed.path)
        # Another signing of the same zone: its KSK must not validate our answers.
        other_dir = os.path.join(tmp, "other-" + origin.rstrip("."))
        os.makedirs(other_dir)
        self.other_anchor = signzone.sign(src, origin, other_dir, nsec3=nsec3).anchor_path
        with open(self.signed.path) as f:
            self.text = f.read()

    def kind(self):
        if self.nsec3 is None:
            return "NSEC"
        n = self.nsec3
        return "NSEC3 iterations=%d salt=%s%s" % (n.iterations, n.salt,
                                                 " opt-out" if n.optout else "")

    def resign(self, serial, body):
        src = os.path.join(self.tmp, "%ssrc%d" % (self.origin, serial))
        with open(src, "w") as f:
            f.write(knotmaster.zone_text(self.origin, serial, body))
        path = dnsseclib.resign(self.signed, src, nsec3=self.nsec3,
                                out_name=os.path.basename(self.signed.path) + str(serial))
        tamper(path)
        with open(path) as f:
            return f.read()


def tamper(path):
    """Changes the rdata of `bad` A in a signed file, keeping its RRSIG."""
    with open(path) as f:
        text = f.read()
    text, n = re.subn(r"(\sA\s+)%s\b" % re.escape(BAD_SIGNED), r"\g<1>" + BAD_SERVED, text)
    assert n == 1, "%s: %d A records %s to tamper with, want 1" % (path, n, BAD_SIGNED)
    with open(path, "w") as f:
        f.write(text)


def judge(case, zone, v):
    """None if delv's verdict `v` is what `case` expects in `zone`, else why not."""
    want = case.expected(zone.nsec3)
    if want == BOGUS:
        if v.status and "fully validated" in v.status:
            return "validated, want a validation failure"
        if not v.failure or not BOGUS_FAILURES.search(v.failure) or "timed out" in v.failure:
            return "failure %r, want a validation failure" % v.failure
        return None
    status, failure = VERDICTS[want]
    if v.status != status:
        return "status %r, want %r" % (v.status, status)
    if failure != v.failure:
        return "resolution failed %r, want %r" % (v.failure, failure)
    if v.rc != 0:
        return "delv exit %d" % v.rc
    for rx in case.data:
        if not any(re.search(rx, ln) for ln in v.answer):
            return "no answer line matches %r" % rx
    if want in (SECURE, INSECURE) and not v.answer:
        return "no answer"
    return None


def served_signed(port, qname, qtype):
    """None if the server answers qname/qtype (DO set) authoritatively with the RRset and an
    RRSIG over it, else what it answered: a bogus verdict only counts for a served answer."""
    q = dns.message.make_query(qname, qtype, want_dnssec=True)
    try:
        resp = dns.query.udp(q, hftest.HOST, port=port, timeout=2.0)
    except (OSError, dns.exception.DNSException) as e:
        return "no answer (%s)" % e
    rdtype = dns.rdatatype.from_text(qtype)
    types = {(r.rdtype, r.covers) for r in resp.answer}
    if (resp.rcode() != dns.rcode.NOERROR or not resp.flags & dns.flags.AA
            or (rdtype, dns.rdatatype.NONE) not in types
            or (dns.rdatatype.RRSIG, rdtype) not in types):
        return "the server answers %s" % hftest.describe(resp)
    return None


def run_delv(port, zone, case):
    if time.monotonic() > DEADLINE:
        return dnsseclib.Verdict([], -1, "", ";; not run: the test's time budget is spent\n")
    anchor = zone.signed.anchor_path if case.anchor == "own" else zone.other_anchor
    return dnsseclib.delv(port, anchor, zone.origin, case.qname(zone.origin), case.qtype,
                          tcp=case.tcp)


def check_zones(port, zones, cases, what, reference_port=None):
    """Runs every case against every zone at `port` (a few delv at a time); returns the list
    of failure descriptions. reference_port: where knotd answers, for a side-by-side verdict."""
    jobs = [(z, c) for z in zones for c in cases]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda j: run_delv(port, j[0], j[1]), jobs))
    failures = []
    for (z, c), v in zip(jobs, verdicts):
        problem = judge(c, z, v)
        if problem is None and c.expected(z.nsec3) == BOGUS:
            problem = served_signed(port, c.qname(z.origin), c.qtype)
        label = "%s [%s] %s" % (what, z.kind(), c.label(z.origin))
        if problem is None:
            log("ok   %-70s %s" % (label, v.status or "resolution failed: %s" % v.failure))
            continue
        log("FAIL %-70s %s" % (label, problem))
        text = "%s (%s): %s\n%s" % (label, c.why, problem, indent(v.text()))
        if reference_port is not None:
            ref = run_delv(reference_port, z, c)
            text += "  knotd (the master) gets: %s\n%s" % (
                judge(c, z, ref) or "as expected", indent(ref.text()))
        failures.append(text)
    return failures


def indent(text):
    return "".join("    " + ln + "\n" for ln in text.rstrip("\n").splitlines())


def plain_checks(port, zones):
    """Without EDNS (so without DO), no DNSSEC records in answers (RFC 4035 3.2.1)."""
    failures = []
    for z in zones:
        for qname, qtype, rcode in ((z.origin, "SOA", dns.rcode.NOERROR),
                                    ("www." + z.origin, "A", dns.rcode.NOERROR),
                                    ("nx." + z.origin, "A", dns.rcode.NXDOMAIN),
                                    ("www." + z.origin, "MX", dns.rcode.NOERROR)):
            resp = hftest.query(port, qname, qtype, timeout=2.0)
            what = "no DO: %s %s" % (qname, qtype)
            if resp is None or resp.rcode() != rcode or not resp.flags & dns.flags.AA:
                failures.append("%s: %s, want %s aa=1" % (what, hftest.describe(resp),
                                                           dns.rcode.to_text(rcode)))
                continue
            dnssec = [r for r in resp.answer + resp.authority
                      if r.rdtype in (dns.rdatatype.RRSIG, dns.rdatatype.NSEC,
                                      dns.rdatatype.NSEC3)]
            if dnssec:
                failures.append("%s carries DNSSEC records: %s" % (
                    what, [r.to_text() for r in dnssec]))
    for f in failures:
        log("FAIL " + f)
    if not failures:
        log("ok   no DNSSEC records without DO (%d zones)" % len(zones))
    return failures


def test(tmp, args):
    zones = [Zone(tmp, origin, nsec3, sec) for origin, (nsec3, sec) in ZONES.items()]
    log("signed %s" % ", ".join("%s (%s)" % (z.origin, z.kind()) for z in zones))
    env = Env(tmp, args.holdfast)
    knot = env.knot(notify=args.server == "holdfast", key=None)
    for z in zones:
        knot.add_zone(z.origin, z.text)
    knot.start()
    log("knotd serves the signed zones on %s" % knot.address)

    if args.server == "knotd":
        port, ref, what = knot.port, None, "knotd"
    else:
        hf = env.holdfast(
            [secondary(z.origin, ["knot"]) if z.secondary
             else {"domain": z.origin, "file": z.signed.path} for z in zones],
            masters=[master("knot", knot.address)], keys=())
        hf.start()
        for z in zones:
            wait_serial(hf, z.origin, 1, START_TIMEOUT)
        log("holdfast serves serial 1 of every zone on port %d" % hf.port)
        port, ref, what = hf.port, knot.port, "holdfast"

    failures = check_zones(port, zones, CASES, what, ref)
    failures += plain_checks(port, zones)

    # Serial 2: re-signed with the same keys; knotd stores the difference and NOTIFYs.
    secondaries = [z for z in zones if z.secondary]
    mark = len(knot.log_text())
    for z in secondaries:
        knot.set_zone(z.origin, z.resign(2, BODY2))
    if args.server == "holdfast":
        for z in secondaries:
            wait_serial(hf, z.origin, 2, START_TIMEOUT)
        ixfr = len(re.findall(r"IXFR, outgoing.*started", knot.log_text()[mark:]))
        log("holdfast serves serial 2 (%d of %d updates went by IXFR)" % (ixfr, len(secondaries)))
    failures += check_zones(port, secondaries, CASES2, what + " serial 2", ref)

    if args.server == "holdfast":
        hf.stop()
    knot.stop()
    assert not failures, "%d checks failed against %s:\n%s" % (
        len(failures), what, "\n".join(failures))


if __name__ == "__main__":
    dnsseclib.main_frame(__doc__, test, with_server=True)
