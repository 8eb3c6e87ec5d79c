# SPDX-License-Identifier: MIT
"""The answer policies against real HTTP health-check targets: weighted shares (and how they
follow a failure and a recovery), failover tiers, round-robin rotation, SRV tiers with additional
addresses, fallback pools and each when-all-down."""

import time

import dns.flags
import dns.rdatatype
import dns.rcode

from lblib import (ZONE, LbEnv, check, down_bound, expect_near, hftest, key_of, lbservers, log,
                   member, pool, record, rrs, up_bound)

# Every case's zone: the managed names also have data of their own in the file (replaced by the
# overlay: 192.0.2.250 must never be answered), and in-zone SRV targets.
BODY = """@ NS ns
ns A 192.0.2.53
www A 192.0.2.250
fo A 192.0.2.250
rr A 192.0.2.250
edge1 A 192.0.2.10
sip1 A 192.0.2.11
sip9 A 192.0.2.19
_sip._udp SRV 10 10 5060 old.example.com.
static A 192.0.2.99
edge A 192.0.2.77
edge2 AAAA 2001:db8::77
"""

INTERVAL, TIMEOUT, FALL, RISE = 1.0, 0.5, 2, 2
DOWN = down_bound(INTERVAL, FALL, TIMEOUT)
UP = up_bound(INTERVAL, RISE, TIMEOUT)


def web_check(cid, port, **kw):
    return check(cid, "http", port=port, path="/health", interval="1s", timeout="500ms",
                 fall=FALL, rise=RISE, **kw)


def setup(tmp, binary, checks, pools, records, workers=1):
    env = LbEnv(tmp, binary)
    env.write(checks=checks, pools=pools, records=records, workers=workers,
              zones=[{"domain": ZONE, "file": env.zone_file(ZONE, BODY)}])
    env.start()
    return env


def addr_sets(got):
    """The set of address sets answered in a Counter of key_of() texts."""
    return {frozenset(k.split(",")) for k in got}


def only(*addrs):
    want = frozenset(addrs)
    return lambda got: addr_sets(got) == {want}


def lb_answers(env, name):
    """{member: count} of holdfast_lb_answers_total for `name` (label with or without the dot)."""
    out = {}
    for (metric_name, labels), v in env.scrape().items():
        lbl = dict(labels)
        if metric_name == "holdfast_lb_answers_total" and \
                lbl.get("name", "").rstrip(".") == name.rstrip("."):
            out[lbl.get("member")] = out.get(lbl.get("member"), 0) + v
    return out


def case_weighted(tmp, binary):
    ips = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    a, b, c = ips
    env = setup(tmp, binary, [web_check("web", servers[0].port)],
                [pool("web", [member("a", address=a, weight=20), member("b", address=b, weight=20),
                              member("c", address=c, weight=10)], check="web")],
                [record("www.example.com.", "A", "web", "weighted", ttl="60s")], workers=2)
    tol = 2  # per worker, any run of answers is within 1 of the exact share
    for mid in "abc":
        env.wait_member("web", mid, "a first probe ok",
                        lambda m: m.get("last_result") == "ok" and m.get("state") == "up", 5)
    resp = env.q("www.example.com.")
    assert resp.flags & dns.flags.AA and resp.answer and resp.answer[0].ttl == 60, \
        "www A: want an authoritative answer with TTL 60: %s" % hftest.describe(resp)
    before = lb_answers(env, "www.example.com.")
    got = env.shares("www.example.com.", 5000)
    log("5000 answers: %s" % dict(got))
    expect_near(got, {a: 2000, b: 2000, c: 1000}, tol, "weighted 20/20/10 over 5000 answers")
    after = lb_answers(env, "www.example.com.")
    delta = {m: after.get(m, 0) - before.get(m, 0) for m in "abc"}
    assert delta == {"a": got[a], "b": got[b], "c": got[c]}, \
        "holdfast_lb_answers_total grew by %s, answers counted %s" % (delta, dict(got))

    servers[0].set(status=503, body="down")
    t = env.wait_answers("www.example.com.", "a gone", lambda g: a not in g, DOWN + 0.5)
    log("a out of the answers %.2f s after its server answers 503 (bound %.1f s)" % (t, DOWN))
    assert t <= DOWN, "a still answered %.2f s after failing (bound %.1f s)" % (t, DOWN)
    got = env.shares("www.example.com.", 3000)
    expect_near(got, {b: 2000, c: 1000}, tol, "2:1 with a down, over 3000 answers")
    m, _ = env.wait_member("web", "a", "down", lambda m: m.get("state") == "down", 2)
    assert m.get("last_result") == "status", "a: last_result %r, want status" % m
    assert m.get("admin") == "auto", "a: admin %r, want auto" % m.get("admin")

    servers[0].set(status=200, body="OK")
    t = env.wait_answers("www.example.com.", "a back", lambda g: a in g, UP + 0.5)
    log("a back %.2f s after recovering (bound %.1f s)" % (t, UP))
    assert t <= UP, "a back only after %.2f s (bound %.1f s)" % (t, UP)
    got = env.shares("www.example.com.", 5000)
    expect_near(got, {a: 2000, b: 2000, c: 1000}, tol, "40/40/20 after a recovered")


def case_failover(tmp, binary):
    ips = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    p1, p2, bk = ips
    env = setup(tmp, binary, [web_check("web", servers[0].port)],
                [pool("fo", [member("p1", address=p1, tier=1), member("p2", address=p2, tier=1),
                             member("b", address=bk, tier=2)], check="web")],
                [record("fo.example.com.", "A", "fo", "failover")])
    name = "fo.example.com."
    got = env.shares(name, 20, sockets=1)
    assert addr_sets(got) == {frozenset([p1, p2])}, "failover: want both tier-1 members in " \
        "every answer, got %s" % dict(got)
    assert set(got) == {"%s,%s" % (p1, p2), "%s,%s" % (p2, p1)}, \
        "failover: the tier-1 pair is not rotated: %s" % dict(got)
    servers[0].set(status=503)
    t = env.wait_answers(name, "only p2", only(p2), DOWN + 0.5)
    assert t <= DOWN, "p1 still answered %.2f s after failing" % t
    servers[1].set(status=503)
    t = env.wait_answers(name, "the backup", only(bk), DOWN + 0.5)
    assert t <= DOWN, "backup answered only %.2f s after the last primary failed" % t
    log("primaries down: backup answered after %.2f s" % t)
    servers[0].set(status=200)
    servers[1].set(status=200)
    t = env.wait_answers(name, "the primaries back", only(p1, p2), UP + 0.5)
    assert t <= UP, "primaries back only after %.2f s" % t


def case_roundrobin(tmp, binary):
    ips = ["127.0.0.31", "127.0.0.32", "127.0.0.33"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    env = setup(tmp, binary, [web_check("web", servers[0].port)],
                [pool("rr", [member("r%d" % i, address=ip) for i, ip in enumerate(ips, 1)],
                      check="web")],
                [record("rr.example.com.", "A", "rr", "round-robin"),
                 record("rr2.example.com.", "A", "rr", "round-robin", count=2)])
    answers = [key_of(r).split(",") for r in env.many("rr.example.com.", "A", 9, sockets=1)]
    for ans in answers:
        assert sorted(ans) == sorted(ips), "round-robin: want every member, got %s" % ans
    firsts = [ans[0] for ans in answers]
    assert set(firsts[:3]) == set(ips), "round-robin: first address not rotated over 3 " \
        "consecutive answers: %s" % answers[:3]
    cyc = answers[0] + answers[0]
    for ans in answers:
        i = cyc.index(ans[0])
        assert ans == cyc[i:i + 3], "round-robin: %s is not a rotation of %s" % (ans, answers[0])
    two = [key_of(r).split(",") for r in env.many("rr2.example.com.", "A", 6, sockets=1)]
    assert all(len(a) == 2 and len(set(a)) == 2 for a in two), \
        "count 2: want 2 distinct addresses per answer: %s" % two
    assert {x for a in two for x in a} == set(ips), "count 2: not every member served: %s" % two
    servers[1].stop()  # connection refused
    t = env.wait_answers("rr.example.com.", "r2 gone", only(ips[0], ips[2]), DOWN + 0.5)
    assert t <= DOWN, "r2 answered %.2f s after its server went away" % t
    m, _ = env.wait_member("rr", "r2", "down", lambda m: m.get("state") == "down", 2)
    assert m.get("last_result") == "refused", "r2: last_result %r, want refused" % m


def srv_set(resp):
    return {(r.priority, r.weight, r.port, r.target.to_text()) for r in rrs(resp, "SRV")}


def additional_names(resp):
    return {rrset.name.to_text() for rrset in resp.additional
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)}


def case_srv(tmp, binary):
    ips = ["127.0.0.41", "127.0.0.42"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    env = setup(tmp, binary, [web_check("sip-options", servers[0].port)],
                [pool("sip", [
                    member("edge1", target="edge1.example.com.", port=5060, tier=1, weight=0,
                           check_address=ips[0]),
                    member("sip1", target="sip1.example.com.", port=5060, tier=2, weight=0,
                           check_address=ips[1]),
                    member("last", target="sip9.example.com.", port=5061, tier=3, weight=0)],
                    check="sip-options")],
                [record("_sip._udp.example.com.", "SRV", "sip", "srv")])
    name = "_sip._udp.example.com."
    full = {(1, 0, 5060, "edge1.example.com."), (2, 0, 5060, "sip1.example.com."),
            (3, 0, 5061, "sip9.example.com.")}
    resp = env.q(name, "SRV")
    assert srv_set(resp) == full, "SRV: got %s, want %s" % (srv_set(resp), full)
    assert additional_names(resp) == {"edge1.example.com.", "sip1.example.com.",
                                      "sip9.example.com."}, \
        "SRV: additional addresses %s, want the three in-zone targets" % additional_names(resp)
    a = {r.address for r in rrs(resp, "A", "additional")}
    assert a == {"192.0.2.10", "192.0.2.11", "192.0.2.19"}, "SRV additional A: %s" % a
    nodata = env.q(name, "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer, \
        "_sip._udp A: want NODATA: %s" % hftest.describe(nodata)
    servers[0].set(status=503)
    t0 = time.monotonic()
    while True:
        resp = env.q(name, "SRV")
        if srv_set(resp) == full - {(1, 0, 5060, "edge1.example.com.")}:
            break
        assert time.monotonic() - t0 < DOWN + 0.5, \
            "SRV after edge1 failed: %s after %.1f s" % (srv_set(resp), DOWN + 0.5)
        time.sleep(0.05)
    log("edge1 out of the SRV set after %.2f s" % (time.monotonic() - t0))
    assert additional_names(resp) == {"sip1.example.com.", "sip9.example.com."}, \
        "SRV without edge1: additional %s" % additional_names(resp)


def case_fallback(tmp, binary):
    ips = ["127.0.0.51", "127.0.0.52"]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    env = setup(tmp, binary, [web_check("web", servers[0].port)],
                [pool("main", [member("m1", address=ips[0])], check="web"),
                 pool("backup", [member("k1", address=ips[1])], check="web")],
                [record("fb.example.com.", "A", "main", "weighted", fallback=["backup"],
                        when_all_down="nodata")])
    name = "fb.example.com."
    assert key_of(env.q(name)) == ips[0], "fb: want m1 first: %s" % key_of(env.q(name))
    servers[0].set(status=503)
    t = env.wait_answers(name, "the fallback pool", only(ips[1]), DOWN + 0.5)
    log("fallback pool answered after %.2f s" % t)
    servers[1].set(status=503)
    env.wait_answers(name, "NODATA", lambda g: set(g) == {"NODATA"}, DOWN + 0.5)
    resp = env.q(name)
    assert resp.flags & dns.flags.AA and hftest.authority_serial(resp) == 1, \
        "fb NODATA: want AA and the SOA in authority: %s" % hftest.describe(resp)
    kinds = fallback_kinds(env, name)
    assert kinds.get("fallback", 0) > 0 and kinds.get("nodata", 0) > 0, \
        "holdfast_lb_fallback_answers_total for %s: %s" % (name, kinds)
    servers[0].set(status=200)
    env.wait_answers(name, "m1 back", only(ips[0]), UP + 0.5)


def fallback_kinds(env, name):
    out = {}
    for (metric_name, labels), v in env.scrape().items():
        lbl = dict(labels)
        if metric_name == "holdfast_lb_fallback_answers_total" and \
                lbl.get("name", "").rstrip(".") == name.rstrip("."):
            out[lbl.get("kind")] = out.get(lbl.get("kind"), 0) + v
    return out


def case_alldown(tmp, binary):
    ips = ["127.0.0.56", "127.0.0.57"]
    port = lbservers.port_free_on(ips)  # nothing listens: every probe is refused
    names = {"all": "all.example.com.", "nodata": "nodata.example.com.",
             "servfail": "servfail.example.com."}
    env = setup(tmp, binary, [web_check("web", port)],
                [pool("dead", [member("d1", address=ips[0]), member("d2", address=ips[1])],
                      check="web")],
                [record(n, "A", "dead", "weighted", when_all_down=k) for k, n in names.items()])
    for mid in ("d1", "d2"):
        m, _ = env.wait_member("dead", mid, "down", lambda m: m.get("state") == "down", DOWN)
        assert m.get("last_result") == "refused", "%s: last_result %r, want refused" % (mid, m)
    before = {k: fallback_kinds(env, n) for k, n in names.items()}
    got = env.shares(names["all"], 10, sockets=1)
    assert dict(got) == {ips[0]: 5, ips[1]: 5}, "when-all-down all: %s" % dict(got)
    got = env.shares(names["nodata"], 10)
    assert dict(got) == {"NODATA": 10}, "when-all-down nodata: %s" % dict(got)
    resp = env.q(names["nodata"])
    assert resp.flags & dns.flags.AA and hftest.authority_serial(resp) == 1, \
        "nodata: want AA and the SOA in authority: %s" % hftest.describe(resp)
    got = env.shares(names["servfail"], 10)
    assert dict(got) == {"SERVFAIL": 10}, "when-all-down servfail: %s" % dict(got)
    for k, n in names.items():
        after = fallback_kinds(env, n)
        grew = after.get(k, 0) - before[k].get(k, 0)
        want = 11 if k == "nodata" else 10
        assert grew == want, "holdfast_lb_fallback_answers_total{name=%s,kind=%s} grew by %s, " \
            "want %d (before %s, after %s)" % (n, k, grew, want, before[k], after)
    resp = env.q("static.example.com.")
    assert key_of(resp) == "192.0.2.99", "an unmanaged name changed: %s" % hftest.describe(resp)


def case_cname(tmp, binary):
    """Members without a check are always up: no target servers needed."""
    env = setup(tmp, binary, [], [
        pool("mix", [member("v4", address="192.0.2.1", weight=1),
                     member("v6", address="2001:db8::1", weight=1),
                     member("edge", cname="edge.example.com.", weight=1)]),
        pool("cdn", [member("e1", cname="edge.example.com.", weight=1),
                     member("e2", cname="edge2.example.com.", weight=1)])],
        [record("mix.example.com.", "A", "mix", "weighted"),
         record("mix.example.com.", "AAAA", "mix", "weighted"),
         record("alias.example.com.", "CNAME", "cdn", "weighted")])
    # A: the IPv6 member is not eligible; 1:1 between the address and the CNAME member.
    got = env.shares("mix.example.com.", 10, sockets=1)
    assert dict(got) == {"192.0.2.1": 5, "cname:edge.example.com.": 5}, "mix A: %s" % dict(got)
    got = env.shares("mix.example.com.", 10, "AAAA", sockets=1)
    assert dict(got) == {"2001:db8::1": 5, "cname:edge.example.com.": 5}, \
        "mix AAAA: %s" % dict(got)
    for resp in env.many("mix.example.com.", "A", 4, sockets=1):
        if rrs(resp, "CNAME"):
            assert [r.address for r in rrs(resp, "A")] == ["192.0.2.77"], \
                "the CNAME to edge is not followed in-zone: %s" % hftest.describe(resp)
    txt = env.q("mix.example.com.", "TXT")
    assert txt.rcode() == dns.rcode.NOERROR and not txt.answer, \
        "mix TXT (not managed, no data): want NODATA: %s" % hftest.describe(txt)
    # A managed CNAME answers every type.
    for qtype in ("A", "TXT", "CNAME"):
        got = env.shares("alias.example.com.", 4, qtype, sockets=1)
        assert dict(got) == {"cname:edge.example.com.": 2, "cname:edge2.example.com.": 2}, \
            "alias %s: %s" % (qtype, dict(got))


CASES = {
    "weighted": case_weighted,
    "failover": case_failover,
    "roundrobin": case_roundrobin,
    "srv": case_srv,
    "fallback": case_fallback,
    "alldown": case_alldown,
    "cname": case_cname,
}
