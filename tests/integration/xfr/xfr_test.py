#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Secondary zones against a real knotd hidden master (and a fake one for faults).

Cases (--case NAME, repeatable; default: all, each in its own temp dir):
  transfer     initial AXFR serves what the master serves; a NOTIFY-driven change is served
               within 1 s; without NOTIFY after the next poll (refresh 2 s); the update came by
               IXFR (knotd: "IXFR, outgoing", holdfast: "IXFR, incoming ... 1 -> 2"); several
               versions between polls; a master without history (AXFR-style IXFR answer)
  expire       master SIGKILLed: the zone is served past its SOA expire and after a restart of
               holdfast with the master still down
  failures     wrong TSIG secret, transfer refused by ACL, max-zone-size exceeded, a silent
               master, a stalling transfer, a malformed and a truncated AXFR: the old serial and
               data stay served, each failure is logged; the zones recover once fixed
  crash        SIGKILL of holdfast while a 300k-record zone is transferred: the restart serves
               the previous snapshot at once, then completes the transfer
  notify_acl   NOTIFY from a non-master, or from the master without (or with a wrong) TSIG, is
               REFUSED and triggers nothing; from the master it is accepted
  vanity       vanity NS set at the apex with in-zone addresses, and a delegation walk from a
               parent knotd to holdfast
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
from xfrlib import hftest, knotmaster, log  # noqa: E402

import case_faults  # noqa: E402
import case_sync  # noqa: E402
import case_vanity  # noqa: E402
import fake_master  # noqa: E402

CASES = {
    "transfer": case_sync.case_transfer,
    "expire": case_sync.case_never_expire,
    "failures": case_faults.case_failures,
    "crash": case_sync.case_crash,
    "notify_acl": case_faults.case_notify_acl,
    "vanity": case_vanity.case_vanity,
}


def cleanup():
    fake_master.cleanup_all()
    knotmaster.cleanup_all()
    hftest.cleanup_all()


def run_case(name, binary, keep):
    tmp = tempfile.mkdtemp(prefix="hf-xfr-%s-" % name)
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
    for tool in (knotmaster.KNOTD, knotmaster.KNOTC):
        if not os.access(tool, os.X_OK):
            log("FAIL: %s not found (Debian package knot)" % tool)
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
        log("%-10s %s" % (name, "PASS" if results.get(name) else "FAIL"))
    ok = all(results.get(n) for n in names)
    log("PASS" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
