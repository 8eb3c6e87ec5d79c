#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""RFC 7766 DNS over TCP against a real holdfast: pipelined queries answered in order, a query
split across segments, the idle timeout, the per-worker connection limit, and a client that
vanishes mid-stream (the server must keep serving)."""

import argparse
import os
import socket
import struct
import sys
import tempfile
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
b A 192.0.2.11
c A 192.0.2.12
"""


def frame(msg):
    wire = msg.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_frame(sock):
    head = b""
    while len(head) < 2:
        chunk = sock.recv(2 - len(head))
        if not chunk:
            raise EOFError("connection closed")
        head += chunk
    (n,) = struct.unpack("!H", head)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            raise EOFError("connection closed mid-message")
        body += chunk
    return dns.message.from_wire(body)


def connect(port):
    s = socket.create_connection((hftest.HOST, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_by_peer(sock, within):
    """True when the server closes the connection within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test(binary):
    tmp = tempfile.mkdtemp(prefix="holdfast-tcp-")
    zone = os.path.join(tmp, "tcp.example.zone")
    with open(zone, "w") as f:
        f.write(ZONE)
    port = hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    hftest.write_config(cfg, port, os.path.join(tmp, "store"), [("tcp.example.", zone)],
                        server_extra=["tcp-idle-timeout: 1s", "tcp-max-clients: 3"])
    with hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start() as hf:
        hf.wait_serial("tcp.example.", 7, timeout=30)

        # RFC 7766 6.2.1.1: pipelined queries in one segment, each answered, IDs matched.
        s = connect(port)
        queries = [dns.message.make_query(n + ".tcp.example.", "A") for n in ("a", "b", "c")]
        s.sendall(b"".join(frame(q) for q in queries))
        answers = {}
        for _ in queries:
            r = read_frame(s)
            answers[r.id] = r
        for q in queries:
            r = answers.get(q.id)
            assert r is not None, "no answer for pipelined query %s" % q.question[0].name
            assert r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1, hftest.describe(r)
            assert r.answer[0].name == q.question[0].name, hftest.describe(r)
        hftest.log("pipelined: 3 queries, 3 matching answers")

        # A query dribbled byte by byte (length prefix split too) is still answered.
        q = dns.message.make_query("a.tcp.example.", "A")
        for byte in frame(q):
            s.sendall(bytes([byte]))
            time.sleep(0.002)
        r = read_frame(s)
        assert r.id == q.id and r.answer[0][0].address == "192.0.2.10", hftest.describe(r)
        hftest.log("split frame answered")

        # RFC 7766 6.2.3: an idle connection is closed by the server (timeout 1 s here).
        t = time.monotonic()
        assert closed_by_peer(s, 4.0), "idle connection not closed within 4 s"
        idle = time.monotonic() - t
        assert idle >= 0.8, "closed after %.2f s, before the 1 s idle timeout" % idle
        s.close()
        hftest.log("idle connection closed after %.2f s" % idle)

        # Connection limit: tcp-max-clients 3 on the single worker; a 4th is closed at once.
        held = [connect(port) for _ in range(3)]
        for h in held:  # each is really accepted and served
            h.sendall(frame(dns.message.make_query("b.tcp.example.", "A")))
            read_frame(h)
        extra = connect(port)
        assert closed_by_peer(extra, 0.5), "4th connection over tcp-max-clients not closed"
        extra.close()
        for h in held:
            h.close()
        time.sleep(0.2)
        again = connect(port)  # slots are released when clients leave
        again.sendall(frame(dns.message.make_query("c.tcp.example.", "A")))
        assert read_frame(again).answer[0][0].address == "192.0.2.12"
        again.close()
        hftest.log("connection limit enforced and released")

        # A client that sends queries and disappears without reading does not hurt the server.
        for _ in range(20):
            c = connect(port)
            c.sendall(b"".join(frame(dns.message.make_query("a.tcp.example.", "TXT"))
                               for _ in range(50)))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()  # RST
        r = hftest.query(port, "a.tcp.example.", "A")
        assert r is not None and r.rcode() == dns.rcode.NOERROR, "server stopped answering"
        hftest.log("server still answers after 20 vanished clients")
        hf.stop()  # must exit cleanly (exit code 0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--holdfast", required=True)
    args = ap.parse_args()
    hftest.main_wrapper(lambda: test(args.holdfast))
