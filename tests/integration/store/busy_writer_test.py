#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A 1M-record publish does not stall other zones' timers (the single writer thread).

A knotd hidden master serves 100 small zones (s0..s99.test.) and a zone of BIG_RECORDS TXT
records (big.test., ~80 MB of records, so the transfer also flushes a staging batch to the
writer thread). holdfast starts with the 100 small zones, refresh 2 s; once every one is
served and checked, a reload adds big.test., which is transferred and published (the publish
pass over a million names runs for seconds on the writer thread).

From the reload until big.test. is served, plus the time it takes to answer, the SOA checks of
the small zones must keep their schedule: each zone's consecutive successful checks ("refresh,
..., up to date" log lines, millisecond timestamps) are at most REFRESH + LATE apart (no check
late by more than 1 s) and no check fails. Before the writer thread, the publish ran on the
control loop and every timer waited for it. Finally a record near the end of big.test. is
answered correctly.

Heavy (label "heavy", not in the ASan run): knotd needs ~1 GB and tens of seconds to load the
big zone. Run: busy_writer_test.py --holdfast build/holdfast [--keep]
"""

import argparse
import datetime
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "xfr"))
from xfrlib import Env, hftest, knotmaster, log, master, secondary  # noqa: E402

SMALL = ["s%d.test." % i for i in range(100)]
BIG = "big.test."
BIG_RECORDS = 1000000
REFRESH = 2.0
LATE = 1.0
TXT = "x" * 60

LINE_RX = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z \S+ \[([^\]]+)\] (.*)$", re.M)


def write_big(path):
    with open(path, "w") as f:
        f.write(knotmaster.zone_text(BIG, 1, "@ NS ns1\nns1 A 192.0.2.53\n"))
        for k in range(BIG_RECORDS):
            f.write('t%d TXT "%s%d"\n' % (k, TXT, k))


def parse_log(text):
    """(unix seconds, zone, message) of every zone log line."""
    out = []
    for m in LINE_RX.finditer(text):
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        out.append((t, m.group(2), m.group(3)))
    return out


def run(binary, tmp):
    env = Env(tmp, binary)
    knot = env.knot(notify=False, key=None)
    body = "@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n"
    for z in SMALL:
        knot.add_zone(z, knotmaster.zone_text(z, 1, body), notify=False, ixfr=False)
    knot.add_zone(BIG, "", notify=False, ixfr=False)
    write_big(knot.zones[BIG]["file"])
    log("knotd: loading %d small zones and %s with %d records" % (len(SMALL), BIG, BIG_RECORDS))
    knot.start(timeout=600)
    masters = [master("m", knot.address)]
    zones = [secondary(z, ["m"], refresh="2s", retry="1s") for z in SMALL]
    hf = env.holdfast(zones, masters=masters, keys=())
    hf.start()
    for z in SMALL:
        hf.wait_serial(z, 1, 60)
    time.sleep(2 * REFRESH)  # every zone has had its first checks

    env.holdfast(zones + [secondary(BIG, ["m"], refresh="3600s")], masters=masters, keys=())
    t_reload = time.time()
    os.kill(hf.pid, signal.SIGHUP)
    m = hf.wait_log(r"\[big\.test\.\] AXFR, incoming, .*?serial none -> 1, ([\d.]+) s", 900)
    log("big.test. transferred and published in %s s" % m.group(1))
    time.sleep(REFRESH + LATE)  # the checks right after the publish count too
    t_end = time.time()

    events = parse_log(hf.run_log())
    published = [t for t, z, msg in events if z == BIG and msg.startswith("AXFR, incoming")]
    assert published, "no AXFR line for big.test."
    problems, checks = [], 0
    for z in SMALL:
        times = [t for t, zz, msg in events
                 if zz == z and msg.startswith("refresh,") and msg.endswith("up to date")]
        fails = [msg for t, zz, msg in events if zz == z and t >= t_reload and "failed" in msg]
        if fails:
            problems.append("%s: %s" % (z, fails[0]))
        window = [t for t in times if t >= t_reload - REFRESH - LATE]
        checks += len([t for t in window if t >= t_reload])
        window.append(t_end)  # the last check must not be late either
        for a, b in zip(window, window[1:]):
            if b - a > REFRESH + LATE:
                problems.append("%s: no successful check for %.2f s (from %s)" % (
                    z, b - a, datetime.datetime.utcfromtimestamp(a).isoformat()))
                break
    log("%d checks of the small zones in the %.1f s from the reload to the end (the transfer "
        "and publish took %.1f s)" % (checks, t_end - t_reload, published[-1] - t_reload))
    assert not problems, "%d zone(s) off schedule, first ones:\n  %s" % (
        len(problems), "\n  ".join(problems[:10]))
    k = BIG_RECORDS - 7
    resp = hftest.query(hf.port, "t%d.%s" % (k, BIG), "TXT", timeout=3.0)
    assert resp is not None and resp.answer and \
        resp.answer[0][0].to_text() == '"%s%d"' % (TXT, k), hftest.describe(resp)
    hf.stop()
    knot.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--holdfast", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--records", type=int, default=BIG_RECORDS, help="size of big.test.")
    args = ap.parse_args()
    globals()["BIG_RECORDS"] = args.records
    binary = os.path.abspath(args.holdfast)
    hftest.main_wrapper(lambda: hftest.in_workdir("hf-busywriter-", args.keep,
                                                  lambda tmp: run(binary, tmp)))


if __name__ == "__main__":
    main()
