#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Response rate limiting against a real holdfast (server.rrl, rate-limit 10, slip 2, one client
per /32): a UDP flood from 127.0.0.2 is limited (about half the limited answers slip out
truncated, the rest are dropped; /metrics counts both) while 127.0.0.3, sending at a normal
rate during the flood, gets every answer, and 127.0.0.2 still gets full answers over TCP.
127.0.0.1 (exempt) is never limited. Without an rrl block the same flood is answered in full."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hftest  # noqa: E402

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = """$ORIGIN rrl.example.
$TTL 300
@ SOA ns1 hostmaster 3 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
"""
QNAME = "www.rrl.example."
RATE = 10
FLOOD_SECONDS = 2.0
FLOOD_QPS = 1000


class Flood:
    """UDP queries for QNAME from `source` at about FLOOD_QPS for FLOOD_SECONDS; a receiver
    thread sorts the replies into full answers and truncated (TC) ones by query ID."""

    def __init__(self, port, source):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((source, 0))
        self.port = port
        self.sent = 0
        self.full = 0
        self.truncated = 0
        self.other = []
        self.done = False
        self.ids = set()
        self.seconds = 0.0

    def receive(self):
        self.sock.settimeout(0.2)
        while True:
            try:
                wire, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                if self.done:
                    return
                continue
            resp = dns.message.from_wire(wire)
            if resp.id not in self.ids:
                self.other.append("unexpected id %d" % resp.id)
            elif resp.flags & dns.flags.TC:
                if resp.answer or resp.authority or resp.additional:
                    self.other.append("TC answer with records: %s" % hftest.describe(resp))
                self.truncated += 1
            elif resp.rcode() == dns.rcode.NOERROR and len(resp.answer) == 1:
                self.full += 1
            else:
                self.other.append(hftest.describe(resp))

    def run(self):
        rx = threading.Thread(target=self.receive)
        rx.start()
        t0 = time.monotonic()
        batch = FLOOD_QPS // 50
        try:
            while time.monotonic() - t0 < FLOOD_SECONDS:
                for _ in range(batch):
                    q = hftest.make_query(QNAME, "A")
                    q.id = (self.sent * 7 + 1) & 0xFFFF
                    self.ids.add(q.id)
                    self.sock.sendto(q.to_wire(), (hftest.HOST, self.port))
                    self.sent += 1
                time.sleep(0.02)
            self.seconds = time.monotonic() - t0
            time.sleep(0.5)  # late replies
        finally:
            self.done = True
            rx.join()
            self.sock.close()

    def missing(self):
        return self.sent - self.full - self.truncated


def start(tmp, binary, rrl):
    zone = os.path.join(tmp, "rrl.example.zone")
    with open(zone, "w") as f:
        f.write(ZONE)
    port, http = hftest.free_port(), hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    extra = ["http: %s@%d" % (hftest.HOST, http)]
    if rrl:
        # /32: 127.0.0.2 and 127.0.0.3 are different clients (by default one /24 would share);
        # the test's own checks come from 127.0.0.1, exempt.
        extra.append('rrl: {rate-limit: %d, slip: 2, ipv4-prefix: 32, exempt: ["127.0.0.1"]}'
                     % RATE)
    hftest.write_config(cfg, port, os.path.join(tmp, "store"), [("rrl.example.", zone)],
                        server_extra=extra)
    hf = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start()
    hf.wait_serial("rrl.example.", 3, timeout=30)
    hftest.wait_http(http, server=hf)
    return hf, http


def rrl_counters(http):
    status, _, body = hftest.http_request(http, "/metrics")
    assert status == 200, "GET /metrics -> %d" % status
    s = hftest.parse_prometheus(body)
    return (hftest.metric(s, "holdfast_rrl_limited_total"),
            hftest.metric(s, "holdfast_rrl_slipped_total"))


def case_limited(tmp, binary):
    hf, http = start(tmp, binary, rrl=True)
    assert rrl_counters(http) == (0, 0), "counters before the flood: %s" % (rrl_counters(http),)
    flood = Flood(hf.port, "127.0.0.2")
    thread = threading.Thread(target=flood.run)
    thread.start()
    # 127.0.0.3 during the flood: 15 queries, 100 ms apart (its own budget), each answered.
    time.sleep(0.2)
    good = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    good.bind(("127.0.0.3", 0))
    bystander = []
    try:
        for _ in range(15):
            bystander.append(hftest.query(hf.port, QNAME, "A", timeout=1.0, sock=good))
            time.sleep(0.1)
    finally:
        good.close()
    # TCP is never limited: the flooding address itself is answered in full over TCP.
    tcp = dns.query.tcp(hftest.make_query(QNAME, "A"), hftest.HOST, port=hf.port, timeout=5,
                        source="127.0.0.2")
    thread.join()
    # 127.0.0.1 is exempt: 100 queries at once, far over the rate, all answered in full.
    exempt = [hftest.query(hf.port, QNAME, "A", timeout=1.0) for _ in range(100)]
    assert all(r is not None and not r.flags & dns.flags.TC for r in exempt), \
        "exempt 127.0.0.1 was limited"
    limited, slipped = rrl_counters(http)
    hftest.log("flood from 127.0.0.2: %d sent in %.1f s, %d full answers, %d truncated, "
               "%d without answer; metrics limited=%s slipped=%s"
               % (flood.sent, flood.seconds, flood.full, flood.truncated, flood.missing(),
                  limited, slipped))
    for i, r in enumerate(bystander):
        assert r is not None and not r.flags & dns.flags.TC and len(r.answer) == 1, \
            "127.0.0.3 query %d during the flood: %s" % (i, hftest.describe(r))
    hftest.log("127.0.0.3: %d of %d answered in full during the flood"
               % (len(bystander), len(bystander)))
    assert not tcp.flags & dns.flags.TC and len(tcp.answer) == 1, hftest.describe(tcp)
    assert not flood.other, "unexpected replies: %s" % flood.other[:5]
    # A burst of 4 s x rate, then the rate (plus a second of slack for a slow machine).
    allowed = RATE * 4 + RATE * (flood.seconds + 1.5)
    assert flood.full <= allowed, "%d full answers, at most %.0f expected" % (flood.full, allowed)
    over = flood.sent - flood.full
    assert flood.truncated >= 0.35 * over, \
        "only %d TC answers of %d limited (slip 2: about half)" % (flood.truncated, over)
    assert flood.missing() >= 0.35 * over, \
        "only %d dropped of %d limited (slip 2: about half)" % (flood.missing(), over)
    assert slipped >= flood.truncated, "slipped_total %s < %d TC answers seen" % (
        slipped, flood.truncated)
    assert limited >= slipped + 0.9 * flood.missing(), \
        "limited_total %s does not cover %d slipped + %d dropped" % (limited, slipped,
                                                                      flood.missing())
    assert limited <= over + 1, "limited_total %s > %d responses not answered in full" % (
        limited, over)
    hf.stop()


def case_off(tmp, binary):
    hf, http = start(tmp, binary, rrl=False)
    flood = Flood(hf.port, "127.0.0.2")
    flood.run()
    hftest.log("no rrl: %d sent, %d full answers, %d truncated, %d without answer"
               % (flood.sent, flood.full, flood.truncated, flood.missing()))
    assert flood.truncated == 0 and not flood.other, flood.other[:5]
    # (a UDP packet may be lost under load on a busy machine: allow 1 %)
    assert flood.full >= 0.99 * flood.sent, "%d of %d answered" % (flood.full, flood.sent)
    assert rrl_counters(http) == (0, 0), rrl_counters(http)
    hf.stop()


if __name__ == "__main__":
    hftest.run_cases(__doc__, {"limited": case_limited, "off": case_off}, prefix="hf-rrl-")
