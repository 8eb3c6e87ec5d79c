#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Config reload under query load: not one query lost or answered SERVFAIL.

holdfast starts with 20 primary zones (z0.test. .. z19.test.) and one secondary zone (sec1.test.)
transferred from a knotd hidden master (with TSIG). dnsperf then sends 2,000 UDP queries a
second to the zones that stay (SOA, www A, and an NXDOMAIN name of z0..z14 and sec1) for the
whole run, while the config is rewritten and reloaded six times, alternately by SIGHUP and by
`holdfast reload -c CONFIG`:

  1 SIGHUP  remove z15..z19                      -> "0 added, 5 removed, 0 changed"; REFUSED
  2 CLI     add the primary zones n0..n4         -> "5 added, 0 removed, 0 changed"; SOA NOERROR AA
  3 SIGHUP  add the secondary zone sec2.test.    -> "1 added, ..."; transferred and served
  4 CLI     sec1's refresh 120s -> 1s            -> "0 added, 0 removed, 1 changed"; knotd's new
            serials (no NOTIFY) are served within ~1 s, where before the reload a newer serial
            stayed unseen for seconds
  5 SIGHUP  a config with an unknown key (and z0 removed) -> "reload: config rejected, keeping
            the running one: FILE:LINE: key: problem"; everything served as before
  6 CLI     remove sec2, re-add z15..z19          -> "5 added, 1 removed, 0 changed"

After each reload every zone is queried: added zones answer SOA NOERROR AA with their serial,
removed ones REFUSED, and every other zone exactly as before (no settling time allowed for
those). At the end dnsperf's report must show zero lost queries and only the expected rcode
for every query (NOERROR, or NXDOMAIN for the nx names), and holdfast must exit 0 on SIGTERM.

Run: reload_test.py --holdfast build/holdfast [--keep]
Needs knotd/knotc (Debian package knot), dnsperf (Debian package dnsperf) and dnspython.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "xfr"))
from xfrlib import (KEY, START_TIMEOUT, Env, hftest, knotmaster, log,  # noqa: E402
                    master, secondary, wait_serial)

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

KEEP = ["z%d.test." % i for i in range(15)]       # primary zones served throughout
DROP = ["z%d.test." % i for i in range(15, 20)]   # removed by reload 1, back with reload 6
NEW = ["n%d.test." % i for i in range(5)]         # added by reload 2
SEC1, SEC2 = "sec1.test.", "sec2.test."           # secondary zones on knotd
SEC_BODY = "@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n"

QPS = 2000
LOAD_SECONDS = 14     # covers the whole reload sequence (asserted): ~9 s on a release build
QUERY_TIMEOUT = 2     # dnsperf: an answer later than this is a lost query
GAP = 1.5             # at least this long between two reloads
SETTLE = 5.0          # bound for an added/removed zone to answer as such after the reload log
REFRESH_BOUND = 3.0   # a master's new serial is served within this once refresh is 1 s
RELOAD_RX = r"reload: .*?(\d+) added, (\d+) removed, (\d+) changed"
REJECTED_RX = r"reload: config rejected, keeping the running one: "


def www_address(zone):
    """Each primary zone answers www A with its own address, so a mix-up would show."""
    names = KEEP + DROP + NEW
    return "198.51.100.%d" % (names.index(zone) + 1)


def primary_serial(zone):
    return 2024010100 + (KEEP + DROP + NEW).index(zone)


class World:
    """The temp dir, knotd with sec1 and sec2, holdfast's config (rewritten per reload) and the
    zones holdfast should serve now: {zone: (serial, www address)} and the set it must refuse."""

    def __init__(self, tmp, binary):
        self.binary = binary
        self.env = Env(tmp, binary)
        self.http_port = hftest.free_port()
        self.zone_dir = os.path.join(tmp, "zones")
        os.makedirs(self.zone_dir)
        for zone in KEEP + DROP + NEW:
            body = "@ NS ns\nns A 192.0.2.1\nwww A %s\n" % www_address(zone)
            with open(self.file_of(zone), "w") as f:
                f.write(knotmaster.zone_text(zone, primary_serial(zone), body))
        # No NOTIFY from knotd: holdfast learns of new serials by polling alone, so the
        # refresh interval shows in when a change is served.
        self.knot = self.env.knot(notify=False)
        for zone in (SEC1, SEC2):
            self.knot.add_zone(zone, knotmaster.zone_text(zone, 1, SEC_BODY), notify=False,
                               tsig=True)
        self.sec1 = secondary(SEC1, ["hidden"], refresh="120s")
        self.sec2 = secondary(SEC2, ["hidden"], refresh="120s")
        self.bumped = None  # when knotd got sec1 serial 2
        self.hf = None
        self.served = {}
        self.refused = set()

    def file_of(self, zone):
        return os.path.join(self.zone_dir, zone + "zone")

    @property
    def conf(self):
        return self.hf.config

    def write_config(self, primaries, secondaries):
        """holdfast.yaml with these primary zones and secondary zone entries."""
        zones = [{"domain": z, "file": self.file_of(z)} for z in primaries] + list(secondaries)
        self.hf = self.env.holdfast(zones, masters=[master("hidden", self.knot.address,
                                                           key=KEY[0])])
        hftest.add_server_keys(self.conf, ["http: %s@%d" % (hftest.HOST, self.http_port),
                                           "workers: 2"])

    def expect(self, add=(), remove=()):
        """Updates what must be served: `add` is {zone: serial} (secondaries: www is
        192.0.2.80) or a list of primary zones; `remove` zones must be REFUSED."""
        if not isinstance(add, dict):
            add = {z: primary_serial(z) for z in add}
        for zone, serial in add.items():
            www = "192.0.2.80" if zone in (SEC1, SEC2) else www_address(zone)
            self.served[zone] = (serial, www)
            self.refused.discard(zone)
        for zone in remove:
            self.served.pop(zone, None)
            self.refused.add(zone)


# --- checking what is served ------------------------------------------------------------------


def zone_problem(port, zone, want):
    """Why `zone` is not answered as `want` ((serial, www address), or None for REFUSED), or
    None when it is. A SERVFAIL is always a problem."""
    soa = hftest.query(port, zone, "SOA", timeout=1.0)
    if want is None:
        if soa is None or soa.rcode() != dns.rcode.REFUSED:
            return "SOA: %s, want REFUSED" % hftest.describe(soa)
        return None
    serial, www = want
    got = None
    if soa is not None and soa.rcode() == dns.rcode.NOERROR and soa.flags & dns.flags.AA:
        got = [r[0].serial for r in soa.answer if r.rdtype == dns.rdatatype.SOA]
    if got != [serial]:
        return "SOA: %s, want NOERROR AA serial %d" % (hftest.describe(soa), serial)
    a = hftest.query(port, "www." + zone, "A", timeout=1.0)
    addrs = [rd.address for r in (a.answer if a else []) if r.rdtype == dns.rdatatype.A
             for rd in r]
    if a is None or a.rcode() != dns.rcode.NOERROR or not a.flags & dns.flags.AA or \
            addrs != [www]:
        return "www A: %s, want NOERROR AA %s" % (hftest.describe(a), www)
    return None


def check_zones(world, what, changing=(), settle=SETTLE):
    """Every zone answers as world.served / world.refused say. Zones in `changing` get up to
    `settle` s to get there (the reload's effect); every other zone must be right at the first
    query. A SERVFAIL fails at once. Returns the seconds the changing zones took."""
    port = world.hf.port
    t0 = time.monotonic()
    wants = {z: world.served.get(z) for z in list(world.served) + sorted(world.refused)}
    pending = dict(wants)
    first = True
    while True:
        bad = {}
        for zone, want in pending.items():
            problem = zone_problem(port, zone, want)
            if problem is None:
                continue
            assert "SERVFAIL" not in problem, "%s: %s %s" % (what, zone, problem)
            assert not first or zone in changing, \
                "%s: %s, which this reload does not touch, changed: %s" % (what, zone, problem)
            bad[zone] = problem
        first = False
        if not bad:
            return time.monotonic() - t0
        if time.monotonic() - t0 > settle:
            raise AssertionError("%s: after %.1f s still wrong:\n%s\nholdfast log:\n%s" % (
                what, settle, "\n".join("  %s %s" % kv for kv in sorted(bad.items())),
                world.hf.log_tail(20)))
        pending = {z: wants[z] for z in bad}
        time.sleep(0.05)


# --- reloading --------------------------------------------------------------------------------


def request_reload(world, via):
    """SIGHUP, or `holdfast reload -c CONFIG`; returns the log mark from before the request."""
    mark = hftest.log_mark(world.hf)
    if via == "SIGHUP":
        os.kill(world.hf.pid, signal.SIGHUP)
    else:
        r = subprocess.run([world.binary, "reload", "-c", world.conf], capture_output=True,
                           text=True, timeout=20, stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and "reload requested" in r.stdout, \
            "holdfast reload -c %s: exit %d\nstdout: %s\nstderr: %s" % (
                world.conf, r.returncode, r.stdout, r.stderr)
    return mark


def reload_ok(world, via, what, counts, changing, settle=SETTLE):
    """Requests a reload of the config just written; the log must report `counts` (added,
    removed, changed) and no rejection; then checks every zone. Returns the settle time."""
    t0 = time.monotonic()
    mark = request_reload(world, via)
    m = hftest.wait_log_since(world.hf, mark, RELOAD_RX + "|" + REJECTED_RX, 10)
    assert m.group(1) is not None, "%s (%s): the config was rejected: %s" % (
        what, via, hftest.log_since(world.hf, mark).strip())
    got = tuple(int(g) for g in m.groups())
    assert got == counts, "%s (%s): logged %r, want %d added, %d removed, %d changed" % (
        (what, via, m.group(0)) + counts)
    logged = time.monotonic() - t0
    took = check_zones(world, "after reload %r" % what, changing, settle)
    log("reload %-32s via %-6s logged in %.3f s, served as configured %.3f s later"
        % (repr(what), via, logged, took))
    return took


def pace(last):
    """Sleeps until GAP s after `last` (a monotonic time); returns now."""
    time.sleep(max(0.0, last + GAP - time.monotonic()))
    return time.monotonic()


def broken_config(world, primaries, secondaries):
    """Writes a config that would remove z0 but has an unknown key in sec1's entry; returns
    the line number of that key."""
    world.write_config(primaries, secondaries)
    with open(world.conf) as f:
        lines = f.read().splitlines()
    at = lines.index("  - domain: %s" % SEC1) + 1
    lines.insert(at, "    refersh: 1s")
    with open(world.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    return at + 1


# --- the test ---------------------------------------------------------------------------------


def load_queries():
    """dnsperf's queries, all to zones that stay, with the rcode each must get."""
    out = {}
    for zone in KEEP + [SEC1]:
        z = zone.rstrip(".")
        out[(z, "SOA")] = "NOERROR"
        out[("www." + z, "A")] = "NOERROR"
        out[("nx." + z, "A")] = "NXDOMAIN"
    return out


def check_load(res, expected):
    log("dnsperf: %d sent, %d completed, %d lost, rcodes %s, max latency %s s"
        % (res["sent"], res["completed"], res["lost"], res["rcodes"], res["max_latency"]))
    assert res["lost"] == 0 and res["sent"] == res["completed"], \
        "dnsperf lost queries during the reloads:\n%s" % res["text"]
    assert res["sent"] >= 0.8 * QPS * LOAD_SECONDS, \
        "dnsperf sent only %d queries in %d s (want about %d a second):\n%s" % (
            res["sent"], LOAD_SECONDS, QPS, res["text"])
    assert not res["rcodes"].get("SERVFAIL"), "SERVFAIL answers:\n%s" % res["text"]
    wrong = []
    for key, counts in sorted(res["per_query"].items()):
        want = expected.get(key)
        if want is None:
            wrong.append("%s %s: not a query of the load (%s)" % (key + (counts,)))
            continue
        other = {rc: n for rc, n in counts.items() if rc != want}
        if other:
            wrong.append("%s %s: %s, want only %s" % (key + (counts, want)))
    unseen = [k for k in expected if k not in res["per_query"]]
    assert not wrong and not unseen, "per-query rcodes:\n  %s\nnever answered: %s" % (
        "\n  ".join(wrong), unseen)
    assert sum(sum(c.values()) for c in res["per_query"].values()) == res["sent"], \
        "dnsperf's per-query lines do not add up to %d sent" % res["sent"]


def start(tmp, binary):
    """knotd and holdfast with z0..z19 and sec1, every zone answering."""
    w = World(tmp, binary)
    w.knot.start()
    w.write_config(KEEP + DROP, [w.sec1])
    w.hf.start()
    w.expect(add=KEEP + DROP)
    w.expect(add={SEC1: 1}, remove=NEW + [SEC2])
    took = check_zones(w, "start-up", changing=list(w.served), settle=START_TIMEOUT)
    log("holdfast serves %d primary zones and %s (%.2f s after the start)"
        % (len(KEEP + DROP), SEC1, took))
    return w


def reload_zones(w):
    """Reloads 1-3: zones removed and added. Returns when the last one was requested."""
    last = pace(time.monotonic() - GAP + 1.0)  # 1 s of load before the first reload
    w.write_config(KEEP, [w.sec1])
    w.expect(remove=DROP)
    reload_ok(w, "SIGHUP", "remove z15..z19", (0, 5, 0), DROP)
    # knotd moves sec1 to serial 2 without NOTIFY: with refresh 120s holdfast must not see it
    # before reload 4 lowers the refresh.
    w.knot.set_zone(SEC1, knotmaster.zone_text(SEC1, 2, SEC_BODY))
    w.bumped = time.monotonic()

    last = pace(last)
    w.write_config(KEEP + NEW, [w.sec1])
    w.expect(add=NEW)
    reload_ok(w, "CLI", "add n0..n4", (5, 0, 0), NEW)

    last = pace(last)
    w.write_config(KEEP + NEW, [w.sec1, w.sec2])
    w.expect(add={SEC2: 1})  # transferred from knotd, then served
    reload_ok(w, "SIGHUP", "add secondary " + SEC2, (1, 0, 0), [SEC2], settle=START_TIMEOUT)
    return last


def reload_refresh(w, last):
    """Reload 4: sec1's refresh 120s -> 1s takes effect."""
    last = pace(last)
    unseen = time.monotonic() - w.bumped
    assert hftest.soa_serial(w.hf.port, SEC1) == 1, \
        "%s serial 2 was served before its refresh was lowered (refresh 120s)" % SEC1
    log("%s: knotd's serial 2 unseen for %.1f s with refresh 120s and no NOTIFY"
        % (SEC1, unseen))
    w.sec1 = secondary(SEC1, ["hidden"], refresh="1s")
    w.write_config(KEEP + NEW, [w.sec1, w.sec2])
    w.expect(add={SEC1: 2})
    reload_ok(w, "CLI", "refresh of %s 120s -> 1s" % SEC1, (0, 0, 1), [SEC1],
              settle=REFRESH_BOUND + 2.0)
    w.knot.set_zone(SEC1, knotmaster.zone_text(SEC1, 3, SEC_BODY))
    took = wait_serial(w.hf, SEC1, 3, REFRESH_BOUND)
    log("%s: knotd's serial 3 served %.2f s after knotd had it (refresh 1s)" % (SEC1, took))
    w.expect(add={SEC1: 3})
    return last


def reload_invalid(w, last):
    """Reload 5: a config with an unknown key (that would also remove z0) is rejected, logged
    with FILE:LINE: key: problem, and changes nothing."""
    last = pace(last)
    line = broken_config(w, KEEP[1:] + NEW, [w.sec1, w.sec2])
    mark = request_reload(w, "SIGHUP")
    m = hftest.wait_log_since(w.hf, mark, RELOAD_RX + "|" + REJECTED_RX + ".*", 10)
    assert m.group(1) is None, "an invalid config was taken: %s" % m.group(0)
    want = re.escape(w.conf) + r":%d: [^:\s]*refersh: \S" % line
    assert re.search(REJECTED_RX + want, m.group(0)), \
        "rejection logged as %r, want FILE:LINE: key: problem like %r" % (m.group(0), want)
    log("rejected as expected: %s" % m.group(0))
    check_zones(w, "after the rejected config", changing=())
    assert w.hf.running(), "holdfast exited after an invalid config"
    return last


def run(tmp, binary):
    w = start(tmp, binary)
    expected = load_queries()
    load = hftest.DnsperfLoad(tmp, w.hf.port, list(expected), LOAD_SECONDS, QPS,
                              query_timeout=QUERY_TIMEOUT).start()
    try:
        last = reload_zones(w)
        last = reload_refresh(w, last)
        last = reload_invalid(w, last)
        # 6: a valid config again, counted against the running one (not the rejected one).
        pace(last)
        w.write_config(KEEP + NEW + DROP, [w.sec1])
        w.expect(add=DROP, remove=[SEC2])
        reload_ok(w, "CLI", "remove %s, re-add z15..z19" % SEC2, (5, 1, 0), DROP + [SEC2])
        assert load.remaining() > 0.5, \
            "the reloads took longer than the %d s of load: raise LOAD_SECONDS" % LOAD_SECONDS
        log("reloads done, %.1f s of load left" % load.remaining())
        res = load.result(timeout=LOAD_SECONDS + QUERY_TIMEOUT + 30)
    finally:
        load.stop()
    check_load(res, expected)
    check_zones(w, "after the load", changing=())

    errors = [ln for ln in w.hf.run_log().splitlines()
              if re.match(r"\S+ (error|critical) ", ln) and not re.search(REJECTED_RX, ln)]
    assert not errors, "holdfast logged errors besides the rejected config:\n%s" % "\n".join(
        errors[:10])
    took = w.hf.stop()
    log("holdfast stopped with exit code 0 in %.2f s" % took)
    w.knot.stop()


def cleanup():
    knotmaster.cleanup_all()
    hftest.cleanup_all()


def main():
    hftest.run_cases(__doc__, {"reload": run},
                     tools=[(knotmaster.KNOTD, "Debian package knot"),
                            (knotmaster.KNOTC, "Debian package knot"),
                            (shutil.which("dnsperf") or "/usr/bin/dnsperf",
                             "Debian package dnsperf")],
                     cleanup=cleanup, prefix="hf-reload-")


if __name__ == "__main__":
    main()
