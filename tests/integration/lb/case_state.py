# SPDX-License-Identifier: MIT
"""State that must hold: the overlay on a secondary zone transferred from a real knotd (the
managed RRset replaces the master's, also after an IXFR; other data untouched; a managed name
the zone lacks exists), and a restart (SIGTERM, SIGKILL) that answers exactly as before, with
operator states and last health restored, before any probe could have changed them."""

import json
import signal
import time

import dns.flags
import dns.rcode

from lblib import (ZONE, LbEnv, check, hftest, key_of, knotmaster, lbservers, log, member,
                   pool, record, rrs)

SEC = "sec.example."
SEC_V1 = """@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
www AAAA 2001:db8::80
www TXT "master"
other A 192.0.2.81
"""
# v2 changes the managed pair too: that part of the IXFR must not reach the answers.
SEC_V2 = """@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.90
www AAAA 2001:db8::80
www TXT "master"
other A 192.0.2.82
extra A 192.0.2.83
"""
MANAGED = {"198.51.100.1", "198.51.100.2"}


def a_set(resp):
    return {r.address for r in rrs(resp, "A")}


def check_overlay(env, serial, other):
    www = env.q("www." + SEC)
    assert www.flags & dns.flags.AA and a_set(www) == MANAGED, \
        "serial %d: www A %s, want the managed %s" % (serial, hftest.describe(www), MANAGED)
    assert www.answer[0].ttl == 60, "www A TTL %d, want 60" % www.answer[0].ttl
    aaaa = env.q("www." + SEC, "AAAA")
    assert [r.address for r in rrs(aaaa, "AAAA")] == ["2001:db8::80"], \
        "serial %d: www AAAA (not managed) %s" % (serial, hftest.describe(aaaa))
    txt = env.q("www." + SEC, "TXT")
    assert [r.strings for r in rrs(txt, "TXT")] == [(b"master",)], \
        "serial %d: www TXT %s" % (serial, hftest.describe(txt))
    o = env.q("other." + SEC)
    assert a_set(o) == {other}, "serial %d: other A %s, want %s" % (serial, a_set(o), other)
    new = env.q("new." + SEC)
    assert a_set(new) <= MANAGED and len(a_set(new)) == 1, \
        "serial %d: new A (managed, not in the zone) %s" % (serial, hftest.describe(new))
    nodata = env.q("new." + SEC, "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and \
        hftest.authority_serial(nodata) == serial, \
        "serial %d: new TXT, want NODATA with the SOA: %s" % (serial, hftest.describe(nodata))


def case_overlay(tmp, binary):
    env = LbEnv(tmp, binary)
    knot = knotmaster.KnotMaster(tmp, notify_to=(hftest.HOST, env.port))
    knot.add_zone(SEC, knotmaster.zone_text(SEC, 1, SEC_V1))
    knot.start()
    env.write(masters=[{"id": "knot", "addresses": [knot.address]}],
              zones=[{"domain": SEC, "masters": ["knot"], "refresh": "60s"}],
              pools=[pool("ov", [member("o1", address="198.51.100.1"),
                                 member("o2", address="198.51.100.2")])],
              records=[record("www." + SEC, "A", "ov", "round-robin"),
                       record("new." + SEC, "A", "ov", "weighted")])
    env.start(zone=SEC)
    env.hf.wait_serial(SEC, 1, 20)
    check_overlay(env, 1, "192.0.2.81")
    mark = hftest.log_mark(env.hf)
    knot.set_zone(SEC, knotmaster.zone_text(SEC, 2, SEC_V2))
    env.hf.wait_serial(SEC, 2, 10)
    log("serial 2 served")
    text = hftest.log_since(env.hf, mark)
    assert "IXFR" in text, "serial 2 did not come by IXFR; log since:\n%s" % text[-2000:]
    check_overlay(env, 2, "192.0.2.82")
    extra = env.q("extra." + SEC)
    assert a_set(extra) == {"192.0.2.83"}, "extra A after the IXFR: %s" % hftest.describe(extra)


# --- restart ---------------------------------------------------------------------------------

IPS = ["127.0.0.101", "127.0.0.102", "127.0.0.103", "127.0.0.104", "127.0.0.105"]
A1, A2, B, C, D = IPS
NAME = "rs.example.com."


def restart_config(env, port):
    env.write(checks=[check("web", "http", port=port, path="/health"),
                      # d: down at its first failure; back only after 10 successes (>= 9 s):
                      # right after a restart, a probe cannot have brought it back.
                      check("slow-rise", "http", port=port, path="/health", fall=1, rise=10)],
              pools=[pool("rs", [member("a1", address=A1, weight=2),
                                 member("a2", address=A2, weight=1),
                                 member("b", address=B), member("c", address=C),
                                 member("d", address=D, check="slow-rise")], check="web")],
              records=[record(NAME, "A", "rs", "weighted")],
              zones=[{"domain": ZONE, "file": env.zone_file(ZONE, "@ NS ns\nns A 192.0.2.53\n")}])


def snapshot(env):
    """(30 answers as a Counter from one socket: one worker, exact 2:1 shares, and the
    members' (state, admin))."""
    got = dict(env.shares(NAME, 30, sockets=1))
    ms = env.pool_members("rs")
    return got, {k: (m.get("state"), m.get("admin")) for k, m in ms.items()}


WANT_ANSWERS = {A1: 20, A2: 10}
WANT_MEMBERS = {"a1": ("up", "auto"), "a2": ("up", "auto"), "b": ("drain", "drain"),
                "c": ("down", "down"), "d": ("down", "auto")}


def case_restart(tmp, binary):
    servers = lbservers.group(lbservers.HttpTarget, IPS)
    env = LbEnv(tmp, binary)
    restart_config(env, servers[0].port)
    env.start()
    servers[4].set(status=503)
    env.wait_member("rs", "d", "down", lambda m: m.get("state") == "down", 4)
    env.cli_ok("pool", "drain", "rs", "b")
    env.cli_ok("pool", "disable", "rs", "c")
    env.wait_answers(NAME, "only a1 and a2", lambda g: set(g) == {A1, A2}, 2)
    for how in ("SIGTERM", "SIGKILL"):
        # d's target is fine again: only the restored health keeps d out after the restart.
        servers[4].set(status=200)
        last = snapshot(env)
        log("before %s: %s" % (how, json.dumps(last)))
        assert last == (WANT_ANSWERS, WANT_MEMBERS), "before %s: %s" % (how, last)
        if how == "SIGTERM":
            env.hf.stop()
        else:
            env.hf.kill(signal.SIGKILL)
        env.close()
        t0 = time.monotonic()
        env.start()
        first = snapshot(env)
        log("after %s (%.2f s): %s" % (how, time.monotonic() - t0, json.dumps(first)))
        assert first[0] == last[0], "first answers after %s %s, before %s" % (
            how, first[0], last[0])
        assert first[1] == last[1], "members after %s %s, before %s" % (how, first[1], last[1])
        m = env.pool_members("rs")["d"]
        assert m.get("last_result") in ("status", "ok"), "d after %s: %s" % (how, m)
        servers[4].set(status=503)  # keeps d down until the next round
    # Health checking goes on after a restart: c and b back under auto, d's failure seen.
    env.cli_ok("pool", "auto", "rs", "b")
    env.cli_ok("pool", "auto", "rs", "c")
    env.wait_answers(NAME, "a1 a2 b c", lambda g: set(g) == {A1, A2, B, C}, 2, batch=25)
    assert key_of(env.q(NAME)) in (A1, A2, B, C)


def case_reload(tmp, binary):
    """SIGHUP with a new record on the same pool: the member that is down stays down (its
    target healthy again, rise 10: only the kept state keeps it out), the new name answers."""
    ips = IPS[:3]
    servers = lbservers.group(lbservers.HttpTarget, ips)
    env = LbEnv(tmp, binary)

    def write(records):
        env.write(checks=[check("web", "http", port=servers[0].port, path="/health", fall=1,
                                rise=10)],
                  pools=[pool("rl", [member("x", address=ips[0]), member("y", address=ips[1]),
                                     member("z", address=ips[2])], check="web")],
                  records=records, zones=[{"domain": ZONE, "file": env.zone_file(
                      ZONE, "@ NS ns\nns A 192.0.2.53\n")}])
    write([record("one.example.com.", "A", "rl", "round-robin")])
    env.start()
    servers[2].set(status=503)
    env.wait_member("rl", "z", "down", lambda m: m.get("state") == "down", 4)
    servers[2].set(status=200)
    write([record("one.example.com.", "A", "rl", "round-robin"),
           record("two.example.com.", "A", "rl", "round-robin")])
    mark = hftest.log_mark(env.hf)
    env.hf.kill(signal.SIGHUP)
    hftest.wait_log_since(env.hf, mark, r"(?i)reload", 10)
    t0 = time.monotonic()
    while env.q("two.example.com.").rcode() != dns.rcode.NOERROR or \
            not rrs(env.q("two.example.com."), "A"):
        assert time.monotonic() - t0 < 5, "two.example.com not answered after the reload:\n%s" \
            % env.hf.log_tail(20)
        time.sleep(0.05)
    for name in ("one.example.com.", "two.example.com."):
        got = {a for r in env.many(name, "A", 4, sockets=1) for a in key_of(r).split(",")}
        assert got == {ips[0], ips[1]}, "%s after the reload: %s, want x and y (z stays " \
            "down)" % (name, sorted(got))
    assert env.pool_members("rl")["z"].get("state") == "down"


CASES = {
    "overlay": case_overlay,
    "restart": case_restart,
    "reload": case_reload,
}
