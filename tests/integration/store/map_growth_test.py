#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The map grows many times while everything else goes on: every answer stays correct.

holdfast starts with HOLDFAST_TEST_MAP_SIZE=1 MiB (a test-only initial LMDB map), 4 workers,
20 small primary zones (z0..z19.test.) and one growing zone (big.test.). Then, for DURATION
seconds, all at once:
  - 4 query threads ask, round-robin over the zones, for www.zN.test. TXT (must be "zN",
    NOERROR, AA) and, in big.test., aK.big.test. A for a random K the zone holds in every
    version (must be the address derived from K) and the SOA (serial in the range written);
  - a reload thread rewrites every zone file (serial + 1; big.test. grows by GROW names) and
    sends SIGHUP, waiting for the "zone files: ..." line of each load;
  - a scrape thread GETs /metrics in a loop (200, the storage gauges present).
The load goes on until the map grew MIN_RESIZES times (at most MAX_DURATION). At the end: the
map grew at least MIN_RESIZES times (holdfast_storage_map_resizes_total), not
one answer was wrong or missing, no AddressSanitizer/UBSan report is in the log, and SIGTERM
ends holdfast with exit code 0. Runs in the ASan build as well (about a minute).

Run: map_growth_test.py --holdfast build/holdfast [--keep]
"""

import argparse
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hftest  # noqa: E402
from hftest import log  # noqa: E402

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

SMALL = ["z%d.test." % i for i in range(20)]
BIG = "big.test."
BASE = 20000          # names a0..a{BASE-1} in every version of big.test.
GROW = 12000          # names added to big.test. by every reload
DURATION = 30.0       # seconds of concurrent load, at least
MAX_DURATION = 120.0  # at most
MIN_RESIZES = 3       # 1 MiB -> ... the map must have grown at least this often
QUERY_THREADS = 4
LOAD_TIMEOUT = 60.0   # one reload's zone-file load (ASan build, busy machine)


def addr_of(k):
    return "10.%d.%d.%d" % ((k >> 16) & 255, (k >> 8) & 255, k & 255)


def write_small(path, zone, serial):
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % zone)
        f.write("@ SOA ns1 admin %d 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n" % serial)
        f.write('www TXT "%s"\n' % zone.split(".")[0])
        for i in range(200):
            f.write("h%d A 192.0.2.%d\n" % (i, i % 250))


def write_big(path, serial, names):
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % BIG)
        f.write("@ SOA ns1 admin %d 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n" % serial)
        for k in range(names):
            f.write("a%d A %s\n" % (k, addr_of(k)))


class Failures:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.count = 0

    def add(self, what):
        with self.lock:
            self.count += 1
            if len(self.items) < 20:
                self.items.append(what)


def check_answer(resp, qname, qtype, expect):
    if resp is None:
        return "%s %s: no answer" % (qname, qtype)
    if resp.rcode() != dns.rcode.NOERROR or not resp.flags & dns.flags.AA or not resp.answer:
        return "%s %s: %s" % (qname, qtype, hftest.describe(resp))
    got = resp.answer[0][0].to_text()
    if not expect(got):
        return "%s %s: unexpected %s" % (qname, qtype, got)
    return None


def query_loop(port, stop, fails, counter, serials):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = random.Random()
    n = 0
    while not stop.is_set():
        zone = SMALL[n % len(SMALL)]
        n += 1
        label = zone.split(".")[0]
        resp = hftest.query(port, "www." + zone, "TXT", timeout=3.0, sock=sock)
        err = check_answer(resp, "www." + zone, "TXT", lambda t, l=label: t == '"%s"' % l)
        k = rng.randrange(BASE)
        qname = "a%d.%s" % (k, BIG)
        resp2 = hftest.query(port, qname, "A", timeout=3.0, sock=sock)
        err2 = check_answer(resp2, qname, "A", lambda t, k=k: t == addr_of(k))
        resp3 = hftest.query(port, BIG, "SOA", timeout=3.0, sock=sock)
        err3 = check_answer(resp3, BIG, "SOA",
                            lambda t: serials[0] <= int(t.split()[2]) <= serials[1])
        for e in (err, err2, err3):
            if e:
                fails.add(e)
        with counter[1]:
            counter[0] += 3
    sock.close()


def scrape_loop(http_port, stop, fails, scrapes, last):
    while not stop.is_set():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port,
                                        timeout=10) as r:
                body = r.read().decode()
                if r.status != 200 or "holdfast_storage_map_size_bytes" not in body:
                    fails.add("/metrics: status %d or no storage gauge" % r.status)
                last[0] = body
                scrapes[0] += 1
        except OSError as e:
            fails.add("/metrics: %s" % e)
        time.sleep(0.02)


def metric(body, name):
    m = re.search(r"^%s (\S+)$" % name, body, re.M)
    return float(m.group(1)) if m else None


def reload_loop(hf, tmp, stop, fails, serials, reloads):
    serial, names = 1, BASE
    while not stop.is_set():
        serial += 1
        names += GROW
        for z in SMALL:
            write_small(os.path.join(tmp, z + "zone"), z, serial)
        write_big(os.path.join(tmp, BIG + "zone"), serial, names)
        serials[1] = serial  # answers may show it from now on
        before = hf.run_log().count("zone files: ")
        os.kill(hf.pid, signal.SIGHUP)
        deadline = time.monotonic() + LOAD_TIMEOUT
        while hf.run_log().count("zone files: ") <= before:
            if time.monotonic() > deadline:
                fails.add("reload %d: zone files not loaded within %.0f s" % (serial, LOAD_TIMEOUT))
                return
            time.sleep(0.05)
        reloads[0] += 1


def run(binary, tmp):
    port, http_port = hftest.free_port(), hftest.free_port()
    storage = os.path.join(tmp, "store")
    zones = []
    for z in SMALL:
        path = os.path.join(tmp, z + "zone")
        write_small(path, z, 1)
        zones.append((z, path))
    path = os.path.join(tmp, BIG + "zone")
    write_big(path, 1, BASE)
    zones.append((BIG, path))
    conf = os.path.join(tmp, "holdfast.yaml")
    hftest.write_config(conf, port, storage, zones, workers=4,
                        server_extra=["http: 127.0.0.1@%d" % http_port])
    os.environ["HOLDFAST_TEST_MAP_SIZE"] = str(1 << 20)
    hf = hftest.Holdfast(binary, conf, port, os.path.join(tmp, "holdfast.log"))
    hf.start()
    hf.wait_log(r"zone files: 21 loaded", 60)
    assert hf.wait_answering("a0." + BIG, timeout=20, qtype="A"), "big.test. not answered"

    stop = threading.Event()
    fails = Failures()
    counter = [0, threading.Lock()]
    serials = [1, 1]
    scrapes, reloads, last = [0], [0], [""]
    threads = [threading.Thread(target=query_loop, args=(port, stop, fails, counter, serials))
               for _ in range(QUERY_THREADS)]
    threads.append(threading.Thread(target=scrape_loop,
                                    args=(http_port, stop, fails, scrapes, last)))
    threads.append(threading.Thread(target=reload_loop,
                                    args=(hf, tmp, stop, fails, serials, reloads)))
    for t in threads:
        t.start()
    # At least DURATION; longer (up to MAX_DURATION) until the map grew MIN_RESIZES times, as
    # a slow (ASan) build reloads fewer times in the same time.
    start = time.monotonic()
    while time.monotonic() - start < MAX_DURATION and fails.count == 0:
        grown = metric(last[0], "holdfast_storage_map_resizes_total") or 0
        if time.monotonic() - start >= DURATION and grown >= MIN_RESIZES:
            break
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=LOAD_TIMEOUT + 10)
    body = last[0]
    resizes = metric(body, "holdfast_storage_map_resizes_total") or 0
    map_size = metric(body, "holdfast_storage_map_size_bytes") or 0
    log("%d answers checked, %d reloads, %d scrapes, map %.0f MiB after %d resizes, %d wrong"
        % (counter[0], reloads[0], scrapes[0], map_size / (1 << 20), resizes, fails.count))
    assert fails.count == 0, "%d wrong answers or errors, first ones:\n  %s" % (
        fails.count, "\n  ".join(fails.items))
    assert reloads[0] >= 3, "only %d reloads completed" % reloads[0]
    assert counter[0] > 300, "only %d answers" % counter[0]
    assert resizes >= MIN_RESIZES, "the map grew %d times, expected >= %d" % (resizes,
                                                                           MIN_RESIZES)
    hf.stop()  # fails unless holdfast exits 0 on SIGTERM
    text = hf.run_log()
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "ThreadSanitizer"):
        assert bad not in text, "sanitizer report in the log:\n%s" % hf.log_tail(60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--holdfast", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.holdfast)
    hftest.main_wrapper(lambda: hftest.in_workdir("hf-mapgrow-", args.keep,
                                                  lambda tmp: run(binary, tmp)))


if __name__ == "__main__":
    main()
