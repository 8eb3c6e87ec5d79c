# SPDX-License-Identifier: MIT
"""The health checks against real servers: HTTPS with a certificate for another name and an
expired one (down, `tls`), tls-verify: false, an HTTP body mismatch (`body`), a POST with a body
and headers (seen by the server), TCP and TLS checks with send/expect-body."""

import re

from lblib import (ZONE, LbEnv, check, down_bound, lbservers, log, member, members_of, pool,
                   record)

BODY = "@ NS ns\nns A 192.0.2.53\n"
DOWN = down_bound(1.0, 2, 0.5)


def same_port(specs):
    """Servers (cls, address, kwargs) all on one port; retried while the port is taken."""
    last = None
    for _ in range(50):
        servers = []
        try:
            for cls, address, kw in specs:
                servers.append(cls(address, servers[0].port if servers else 0, **kw))
            return servers
        except OSError as e:
            last = e
            for s in servers:
                s.stop()
    raise RuntimeError("no common free port: %s" % last)


def start(tmp, binary, checks, pools):
    env = LbEnv(tmp, binary)
    records = [record("%s.example.com." % p["id"], "A", p["id"], "round-robin") for p in pools]
    env.write(checks=checks, pools=pools, records=records,
              zones=[{"domain": ZONE, "file": env.zone_file(ZONE, BODY)}])
    env.start()
    return env


def settled(env, pool_id, want, timeout):
    """Waits until every member of `want` ({id: (state, last_result)}) is there in the API;
    returns the members."""
    for mid, (state, result) in want.items():
        env.wait_member(pool_id, mid, "state %s, last_result %s" % (state, result),
                        lambda m, s=state, r=result: m.get("state") == s and
                        m.get("last_result") == r, timeout)
    return env.pool_members(pool_id)


def check_cli_agrees(env, pool_id, want):
    data = env.cli_json("pool", "status", pool_id)
    got = {mid: (m.get("state"), m.get("last_result")) for mid, m in members_of(data).items()}
    for mid, w in want.items():
        assert got.get(mid) == w, "pool status %s --json: %s is %s, want %s" % (
            pool_id, mid, got.get(mid), w)


def case_https(tmp, binary):
    certs = lbservers.Certs(tmp)
    good = certs.context("www.example.com")
    other = certs.context("other.example.com")
    expired = certs.context("www.example.com", expired=True)
    H = lbservers.HttpTarget
    tls_servers = same_port([(H, "127.0.0.61", {"ssl_context": good}),
                             (H, "127.0.0.62", {"ssl_context": other}),
                             (H, "127.0.0.63", {"ssl_context": expired})])
    plain = same_port([(H, "127.0.0.64", {"body": "NOPE"}),
                       (H, "127.0.0.65", {"body": "all OK here"}),
                       (H, "127.0.0.66", {"status": 202, "body": "accepted"})])
    # The harness itself: a client verifying with the CA accepts only the good server.
    for ip, srv, want in zip(("127.0.0.61", "127.0.0.62", "127.0.0.63"), tls_servers,
                             (None, "Hostname mismatch", "expired")):
        err = certs.client_check(ip, srv.port, "www.example.com")
        assert (err is None) if want is None else (err and want in err), \
            "harness: %s as www.example.com: %s, want %s" % (ip, err, want or "verified")
    tport, hport = tls_servers[0].port, plain[0].port
    checks = [
        check("tlsweb", "https", port=tport, path="/health", host="www.example.com",
              tls_ca=certs.ca),
        check("noverify", "https", port=tport, path="/health", host="www.example.com",
              tls_verify=False),
        check("body", "http", port=hport, path="/", expect_body="OK"),
        check("post", "http", port=hport, path="/probe", method="POST", body='{"probe":1}',
              headers={"X-Probe": "holdfast"}, host="probe.example.com",
              expect_status=["200-299"]),
    ]
    pools = [
        pool("tls", [member("good", address="127.0.0.61"), member("wrongname", address="127.0.0.62"),
                     member("expired", address="127.0.0.63")], check="tlsweb"),
        pool("nv", [member("expired", address="127.0.0.63")], check="noverify"),
        pool("body", [member("nope", address="127.0.0.64"), member("ok", address="127.0.0.65")],
             check="body"),
        pool("post", [member("p", address="127.0.0.66")], check="post"),
    ]
    env = start(tmp, binary, checks, pools)
    want_tls = {"good": ("up", "ok"), "wrongname": ("down", "tls"), "expired": ("down", "tls")}
    ms = settled(env, "tls", want_tls, DOWN + 1)
    log("tls pool: %s" % {k: (m.get("state"), m.get("last_result"), m.get("detail"))
                          for k, m in ms.items()})
    check_cli_agrees(env, "tls", want_tls)
    got = set(env.shares("tls.example.com.", 4, sockets=1))
    assert got == {"127.0.0.61"}, "tls.example.com answers %s, want only the good one" % got
    settled(env, "nv", {"expired": ("up", "ok")}, DOWN + 1)
    want_body = {"nope": ("down", "body"), "ok": ("up", "ok")}
    settled(env, "body", want_body, DOWN + 1)
    check_cli_agrees(env, "body", want_body)
    settled(env, "post", {"p": ("up", "ok")}, DOWN + 1)
    posts = [r for r in plain[2].requests() if r["method"] == "POST"]
    assert posts, "the POST target saw no POST: %s" % plain[2].requests()[:3]
    r = posts[0]
    assert r["path"] == "/probe" and r["body"] == b'{"probe":1}', \
        "POST probe: path %r body %r" % (r["path"], r["body"])
    assert r["headers"].get("x-probe") == "holdfast", "POST probe headers: %s" % r["headers"]
    assert r["headers"].get("host", "").split(":")[0] == "probe.example.com", \
        "POST probe Host: %s" % r["headers"].get("host")
    gets = plain[1].requests()
    assert gets and gets[0]["method"] == "GET" and gets[0]["path"] == "/", \
        "GET probe: %s" % gets[:1]
    text = env.hf.run_log()
    for mid, reason in (("wrongname", "tls"), ("expired", "tls"), ("nope", "body")):
        lines = [ln for ln in text.splitlines() if re.search(r"\b%s\b" % mid, ln)
                 and reason in ln]
        assert lines, "no log line for %s going down with reason %s:\n%s" % (
            mid, reason, env.hf.log_tail(30))


def case_tcp(tmp, binary):
    certs = lbservers.Certs(tmp)
    good = certs.context("www.example.com")
    other = certs.context("other.example.com")
    T = lbservers.TcpTarget
    tcp = same_port([(T, "127.0.0.71", {"reply": "PONG\r\n"}),
                     (T, "127.0.0.72", {"reply": "NOPE\r\n"})])
    # 127.0.0.73 has nothing on that port: refused.
    tls = same_port([(T, "127.0.0.74", {"ssl_context": good, "reply": "PONG\r\n"}),
                     (T, "127.0.0.75", {"ssl_context": other, "reply": "PONG\r\n"})])
    checks = [
        check("tcp", "tcp", port=tcp[0].port, send="PING\r\n", expect_body="PONG"),
        check("tls", "tls", port=tls[0].port, send="PING\r\n", expect_body="PONG",
              host="www.example.com", tls_ca=certs.ca),
    ]
    pools = [
        pool("tcp", [member("pong", address="127.0.0.71"), member("nope", address="127.0.0.72"),
                     member("closed", address="127.0.0.73")], check="tcp"),
        pool("tlsp", [member("pong", address="127.0.0.74"), member("wrongname",
                                                                  address="127.0.0.75")],
             check="tls"),
    ]
    env = start(tmp, binary, checks, pools)
    want = {"pong": ("up", "ok"), "nope": ("down", "body"), "closed": ("down", "refused")}
    settled(env, "tcp", want, DOWN + 1)
    check_cli_agrees(env, "tcp", want)
    want = {"pong": ("up", "ok"), "wrongname": ("down", "tls")}
    settled(env, "tlsp", want, DOWN + 1)
    check_cli_agrees(env, "tlsp", want)
    for srv in (tcp[0], tls[0]):
        seen = [r["data"] for r in srv.requests()]
        assert seen and seen[0] == b"PING\r\n", "%s received %s, want PING\\r\\n" % (srv, seen[:3])
    tcp[1].set("PONG\r\n")
    settled(env, "tcp", {"nope": ("up", "ok")}, down_bound(1.0, 2, 0.5) + 1)


CASES = {
    "https": case_https,
    "tcp": case_tcp,
}
