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
               master, a stalling transfer, a malformed and a truncated AXFR, SOA answers with
               TC over TCP too: the old serial and data stay served, each failure is logged;
               the zones recover once fixed
  crash        SIGKILL of holdfast while a 300k-record zone is transferred: the restart serves
               the previous snapshot at once, then completes the transfer
  notify_acl   NOTIFY from a non-master, or from the master without (or with a wrong) TSIG, is
               REFUSED and triggers nothing; from the master it is accepted
  vanity       vanity NS set at the apex with in-zone addresses, and a delegation walk from a
               parent knotd to holdfast
  slow_master  a master sending one message every 9 s holds only transfers-per-master of the
               transfers slots: knotd's zones are transferred, and NOTIFY-driven changes
               served, within seconds while the slow master's zones crawl
  transfer_timeout  transfer-timeout ends such a dripping transfer: logged, counted in
               /metrics, the old data served; retried until the master is fine again
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xfrlib import hftest, knotmaster  # noqa: E402

import case_bounds  # noqa: E402
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
    "slow_master": case_bounds.case_slow_master,
    "transfer_timeout": case_bounds.case_transfer_timeout,
}


def cleanup():
    fake_master.cleanup_all()
    knotmaster.cleanup_all()
    hftest.cleanup_all()


def main():
    knot = "Debian package knot"
    hftest.run_cases(__doc__, CASES, tools=[(knotmaster.KNOTD, knot), (knotmaster.KNOTC, knot)],
                     cleanup=cleanup, prefix="hf-xfr-")


if __name__ == "__main__":
    main()
