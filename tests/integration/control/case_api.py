# SPDX-License-Identifier: MIT
"""/healthz, /readyz with a zone whose master never answers, the JSON zone API (list, detail,
404, 409, refresh, retransfer) and the bearer token."""

import json
import socket
import time

from ctllib import (DEAD, PRIM, PRIM_SERIAL, SEC, SEC_BODY, STATES, TOKEN, CtlEnv, hftest,
                    knotmaster, log, master, secondary, zone_rx)

ZONE_KEYS = ("zone", "kind", "serial", "master_serial", "sync_lag_seconds", "master_reachable",
             "last_check", "last_transfer", "last_error", "state")
COUNTER_KEYS = ("checks", "check_failures", "axfr_success", "axfr_failure", "ixfr_success",
                "ixfr_failure", "notifies_accepted")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_zone_object(z):
    missing = [k for k in ZONE_KEYS if k not in z]
    assert not missing, "zone object lacks %s: %s" % (missing, json.dumps(z))
    assert z["kind"] in ("primary", "secondary"), "kind %r" % z["kind"]
    assert z["state"] in STATES, "%s state %r, want one of %s" % (z["zone"], z["state"], STATES)
    if z["kind"] == "secondary":
        assert is_number(z["sync_lag_seconds"]), "%s sync_lag_seconds %r" % (
            z["zone"], z["sync_lag_seconds"])
        assert isinstance(z["master_reachable"], bool), "%s master_reachable %r" % (
            z["zone"], z["master_reachable"])
    else:
        # A primary zone has no master: no lag and no reachability to report.
        assert z["sync_lag_seconds"] is None and z["master_reachable"] is None, \
            "primary %s: sync_lag_seconds %r master_reachable %r, want null" % (
                z["zone"], z["sync_lag_seconds"], z["master_reachable"])
    for k in ("serial", "master_serial", "last_check", "last_transfer"):
        assert z[k] is None or is_number(z[k]), "%s %s %r" % (z["zone"], k, z[k])
    assert z["last_error"] is None or isinstance(z["last_error"], str)


def check_readyz(env, hf, dead_port):
    """503 naming the waiting zone while the silent master's SOA query (2 s timeout) is out,
    then 200 once that first attempt has failed (as the log shows)."""
    failed_line = "[%s] refresh, remote 127.0.0.1@%d, failed" % (DEAD, dead_port)
    waiting, with_sec = [], []
    deadline = time.monotonic() + 15
    while True:
        dead_failed = failed_line in hf.run_log()  # before the request: no race with it
        sec_served = hftest.soa_serial(hf.port, SEC, timeout=0.2) == 1
        status, _, body = env.get("/readyz")
        if status == 200:
            break
        assert time.monotonic() < deadline, "/readyz still %d %r 15 s after start; log:\n%s" % (
            status, body, hf.log_tail(15))
        if not dead_failed:
            waiting.append((status, body))
            if sec_served:
                with_sec.append((status, body))
        time.sleep(0.05)
    assert body == "ready\n", "/readyz 200 body %r, want 'ready\\n'" % body
    assert failed_line in hf.run_log(), "/readyz 200 but %s's first attempt has not failed " \
        "in the log:\n%s" % (DEAD, hf.log_tail(15))
    assert waiting, "/readyz never answered before %s's first attempt failed (2 s)" % DEAD
    for status, body in waiting:
        assert status == 503 and DEAD.rstrip(".") in body, \
            "/readyz before %s's first attempt failed: %d %r; want 503 naming it" % (
                DEAD, status, body)
    for status, body in with_sec:
        assert SEC.rstrip(".") not in body, \
            "/readyz with %s transferred names it as waiting: %r" % (SEC, body)
    log("/readyz: 503 naming %s %d times (%d with %s served, e.g. %r), then 'ready'" % (
        DEAD, len(waiting), len(with_sec), SEC, (with_sec or waiting)[-1][1]))


def check_listing(env):
    status, data = env.api("/api/v1/zones")
    assert status == 200 and isinstance(data.get("zones"), list), \
        "GET /api/v1/zones -> %d %s" % (status, data)
    zones = {z.get("zone"): z for z in data["zones"]}
    assert set(zones) == {SEC, PRIM, DEAD}, "zones listed: %s" % sorted(zones)
    for z in zones.values():
        check_zone_object(z)
    sec, prim, dead = zones[SEC], zones[PRIM], zones[DEAD]
    now = time.time()
    want = {"kind": "secondary", "serial": 1, "master_serial": 1, "sync_lag_seconds": 0,
            "master_reachable": True, "last_error": None, "state": "idle"}
    bad = {k: sec[k] for k, v in want.items() if sec[k] != v}
    assert not bad, "%s differs from %s: %s" % (SEC, want, bad)
    for k in ("last_check", "last_transfer"):
        assert sec[k] is not None and now - 60 < sec[k] <= now + 1, "%s %s %r" % (SEC, k, sec[k])
    assert prim["kind"] == "primary" and prim["serial"] == PRIM_SERIAL and \
        prim["master_serial"] is None, "%s: %s" % (PRIM, json.dumps(prim))
    assert dead["kind"] == "secondary" and dead["serial"] is None and \
        dead["master_serial"] is None and dead["master_reachable"] is False and \
        dead["last_transfer"] is None, \
        "%s (master silent): %s" % (DEAD, json.dumps(dead))
    assert dead["last_error"], "%s has no last_error after its failed check: %s" % (
        DEAD, json.dumps(dead))
    log("zone list: %s" % json.dumps(data["zones"]))

    # Detail: the same object with or without the final dot, plus counters.
    for name in (SEC, SEC.rstrip(".")):
        z = env.zone(name)
        check_zone_object(z)
        assert z["zone"] == SEC and z["serial"] == 1, "GET zones/%s: %s" % (name, json.dumps(z))
        counters = z.get("counters")
        assert isinstance(counters, dict) and all(k in counters for k in COUNTER_KEYS), \
            "GET zones/%s counters %s, want keys %s" % (name, counters, COUNTER_KEYS)
        assert counters["axfr_success"] == 1 and counters["checks"] >= 1 and \
            counters["axfr_failure"] == 0 and counters["ixfr_failure"] == 0, \
            "%s counters after one AXFR: %s" % (SEC, counters)
    d = env.zone(DEAD)["counters"]
    assert d["checks"] >= 1 and d["check_failures"] >= 1, "%s counters %s" % (DEAD, d)


def check_errors(env):
    for path, method, want in (("/api/v1/zones/nope.test.", "GET", 404),
                               ("/api/v1/zones/nope.test", "GET", 404),
                               ("/api/v1/zones/nope.test./refresh", "POST", 404),
                               ("/api/v1/zones/nope.test./retransfer", "POST", 404),
                               ("/api/v1/zones/%s/refresh" % PRIM, "POST", 409),
                               ("/api/v1/zones/%s/retransfer" % PRIM, "POST", 409)):
        status, data = env.api(path, method=method)
        assert status == want and isinstance(data, dict) and isinstance(data.get("error"), str), \
            "%s %s -> %d %s; want %d with {\"error\": ...}" % (method, path, status, data, want)
    log("404 for an unknown zone, 409 for refresh/retransfer of a primary zone")


def check_actions(env, hf):
    before = env.zone(SEC)["counters"]
    mark = hftest.log_mark(hf)
    status, data = env.api("/api/v1/zones/%s/refresh" % SEC, method="POST")
    assert status == 202 and data == {"zone": SEC, "action": "refresh"}, \
        "POST refresh -> %d %s" % (status, data)
    hftest.wait_log_since(hf, mark, zone_rx(SEC) + r"refresh, remote .*up to date", 5)
    env.wait_zone(SEC, "checks + 1", lambda z: z["counters"]["checks"] >= before["checks"] + 1)

    mark = hftest.log_mark(hf)
    status, data = env.api("/api/v1/zones/%s/retransfer" % SEC.rstrip("."), method="POST")
    assert status == 202 and data == {"zone": SEC, "action": "retransfer"}, \
        "POST retransfer -> %d %s" % (status, data)
    hftest.wait_log_since(hf, mark, zone_rx(SEC) + r"AXFR, incoming, remote .*serial 1 -> 1", 5)
    z = env.wait_zone(SEC, "axfr_success 2", lambda z: z["counters"]["axfr_success"] == 2)
    assert z["serial"] == 1 and z["counters"]["ixfr_success"] == 0, json.dumps(z)
    log("refresh: a new refresh line; retransfer: a new AXFR, axfr_success 2")


def check_token(env, hf, zones, masters):
    hf.stop()
    env.holdfast(zones, masters=masters, token=TOKEN)
    hf.start()
    env.wait_http()
    for token, want in ((None, 401), ("wrong", 401), ("S3CRET", 401), (TOKEN, 200)):
        status, _, body = hftest.http_request(env.http_port, "/api/v1/zones", token=token)
        assert status == want, "GET /api/v1/zones with token %r -> %d %r; want %d" % (
            token, status, body[:200], want)
    status, _, _ = hftest.http_request(env.http_port, "/api/v1/zones", headers={
        "Authorization": TOKEN})
    assert status == 401, "Authorization without 'Bearer ' -> %d, want 401" % status
    status, _, _ = hftest.http_request(env.http_port, "/api/v1/zones/%s/refresh" % SEC,
                                       method="POST")
    assert status == 401, "POST refresh without the token -> %d, want 401" % status
    status, data = env.api("/api/v1/zones/%s/refresh" % SEC, method="POST", token=TOKEN)
    assert status == 202, "POST refresh with the token -> %d %s" % (status, data)
    for path in ("/metrics", "/healthz", "/readyz"):
        status, _, body = env.get(path)
        assert status != 401 and (status == 200 or path == "/readyz"), \
            "%s without the token -> %d %r; it stays open" % (path, status, body[:100])
    log("token: 401 without, with a wrong one and without 'Bearer'; 200 with it; "
        "/metrics, /healthz, /readyz open")


def case_api(tmp, binary):
    env = CtlEnv(tmp, binary)
    knot = env.knot()
    knot.add_zone(SEC, knotmaster.zone_text(SEC, 1, SEC_BODY), notify=False)
    knot.start()
    # The dead zone's master: a UDP socket that reads nothing, so its SOA query times out.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((hftest.HOST, 0))
    dead_port = silent.getsockname()[1]
    try:
        masters = [master("hidden", knot.address),
                   master("silent", "%s@%d" % (hftest.HOST, dead_port))]
        zones = [secondary(SEC, ["hidden"], refresh="120s", retry="60s"),
                 secondary(DEAD, ["silent"], refresh="120s", retry="60s"),
                 {"domain": PRIM, "file": env.primary_file()}]
        hf = env.holdfast(zones, masters=masters)
        hf.start()
        env.wait_http()
        status, _, body = env.get("/healthz")
        assert status == 200 and body == "ok\n", "/healthz -> %d %r" % (status, body)
        check_readyz(env, hf, dead_port)
        check_listing(env)
        check_errors(env)
        check_actions(env, hf)
        check_token(env, hf, zones, masters)
        hf.stop()
    finally:
        silent.close()
