# SPDX-License-Identifier: MIT
"""ZONEMD (RFC 8976) checks of transferred zones: holdfast as a secondary of a knotd master.

The per-zone key `zonemd: off | verify | require` (default verify): verify checks a ZONEMD at
the apex when the zone has one, require refuses a zone without a verifiable ZONEMD, off checks
nothing. A zone that fails the check is not published: the previous snapshot stays served,
holdfast logs a line with "ZONEMD" (and the zone's name), and the zone's last_error (GET
/api/v1/zones/ZONE, `holdfast zone status ZONE --json`) says so; the next good version is
published and clears last_error.

Digests are SIMPLE/SHA-384, computed with dnspython (dns.zone.Zone.compute_digest; knotd 3.2
with zonemd-verify agrees with it). knotd serves the files as they are (it neither checks nor
generates ZONEMD). Every version of a zone has its own www A and a TXT naming the serial, so
the served data shows which version is published; a tampered version has www A changed after
its digest was computed. Zones and steps (the zones change at the same time, NOTIFY-driven):

  md.example.   no zonemd key (default: verify), IXFR
      1 correct ZONEMD -> published                                              (a)
      2 tampered       -> 1 stays served; ZONEMD error logged and in last_error  (b)
      3 correct        -> published, last_error cleared                          (c)
      4 no ZONEMD      -> published (verify does not require one)
  axfr.example. zonemd: verify, AXFR only (knotd keeps no history)
      1 correct -> published; 2 stale (serial bumped and data changed, ZONEMD of serial 1 left
      in place) -> 1 stays; 3 correct -> published
  req.example.  zonemd: require, IXFR
      1 no ZONEMD -> not published at all, reported                              (d)
      2 correct -> published; 3 no ZONEMD -> 2 stays, reported
  off.example.  zonemd: off, IXFR
      1 tampered -> published; 2 tampered -> published                           (e)
  van.example.  a vanity nameserver set, IXFR (the digest covers the master's apex NS and
                glue, so a zone with ZONEMD keeps them, as a signed zone does)
      1 no ZONEMD -> published with the vanity NS set
      2 correct   -> published with the master's NS (the IXFR cannot bring them back: the
                     full transfer that follows does) and a warning                (f)
      3 correct   -> published by IXFR, still the master's NS
      4 no ZONEMD -> published, the vanity NS set again (a full transfer follows)    (g)

Until holdfast knows the `zonemd` key this test fails at start-up (config error).
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsseclib  # noqa: E402
from dnsseclib import hftest, knotmaster, log  # noqa: E402
from xfrlib import START_TIMEOUT, Env, master, secondary  # noqa: E402

import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402
import dns.zonetypes  # noqa: E402

MD, AXFR, REQ, OFF = "md.example.", "axfr.example.", "req.example.", "off.example."
VAN = "van.example."
VANITY_NS = ("ns1.vanity.test.", "198.51.100.53")
STEP_TIMEOUT = 10.0  # a NOTIFY-driven transfer of a tiny zone takes well under a second


def www(serial, tampered=False):
    return ("198.51.100.%d" if tampered else "192.0.2.%d") % serial


def body(serial, tampered=False):
    return ('@ NS ns1\nns1 A 192.0.2.250\nwww A %s\nversion TXT "serial %d"\n'
            % (www(serial, tampered), serial))


def digest(origin, serial):
    """ZONEMD rdata text (SIMPLE, SHA-384) of the untampered version `serial`."""
    zone = dns.zone.from_text(knotmaster.zone_text(origin, serial, body(serial)), origin,
                              relativize=False)
    return zone.compute_digest(dns.zonetypes.DigestHashAlgorithm.SHA384).to_text()


def version(origin, serial, zonemd="correct"):
    """Zone text of version `serial`. zonemd: "correct" (digest of this text), "tampered"
    (digest of this version, then www A changed), "stale" (the correct digest of serial-1 over
    this version's data) or None (no ZONEMD)."""
    tampered = zonemd == "tampered"
    text = knotmaster.zone_text(origin, serial, body(serial, tampered))
    if zonemd == "stale":
        text += "@ ZONEMD %s\n" % digest(origin, serial - 1)
    elif zonemd:
        text += "@ ZONEMD %s\n" % digest(origin, serial)
    if zonemd in ("correct", None):  # what is served must verify exactly (or have no record)
        z = dns.zone.from_text(text, origin, relativize=False)
        if zonemd:
            z.verify_digest()
    return text


class World:
    def __init__(self, tmp, binary):
        self.env = Env(tmp, binary)
        self.binary = binary
        self.http_port = hftest.free_port()
        self.knot = self.env.knot(key=None)
        self.hf = None

    def start(self, versions):
        for origin, (serial, zonemd) in versions.items():
            self.knot.add_zone(origin, version(origin, serial, zonemd), ixfr=origin != AXFR)
        self.knot.start()
        zones = [secondary(MD, ["knot"]),
                 secondary(AXFR, ["knot"], zonemd="verify"),
                 secondary(REQ, ["knot"], zonemd="require"),
                 secondary(OFF, ["knot"], zonemd="off")]
        zones.append(secondary(VAN, ["knot"], nameservers="vanity"))
        self.hf = self.env.holdfast(zones, masters=[master("knot", self.knot.address)], keys=(),
                                    nameserver_sets=[("vanity", [(VANITY_NS[0],
                                                                  [VANITY_NS[1]])])])
        hftest.add_server_keys(self.hf.config, ["http: %s@%d" % (hftest.HOST, self.http_port)])
        self.hf.start()
        hftest.wait_http(self.http_port, "/healthz", START_TIMEOUT, server=self.hf)

    def change(self, versions):
        """Gives knotd new versions (it NOTIFYs holdfast); returns the log mark before."""
        mark = hftest.log_mark(self.hf)
        for origin, (serial, zonemd) in versions.items():
            self.knot.set_zone(origin, version(origin, serial, zonemd))
        return mark

    def status(self, origin):
        status, data, _ = hftest.http_json(self.http_port, "/api/v1/zones/" + origin)
        assert status == 200, "GET /api/v1/zones/%s -> %d %s" % (origin, status, data)
        return data

    def served(self, origin):
        """(SOA serial, www A address) that holdfast answers for the zone (None: no answer)."""
        serial = hftest.soa_serial(self.hf.port, origin, timeout=1.0)
        resp = hftest.query(self.hf.port, "www." + origin, "A", timeout=1.0)
        addr = None
        if resp is not None and resp.rcode() == dns.rcode.NOERROR:
            addr = next((r[0].address for r in resp.answer if r.rdtype == dns.rdatatype.A),
                        None)
        return serial, addr

    # -- expectations ------------------------------------------------------------------------

    def published(self, origin, serial, tampered=False):
        """Waits until holdfast serves `serial` with its data; last_error must be empty."""
        deadline = time.monotonic() + STEP_TIMEOUT
        want = (serial, www(serial, tampered))
        while self.served(origin) != want:
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError("%s: serial %d (www %s) not served within %.0f s; serves "
                                     "%s; status %s\nlog:\n%s"
                                     % (origin, serial, want[1], STEP_TIMEOUT,
                                        self.served(origin), json.dumps(self.status(origin)),
                                        self.hf.log_tail(20)))
            time.sleep(0.02)
        st = self.status(origin)
        assert st.get("serial") == serial and not st.get("last_error"), \
            "%s: serial %d served, but the status says %s" % (origin, serial, json.dumps(st))
        log("%s serial %d published (www %s)" % (origin, serial, want[1]))

    def refused(self, origin, serial, kept, mark):
        """Waits until holdfast reports a ZONEMD failure of `serial` (log line and last_error),
        then checks that `kept` (a serial, or None: nothing) is still what it serves."""
        name = re.escape(origin.rstrip("."))
        line = hftest.wait_log_since(self.hf, mark, r"(?m)^.*(%s.*ZONEMD|ZONEMD.*%s).*$"
                                     % (name, name), STEP_TIMEOUT).group(0)
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            st = self.status(origin)
            if "ZONEMD" in (st.get("last_error") or ""):
                break
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError("%s: no ZONEMD error in last_error within %.0f s: %s"
                                     % (origin, STEP_TIMEOUT, json.dumps(st)))
            time.sleep(0.05)
        served = self.served(origin)
        if kept is None:
            assert served[0] is None and st.get("serial") is None, \
                "%s: serial %d has no valid ZONEMD, yet holdfast serves %s (status %s)" % (
                    origin, serial, served, json.dumps(st))
        else:
            assert served == (kept, www(kept)) and st.get("serial") == kept, \
                "%s: serial %d refused, so serial %d (www %s) must stay served; serves %s, " \
                "status %s" % (origin, serial, kept, www(kept), served, json.dumps(st))
        log("%s serial %d refused, %s; log: %s; last_error: %s"
            % (origin, serial, "nothing served" if kept is None else "serial %d kept" % kept,
               line.strip(), st.get("last_error")))
        return st

    def apex_ns(self, origin):
        resp = hftest.query(self.hf.port, origin, "NS", timeout=1.0)
        if resp is None:
            return None
        return sorted(r.target.to_text() for rr in resp.answer if rr.rdtype == dns.rdatatype.NS
                      for r in rr)

    def ns_published(self, origin, serial, ns):
        """Waits until `serial` is served with the apex NS names `ns`."""
        self.published(origin, serial)
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.apex_ns(origin) != ns:
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError("%s serial %d: apex NS %s, expected %s\nlog:\n%s"
                                     % (origin, serial, self.apex_ns(origin), ns,
                                        self.hf.log_tail(20)))
            time.sleep(0.02)
        st = self.status(origin)
        assert st.get("serial") == serial and not st.get("last_error"), \
            "%s: serial %d with NS %s, but the status says %s" % (origin, serial, ns,
                                                                  json.dumps(st))
        log("%s serial %d published, apex NS %s" % (origin, serial, ns))

    def cli_status(self, origin):
        r = subprocess.run([self.binary, "zone", "status", origin, "-c", self.hf.config,
                            "--json"], capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, "holdfast zone status %s --json: exit %d\n%s%s" % (
            origin, r.returncode, r.stdout, r.stderr)
        return json.loads(r.stdout)

    def _alive(self):
        if not self.hf.running():
            raise AssertionError("holdfast exited (%s):\n%s" % (self.hf.proc.returncode,
                                                                 self.hf.log_tail()))


def test(tmp, args):
    w = World(tmp, args.holdfast)
    # Step 1.
    mark = 0
    w.start({MD: (1, "correct"), AXFR: (1, "correct"), REQ: (1, None), OFF: (1, "tampered"),
             VAN: (1, None)})
    w.published(MD, 1)                                    # (a)
    w.published(AXFR, 1)
    w.published(OFF, 1, tampered=True)                    # (e)
    w.refused(REQ, 1, None, mark)                         # (d)
    vanity_ns, master_ns = [VANITY_NS[0]], ["ns1." + VAN]
    w.ns_published(VAN, 1, vanity_ns)

    # Step 2.
    mark = w.change({MD: (2, "tampered"), AXFR: (2, "stale"), REQ: (2, "correct"),
                     OFF: (2, "tampered"), VAN: (2, "correct")})
    w.refused(MD, 2, 1, mark)                             # (b)
    w.refused(AXFR, 2, 1, mark)
    w.published(REQ, 2)
    w.published(OFF, 2, tampered=True)                    # (e)
    w.ns_published(VAN, 2, master_ns)                     # (f)
    hftest.wait_log_since(w.hf, mark, r"van\.example.*ZONEMD.*falling back|van\.example.*"
                          r"falling back to AXFR", STEP_TIMEOUT)
    hftest.wait_log_since(w.hf, mark, r"van\.example.*vanity nameserver set is not applied",
                          STEP_TIMEOUT)
    cli = w.cli_status(MD)
    assert cli.get("serial") == 1 and "ZONEMD" in (cli.get("last_error") or ""), \
        "holdfast zone status %s --json does not show serial 1 and the ZONEMD error: %s" % (
            MD, json.dumps(cli))
    log("holdfast zone status %s --json: serial 1, last_error %r" % (MD, cli["last_error"]))

    # Step 3.
    mark = w.change({MD: (3, "correct"), AXFR: (3, "correct"), REQ: (3, None),
                     VAN: (3, "correct")})
    w.published(MD, 3)                                    # (c)
    w.published(AXFR, 3)
    w.refused(REQ, 3, 2, mark)
    w.ns_published(VAN, 3, master_ns)

    # Step 4: verify takes a zone without ZONEMD.
    mark = w.change({MD: (4, None), VAN: (4, None)})
    w.published(MD, 4)
    w.ns_published(VAN, 4, vanity_ns)                     # (g)
    hftest.wait_log_since(w.hf, mark, r"van\.example.*no longer signed or digested",
                          STEP_TIMEOUT)

    w.hf.stop()
    w.knot.stop()


if __name__ == "__main__":
    dnsseclib.main_frame(__doc__, test)
