# SPDX-License-Identifier: MIT
"""Shared pieces of the secondary-zone tests: the per-case environment (ports, holdfast
config, knotd masters), zone contents, and answer comparison."""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import hftest  # noqa: E402
import knotmaster  # noqa: E402
from hftest import log  # noqa: E402

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

# TSIG key shared by knotd and holdfast; WRONG_SECRET is the same length, other bytes.
KEY = ("xfr-key", "hmac-sha256", "aG9sZGZhc3QteGZyLXRlc3Qtc2VjcmV0LTMyLWJ5dGU=")
WRONG_SECRET = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGU="

# Generous bounds: the ASan build is several times slower than the release build.
START_TIMEOUT = 20.0   # first AXFR of a small zone after start
AT_ONCE = 2.0          # "answers at once" after a restart with a stored snapshot
NOTIFY_BOUND = 1.0     # a NOTIFY-driven change of a small zone is served within this (spec)


class Holdfast(hftest.Holdfast):
    """hftest.Holdfast whose process also dies with the test process (PR_SET_PDEATHSIG), so a
    CTest timeout, which SIGKILLs the test, leaves no server behind."""

    preexec_fn = staticmethod(knotmaster.die_with_parent)


class Env:
    """One test case's world: a temp dir, holdfast's port and store, knotd masters."""

    def __init__(self, tmp, binary):
        self.tmp = tmp
        self.binary = binary
        self.hf_port = hftest.free_port()
        self.storage = os.path.join(tmp, "hf-store")
        self.hf = None

    def knot(self, name="knotd", host="127.0.0.1", notify=True, key=KEY, **kw):
        """A KnotMaster that NOTIFYs this env's holdfast (when its zones have notify=True)."""
        return knotmaster.KnotMaster(self.tmp, name=name, host=host, key=key,
                                     notify_to=(hftest.HOST, self.hf_port) if notify else None,
                                     **kw)

    def holdfast(self, zones, masters=(), keys=(KEY,), nameserver_sets=(), log_level="info"):
        """Writes holdfast.yaml and returns the (not yet started) Holdfast; call again to
        rewrite the config of the same server before a restart."""
        conf = os.path.join(self.tmp, "holdfast.yaml")
        hftest.write_xfr_config(conf, self.hf_port, self.storage, zones, keys=keys,
                                masters=masters, nameserver_sets=nameserver_sets,
                                log_level=log_level)
        if self.hf is None:
            self.hf = Holdfast(self.binary, conf, self.hf_port,
                                      os.path.join(self.tmp, "holdfast.log"))
        return self.hf


def master(mid, *addresses, key=None, source=None):
    """A holdfast `masters:` entry."""
    m = {"id": mid, "addresses": list(addresses)}
    if key:
        m["key"] = key
    if source:
        m["source"] = source
    return m


def secondary(domain, masters, refresh="120s", retry=None, **extra):
    """A holdfast secondary `zones:` entry."""
    z = {"domain": domain, "masters": list(masters), "refresh": refresh}
    if retry:
        z["retry"] = retry
    z.update({k.replace("_", "-"): v for k, v in extra.items()})
    return z


# --- answers ---------------------------------------------------------------------------------

def names_in(origin, body):
    """Owner names of a zone body (relative or absolute owners, `@`), in file order."""
    out = [origin]
    for line in body.splitlines():
        line = line.split(";", 1)[0]
        if not line.strip() or line[0].isspace():
            continue
        owner = line.split()[0]
        if owner.startswith("$"):
            continue
        name = origin if owner == "@" else owner if owner.endswith(".") else owner + "." + origin
        if name not in out:
            out.append(name)
    return out


QTYPES = ("SOA", "NS", "A", "AAAA", "MX", "TXT", "CNAME", "SRV")


def query_set(origin, *bodies, extra=()):
    """Every owner name of the bodies with QTYPES, a wildcard match, an NXDOMAIN and `extra`."""
    names = []
    for body in bodies:
        for n in names_in(origin, body):
            if n not in names:
                names.append(n)
    qs = [(n.replace("*", "match-w"), t) for n in names for t in QTYPES]
    qs += [("nx-%d.%s" % (i, origin), t) for i, t in enumerate(("A", "TXT"))]
    qs += list(extra)
    return qs


def answers(port_or_server, queries, tcp=False):
    """{(qname, qtype): answer_summary} from holdfast (a port) or a KnotMaster. Gives up (an
    AssertionError) after 3 unanswered queries in a row: the server is gone."""
    out, silent = {}, 0
    for qname, qtype in queries:
        if isinstance(port_or_server, int):
            resp = (hftest.query_tcp(port_or_server, qname, qtype) if tcp
                    else hftest.query(port_or_server, qname, qtype, timeout=2.0))
        else:
            resp = port_or_server.query(qname, qtype, timeout=2.0)
        out[(qname, qtype)] = hftest.answer_summary(resp)
        silent = silent + 1 if resp is None else 0
        assert silent < 3, "%s stopped answering (at %s %s)" % (port_or_server, qname, qtype)
    return out


def diff_answers(expected, got, what):
    """Lines describing every query whose summary differs (empty list: identical)."""
    out = []
    for key, exp in expected.items():
        if got.get(key) != exp:
            out.append("%s %s %s:\n    expected %s\n    got      %s"
                       % (what, key[0], key[1], exp, got.get(key)))
    return out


def assert_same(expected, got, what, show=8):
    bad = diff_answers(expected, got, what)
    assert not bad, "%d of %d answers differ (%s); first ones:\n%s" % (
        len(bad), len(expected), what, "\n".join(bad[:show]))


def compare_with_knot(knot, port, queries, what):
    """holdfast must answer every query exactly as the master does (rcode, AA, answer and
    authority RRsets with TTLs)."""
    expected = answers(knot, queries)
    missing = [k for k, v in expected.items() if v is None]
    assert not missing, "knotd did not answer %s" % missing[:5]
    assert_same(expected, answers(port, queries), what)
    return expected


def serial_of(resp):
    if resp is None or resp.rcode() != dns.rcode.NOERROR or not resp.flags & dns.flags.AA:
        return None
    for rrset in resp.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def wait_serial(hf, zone, serial, timeout, poll=0.01):
    """Waits until holdfast serves `serial` for `zone`; returns seconds waited (from the call)."""
    t0 = time.monotonic()
    while True:
        if hftest.soa_serial(hf.port, zone, timeout=0.5) == serial:
            return time.monotonic() - t0
        if not hf.running():
            raise AssertionError("holdfast exited (%s):\n%s" % (hf.proc.returncode,
                                                                  hf.log_tail()))
        if time.monotonic() - t0 > timeout:
            raise AssertionError("%s serial %d not served within %.1f s (serving %s); log:\n%s"
                                 % (zone, serial, timeout,
                                    hftest.soa_serial(hf.port, zone), hf.log_tail(25)))
        time.sleep(poll)


def zone_rx(zone):
    """The log prefix of a zone, as a regex."""
    return r"\[" + re.escape(zone) + r"\] "


def no_activity(hf, mark, zone):
    """Lines since `mark` that show a refresh or a transfer of `zone`."""
    rx = re.compile(zone_rx(zone) + r".*(refresh|AXFR|IXFR)")
    return [ln for ln in hftest.log_since(hf, mark).splitlines() if rx.search(ln)]


__all__ = ["hftest", "knotmaster", "log"]
