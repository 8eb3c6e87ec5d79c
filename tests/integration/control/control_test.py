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
  kept     zones dropped by a reload are REFUSED but kept; the right config with knotd killed
           serves every zone at once with its old serial; zone purge / POST .../purge / DELETE
           remove a kept zone (refused for a configured one, 404 unknown, 400 bad name); a
           purged zone stays REFUSED until transferred again; zone list --kept and ?kept=1;
           the same across restarts
  limits   HTTP body over 64 KiB -> 413; stalled clients cut off after the 5 s I/O timeout;
           10,000 refused NOTIFYs from one source -> a few log lines with counts, exact counter
  symlink  symlinks planted in the storage directory (holdfast.lock, data.mdb: start refused,
           naming it; another one: not followed, its root-owned target not chowned) (root only)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctllib import PROMTOOL, hftest, knotmaster  # noqa: E402

import case_api  # noqa: E402
import case_cli  # noqa: E402
import case_metrics  # noqa: E402
import case_kept  # noqa: E402
import case_limits  # noqa: E402
import case_symlink  # noqa: E402
import case_user  # noqa: E402

CASES = {
    "metrics": case_metrics.case_metrics,
    "api": case_api.case_api,
    "cli": case_cli.case_cli,
    "user": case_user.case_user,
    "kept": case_kept.case_kept,
    "limits": case_limits.case_limits,
    "symlink": case_symlink.case_symlink,
}


def cleanup():
    knotmaster.cleanup_all()
    hftest.cleanup_all()


def main():
    knot = "Debian package knot"
    hftest.run_cases(__doc__, CASES,
                     tools=[(knotmaster.KNOTD, knot), (knotmaster.KNOTC, knot),
                            (PROMTOOL, "Debian package prometheus")],
                     cleanup=cleanup, prefix="hf-ctl-")


if __name__ == "__main__":
    main()
