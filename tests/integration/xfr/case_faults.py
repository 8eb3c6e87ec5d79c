# SPDX-License-Identifier: MIT
"""Transfers that fail keep the old snapshot served and are logged (wrong TSIG key, refused
transfer, size limit, silent and stalling masters, malformed and truncated AXFR, TC over TCP);
NOTIFY from a non-master or without the master's TSIG is refused and triggers nothing."""

import re
import time

from xfrlib import (KEY, START_TIMEOUT, WRONG_SECRET, Env, answers, assert_same,
                    compare_with_knot, hftest, knotmaster, log, master, no_activity, query_set,
                    secondary, serial_of, wait_serial, zone_rx)

import fake_master

import dns.rcode


def body(tag, n=20):
    return "@ NS ns1\nns1 A 192.0.2.1\n%s TXT \"%s\"\n" % (tag, tag) + "".join(
        "h%d A 198.51.100.%d\n" % (i, i % 250 + 1) for i in range(n))


def fake_records(tag, n=200):
    return ["@ NS ns1", "ns1 A 192.0.2.1", '%s TXT "%s"' % (tag, tag)] + [
        "h%d A 198.51.100.%d" % (i, i % 250 + 1) for i in range(n)]


# zone -> (what, regex of the failure after the zone prefix)
KNOT_FAULTS = {
    "tsig.test.": ("holdfast's TSIG secret differs from knotd's",
                   r"(refresh|AXFR|IXFR).*failed.*(TSIG|BADSIG|BADKEY|NOTAUTH)"),
    "denied.test.": ("knotd's ACL denies the transfer",
                     r"(AXFR|IXFR)[^,]*, incoming.*failed.*(REFUSED|NOTAUTH)"),
    "sizelimit.test.": ("the new version exceeds max-zone-size 20K",
                        r"(AXFR|IXFR)[^,]*, incoming.*failed.*size"),
}
FAKE_FAULTS = {
    "silent.test.": ("silent", "a master that never answers",
                     r"refresh.*failed.*(timed out|timeout)"),
    "stall.test.": ("stall", "a master that accepts the transfer and sends nothing",
                    r"(AXFR|IXFR)[^,]*, incoming.*failed.*(timed out|timeout)"),
    "malformed.test.": ("malformed", "a malformed AXFR message",
                        r"(AXFR|IXFR)[^,]*, incoming.*failed.*malformed"),
    "truncated.test.": ("truncated", "an AXFR closed before its final SOA",
                        r"(AXFR|IXFR)[^,]*, incoming.*failed.*(truncated|closed)"),
    "tc.test.": ("tc", "SOA answers truncated (TC) over UDP and over TCP",
                 r"refresh.*failed: truncated \(TC\) answer over TCP"),
}
FAULT_TIMEOUT = 45.0  # holdfast's own transfer/query timeouts must fire within this


def case_failures(tmp, binary):
    env = Env(tmp, binary)
    knot = env.knot()
    for zone in KNOT_FAULTS:
        knot.add_zone(zone, knotmaster.zone_text(zone, 1, body("only1")),
                      tsig=zone == "tsig.test.")
    knot.start()
    fakes = {z: fake_master.FakeMaster(z, fake_records("only1")).start() for z in FAKE_FAULTS}
    masters = [master("knot-plain", knot.address), master("knot-tsig", knot.address, key=KEY[0])]
    masters += [master("fake-" + z.split(".")[0], fm.address) for z, fm in fakes.items()]
    zones = [secondary("tsig.test.", ["knot-tsig"], refresh="2s", retry="1s"),
             secondary("denied.test.", ["knot-plain"], refresh="2s", retry="1s"),
             secondary("sizelimit.test.", ["knot-plain"], refresh="2s", retry="1s",
                       max_zone_size="20K")]
    zones += [secondary(z, ["fake-" + z.split(".")[0]], refresh="2s", retry="1s")
              for z in fakes]
    hf = env.holdfast(zones, masters=masters)
    hf.start()

    # A good snapshot of every zone first.
    before = {}
    for zone in list(KNOT_FAULTS) + list(FAKE_FAULTS):
        wait_serial(hf, zone, 1, START_TIMEOUT)
        qs = query_set(zone, body("only1")) + [("only2." + zone, "TXT")]
        before[zone] = answers(hf.port, qs)
    for zone in KNOT_FAULTS:
        compare_with_knot(knot, hf.port, list(before[zone]), "%s serial 1" % zone)
    log("serial 1 of %d zones served" % len(before))

    # Then every master misbehaves with a serial 2 to offer.
    mark = hftest.log_mark(hf)
    knot.key = (KEY[0], KEY[1], WRONG_SECRET)
    knot.zones["denied.test."]["transfer"] = False
    knot.write_config()
    knot.knotc("reload")
    for zone in KNOT_FAULTS:
        extra = "".join('t%d TXT "%s"\n' % (i, "x" * 60) for i in range(1000)) \
            if zone == "sizelimit.test." else ""
        knot.set_zone(zone, knotmaster.zone_text(zone, 2, body("only2") + extra))
    for zone, fm in fakes.items():
        fm.set(serial=2, mode=FAKE_FAULTS[zone][0], records=fake_records("only2"))
    log("masters switched to their faults, serial 2 offered")

    pending = {z: v[-1] for z, v in list(KNOT_FAULTS.items()) + list(FAKE_FAULTS.items())}
    deadline = time.monotonic() + FAULT_TIMEOUT
    while pending and time.monotonic() < deadline:
        text = hftest.log_since(hf, mark)
        for zone, rx in list(pending.items()):
            m = re.search(zone_rx(zone) + rx, text)
            if m:
                log("%s: %s" % (zone, m.group(0)))
                del pending[zone]
        assert hf.running(), "holdfast exited:\n%s" % hf.log_tail()
        time.sleep(0.1)
    problems = []
    for zone, rx in pending.items():
        lines = [ln for ln in hftest.log_since(hf, mark).splitlines()
                 if zone_rx(zone).replace("\\", "") in ln]
        problems.append("%s: no log line %r within %.0f s; its lines:\n    %s"
                        % (zone, zone_rx(zone) + rx, FAULT_TIMEOUT,
                           "\n    ".join(lines[-6:]) or "(none)"))

    # Whatever was logged, the old data must still be served.
    for zone, expected in before.items():
        bad = [k for k, v in answers(hf.port, list(expected)).items() if v != expected[k]]
        if bad:
            problems.append("%s: serial 1 answers changed after the failure: %s (now serving "
                            "serial %s)" % (zone, bad[:3], hftest.soa_serial(hf.port, zone)))
    assert not problems, "\n".join(problems)
    log("every failure logged, serial 1 and its data still served for all %d zones"
        % len(before))

    # The faults go away: the same zones recover without a restart.
    mark = hftest.log_mark(hf)
    for fm in fakes.values():
        fm.set(mode="good")
    knot.key = KEY
    knot.zones["denied.test."]["transfer"] = True
    knot.write_config()
    knot.knotc("reload")
    for zone in list(FAKE_FAULTS) + ["tsig.test.", "denied.test."]:
        wait_serial(hf, zone, 2, 30, poll=0.05)
    log("after the faults were fixed, serial 2 served for every zone but sizelimit.test.")
    assert hftest.soa_serial(hf.port, "sizelimit.test.") == 1
    hf.stop()
    for fm in fakes.values():
        fm.stop()
    knot.stop()


# --- case 7: NOTIFY from elsewhere ---------------------------------------------------------

PLAIN = "plain.test."
SIGNED = "signed.test."
MASTER_HOST = "127.0.0.2"  # knotd runs here, so 127.0.0.1 is "not a master"


def expect_refused(hf, zone, serial_now, what, rcodes=(dns.rcode.REFUSED,), **notify):
    """Sends a NOTIFY over UDP and over TCP; each must be answered with one of `rcodes` and
    nothing may happen to the zone for a second."""
    mark = hftest.log_mark(hf)
    for tcp in (False, True):
        r = hftest.send_notify(hf.port, zone, serial=serial_now + 1, tcp=tcp, **notify)
        assert r is not None, "no response to a NOTIFY (%s, %s)" % (what, "TCP" if tcp else "UDP")
        assert r["id_ok"] and r["qr"] and r["opcode"] == 4, "bad NOTIFY response header %r" % r
        allowed = rcodes
        assert r["rcode"] in allowed, "NOTIFY (%s, %s) answered %s, expected %s" % (
            what, "TCP" if tcp else "UDP", dns.rcode.to_text(r["rcode"]),
            "/".join(dns.rcode.to_text(a) for a in allowed))
    time.sleep(1.2)
    assert hftest.soa_serial(hf.port, zone) == serial_now, "the refused NOTIFY changed the " \
        "zone (%s)" % what
    acts = no_activity(hf, mark, zone)
    assert not acts, "a refused NOTIFY (%s) triggered: %s" % (what, acts)
    hftest.wait_log_since(hf, mark, zone_rx(zone) + r"NOTIFY.*refused", 1)
    log("NOTIFY %s: %s over UDP and TCP, no refresh or transfer within 1.2 s"
        % (what, dns.rcode.to_text(r["rcode"])))


def expect_accepted(hf, zone, new_serial, what, **notify):
    t0 = time.monotonic()
    r = hftest.send_notify(hf.port, zone, serial=new_serial, **notify)
    assert r is not None and r["rcode"] == dns.rcode.NOERROR and r["opcode"] == 4, \
        "NOTIFY (%s) not accepted: %r" % (what, r)
    if notify.get("key"):
        assert r["tsig"] == "ok", "the NOTIFY response is not signed with the key: %s" % r["tsig"]
    wait_serial(hf, zone, new_serial, 5)
    took = time.monotonic() - t0
    assert took <= 1.0, "serial %d served %.2f s after the NOTIFY (%s)" % (new_serial, took, what)
    log("NOTIFY %s: accepted, serial %d served after %.3f s" % (what, new_serial, took))


def case_notify_acl(tmp, binary):
    env = Env(tmp, binary)
    knot = env.knot(host=MASTER_HOST)
    knot.add_zone(PLAIN, knotmaster.zone_text(PLAIN, 1, body("v1")), notify=False)
    knot.add_zone(SIGNED, knotmaster.zone_text(SIGNED, 1, body("v1")), notify=False, tsig=True)
    knot.start()
    hf = env.holdfast([secondary(PLAIN, ["plain"], refresh="120s"),
                       secondary(SIGNED, ["signed"], refresh="120s")],
                      masters=[master("plain", knot.address),
                               master("signed", knot.address, key=KEY[0])])
    # Every refused NOTIFY's line is awaited below, several from one source within seconds.
    with open(hf.config) as f:
        text = f.read()
    with open(hf.config, "w") as f:
        f.write(text.replace("\nlog:\n", "\nlog:\n  rate-limit: 0\n", 1))
    hf.start()
    wait_serial(hf, PLAIN, 1, START_TIMEOUT)
    wait_serial(hf, SIGNED, 1, START_TIMEOUT)
    time.sleep(1.5)  # past any check right after start
    # The master has serial 2 and sends no NOTIFY: only an accepted NOTIFY can bring it.
    knot.set_zone(PLAIN, knotmaster.zone_text(PLAIN, 2, body("v2")))
    knot.set_zone(SIGNED, knotmaster.zone_text(SIGNED, 2, body("v2")))

    expect_refused(hf, PLAIN, 1, "for %s from 127.0.0.1 (not a master)" % PLAIN,
                   source="127.0.0.1")
    expect_refused(hf, PLAIN, 1, "for %s from 127.0.0.3 (not a master)" % PLAIN,
                   source="127.0.0.3")
    # Unsigned where the master has a key: a policy refusal (REFUSED, as BIND and NSD answer)
    # or treated as a TSIG failure (NOTAUTH, as Knot answers ACL denials); both refuse.
    expect_refused(hf, SIGNED, 1, "for %s from the master's address without TSIG" % SIGNED,
                   source=MASTER_HOST, rcodes=(dns.rcode.REFUSED, dns.rcode.NOTAUTH))
    expect_refused(hf, SIGNED, 1, "for %s from a non-master with the right TSIG" % SIGNED,
                   source="127.0.0.1", key=KEY)
    expect_refused(hf, SIGNED, 1, "for %s from the master's address with a wrong TSIG secret"
                   % SIGNED, source=MASTER_HOST, key=(KEY[0], KEY[1], WRONG_SECRET),
                   rcodes=(dns.rcode.REFUSED, dns.rcode.NOTAUTH))  # RFC 8945 5.2: NOTAUTH
    # The controls: the same NOTIFYs from the master (another port than knotd's) are accepted.
    expect_accepted(hf, PLAIN, 2, "for %s from %s" % (PLAIN, MASTER_HOST), source=MASTER_HOST)
    expect_accepted(hf, SIGNED, 2, "for %s from %s with TSIG" % (SIGNED, MASTER_HOST),
                    source=MASTER_HOST, key=KEY)
    compare_with_knot(knot, hf.port, query_set(PLAIN, body("v1"), body("v2")), PLAIN)
    hf.stop()
    knot.stop()


__all__ = ["case_failures", "case_notify_acl", "serial_of", "assert_same"]
