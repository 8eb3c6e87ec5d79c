#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTTP control plane (server.http, server.http-token) against a real knotd master.

Cases (--case NAME, repeatable; default: all, each in its own temp dir):
  metrics  `promtool check metrics` accepts /metrics (Content-Type text/plain; version=0.0.4);
           after the first AXFR: served serial == master serial, sync lag 0, master reachable,
           one AXFR success, timestamps, size, zone counts; query counters by protocol, type
           and rcode, truncated and dropped packets, TCP connections; NOTIFY refused from a
           non-master; NOTIFY + IXFR (ixfr success 1, serial follows); a master ahead that
           refuses the transfer (master_serial ahead, lag growing); a SIGKILLed master
           (reachable 0, lag growing by ~2 s over 2 s, zone still served)
  api      /healthz; /readyz 503 naming a zone whose master is silent until its first attempt
           failed, then 200; GET /api/v1/zones and /api/v1/zones/<zone> fields and counters;
           404 unknown zone, 409 refresh/retransfer of a primary zone; POST refresh (a new
           refresh line) and retransfer (a new AXFR, axfr_success 2); http-token: 401 without
           or with a wrong token, 200 with it, /metrics /healthz /readyz stay open
  cli      `holdfast zone list` table and --json, `zone status`, `zone refresh`/`retransfer`
           (seen in the log), the token read from the config; non-zero exit with a message for
           an unknown zone, a primary zone's refresh, a wrong token and a stopped server;
           --help on every command
  user     server.user: bound as root, then running as nobody (every uid), storage handed over,
           DNS and /healthz answered, clean stop (skipped when not root)
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctllib import PROMTOOL, hftest, knotmaster, log  # noqa: E402

import case_api  # noqa: E402
import case_cli  # noqa: E402
import case_metrics  # noqa: E402
import case_user  # noqa: E402

CASES = {
    "metrics": case_metrics.case_metrics,
    "api": case_api.case_api,
    "cli": case_cli.case_cli,
    "user": case_user.case_user,
}


def cleanup():
    knotmaster.cleanup_all()
    hftest.cleanup_all()


def run_case(name, binary, keep):
    tmp = tempfile.mkdtemp(prefix="hf-ctl-%s-" % name)
    log("=== %s (workdir %s)" % (name, tmp))
    t0 = time.monotonic()
    try:
        CASES[name](tmp, binary)
        log("=== %s: PASS (%.1f s)" % (name, time.monotonic() - t0))
        return True
    except AssertionError as e:
        log("=== %s: FAIL (%.1f s): %s" % (name, time.monotonic() - t0, e))
    except Exception as e:  # noqa: BLE001 - any error fails the case with its message
        log("=== %s: ERROR (%.1f s): %s: %s" % (name, time.monotonic() - t0,
                                                 type(e).__name__, e))
        traceback.print_exc()
    finally:
        cleanup()
        if keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if not keep:
        log("(run again with --keep to inspect the logs)")
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holdfast", required=True, help="path to the holdfast binary")
    ap.add_argument("--case", action="append", choices=sorted(CASES),
                    help="run only this case (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (logs, stores)")
    args = ap.parse_args()
    if not os.access(args.holdfast, os.X_OK):
        log("FAIL: holdfast binary %s not found" % args.holdfast)
        sys.exit(1)
    for tool, package in ((knotmaster.KNOTD, "knot"), (knotmaster.KNOTC, "knot"),
                          (PROMTOOL, "prometheus")):
        if not os.access(tool, os.X_OK):
            log("FAIL: %s not found (Debian package %s)" % (tool, package))
            sys.exit(1)

    # CTest's timeout sends SIGTERM: turn it into SystemExit so the `finally` blocks kill
    # holdfast and knotd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    names = args.case or list(CASES)
    results = {}
    try:
        for name in names:
            results[name] = run_case(name, os.path.abspath(args.holdfast), args.keep)
    finally:
        cleanup()
    for name in names:
        log("%-8s %s" % (name, "PASS" if results.get(name) else "FAIL"))
    ok = all(results.get(n) for n in names)
    log("PASS" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
