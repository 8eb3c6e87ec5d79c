# SPDX-License-Identifier: MIT
"""Shared pieces of the control-plane tests: the per-case environment (the xfr tests' Env plus
an HTTP port and token), the zones, scraping /metrics and checking it with promtool."""

import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "xfr"))
import hftest  # noqa: E402
import knotmaster  # noqa: E402
from hftest import log, metric, metric_sum  # noqa: E402,F401 - re-exported to the cases
from xfrlib import (START_TIMEOUT, Env, master, secondary, wait_serial,  # noqa: E402,F401
                    zone_rx)

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

SEC = "sec.test."    # secondary zone, transferred from knotd
PRIM = "prim.test."  # primary zone, from a file
DEAD = "dead.test."  # secondary zone whose master never answers
PRIM_SERIAL = 2024010101
TOKEN = "s3cret"
STATES = ("idle", "checking", "transferring", "queued")

SEC_BODY = "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\nwww AAAA 2001:db8::80\n"
# `big` does not fit in 512 bytes: a UDP query without EDNS gets TC.
PRIM_BODY = "@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.81\n" + "".join(
    'big TXT "%02d %s"\n' % (i, "x" * 60) for i in range(30))

# Per-zone and per-server metric families of the spec.
ZONE_FAMILIES = ("holdfast_zone_serial", "holdfast_zone_master_serial",
                 "holdfast_zone_sync_lag_seconds", "holdfast_zone_last_check_timestamp_seconds",
                 "holdfast_zone_last_transfer_timestamp_seconds",
                 "holdfast_zone_master_reachable", "holdfast_zone_transfers_total",
                 "holdfast_zone_last_transfer_duration_seconds",
                 "holdfast_zone_last_transfer_size_bytes", "holdfast_zone_notifies_total")
SERVER_FAMILIES = ("holdfast_queries_total", "holdfast_queries_by_type_total",
                   "holdfast_responses_total", "holdfast_truncated_responses_total",
                   "holdfast_dropped_packets_total", "holdfast_tcp_connections_total",
                   "holdfast_snapshots", "holdfast_storage_size_bytes", "holdfast_zones")


class CtlEnv(Env):
    """xfrlib.Env with holdfast's HTTP listener on a free port (and optionally a token)."""

    def __init__(self, tmp, binary):
        super().__init__(tmp, binary)
        self.http_port = hftest.free_port()
        self.token = None  # what api() and zone() send unless told otherwise

    def primary_file(self, origin=PRIM, serial=PRIM_SERIAL, body=PRIM_BODY):
        path = os.path.join(self.tmp, origin + "zone")
        with open(path, "w") as f:
            f.write(knotmaster.zone_text(origin, serial, body))
        return path

    def holdfast(self, zones, masters=(), token=None, **kw):
        hf = super().holdfast(zones, masters=masters, keys=(), **kw)
        self.token = token
        extra = ["http: %s@%d" % (hftest.HOST, self.http_port)]
        if token is not None:
            extra.append('http-token: "%s"' % token)
        hftest.add_server_keys(hf.config, extra)
        return hf

    # -- HTTP --------------------------------------------------------------------------------

    def wait_http(self, timeout=10.0):
        return hftest.wait_http(self.http_port, "/healthz", timeout, server=self.hf)

    def get(self, path, token=None):
        """(status, headers, body) of a request without a token unless given one."""
        return hftest.http_request(self.http_port, path, token=token)

    def api(self, path, method="GET", token=None):
        """(status, parsed JSON) of an API request, with the configured token by default."""
        status, data, _ = hftest.http_json(self.http_port, path, method=method,
                                           token=token or self.token)
        return status, data

    def zone(self, name, token=None):
        status, data = self.api("/api/v1/zones/" + name, token=token)
        assert status == 200, "GET /api/v1/zones/%s -> %d %s" % (name, status, data)
        return data

    def scrape(self):
        """(samples, body, headers) of GET /metrics, which must answer 200."""
        status, hdrs, body = self.get("/metrics")
        assert status == 200, "GET /metrics -> %d: %s" % (status, body[:300])
        return hftest.parse_prometheus(body), body, hdrs

    def wait_metrics(self, what, pred, timeout=10.0):
        """Scrapes until pred(samples) holds; returns the samples or fails naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            samples, body, _ = self.scrape()
            if pred(samples):
                return samples
            if time.monotonic() > deadline:
                zone_lines = "\n".join(ln for ln in body.splitlines()
                                       if ln.startswith("holdfast_zone"))
                raise AssertionError("metrics: %s not reached within %.0f s; zone metrics:\n%s"
                                     "\nholdfast log tail:\n%s"
                                     % (what, timeout, zone_lines, self.hf.log_tail(15)))
            time.sleep(0.05)

    def wait_zone(self, name, what, pred, timeout=10.0):
        """Polls GET /api/v1/zones/<name> until pred(zone) holds; returns the zone object."""
        deadline = time.monotonic() + timeout
        while True:
            z = self.zone(name)
            if pred(z):
                return z
            if time.monotonic() > deadline:
                raise AssertionError("API: %s %s not reached within %.0f s; last: %s\nlog:\n%s"
                                     % (name, what, timeout, json.dumps(z),
                                        self.hf.log_tail(15)))
            time.sleep(0.05)


def promtool_check(body):
    """`promtool check metrics` must accept the body (exit 0: it parses, and no lint problem)."""
    assert os.access(PROMTOOL, os.X_OK), \
        "promtool not found (Debian package prometheus: apt-get install prometheus)"
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, "promtool check metrics exited %d:\n%s%s" % (
        r.returncode, r.stdout, r.stderr)


def run_cli(binary, *args, timeout=20):
    """Runs `holdfast args...`; returns the CompletedProcess (text stdout/stderr)."""
    t0 = time.monotonic()
    r = subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    log("holdfast %s -> exit %d (%.2f s)" % (" ".join(args), r.returncode,
                                              time.monotonic() - t0))
    return r

