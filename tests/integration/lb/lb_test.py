#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Traffic management (issue 11) against the real daemon, with real health-check targets
(Python HTTP(S)/TCP/TLS servers on 127.0.0.x addresses, certificates made by openssl) and a
real knotd master; see lbservers.py for the targets and lblib.py for the environment.

Cases (--case NAME, repeatable; default: all, each in its own temp dir):
  weighted    20/20/10 over 5,000 UDP queries with 2 workers: 2,000/2,000/1,000 (+-2), TTL 60,
              the zone's own A never answered, holdfast_lb_answers_total grew by exactly the
              counts; A's server answers 503: gone within interval x fall + timeout + 1 s,
              then 2:1 over 3,000; recovered: back within the rise bound, 40/40/20 again
  failover    both tier-1 members, rotated; one fails: the other alone; both: the tier-2
              backup; both recover: the primaries again
  roundrobin  every member in every answer, rotated by one per answer; count 2; a member
              whose server is gone (refused) disappears
  srv         _sip._udp SRV: three tiers as priority/weight/port/target, the zone's own SRV
              replaced, in-zone targets' addresses as additional data; the tier-1 member fails:
              tiers 2 and 3 remain, its address leaves the additional section; A is NODATA
  fallback    main pool down: the fallback pool answers; both down: NODATA (when-all-down
              nodata); counted by kind; main back
  alldown     every member refused: when-all-down all (every member, as if up), nodata (SOA in
              authority), servfail; each answer counted once by kind
  cname       a weighted A/AAAA with an address, an IPv6 and a cname member (IPv6 ignored for
              A and vice versa; the CNAME followed in-zone); a managed CNAME answers every type
  https       HTTPS with a certificate for another name and an expired one: down, last_result
              tls (API, `pool status --json`, the log); tls-verify false accepts the expired
              one; body mismatch: down, body; POST with a body, headers and Host seen by the
              server; expect-status 200-299 accepts 202
  tcp         TCP send/expect-body: PONG up, NOPE down (body), nothing listening down
              (refused); TLS with send/expect: good up, other name down (tls); recovery
  manual      reintegrate manual: the recovered member stays out (latched) until `holdfast
              pool enable`; `pool auto` keeps it
  cli         `holdfast pool disable|drain|auto` change the answers (a drained member is the
              last resort); `pool list`, `pool status` (table and --json), errors for unknown
              pools and members (CLI and API 404)
  metrics     holdfast_member_up 1/0, holdfast_member_admin_state, holdfast_health_checks_total
              by result and address, the duration histogram, holdfast_lb_answers_total and
              holdfast_lb_fallback_answers_total{kind=all} grow by exactly the answers given
  overlay     a secondary zone from knotd: the managed A replaces the master's A at that name
              (other types and names untouched, a managed name absent from the zone exists,
              NODATA for its other types), also after an IXFR that changes the master's A
  restart     a drained and a disabled member and a member down (target healthy again) are
              restored after SIGTERM and after SIGKILL: the first answers equal the last ones
  reload      SIGHUP adding a record on a pool: a member that is down stays down (target
              healthy again, rise 10), the new name answers at once without it
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lblib import cleanup, hftest, knotmaster  # noqa: E402

import case_checks  # noqa: E402
import case_operator  # noqa: E402
import case_policies  # noqa: E402
import case_state  # noqa: E402

CASES = {}
for module in (case_policies, case_checks, case_operator, case_state):
    CASES.update(module.CASES)


def main():
    knot = "Debian package knot"
    hftest.run_cases(__doc__, CASES,
                     tools=[(knotmaster.KNOTD, knot), (knotmaster.KNOTC, knot),
                            ("/usr/bin/openssl", "Debian package openssl")],
                     cleanup=cleanup, prefix="hf-lb-")


if __name__ == "__main__":
    main()
