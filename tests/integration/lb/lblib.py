# SPDX-License-Identifier: MIT
"""Shared pieces of the traffic-management tests: the per-case environment (holdfast with a
generated config holding `checks:`, `pools:` and `records:`, its DNS and HTTP ports), fast
query sampling, the pool API and CLI, and /metrics."""

import collections
import json
import os
import random
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import hftest  # noqa: E402
import knotmaster  # noqa: E402
import lbservers  # noqa: E402
from hftest import log  # noqa: E402

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

ZONE = "example.com."
START_TIMEOUT = 20.0  # generous: the ASan build starts slowly


def down_bound(interval, fall, timeout):
    """The issue's bound for answers to change after a target fails: interval x fall + timeout
    + 1 s."""
    return interval * fall + timeout + 1.0


def up_bound(interval, rise, timeout):
    """Same for a recovery: interval x rise + timeout + 1 s."""
    return interval * rise + timeout + 1.0


# --- config ----------------------------------------------------------------------------------


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    text = str(v)
    if text and all(c.isalnum() or c in "._-/@" for c in text) and text[0] not in "-@" \
            and text.lower() not in ("yes", "no", "on", "off", "true", "false", "null", "y", "n"):
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _flow(v):
    if isinstance(v, dict):
        return "{%s}" % ", ".join("%s: %s" % (_scalar(k), _flow(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(_flow(x) for x in v)
    return _scalar(v)


def yaml_block(key, items, flow_items=False):
    """`key:` followed by a block list of mappings; nested lists and dicts (members, headers)
    are written in flow style, one member a line."""
    lines = ["%s:" % key]
    for item in items:
        first = True
        for k, v in item.items():
            prefix = "  - " if first else "    "
            first = False
            if k == "members":
                lines.append("%smembers:" % prefix)
                lines += ["      - %s" % _flow(m) for m in v]
            else:
                lines.append("%s%s: %s" % (prefix, k, _flow(v)))
    return lines


def check(cid, ctype="http", interval="1s", timeout="500ms", fall=2, rise=2, **kw):
    """A `checks:` entry (keyword names with _ become -: expect_body -> expect-body)."""
    c = {"id": cid, "type": ctype, "interval": interval, "timeout": timeout, "fall": fall,
         "rise": rise}
    c.update({k.replace("_", "-"): v for k, v in kw.items()})
    return c


def pool(pid, members, check=None, **kw):
    p = {"id": pid}
    if check:
        p["check"] = check
    p.update({k.replace("_", "-"): v for k, v in kw.items()})
    p["members"] = members
    return p


def member(mid, **kw):
    return dict([("id", mid)] + [(k.replace("_", "-"), v) for k, v in kw.items()])


def record(name, rtype, pool_id, policy, **kw):
    r = {"name": name, "type": rtype, "pool": pool_id, "policy": policy}
    r.update({k.replace("_", "-"): v for k, v in kw.items()})
    return r


class Holdfast(hftest.Holdfast):
    preexec_fn = staticmethod(knotmaster.die_with_parent)


class LbEnv:
    """One case's world: a temp dir, holdfast's DNS and HTTP ports, its store and config."""

    def __init__(self, tmp, binary):
        self.tmp = tmp
        self.binary = binary
        self.port = hftest.free_port()
        self.http_port = hftest.free_port()
        self.storage = os.path.join(tmp, "hf-store")
        self.conf = os.path.join(tmp, "holdfast.yaml")
        self.hf = Holdfast(binary, self.conf, self.port, os.path.join(tmp, "holdfast.log"))
        self._socks = []

    def zone_file(self, origin, body, serial=1):
        path = os.path.join(self.tmp, origin + "zone")
        with open(path, "w") as f:
            f.write(knotmaster.zone_text(origin, serial, body, ttl=300))
        return path

    def write(self, checks=(), pools=(), records=(), zones=(), masters=(), workers=1,
              log_level="info"):
        """Writes holdfast.yaml. zones: dicts (domain, file | masters, ...)."""
        lines = ["server:", '  listen: ["%s@%d"]' % (hftest.HOST, self.port),
                 "  workers: %d" % workers, "  storage: %s" % self.storage,
                 "  http: %s@%d" % (hftest.HOST, self.http_port),
                 "log:", "  level: %s" % log_level]
        if masters:
            lines += yaml_block("masters", masters)
        lines += yaml_block("zones", zones)
        if checks:
            lines += yaml_block("checks", checks)
        if pools:
            lines += yaml_block("pools", pools)
        if records:
            lines += yaml_block("records", records)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, zone=ZONE):
        """Starts holdfast (config already written); returns once DNS and HTTP answer."""
        self.hf.start()
        # Any answer is not enough: holdfast answers REFUSED until the zone is loaded.
        deadline = time.monotonic() + START_TIMEOUT
        while hftest.soa_serial(self.port, zone, timeout=0.2) is None:
            assert self.hf.running(), "holdfast exited (%s) during start-up:\n%s" % (
                self.hf.proc.returncode, self.hf.log_tail())
            assert time.monotonic() < deadline, "%s not served within %.0f s:\n%s" % (
                zone, START_TIMEOUT, self.hf.log_tail())
            time.sleep(0.01)
        hftest.wait_http(self.http_port, "/healthz", START_TIMEOUT, server=self.hf)
        log("holdfast up (%.2f s)" % (time.monotonic() - self.hf.started_at))
        return self.hf

    # -- DNS ---------------------------------------------------------------------------------

    def q(self, name, qtype="A", timeout=2.0):
        resp = hftest.query(self.port, name, qtype, timeout=timeout)
        assert resp is not None, "no answer to %s %s; log:\n%s" % (name, qtype,
                                                                   self.hf.log_tail(20))
        return resp

    def _sockets(self, n):
        while len(self._socks) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((hftest.HOST, 0))
            s.settimeout(2.0)
            self._socks.append(s)
        return self._socks[:n]

    def many(self, name, qtype, n, sockets=4):
        """n UDP queries for (name, qtype), `sockets` in flight at a time from as many source
        ports (so with several workers every worker gets some). Returns the responses in the
        order they were sent."""
        socks = self._sockets(sockets)
        base = hftest.make_query(name, qtype).to_wire()
        out = []
        while len(out) < n:
            batch = []
            for s in socks[:min(sockets, n - len(out))]:
                qid = random.randrange(65536)
                s.sendto(qid.to_bytes(2, "big") + base[2:], (hftest.HOST, self.port))
                batch.append((s, qid))
            for s, qid in batch:
                resp = None
                deadline = time.monotonic() + 2.0
                while resp is None and time.monotonic() < deadline:
                    try:
                        wire = s.recv(65535)
                    except socket.timeout:
                        break
                    if int.from_bytes(wire[:2], "big") == qid:
                        resp = dns.message.from_wire(wire)
                assert resp is not None, "no answer to %s %s (%d answered); log:\n%s" % (
                    name, qtype, len(out), self.hf.log_tail(20))
                out.append(resp)
        return out

    def shares(self, name, n, qtype="A", sockets=4):
        """Counter of the single address (or CNAME target) answered for `name` over n queries;
        an answer with zero or several records counts under its text."""
        c = collections.Counter()
        for resp in self.many(name, qtype, n, sockets):
            c[key_of(resp)] += 1
        return c

    def wait_answers(self, name, what, pred, timeout, qtype="A", batch=30, sockets=2):
        """Queries batches of `batch` until pred(Counter of key_of) holds; returns the seconds
        waited. Fails naming `what` with the last batch and the log."""
        t0 = time.monotonic()
        while True:
            got = self.shares(name, batch, qtype, sockets)
            if pred(got):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError("%s %s: %s not reached within %.1f s; last %d answers: %s"
                                     "\nlog tail:\n%s" % (name, qtype, what, timeout, batch,
                                                         dict(got), self.hf.log_tail(20)))
            time.sleep(0.05)

    # -- operator interface ------------------------------------------------------------------

    def api(self, path, method="GET"):
        status, data, _ = hftest.http_json(self.http_port, path, method=method)
        return status, data

    def pool_members(self, pool_id):
        """{member id: member object} from GET /api/v1/pools/POOL."""
        status, data = self.api("/api/v1/pools/" + pool_id)
        assert status == 200, "GET /api/v1/pools/%s -> %d %s" % (pool_id, status, data)
        return members_of(data)

    def wait_member(self, pool_id, mid, what, pred, timeout):
        """Polls the API until pred(member object) holds; returns (object, seconds)."""
        t0 = time.monotonic()
        while True:
            m = self.pool_members(pool_id).get(mid)
            assert m is not None, "no member %s in pool %s" % (mid, pool_id)
            if pred(m):
                return m, time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError("member %s/%s: %s not reached within %.1f s; last: %s\n"
                                     "log tail:\n%s" % (pool_id, mid, what, timeout,
                                                        json.dumps(m), self.hf.log_tail(20)))
            time.sleep(0.1)

    def cli(self, *args, timeout=20):
        """`holdfast ARGS -c CONFIG`: the CompletedProcess."""
        cmd = [self.binary] + list(args) + ["-c", self.conf]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        log("holdfast %s -> exit %d" % (" ".join(args), r.returncode))
        return r

    def cli_ok(self, *args):
        r = self.cli(*args)
        assert r.returncode == 0, "holdfast %s: exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr)
        return r.stdout

    def cli_json(self, *args):
        out = self.cli_ok(*(list(args) + ["--json"]))
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError("holdfast %s --json is not JSON (%s): %r"
                                 % (" ".join(args), e, out[:400]))

    def scrape(self):
        status, _, body = hftest.http_request(self.http_port, "/metrics")
        assert status == 200, "GET /metrics -> %d" % status
        return hftest.parse_prometheus(body)

    def close(self):
        for s in self._socks:
            s.close()
        self._socks = []


# --- answers and API objects -----------------------------------------------------------------


def rrs(resp, rdtype, section="answer"):
    """The rdatas of type `rdtype` in a section, in wire order."""
    out = []
    for rrset in getattr(resp, section):
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            out += list(rrset)
    return out


def addresses(resp):
    """A and AAAA addresses of the answer section, in wire order."""
    return [r.address for r in rrs(resp, "A") + rrs(resp, "AAAA")]


def key_of(resp):
    """A short text for what one answer says: the one address, "cname:TARGET", "NODATA",
    "SERVFAIL", or the addresses joined by commas."""
    rc = resp.rcode()
    if rc != dns.rcode.NOERROR:
        return dns.rcode.to_text(rc)
    cn = rrs(resp, "CNAME")
    if cn:
        return "cname:%s" % cn[0].target.to_text()
    a = addresses(resp)
    return ",".join(a) if a else "NODATA"


def members_of(data):
    """{id: member} of a pool object from the API or the CLI's --json, wherever its `members`
    list sits ({"members": [...]}, {"pool": {...}} ...)."""
    if isinstance(data, dict):
        if isinstance(data.get("members"), list):
            return {m.get("id"): m for m in data["members"]}
        for v in data.values():
            found = members_of(v)
            if found:
                return found
    return {}


def pools_of(data):
    """[pool objects] of GET /api/v1/pools or `pool list --json`."""
    if isinstance(data, list):
        return data
    for k in ("pools", "items"):
        if isinstance(data.get(k), list):
            return data[k]
    raise AssertionError("no pool list in %s" % json.dumps(data)[:400])


def pool_id_of(p):
    return p.get("id", p.get("pool", p.get("name")))


def expect_near(got, want, tol, what):
    """Each key's count within tol of want (keys not in want must be absent)."""
    bad = {k: (got.get(k, 0), v) for k, v in want.items() if abs(got.get(k, 0) - v) > tol}
    extra = {k: n for k, n in got.items() if k not in want}
    assert not bad and not extra, "%s: got %s, want %s +- %d (off: %s, unexpected: %s)" % (
        what, dict(got), want, tol, bad, extra)


def cleanup():
    lbservers.stop_all()
    knotmaster.cleanup_all()
    hftest.cleanup_all()


__all__ = ["hftest", "knotmaster", "lbservers", "log"]
