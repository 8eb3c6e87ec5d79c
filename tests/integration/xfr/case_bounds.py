# SPDX-License-Identifier: MIT
"""Bounded transfers: a master that sends one message every 9 s (each under the per-message
timeout, so only a total deadline ends it) holds at most `transfers-per-master` of the
`transfers` slots, so other masters' zones are transferred and NOTIFY-driven changes served at
once; and `transfer-timeout` ends such a transfer: logged, counted, old data served, retried."""

import os
import re
import time

from xfrlib import (Env, answers, hftest, knotmaster, log, master, query_set, secondary,
                    wait_serial, zone_rx)

import fake_master

DRIP_ZONES = ["drip%d.test." % i for i in range(1, 7)]
KNOT_ZONES = ["fast%d.test." % i for i in range(1, 5)]
PROMPT = 10.0  # knotd's zones, while the drip master holds its slots (ASan-slow bound)


def body(tag, n=10):
    return "@ NS ns1\nns1 A 192.0.2.1\n%s TXT \"%s\"\n" % (tag, tag) + "".join(
        "h%d A 198.51.100.%d\n" % (i, i % 250 + 1) for i in range(n))


def fake_records(tag, n=12):
    return ["@ NS ns1", "ns1 A 192.0.2.1", '%s TXT "%s"' % (tag, tag)] + [
        "h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(n)]


def server_keys(env, lines):
    hftest.add_server_keys(os.path.join(env.tmp, "holdfast.yaml"), lines)


def case_slow_master(tmp, binary):
    env = Env(tmp, binary)
    knot = env.knot()
    for zone in KNOT_ZONES:
        knot.add_zone(zone, knotmaster.zone_text(zone, 1, body("v1")))
    knot.start()
    # One message (one record) every 9 s: each transfer takes ~2 minutes, longer than this case.
    drip = fake_master.FakeMaster(DRIP_ZONES, fake_records("v1"), mode="drip").start()
    zones = [secondary(z, ["drip"]) for z in DRIP_ZONES]
    zones += [secondary(z, ["knot"]) for z in KNOT_ZONES]
    hf = env.holdfast(zones, masters=[master("drip", drip.address), master("knot", knot.address)])
    server_keys(env, ["transfers: 4", "transfers-per-master: 2"])
    t0 = time.monotonic()
    hf.start()

    for zone in KNOT_ZONES:
        wait_serial(hf, zone, 1, max(0.5, PROMPT - (time.monotonic() - t0)))
    log("knotd's %d zones served %.2f s after start" % (len(KNOT_ZONES), time.monotonic() - t0))
    deadline = time.monotonic() + PROMPT
    while len(drip.xfr_requests()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(drip.xfr_requests()) == 2, "the drip master got %d transfer requests, want 2" \
        % len(drip.xfr_requests())

    # Every global slot the drip zones could take is taken by now (2: their master's cap; 4
    # without it). NOTIFY-driven changes of the other master's zones still go through at once.
    for zone in KNOT_ZONES:
        t1 = time.monotonic()
        knot.set_zone(zone, knotmaster.zone_text(zone, 2, body("v2")))
        wait_serial(hf, zone, 2, PROMPT)
        took = time.monotonic() - t1
        log("%s serial 2 served %.2f s after the change on knotd" % (zone, took))

    # Past the 10 s per-message timeout: one message every 9 s keeps those transfers alive, and
    # they still hold their master's slots (nothing else asked of it).
    time.sleep(max(0.0, drip.xfr_requests()[0][0] + 12 - time.monotonic()))
    assert len(drip.xfr_requests()) == 2, \
        "transfers-per-master 2 exceeded: %d transfers asked of the drip master" \
        % len(drip.xfr_requests())
    stuck = [z for z in DRIP_ZONES if hftest.soa_serial(hf.port, z) is not None]
    assert not stuck, "drip zones served already (their transfers should still crawl): %s" % stuck
    text = hftest.log_since(hf, 0)
    failed = [z for z in DRIP_ZONES if re.search(zone_rx(z) + r".*failed", text)]
    assert not failed, "drip zones failed (one message every 9 s is under the 10 s per-message " \
        "timeout): %s" % failed
    log("drip master, 12 s on: 2 transfers in flight, its other zones waiting, nothing failed")
    hf.stop()
    drip.stop()
    knot.stop()


SLOW = "slow.test."
TOTAL = 20  # transfer-timeout, seconds


def case_transfer_timeout(tmp, binary):
    env = Env(tmp, binary)
    fm = fake_master.FakeMaster(SLOW, fake_records("v1", 30)).start()
    hf = env.holdfast([secondary(SLOW, ["slow"], refresh="2s")],
                      masters=[master("slow", fm.address)])
    http_port = hftest.free_port()
    server_keys(env, ["transfer-timeout: %ds" % TOTAL, "http: %s@%d" % (hftest.HOST, http_port)])
    hf.start()
    wait_serial(hf, SLOW, 1, 20)
    before = answers(hf.port, query_set(SLOW, "\n".join(fake_records("v1", 30))))

    mark = hftest.log_mark(hf)
    since = time.monotonic()
    fm.set(serial=2, mode="drip", records=fake_records("v2", 30))
    rx = (zone_rx(SLOW) + r"(AXFR|IXFR)[^,]*, incoming.*failed: timed out: not finished within "
          r"the total time limit \(transfer-timeout\)")
    line = hftest.wait_log_since(hf, mark, rx, TOTAL + 25).group(0)
    ended = time.monotonic()
    reqs = fm.xfr_requests(since)
    assert reqs, "no transfer was asked of the master"
    took = ended - reqs[0][0]
    assert TOTAL - 1 <= took <= TOTAL + 8, \
        "the dripping transfer ended %.1f s after it began, want about %d s" % (took, TOTAL)
    log("dripping transfer ended after %.1f s: %s" % (took, line.strip()[-110:]))

    assert answers(hf.port, list(before)) == before, "serial 1 answers changed after the failure"
    status, _, text = hftest.http_request(http_port, "/metrics")
    assert status == 200, "GET /metrics: %s" % status
    failures = hftest.metric_sum(hftest.parse_prometheus(text), "holdfast_zone_transfers_total",
                                 zone=SLOW, result="failure")
    assert failures >= 1, "the failed transfer is not counted (%s)" % failures
    log("serial 1 still served, %d failed transfer(s) counted" % failures)

    # Retried with backoff: once the master is fine again, serial 2 arrives.
    fm.set(mode="good")
    wait_serial(hf, SLOW, 2, TOTAL + 20, poll=0.1)
    log("after the master recovered, serial 2 served")
    hf.stop()
    fm.stop()
