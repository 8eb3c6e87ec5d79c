#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bounded TCP against a real holdfast (serve/worker.h), while other clients are answered:

flood     a client pipelines 100,000 queries and does not read for 5 s: reading from it stops
          once its unsent answers pass the output cap (kernel buffers aside), the server's
          RSS grows by less than 64 MiB, and a second client is answered meanwhile; when it
          reads, every query gets its answer (paused, not cut off).
slow      connections that send one byte every 2 s are closed at tcp-io-timeout (3 s here),
          long before tcp-idle-timeout (20 s) would close them; a normal client meanwhile gets
          its answers and keeps its connection between queries.
per_addr  tcp-max-clients-per-address 3 over 2 workers: the 4th connection from 127.0.0.1 is
          closed at once, while 127.0.0.2 still connects and is answered.
"""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hftest  # noqa: E402

import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = """$ORIGIN tcp.example.
$TTL 300
@ SOA ns1 hostmaster 7 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
a A 192.0.2.10
""" + "".join('big TXT "record %02d padding padding padding padding padding"\n' % i
              for i in range(20))


def frame(msg):
    wire = msg.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_frame(sock):
    data = b""
    while len(data) < 2:
        chunk = sock.recv(2 - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    (n,) = struct.unpack("!H", data)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            raise EOFError("connection closed mid-message")
        body += chunk
    return dns.message.from_wire(body)


def connect(port, source=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(5)
    s.connect((hftest.HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def ask(sock, qname="a.tcp.example.", qtype="A"):
    q = dns.message.make_query(qname, qtype)
    sock.sendall(frame(q))
    r = read_frame(sock)
    assert r.id == q.id and r.rcode() == dns.rcode.NOERROR, hftest.describe(r)
    return r


def closed_by_peer(sock, within):
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(tmp, binary, extra, workers=1):
    path = os.path.join(tmp, "tcp.example.zone")
    with open(path, "w") as f:
        f.write(ZONE)
    port = hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    hftest.write_config(cfg, port, os.path.join(tmp, "store"), [("tcp.example.", path)],
                        workers=workers, server_extra=extra)
    hf = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start()
    hf.wait_serial("tcp.example.", 7, timeout=30)
    return hf, port


def count_frames(sock, want, timeout):
    """Reads raw frames until `want` have arrived (or EOF / timeout); returns the count."""
    sock.settimeout(timeout)
    buf = b""
    count = 0
    deadline = time.monotonic() + timeout
    while count < want and time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 16)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        buf += chunk
        pos = 0
        while len(buf) - pos >= 2:
            (n,) = struct.unpack_from("!H", buf, pos)
            if len(buf) - pos < 2 + n:
                break
            pos += 2 + n
            count += 1
        buf = buf[pos:]
    return count


def tcp_metrics(http_port):
    status, _, body = hftest.http_request(http_port, "/metrics")
    assert status == 200, "GET /metrics: %s" % status
    samples = hftest.parse_prometheus(body)
    return {name: hftest.metric(samples, "holdfast_tcp_%s_total" % name)
            for name in ("paused", "timeouts", "refused")}


def case_flood(tmp, binary):
    http_port = hftest.free_port()
    hf, port = start(tmp, binary, ["tcp-idle-timeout: 60s", "http: 127.0.0.1@%d" % http_port])
    hftest.wait_http(http_port, server=hf)
    before = rss_kib(hf.pid)
    total = 100000
    flood = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: stays small
    flood.connect((hftest.HOST, port))
    batch = frame(dns.message.make_query("a.tcp.example.", "A")) * 1000
    sent = [0]

    def pump():
        flood.settimeout(60)
        try:
            for _ in range(total // 1000):
                flood.sendall(batch)
                sent[0] += 1000
        except OSError:
            pass
    t = threading.Thread(target=pump, daemon=True)
    t.start()
    # The client does not read for 5 s: the server must stop reading from it rather than pile
    # up answers, and keep answering others.
    peak = before
    other = connect(port)
    answered = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5:
        ask(other)
        answered += 1
        peak = max(peak, rss_kib(hf.pid))
        time.sleep(0.02)
    hftest.log("flood: %d of %d queries written while the client did not read; other client "
               "answered %d times" % (sent[0], total, answered))
    assert answered >= 50, "the other client was hardly answered during the flood"
    # Then it reads: every query is answered, none lost (the connection was paused, not cut).
    got = count_frames(flood, total, timeout=90)
    t.join(timeout=5)
    peak = max(peak, rss_kib(hf.pid))
    growth = (peak - before) / 1024.0
    hftest.log("flood: %d answers read, RSS %d -> peak %d KiB (+%.1f MiB)"
               % (got, before, peak, growth))
    assert got == total, "%d of %d pipelined queries answered" % (got, total)
    m = tcp_metrics(http_port)
    hftest.log("flood: metrics %s" % m)
    assert m["paused"] >= 1, "the flooding connection was never paused"
    assert growth < 64, "RSS grew by %.1f MiB under a non-reading pipelining client" % growth
    flood.close()
    ask(other)
    other.close()
    hf.stop()


def case_slow(tmp, binary):
    http_port = hftest.free_port()
    hf, port = start(tmp, binary, ["tcp-idle-timeout: 20s", "tcp-io-timeout: 3s",
                                   "http: 127.0.0.1@%d" % http_port])
    slow = [connect(port) for _ in range(3)]
    q = frame(dns.message.make_query("a.tcp.example.", "A"))
    closed_at = [None] * len(slow)
    t0 = time.monotonic()
    normal = connect(port)
    i = 0
    while time.monotonic() - t0 < 10 and any(c is None for c in closed_at):
        for n, s in enumerate(slow):
            if closed_at[n] is not None:
                continue
            try:
                s.sendall(q[i % len(q):i % len(q) + 1])  # one byte of a query every 2 s
            except OSError:
                closed_at[n] = time.monotonic() - t0
                continue
            if closed_by_peer(s, 0.01):
                closed_at[n] = time.monotonic() - t0
        ask(normal)  # a normal client's queries are answered and keep its connection
        i += 1
        end = time.monotonic() + 2
        while time.monotonic() < end and any(c is None for c in closed_at):
            for n, s in enumerate(slow):
                if closed_at[n] is None and closed_by_peer(s, 0.05):
                    closed_at[n] = time.monotonic() - t0
    hftest.log("slow senders closed after %s s" % ["%.1f" % c if c else None for c in closed_at])
    for c in closed_at:
        assert c is not None, "a slow sender was not closed within 10 s (io timeout 3 s)"
        assert 2.5 <= c <= 5.5, "slow sender closed after %.1f s, want ~3 s" % c
    ask(normal)  # still open: the idle timer restarts with each answered query
    m = tcp_metrics(http_port)
    assert m["timeouts"] == len(slow), "timeouts counted: %s" % m
    normal.close()
    for s in slow:
        s.close()
    hf.stop()


def case_per_addr(tmp, binary):
    hf, port = start(tmp, binary, ["tcp-max-clients-per-address: 3"], workers=2)
    held = [connect(port) for _ in range(3)]
    for h in held:
        ask(h)
    extra = connect(port)
    assert closed_by_peer(extra, 1.0), "4th connection from 127.0.0.1 not refused"
    extra.close()
    other = connect(port, source="127.0.0.2")  # (127.0.0.2 and .1 fall in different buckets)
    ask(other)  # another address has its own count
    hftest.log("per-address limit: 4th from 127.0.0.1 refused, 127.0.0.2 answered")
    held.pop().close()
    time.sleep(0.3)
    again = connect(port)  # the slot is released when a client leaves
    ask(again)
    for s in held + [other, again]:
        s.close()
    hf.stop()


if __name__ == "__main__":
    hftest.run_cases(__doc__, {"flood": case_flood, "slow": case_slow,
                               "per_addr": case_per_addr}, prefix="hf-tcp-")
