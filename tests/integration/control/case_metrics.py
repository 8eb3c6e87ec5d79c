# SPDX-License-Identifier: MIT
"""/metrics against a real knotd master: promtool accepts it, zone gauges and transfer counters
follow AXFR, NOTIFY + IXFR, a master ahead that refuses the transfer and a dead master; the
server counters follow UDP/TCP queries, rcodes, truncation and dropped packets."""

import socket
import time

from ctllib import (PRIM, PRIM_SERIAL, SEC, SEC_BODY, SERVER_FAMILIES, START_TIMEOUT,
                    ZONE_FAMILIES, CtlEnv, hftest, knotmaster, log, master, metric, metric_sum,
                    promtool_check, secondary, wait_serial)

import dns.rcode

# A second secondary zone of the same master, never notified: when the master dies it is in
# sync as far as holdfast knows, so its lag counts from the last successful check.
QUIET = "quiet.test."


def families(samples):
    return {name for name, _ in samples}


def zone_metric(samples, name, zone=SEC):
    return metric(samples, name, zone=zone)


def check_initial(env, knot, t_start):
    samples = env.wait_metrics("%s serial 1" % SEC,
                               lambda s: zone_metric(s, "holdfast_zone_serial") == 1)
    samples, body, hdrs = env.scrape()
    ctype = hdrs.get("content-type", "")
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, \
        "GET /metrics Content-Type %r, want text/plain; version=0.0.4" % ctype
    promtool_check(body)
    missing = [f for f in ZONE_FAMILIES + SERVER_FAMILIES if f not in families(samples)]
    assert not missing, "metric families missing from /metrics: %s" % missing

    m = lambda name: zone_metric(samples, name)  # noqa: E731
    assert m("holdfast_zone_serial") == knot.soa_serial(SEC) == 1, \
        "holdfast_zone_serial %s, master serves %s" % (m("holdfast_zone_serial"),
                                                       knot.soa_serial(SEC))
    assert m("holdfast_zone_master_serial") == 1, "master_serial %s" % m(
        "holdfast_zone_master_serial")
    assert m("holdfast_zone_sync_lag_seconds") == 0, "sync lag %s, want 0 (in sync)" % m(
        "holdfast_zone_sync_lag_seconds")
    assert m("holdfast_zone_master_reachable") == 1, "master_reachable %s" % m(
        "holdfast_zone_master_reachable")
    axfr_ok = metric(samples, "holdfast_zone_transfers_total", zone=SEC, kind="axfr",
                     result="success")
    assert axfr_ok == 1, "transfers_total{kind=axfr,result=success} %s, want 1" % axfr_ok
    others = {k: metric_sum(samples, "holdfast_zone_transfers_total", zone=SEC, kind=k, result=r)
              for k, r in (("ixfr", "success"), ("axfr", "failure"), ("ixfr", "failure"))}
    assert not any(others.values()), "unexpected transfer counts after one AXFR: %s" % others
    now = time.time()
    for name in ("holdfast_zone_last_check_timestamp_seconds",
                 "holdfast_zone_last_transfer_timestamp_seconds"):
        assert m(name) is not None and t_start - 1 <= m(name) <= now + 1, \
            "%s %s, want a unix time between %.0f and %.0f" % (name, m(name), t_start, now)
    assert m("holdfast_zone_last_transfer_size_bytes") > 0, "last_transfer_size_bytes %s" % m(
        "holdfast_zone_last_transfer_size_bytes")
    dur = m("holdfast_zone_last_transfer_duration_seconds")
    assert dur is not None and 0 <= dur < 10, "last_transfer_duration_seconds %s" % dur

    prim_serial = zone_metric(samples, "holdfast_zone_serial", PRIM)
    assert prim_serial == PRIM_SERIAL, "holdfast_zone_serial{zone=%s} %s, want %d" % (
        PRIM, prim_serial, PRIM_SERIAL)
    prim_master = zone_metric(samples, "holdfast_zone_master_serial", PRIM)
    assert prim_master is None, "primary zone %s has a master_serial sample (%s); the spec " \
        "has it for secondaries only" % (PRIM, prim_master)
    kinds = {k: metric(samples, "holdfast_zones", kind=k) for k in ("primary", "secondary")}
    assert kinds == {"primary": 1, "secondary": 2}, "holdfast_zones %s" % kinds
    snaps = metric(samples, "holdfast_snapshots")
    assert snaps is not None and snaps >= 3, "holdfast_snapshots %s, want >= 3 zones' worth" % snaps
    size = metric(samples, "holdfast_storage_size_bytes")
    assert size is not None and size > 0, "holdfast_storage_size_bytes %s" % size
    log("initial: promtool ok, serial 1, lag 0, reachable, 1 AXFR, %d families" % len(
        families(samples)))


def send_raw_udp(port, payload):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(payload, (hftest.HOST, port))


def check_query_counters(env, hf):
    before, _, _ = env.scrape()
    udp_a, udp_aaaa, tcp_a = 10, 2, 4
    for _ in range(udp_a):
        r = hftest.query(hf.port, "www." + SEC, "A")
        assert r is not None and r.rcode() == dns.rcode.NOERROR, hftest.describe(r)
    for _ in range(udp_aaaa):
        assert hftest.query(hf.port, "www." + SEC, "AAAA") is not None
    for _ in range(tcp_a):
        r = hftest.query_tcp(hf.port, "www." + PRIM, "A")
        assert r is not None and r.rcode() == dns.rcode.NOERROR, hftest.describe(r)
    r = hftest.query(hf.port, "www.outside.invalid.", "A")
    assert r is not None and r.rcode() == dns.rcode.REFUSED, hftest.describe(r)
    r = hftest.query(hf.port, "nx." + SEC, "TXT")
    assert r is not None and r.rcode() == dns.rcode.NXDOMAIN, hftest.describe(r)
    r = hftest.query(hf.port, "big." + PRIM, "TXT")  # no EDNS: 512 bytes
    assert r is not None and r.flags & 0x0200, "big TXT over UDP not truncated: %s" % (
        hftest.describe(r))
    # Too short for a header, and a response (QR set): both dropped without an answer.
    send_raw_udp(hf.port, b"\x12\x34\x01")
    send_raw_udp(hf.port, b"\x12\x34\x81\x00" + b"\x00" * 8)

    def delta(s, name, **labels):
        return metric_sum(s, name, **labels) - metric_sum(before, name, **labels)

    want = [
        ("holdfast_queries_total", {"protocol": "udp"}, udp_a + udp_aaaa + 3),
        ("holdfast_queries_total", {"protocol": "tcp"}, tcp_a),
        ("holdfast_queries_by_type_total", {"type": "A"}, udp_a + tcp_a),
        ("holdfast_queries_by_type_total", {"type": "AAAA"}, udp_aaaa),
        ("holdfast_responses_total", {"rcode": "NOERROR"}, udp_a + udp_aaaa + tcp_a),
        ("holdfast_responses_total", {"rcode": "REFUSED"}, 1),
        ("holdfast_responses_total", {"rcode": "NXDOMAIN"}, 1),
        ("holdfast_truncated_responses_total", {}, 1),
        ("holdfast_dropped_packets_total", {}, 2),
        ("holdfast_tcp_connections_total", {}, tcp_a),
    ]
    ok = lambda s: all(delta(s, n, **lb) >= w for n, lb, w in want)  # noqa: E731
    deadline = time.monotonic() + 3
    after, _, _ = env.scrape()
    while not ok(after) and time.monotonic() < deadline:
        time.sleep(0.05)
        after, _, _ = env.scrape()
    bad = ["%s%s grew by %g, want >= %d" % (n, lb, delta(after, n, **lb), w)
           for n, lb, w in want if delta(after, n, **lb) < w]
    assert not bad, "server counters after the queries:\n  " + "\n  ".join(bad)
    log("query counters: " + ", ".join("%s%s +%g" % (n[9:], list(lb.values()),
                                                      delta(after, n, **lb))
                                       for n, lb, _ in want))


def check_notify_ixfr(env, hf, knot):
    # A NOTIFY from an address that is not a master: refused, and counted as such.
    before, _, _ = env.scrape()
    r = hftest.send_notify(hf.port, SEC, source="127.0.0.2")
    assert r is not None and r["rcode"] == dns.rcode.REFUSED, "NOTIFY from 127.0.0.2: %s" % r
    env.wait_metrics("notifies_total{result=refused} + 1", lambda s: (
        metric_sum(s, "holdfast_zone_notifies_total", zone=SEC, result="refused")
        >= metric_sum(before, "holdfast_zone_notifies_total", zone=SEC, result="refused") + 1),
        timeout=3)

    knot.set_zone(SEC, knotmaster.zone_text(SEC, 2, SEC_BODY + "new A 192.0.2.2\n"))
    wait_serial(hf, SEC, 2, 10)
    s = env.wait_metrics("%s serial 2" % SEC, lambda s: zone_metric(s, "holdfast_zone_serial") == 2,
                         timeout=3)
    ixfr_ok = metric(s, "holdfast_zone_transfers_total", zone=SEC, kind="ixfr", result="success")
    axfr_ok = metric(s, "holdfast_zone_transfers_total", zone=SEC, kind="axfr", result="success")
    assert ixfr_ok == 1 and axfr_ok == 1, "after the NOTIFY: ixfr success %s (want 1), axfr " \
        "success %s (want 1)" % (ixfr_ok, axfr_ok)
    accepted = metric(s, "holdfast_zone_notifies_total", zone=SEC, result="accepted")
    assert accepted is not None and accepted >= 1, "notifies_total{accepted} %s" % accepted
    for name, want in (("holdfast_zone_master_serial", 2), ("holdfast_zone_sync_lag_seconds", 0),
                       ("holdfast_zone_master_reachable", 1)):
        assert zone_metric(s, name) == want, "%s %s after the IXFR, want %s" % (
            name, zone_metric(s, name), want)
    log("NOTIFY -> IXFR: serial 2, ixfr success 1, notifies accepted %g" % accepted)


def check_master_ahead(env, hf, knot):
    """Serial 3 at the master without NOTIFY, transfers refused: after a forced refresh the
    master is seen ahead, and the lag counts from then."""
    knot.reconfigure(zone=SEC, notify=False, transfer=False)
    knot.set_zone(SEC, knotmaster.zone_text(SEC, 3, SEC_BODY + "new A 192.0.2.3\n"))
    time.sleep(0.3)
    s, _, _ = env.scrape()
    assert zone_metric(s, "holdfast_zone_master_serial") == 2 and \
        zone_metric(s, "holdfast_zone_sync_lag_seconds") == 0, \
        "without NOTIFY or refresh holdfast cannot know of serial 3: master_serial %s lag %s" % (
            zone_metric(s, "holdfast_zone_master_serial"),
            zone_metric(s, "holdfast_zone_sync_lag_seconds"))
    status, data = env.api("/api/v1/zones/%s/refresh" % SEC, method="POST")
    assert status == 202, "POST refresh -> %d %s" % (status, data)
    s = env.wait_metrics("master_serial 3 and a failed transfer", lambda s: (
        zone_metric(s, "holdfast_zone_master_serial") == 3
        and metric_sum(s, "holdfast_zone_transfers_total", zone=SEC, result="failure") >= 1))
    assert zone_metric(s, "holdfast_zone_serial") == 2, "serial %s, the transfer was refused" % (
        zone_metric(s, "holdfast_zone_serial"))
    assert zone_metric(s, "holdfast_zone_master_reachable") == 1
    lag1 = zone_metric(s, "holdfast_zone_sync_lag_seconds")
    time.sleep(1.0)
    s, _, _ = env.scrape()
    lag2 = zone_metric(s, "holdfast_zone_sync_lag_seconds")
    assert lag1 is not None and lag2 is not None and 0.5 <= lag2 - lag1 <= 2.5 and lag2 > 0, \
        "master ahead (3 vs 2): sync lag %s then %s 1 s later; want it growing by ~1 s" % (
            lag1, lag2)
    log("master ahead, transfer refused: serial 2, master_serial 3, lag %.2f -> %.2f" % (lag1,
                                                                                       lag2))


def check_master_dead(env, hf, knot):
    # Serial 2 of QUIET without NOTIFY, and no refresh before the master dies: holdfast never
    # learns of it.
    knot.set_zone(QUIET, knotmaster.zone_text(QUIET, 2, SEC_BODY + "new A 192.0.2.2\n"))
    knot.kill()
    for zone in (SEC, QUIET):
        status, data = env.api("/api/v1/zones/%s/refresh" % zone, method="POST")
        assert status == 202, "POST %s refresh -> %d %s" % (zone, status, data)
    env.wait_metrics("master_reachable 0 after SIGKILL of the master", lambda s: all(
        zone_metric(s, "holdfast_zone_master_reachable", z) == 0 for z in (SEC, QUIET)))
    check_quiet_lag(env)
    s1, _, _ = env.scrape()
    time.sleep(2.0)
    s2, _, _ = env.scrape()
    lag1 = zone_metric(s1, "holdfast_zone_sync_lag_seconds")
    lag2 = zone_metric(s2, "holdfast_zone_sync_lag_seconds")
    assert lag1 is not None and lag2 is not None and lag2 > lag1 and 1.5 <= lag2 - lag1 <= 4.0, \
        "master dead: sync lag %s then %s 2 s later; want it growing by ~2 s" % (lag1, lag2)
    assert zone_metric(s2, "holdfast_zone_serial") == 2 and hftest.soa_serial(hf.port, SEC) == 2, \
        "the zone must stay served at serial 2 with the master dead"
    log("master dead: reachable 0, lag %.2f -> %.2f over 2 s, serial 2 still served" % (lag1, lag2))


def check_quiet_lag(env):
    """QUIET: served == last known master serial, but no master answers: the lag is the time
    since the last successful check, and grows."""
    t1 = time.time()
    s1, _, _ = env.scrape()
    time.sleep(2.0)
    t2 = time.time()
    s2, _, _ = env.scrape()
    m = lambda s, name: zone_metric(s, name, QUIET)  # noqa: E731
    assert m(s2, "holdfast_zone_serial") == 1 and m(s2, "holdfast_zone_master_serial") == 1, \
        "%s: serial %s master_serial %s, want 1 and 1 (serial 2 was never announced)" % (
            QUIET, m(s2, "holdfast_zone_serial"), m(s2, "holdfast_zone_master_serial"))
    last_check = m(s2, "holdfast_zone_last_check_timestamp_seconds")
    assert last_check is not None and last_check < t1, \
        "%s last_check_timestamp %s, want the last successful check (before the master died " \
        "at %.1f)" % (QUIET, last_check, t1)
    lags = (m(s1, "holdfast_zone_sync_lag_seconds"), m(s2, "holdfast_zone_sync_lag_seconds"))
    want = (t1 - last_check, t2 - last_check)
    assert None not in lags and all(abs(g - w) <= 1.0 for g, w in zip(lags, want)) and \
        lags[1] > lags[0], "%s in sync but no master answers: sync lag %s 2 s apart, want the " \
        "seconds since the last successful check, ~%.1f and ~%.1f" % (QUIET, lags, *want)
    log("%s, master dead while in sync: lag %.2f -> %.2f (since the last good check)" % (
        QUIET, *lags))


def case_metrics(tmp, binary):
    env = CtlEnv(tmp, binary)
    knot = env.knot()
    knot.add_zone(SEC, knotmaster.zone_text(SEC, 1, SEC_BODY), notify=True)
    knot.add_zone(QUIET, knotmaster.zone_text(QUIET, 1, SEC_BODY), notify=False)
    knot.start()
    hf = env.holdfast([secondary(SEC, ["hidden"], refresh="120s", retry="60s"),
                       secondary(QUIET, ["hidden"], refresh="120s", retry="60s"),
                       {"domain": PRIM, "file": env.primary_file()}],
                      masters=[master("hidden", knot.address)])
    t_start = time.time()
    hf.start()
    wait_serial(hf, SEC, 1, START_TIMEOUT)
    wait_serial(hf, QUIET, 1, START_TIMEOUT)
    env.wait_http()
    check_initial(env, knot, t_start)
    check_query_counters(env, hf)
    check_notify_ixfr(env, hf, knot)
    check_master_ahead(env, hf, knot)
    check_master_dead(env, hf, knot)
    hf.stop()
