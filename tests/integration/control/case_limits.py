# SPDX-License-Identifier: MIT
"""Limits of the HTTP plane and of per-packet logging: a request body over 64 KiB gets 413 (one
just under is read), a client that stalls mid-request or sends nothing is cut off after the 5 s
I/O timeout (plus the 2 s idle wait) while others are served; 10,000 refused NOTIFYs from one source give a handful of
log lines, each later one with the count of those not logged, while the counter counts all."""

import re
import socket
import time

import dns.flags
import dns.message
import dns.opcode
import dns.rdatatype

from ctllib import PRIM, CtlEnv, hftest, log, metric

IO_TIMEOUT = 5.0  # per read or write
IDLE = 2.0  # between requests on a kept-alive connection
FLOOD = 10000
RATE_LIMIT = 3  # s, log.rate-limit in this test's config
REFUSED_RX = r"\[(\S+)\] NOTIFY, incoming, remote 127\.0\.0\.1@\d+, serial none, refused: [^\n]*"
MORE_RX = r"\((\d+) similar NOTIFY line\(s\) from this source not logged in the last %d s\)"


def raw_request(port, head, body=b"", timeout=10.0):
    """Sends head + body on a fresh connection; returns (status, body text) of the reply."""
    with socket.create_connection((hftest.HOST, port), timeout=timeout) as s:
        s.sendall(head + body)
        reply = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
            if b"\r\n\r\n" in reply:
                head_end = reply.index(b"\r\n\r\n") + 4
                m = re.search(rb"(?i)content-length:\s*(\d+)", reply[:head_end])
                if m and len(reply) >= head_end + int(m.group(1)):
                    break
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else None
    return status, reply.decode("utf-8", "replace")


def post_with_body(port, path, size, token):
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (path, token or "", size)).encode()
    return raw_request(port, head, b"x" * size)


def check_body_limit(env):
    path = "/api/v1/zones/nope.test./refresh"
    status, text = post_with_body(env.http_port, path, 64 * 1024 - 1, env.token)
    assert status == 404, "POST of 64 KiB - 1 -> %s, want 404 (read, zone unknown):\n%s" % (
        status, text[:400])
    status, text = post_with_body(env.http_port, path, 64 * 1024 + 1, env.token)
    assert status == 413, "POST of 64 KiB + 1 -> %s, want 413:\n%s" % (status, text[:400])
    log("request bodies: 64 KiB - 1 read (404), 64 KiB + 1 refused with 413")


def time_to_close(port, send, limit=15.0):
    """Seconds until the server closes a connection that sent `send` and then nothing."""
    s = socket.create_connection((hftest.HOST, port), timeout=limit)
    t0 = time.monotonic()
    try:
        if send:
            s.sendall(send)
        while True:
            try:
                if not s.recv(4096):
                    break
            except ConnectionResetError:
                break
            except socket.timeout:
                raise AssertionError("a stalled HTTP client (sent %r) still connected after "
                                     "%.0f s" % (send, limit))
    finally:
        s.close()
    return time.monotonic() - t0


def check_slow_clients(env):
    # Three stalled clients at once (headers cut short, nothing at all, a body promised and
    # not sent), timed in threads while /healthz keeps answering.
    import threading
    stalls = {"half a header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
              "nothing": b"",
              "a missing body": b"POST /api/v1/zones/nope.test./refresh HTTP/1.1\r\n"
                                b"Host: x\r\nAuthorization: Bearer %s\r\n"
                                b"Content-Length: 100\r\n\r\nabc" % env.token.encode()}
    took = {}

    def run(name, data):
        try:
            took[name] = time_to_close(env.http_port, data)
        except AssertionError as e:
            took[name] = e

    threads = [threading.Thread(target=run, args=kv) for kv in stalls.items()]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    while any(t.is_alive() for t in threads):
        status, _, _ = hftest.http_request(env.http_port, "/healthz", timeout=2.0)
        assert status == 200, "/healthz while clients stall: %d" % status
        time.sleep(0.2)
        assert time.monotonic() - t0 < 30, "stalled clients never cut off"
    for t in threads:
        t.join()
    for name, secs in took.items():
        if isinstance(secs, Exception):
            raise secs
        # The 5 s I/O timeout, plus the 2 s idle wait that follows the 400 of a request cut
        # short; a client that sent nothing only waits out the idle time.
        low = IDLE - 0.5 if name == "nothing" else IO_TIMEOUT - 0.5
        assert low <= secs <= IO_TIMEOUT + IDLE + 1.5, \
            "a client that sent %s was cut off after %.1f s, want %.1f..%.1f s" % (
                name, secs, low, IO_TIMEOUT + IDLE + 1.5)
    log("stalled HTTP clients cut off after %s s; /healthz answered meanwhile"
        % ", ".join("%.1f" % s for s in took.values()))


def notify_wire(zone):
    q = dns.message.make_query(zone, dns.rdatatype.SOA, use_edns=False)
    q.flags = dns.flags.AA
    q.set_opcode(dns.opcode.NOTIFY)
    return q.to_wire()


def refused_lines(hf, mark):
    return re.findall(REFUSED_RX, hftest.log_since(hf, mark))


def refused_total(env):
    samples, _, _ = env.scrape()
    return int(metric(samples, "holdfast_notifies_total", result="refused"))


def check_notify_flood(env, hf):
    before = refused_total(env)
    mark = hftest.log_mark(hf)
    wire = notify_wire(PRIM)  # a primary zone here: every NOTIFY for it is refused
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    t0 = time.monotonic()
    for i in range(FLOOD):
        s.sendto(wire, (hftest.HOST, hf.port))
        if i % 50 == 49:
            time.sleep(0.002)  # let the server keep up (the socket buffer holds few packets)
    s.close()
    last, flood = -1, refused_total(env) - before
    while flood != last and flood < FLOOD:  # until all came, or no more for 0.5 s
        time.sleep(0.5)
        last, flood = flood, refused_total(env) - before
    sent_in = time.monotonic() - t0
    # UDP: what the kernel dropped never reached holdfast; the rest must all be counted.
    assert flood >= FLOOD * 0.5, "only %d of %d NOTIFYs counted" % (flood, FLOOD)
    lines = refused_lines(hf, mark)
    most = int(sent_in / RATE_LIMIT) + 2
    assert 1 <= len(lines) <= most, "%d refused-NOTIFY lines for %d NOTIFYs sent in %.1f s " \
        "(log.rate-limit %d s), want 1..%d" % (len(lines), flood, sent_in, RATE_LIMIT, most)
    # After the interval, one more: its line counts every one not logged since.
    time.sleep(RATE_LIMIT + 0.5)
    later = hftest.log_mark(hf)
    hftest.send_notify(hf.port, PRIM)
    hftest.wait_log_since(hf, later, REFUSED_RX, 3)
    last = hftest.log_since(hf, later)
    m = re.search(MORE_RX % RATE_LIMIT, last)
    assert m, "the line after the flood has no count of the lines not logged:\n%s" % last
    # Every line but the first says how many went unlogged before it: together, all the rest.
    counts = [int(c) for c in re.findall(MORE_RX % RATE_LIMIT, hftest.log_since(hf, mark))]
    total = refused_total(env) - before
    assert total == flood + 1, "refused counter %d, want %d (exact)" % (total, flood + 1)
    assert len(counts) == len(lines) and sum(counts) == flood - len(lines), \
        "counts %s in %d lines after %d refused NOTIFYs: want them to add up to %d" % (
            counts, len(lines) + 1, flood, flood - len(lines))
    log("%d refused NOTIFYs in %.1f s: %d log line(s), then one saying %s not logged; "
        "the counter says %d" % (flood, sent_in, len(lines), m.group(1), total))


def case_limits(tmp, binary):
    env = CtlEnv(tmp, binary)
    hf = env.holdfast([{"domain": PRIM, "file": env.primary_file()}], token="t0k")
    with open(hf.config) as f:
        text = f.read()
    with open(hf.config, "w") as f:
        f.write(text.replace("\nlog:\n", "\nlog:\n  rate-limit: %ds\n" % RATE_LIMIT, 1))
    hf.start()
    hf.wait_answering(PRIM)
    env.wait_http()
    check_body_limit(env)
    check_slow_clients(env)
    check_notify_flood(env, hf)
    hf.stop()
