# SPDX-License-Identifier: MIT
"""Operator control: `reintegrate: manual` (a recovered member stays out until `holdfast pool
enable`), `holdfast pool disable|drain|auto|list|status` and their errors, the pool API's
errors, and the member/check/answer metrics."""

import json
import time

from lblib import (ZONE, LbEnv, check, down_bound, hftest, lbservers, log, member,
                   members_of, pool, pool_id_of, pools_of, record, up_bound)

BODY = "@ NS ns\nns A 192.0.2.53\n"
DOWN = down_bound(1.0, 2, 0.5)
UP = up_bound(1.0, 2, 0.5)


def start(tmp, binary, port, pools, records):
    env = LbEnv(tmp, binary)
    env.write(checks=[check("web", "http", port=port, path="/health")], pools=pools,
              records=records, zones=[{"domain": ZONE, "file": env.zone_file(ZONE, BODY)}])
    env.start()
    return env


def addr_set(env, name, n=6):
    """Every address answered for `name` over n queries (one socket: one worker)."""
    out = set()
    for k in env.shares(name, n, sockets=1):
        out |= set(k.split(","))
    return out


def wait_set(env, name, want, timeout, what):
    t0 = time.monotonic()
    while True:
        got = addr_set(env, name)
        if got == set(want):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise AssertionError("%s: %s answers %s, want %s (after %.1f s)\nlog:\n%s"
                                 % (what, name, sorted(got), sorted(want), timeout,
                                    env.hf.log_tail(20)))
        time.sleep(0.05)


def case_manual(tmp, binary):
    ips = ["127.0.0.81", "127.0.0.82"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    env = start(tmp, binary, servers[0].port,
                [pool("man", [member("m", address=ips[0]), member("n", address=ips[1])],
                      check="web", reintegrate="manual")],
                [record("man.example.com.", "A", "man", "round-robin")])
    name = "man.example.com."
    wait_set(env, name, ips, 2, "both up")
    servers[0].set(status=503)
    wait_set(env, name, [ips[1]], DOWN + 0.5, "m failed")
    servers[0].set(status=200)
    # m's target is healthy again after `rise` probes, but m stays out: latched.
    t_ok = time.monotonic() + UP + 1.0
    while time.monotonic() < t_ok:
        got = addr_set(env, name)
        assert got == {ips[1]}, "reintegrate manual: m came back by itself: %s" % sorted(got)
        time.sleep(0.2)
    m = env.pool_members("man")["m"]
    log("m after recovering: %s" % json.dumps(m))
    assert m.get("state") == "down", "m: state %r, want down (latched)" % m.get("state")
    assert m.get("latched") in (True, None), "m: latched %r, want true" % m.get("latched")
    assert m.get("last_result") == "ok", "m: last_result %r, want ok" % m.get("last_result")
    env.cli_ok("pool", "enable", "man", "m")
    t = wait_set(env, name, ips, 1.5, "after pool enable")
    log("m back %.2f s after `pool enable`" % t)
    m = env.pool_members("man")["m"]
    assert m.get("state") == "up" and m.get("admin") == "up" and not m.get("latched"), \
        "m after enable: %s" % json.dumps(m)
    env.cli_ok("pool", "auto", "man", "m")
    m = env.pool_members("man")["m"]
    assert m.get("state") == "up" and m.get("admin") == "auto", \
        "m after auto: %s" % json.dumps(m)
    wait_set(env, name, ips, 1.5, "after pool auto")


def case_cli(tmp, binary):
    ips = ["127.0.0.86", "127.0.0.87", "127.0.0.88"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    x, y, z = ips
    env = start(tmp, binary, servers[0].port,
                [pool("ops", [member("x", address=x), member("y", address=y),
                              member("z", address=z)], check="web")],
                [record("ops.example.com.", "A", "ops", "round-robin")])
    name = "ops.example.com."
    wait_set(env, name, ips, 2, "all up")

    def admin(mid, verb, want_set, want_state, want_admin):
        out = env.cli_ok("pool", verb, "ops", mid)
        log("pool %s ops %s: %s" % (verb, mid, out.strip()[:200]))
        wait_set(env, name, want_set, 1.5, "after pool %s %s" % (verb, mid))
        m = env.pool_members("ops")[mid]
        assert (m.get("state"), m.get("admin")) == (want_state, want_admin), \
            "%s after %s: state %r admin %r, want %r %r" % (
                mid, verb, m.get("state"), m.get("admin"), want_state, want_admin)

    admin("y", "disable", [x, z], "down", "down")
    admin("x", "drain", [z], "drain", "drain")
    admin("z", "disable", [x], "down", "down")  # a drained member is the last resort
    admin("y", "auto", [y], "up", "auto")
    admin("x", "auto", [x, y], "up", "auto")
    admin("z", "auto", ips, "up", "auto")

    table = env.cli_ok("pool", "list")
    assert "ops" in table, "pool list does not show the pool:\n%s" % table
    data = env.cli_json("pool", "list")
    assert [pool_id_of(p) for p in pools_of(data)] == ["ops"], "pool list --json: %s" % data
    _, api = env.api("/api/v1/pools")
    assert [pool_id_of(p) for p in pools_of(api)] == ["ops"], "GET /api/v1/pools: %s" % api
    text = env.cli_ok("pool", "status", "ops")
    for mid in "xyz":
        assert mid in text, "pool status ops does not show member %s:\n%s" % (mid, text)
    js = members_of(env.cli_json("pool", "status", "ops"))
    assert sorted(js) == ["x", "y", "z"], "pool status --json members: %s" % sorted(js)
    out = env.cli_json("pool", "drain", "ops", "x")
    log("pool drain --json: %s" % json.dumps(out)[:200])
    env.cli_ok("pool", "auto", "ops", "x")

    for args in (("pool", "enable", "ops", "nosuch"), ("pool", "status", "nosuch"),
                 ("pool", "disable", "nosuch", "x")):
        r = env.cli(*args)
        assert r.returncode != 0 and r.stderr.strip(), \
            "holdfast %s: exit %d, stderr %r; want an error" % (" ".join(args), r.returncode,
                                                                r.stderr)
    for path, method in (("/api/v1/pools/nosuch", "GET"),
                         ("/api/v1/pools/ops/members/nosuch/enable", "POST"),
                         ("/api/v1/pools/nosuch/members/x/disable", "POST")):
        status, _, body = hftest.http_request(env.http_port, path, method=method)
        assert status == 404, "%s %s -> %d %s, want 404" % (method, path, status, body[:200])
    status, _, body = hftest.http_request(env.http_port, "/api/v1/pools/ops/members/x/explode",
                                          method="POST")
    assert 400 <= status < 500, "POST .../explode -> %d, want a 4xx" % status
    status, data = env.api("/api/v1/pools/ops/members/y/disable", method="POST")
    assert status == 200, "POST .../y/disable -> %d %s" % (status, data)
    wait_set(env, name, [x, z], 1.5, "after POST disable")


def labelled(samples, metric_name, **want):
    """{labels dict as a tuple: value} of `name` whose labels include `want`."""
    out = {}
    for (n, labels), v in samples.items():
        lbl = dict(labels)
        if n == metric_name and all(lbl.get(k, "").rstrip(".") == v.rstrip(".")
                                    for k, v in want.items()):
            out[labels] = v
    return out


def one(samples, metric_name, **want):
    got = labelled(samples, metric_name, **want)
    assert len(got) == 1, "%s%s: want one sample, got %s" % (metric_name, want, got)
    return next(iter(got.values()))


def case_metrics(tmp, binary):
    up_ip, down_ip = "127.0.0.91", "127.0.0.92"
    server = lbservers.HttpTarget(up_ip, lbservers.port_free_on([up_ip, down_ip]))
    env = start(tmp, binary, server.port,
                [pool("mx", [member("up1", address=up_ip), member("dn1", address=down_ip)],
                      check="web")],
                [record("mx.example.com.", "A", "mx", "weighted")])
    name = "mx.example.com."
    env.wait_member("mx", "dn1", "down", lambda m: m.get("state") == "down", DOWN)
    s = env.scrape()
    assert one(s, "holdfast_member_up", pool="mx", member="up1") == 1
    assert one(s, "holdfast_member_up", pool="mx", member="dn1") == 0
    assert one(s, "holdfast_member_admin_state", pool="mx", member="up1", state="auto") == 1
    others = labelled(s, "holdfast_member_admin_state", pool="mx", member="up1")
    assert sum(others.values()) == 1, "admin_state of up1: %s, want only auto = 1" % others
    ok1 = one(s, "holdfast_health_checks_total", check="web", result="ok")
    ref1 = one(s, "holdfast_health_checks_total", check="web", result="refused")
    assert ok1 >= 1 and ref1 >= 2, "health checks: ok %s refused %s" % (ok1, ref1)
    assert all(dict(lbl).get("address", "").startswith(ip) for lbl, ip in (
        (next(iter(labelled(s, "holdfast_health_checks_total", result="ok"))), up_ip),
        (next(iter(labelled(s, "holdfast_health_checks_total", result="refused"))), down_ip))), \
        "health check address labels: %s" % labelled(s, "holdfast_health_checks_total")
    count = one(s, "holdfast_health_check_duration_seconds_count", check="web")
    assert count >= ok1 + ref1 - 1, "duration histogram count %s < probes %s" % (count,
                                                                                 ok1 + ref1)
    before = sum(labelled(s, "holdfast_lb_answers_total", name=name, type="A",
                          member="up1").values())
    got = env.shares(name, 50)
    assert dict(got) == {up_ip: 50}, "mx answers: %s" % dict(got)
    time.sleep(1.2)
    s = env.scrape()
    after = one(s, "holdfast_lb_answers_total", name=name, type="A", member="up1")
    assert after - before == 50, "holdfast_lb_answers_total grew by %s, want 50" % (after - before)
    assert one(s, "holdfast_health_checks_total", check="web", result="ok") > ok1, \
        "health checks ok did not grow over 1.2 s"
    env.cli_ok("pool", "disable", "mx", "up1")
    s = env.scrape()
    assert one(s, "holdfast_member_up", pool="mx", member="up1") == 0
    assert one(s, "holdfast_member_admin_state", pool="mx", member="up1", state="down") == 1
    fb = labelled(s, "holdfast_lb_fallback_answers_total", name=name, kind="all")
    base = sum(fb.values())
    got = env.shares(name, 20, sockets=1)
    assert dict(got) == {up_ip: 10, down_ip: 10}, "all down (when-all-down all): %s" % dict(got)
    s = env.scrape()
    fb = one(s, "holdfast_lb_fallback_answers_total", name=name, type="A", kind="all")
    assert fb - base == 20, "holdfast_lb_fallback_answers_total{kind=all} grew by %s, want 20" \
        % (fb - base)
    log("metrics ok: %s" % {k: v for k, v in s.items() if "member" in k[0] or "lb_" in k[0]})


CASES = {
    "manual": case_manual,
    "cli": case_cli,
    "metrics": case_metrics,
}
