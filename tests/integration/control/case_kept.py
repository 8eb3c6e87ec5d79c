# SPDX-License-Identifier: MIT
"""No zone lost to a config slip: a reload (or restart) with zones missing stops answering them
but keeps their snapshots; the right config serves them again at once, masters down; `zone
purge` / the API delete a kept zone's data and refuse to purge a configured one; `zone list
--kept` and GET /api/v1/zones?kept=1 list them."""

import json
import os
import signal
import time

import dns.rcode

from ctllib import (PRIM, PRIM_SERIAL, SEC, SEC_BODY, START_TIMEOUT, TOKEN, CtlEnv, hftest,
                    knotmaster, log, master, metric, run_cli, secondary, wait_serial)

SEC2 = "sec2.test."
SEC2_SERIAL = 7
RELOAD_RX = r"reload: %d zone\(s\)"


def ok(r, what):
    assert r.returncode == 0, "%s: exit %d\nstdout: %s\nstderr: %s" % (
        what, r.returncode, r.stdout, r.stderr)
    return r.stdout


def fails(r, what, named):
    """Non-zero exit with a message on stderr that says `named`."""
    assert r.returncode != 0, "%s: exit 0, want non-zero\nstdout: %s" % (what, r.stdout)
    assert named in r.stderr, "%s: stderr %r does not say %r" % (what, r.stderr, named)
    log("%s: exit %d, stderr: %s" % (what, r.returncode, r.stderr.strip()))


def rcode(port, zone):
    resp = hftest.query(port, zone, "SOA")
    assert resp is not None, "no answer to %s SOA" % zone
    return resp


def expect_refused(hf, zones, what):
    for z in zones:
        resp = rcode(hf.port, z)
        assert resp.rcode() == dns.rcode.REFUSED, "%s %s: %s, want REFUSED (%s)" % (
            z, "SOA", hftest.describe(resp), what)


def expect_serial(hf, zone, serial, what):
    resp = rcode(hf.port, zone)
    got = hftest.answer_soa_serial(resp)
    assert resp.rcode() == dns.rcode.NOERROR and got == serial, \
        "%s: %s answered %s, want serial %d" % (what, zone, hftest.describe(resp), serial)


class World:
    def __init__(self, tmp, binary):
        self.binary = binary
        self.env = CtlEnv(tmp, binary)
        self.knot = self.env.knot()
        self.knot.add_zone(SEC, knotmaster.zone_text(SEC, 1, SEC_BODY), notify=False)
        self.knot.add_zone(SEC2, knotmaster.zone_text(SEC2, SEC2_SERIAL, SEC_BODY), notify=False)
        self.prim_file = self.env.primary_file()
        self.hf = None

    def configure(self, zones):
        """Writes the config listing `zones` (a subset of SEC, SEC2, PRIM)."""
        entries = []
        for z in zones:
            if z == PRIM:
                entries.append({"domain": PRIM, "file": self.prim_file})
            else:
                entries.append(secondary(z, ["hidden"], refresh="120s", retry="60s"))
        self.hf = self.env.holdfast(entries, masters=[master("hidden", self.knot.address)],
                                    token=TOKEN)
        return self.hf.config

    def reload(self, zones):
        self.configure(zones)
        mark = hftest.log_mark(self.hf)
        os.kill(self.hf.pid, signal.SIGHUP)
        hftest.wait_log_since(self.hf, mark, RELOAD_RX % len(zones), 5)
        return mark

    def cli(self, *args):
        return run_cli(self.binary, *args, "-c", self.hf.config)

    def kept_api(self):
        status, data = self.env.api("/api/v1/zones?kept=1")
        assert status == 200, "GET /api/v1/zones?kept=1 -> %d %s" % (status, data)
        return {z["zone"]: z for z in data["zones"]}

    def wait_kept(self, want, what, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            got = self.kept_api()
            if set(got) == set(want):
                return got
            if time.monotonic() > deadline:
                raise AssertionError("kept zones %s, want %s (%s)\nlog:\n%s"
                                     % (sorted(got), sorted(want), what, self.hf.log_tail(15)))
            time.sleep(0.05)


def drop_everything(w):
    """A config with no zones: every zone REFUSED, every one listed as kept with its serial."""
    mark = w.reload([])
    kept = w.wait_kept([SEC, SEC2, PRIM], "after dropping every zone")
    expect_refused(w.hf, [SEC, SEC2, PRIM, "www." + SEC], "dropped by a reload")
    want = {SEC: 1, SEC2: SEC2_SERIAL, PRIM: PRIM_SERIAL}
    got = {z: kept[z]["serial"] for z in kept}
    assert got == want, "kept serials %s, want %s" % (got, want)
    assert all(isinstance(kept[z]["dropped"], (int, float)) and
               abs(kept[z]["dropped"] - time.time()) < 60 for z in kept), \
        "kept zones' drop time: %s" % json.dumps(kept)
    hftest.wait_log_since(w.hf, mark, r"\[%s\] not in the config any more.*kept" % SEC, 2)
    out = ok(w.cli("zone", "list", "--kept"), "zone list --kept")
    for z, serial in want.items():
        row = next((ln.split() for ln in out.splitlines() if ln.split()[:1] == [z]), None)
        assert row and row[1] == str(serial), "zone list --kept row of %s: %s\n%s" % (z, row, out)
    samples, _, _ = w.env.scrape()
    assert metric(samples, "holdfast_kept_zones") == 3, "holdfast_kept_zones %s, want 3" % (
        metric(samples, "holdfast_kept_zones"))
    _, api = w.env.api("/api/v1/zones")
    assert api["zones"] == [], "GET /api/v1/zones lists %s with no zone configured" % api
    log("every zone dropped by a reload: REFUSED, kept with serials %s; zone list --kept:\n%s"
        % (got, out.rstrip()))


def wait_served(w, zone, t0, mark):
    """A reload is applied by the writer thread after its log line: the re-added zone must be
    answered within 3 s of it (masters are down: only the kept snapshot can answer)."""
    deadline = t0 + 3.0
    while True:
        resp = rcode(w.hf.port, zone)
        if resp.rcode() == dns.rcode.NOERROR:
            return
        assert time.monotonic() < deadline, "%s not answered 3 s after the reload: %s\n%s" % (
            zone, hftest.describe(resp), hftest.log_since(w.hf, mark))
        time.sleep(0.02)


def restore_masters_down(w):
    """The right config again, knotd killed: every zone answered at once, previous serials."""
    w.knot.kill()
    mark = w.reload([SEC, SEC2, PRIM])
    t0 = time.monotonic()
    for z, serial in ((SEC, 1), (SEC2, SEC2_SERIAL), (PRIM, PRIM_SERIAL)):
        wait_served(w, z, t0, mark)
        expect_serial(w.hf, z, serial, "re-added, masters down")
    hftest.wait_log_since(w.hf, mark, r"\[%s\] in the config again: serving its kept snapshot, "
                          r"serial 1" % SEC, 2)
    assert w.kept_api() == {}, "zones still kept after being re-added: %s" % w.kept_api()
    w.env.wait_metrics("holdfast_kept_zones 0",
                       lambda smp: metric(smp, "holdfast_kept_zones") == 0, 2)
    log("right config back, knotd down: every zone answered %.3f s after the reload"
        % (time.monotonic() - t0))


def purge(w):
    # Configured zones are refused, by the CLI and the API, whichever way asked.
    fails(w.cli("zone", "purge", SEC), "zone purge of a configured zone", "in the config")
    for path, method in (("/api/v1/zones/%s/purge" % SEC, "POST"),
                         ("/api/v1/zones/%s" % PRIM, "DELETE")):
        status, data = w.env.api(path, method=method)
        assert status == 409 and "in the config" in data.get("error", ""), \
            "%s %s of a configured zone -> %d %s, want 409" % (method, path, status, data)
    expect_serial(w.hf, SEC, 1, "after a refused purge")
    # Drop SEC2 and PRIM; purge SEC2 by the CLI; PRIM stays kept.
    w.reload([SEC])
    w.wait_kept([SEC2, PRIM], "SEC2 and PRIM dropped")
    out = ok(w.cli("zone", "purge", SEC2), "zone purge " + SEC2)
    assert "purged" in out, "zone purge printed %r" % out
    w.wait_kept([PRIM], "after purging " + SEC2)
    fails(w.cli("zone", "purge", SEC2), "zone purge of a purged zone", "no kept zone")
    status, data = w.env.api("/api/v1/zones/nope.test./purge", method="POST")
    assert status == 404 and "no kept zone" in data["error"], "purge unknown -> %d %s" % (
        status, data)
    status, data = w.env.api("/api/v1/zones/bad..name", method="DELETE")
    assert status == 400, "DELETE of a bad name -> %d %s" % (status, data)
    # Re-added with its master down: nothing to serve until it is transferred again.
    mark = w.reload([SEC, SEC2, PRIM])
    wait_served(w, PRIM, time.monotonic(), mark)
    expect_serial(w.hf, PRIM, PRIM_SERIAL, "PRIM (kept, not purged) re-added")
    time.sleep(1.0)
    expect_refused(w.hf, [SEC2], "purged, re-added, master down")
    w.knot.start()
    status, _ = w.env.api("/api/v1/zones/%s/refresh" % SEC2, method="POST")
    assert status == 202, "refresh of %s -> %d" % (SEC2, status)
    wait_serial(w.hf, SEC2, SEC2_SERIAL, START_TIMEOUT)
    log("purge: configured zones refused (409 / exit 1), %s purged and REFUSED until "
        "transferred again; %s kept" % (SEC2, PRIM))


def restart(w):
    """The same across restarts: started without PRIM it is kept; with it, served at once."""
    w.hf.stop()
    w.configure([SEC, SEC2])
    w.hf.start()
    w.env.wait_http()
    w.wait_kept([PRIM], "started without " + PRIM)
    expect_refused(w.hf, [PRIM], "started without it")
    w.hf.stop()
    w.knot.kill()
    w.configure([SEC, SEC2, PRIM])
    w.hf.start()
    w.hf.wait_answering(PRIM, timeout=5)
    expect_serial(w.hf, PRIM, PRIM_SERIAL, "restarted with it again")
    expect_serial(w.hf, SEC, 1, "restarted, master down")
    log("restart without %s: kept and REFUSED; restart with it: served at once" % PRIM)


def case_kept(tmp, binary):
    w = World(tmp, binary)
    w.knot.start()
    w.configure([SEC, SEC2, PRIM])
    w.hf.start()
    wait_serial(w.hf, SEC, 1, START_TIMEOUT)
    wait_serial(w.hf, SEC2, SEC2_SERIAL, START_TIMEOUT)
    w.env.wait_http()
    drop_everything(w)
    restore_masters_down(w)
    purge(w)
    restart(w)
    w.hf.stop()
