#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Failover time of a managed name (issue 11): seconds from a health-checked target failing
(its HTTP server starts answering 503) to holdfast's answers switching to the backup, and from
it recovering to the answers switching back.

One holdfast (127.0.0.1, free port, its own temp dir) serves a small zone with one managed A
name, `fo.<origin>`, policy failover over a 2-member pool: `primary` (192.0.2.10, tier 1,
checked by http at 127.0.0.2:PORT/health, interval 1s, timeout 500ms, fall 2, rise 2) and
`backup` (192.0.2.20, tier 2, no check: always up, never probed). A Python HTTP server on
127.0.0.2 (free port) is the target. The name is polled with dnspython every 50 ms; each
repeat: wait for the primary, flip the server to 503, time until the answer is the backup, flip
it back to 200, time until the answer is the primary. Only 127.0.0.0/8 is contacted.
Prints one `key=value` line (down_s=a,b,c up_s=a,b,c ...) on stdout; progress on stderr.
The bound the issue sets: interval x fall + timeout + 1 s (3.5 s) for a failure, the same with
rise for a recovery (probes are jittered within the interval, the DNS poll adds up to 50 ms)."""
import argparse
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dns.message
import dns.query
import dns.rdatatype

PRIMARY, BACKUP = "192.0.2.10", "192.0.2.20"
INTERVAL, TIMEOUT, FALL, RISE = 1.0, 0.5, 2, 2


class Target(http.server.BaseHTTPRequestHandler):
    status = 200  # flipped by the main thread; read per request

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b"OK\n" if Target.status == 200 else b"down\n"
        self.send_response(Target.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def free_port(addr):
    """A port free for both UDP and TCP on addr (holdfast listens on both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((addr, 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((addr, port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def write_config(d, origin, dns_port, http_port):
    with open(os.path.join(d, "lb.zone"), "w") as f:
        f.write(f"$ORIGIN {origin}\n$TTL 300\n"
                f"@ SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 300\n"
                f"@ NS ns.{origin}\nns A 192.0.2.53\nfo A 192.0.2.99\n")
    with open(os.path.join(d, "holdfast.yaml"), "w") as f:
        f.write(f"""server:
  listen: ["127.0.0.1@{dns_port}"]
  workers: 1
  storage: {d}/store
zones:
  - domain: {origin}
    file: {d}/lb.zone
checks:
  - {{id: fo, type: http, port: {http_port}, path: /health, interval: {int(INTERVAL * 1000)}ms,
     timeout: {int(TIMEOUT * 1000)}ms, fall: {FALL}, rise: {RISE}}}
pools:
  - id: fo
    members:
      - {{id: primary, address: {PRIMARY}, tier: 1, check: fo, check-address: 127.0.0.2}}
      - {{id: backup, address: {BACKUP}, tier: 2}}
records:
  - {{name: fo.{origin}, type: A, pool: fo, policy: failover, ttl: 1s}}
""")


def answer(port, name):
    """The A addresses answered for name, or None (no answer, timeout)."""
    q = dns.message.make_query(name, dns.rdatatype.A)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.2)
    except Exception:  # noqa: BLE001 (timeouts, refused: not an answer yet)
        return None
    return sorted(rr.address for rrs in r.answer if rrs.rdtype == dns.rdatatype.A for rr in rrs)


def wait_for(port, name, want, limit, poll):
    """Seconds until the answer is exactly [want], polling every `poll` s; None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if answer(port, name) == [want]:
            return time.monotonic() - t0
        time.sleep(poll)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holdfast", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--poll", type=float, default=0.05, help="seconds between DNS polls")
    ap.add_argument("--origin", default="lb.bench.example.")
    ap.add_argument("--cpu", help="pin holdfast to this core (taskset)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    d = tempfile.mkdtemp(prefix="holdfast-lbfail.")
    http_port, dns_port = free_port("127.0.0.2"), free_port("127.0.0.1")
    srv = http.server.ThreadingHTTPServer(("127.0.0.2", http_port), Target)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    write_config(d, args.origin, dns_port, http_port)
    cmd = [args.holdfast, "run", "-c", os.path.join(d, "holdfast.yaml")]
    if args.cpu is not None:
        cmd = ["taskset", "-c", args.cpu] + cmd
    log = open(os.path.join(d, "holdfast.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    name = "fo." + args.origin
    down, up = [], []
    rc = 0
    try:
        if wait_for(dns_port, name, PRIMARY, 30, args.poll) is None:
            raise RuntimeError(f"holdfast never answered {PRIMARY} for {name}")
        for i in range(args.repeats):
            # Settle: at least one full interval with the target up, so each repeat starts from
            # the same state (primary up, success streak full).
            time.sleep(INTERVAL * RISE)
            Target.status = 503
            t = wait_for(dns_port, name, BACKUP, 30, args.poll)
            if t is None:
                raise RuntimeError("answers never switched to the backup")
            down.append(t)
            Target.status = 200
            t2 = wait_for(dns_port, name, PRIMARY, 30, args.poll)
            if t2 is None:
                raise RuntimeError("answers never switched back to the primary")
            up.append(t2)
            print(f"lb_failover: repeat {i + 1}: down->backup {t:.2f} s, "
                  f"up->primary {t2:.2f} s", file=sys.stderr)
    except RuntimeError as e:
        print(f"lb_failover: {e}; holdfast log: {d}/holdfast.log", file=sys.stderr)
        args.keep, rc = True, 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        srv.shutdown()
        log.close()
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    fmt = lambda xs: ",".join(f"{x:.2f}" for x in xs) or "-"  # noqa: E731
    print(f"down_s={fmt(down)} up_s={fmt(up)} interval_s={INTERVAL} timeout_s={TIMEOUT} "
          f"fall={FALL} rise={RISE} poll_s={args.poll} "
          f"bound_down_s={INTERVAL * FALL + TIMEOUT + 1} "
          f"bound_up_s={INTERVAL * RISE + TIMEOUT + 1}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
