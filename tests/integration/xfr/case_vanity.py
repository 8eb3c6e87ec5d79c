# SPDX-License-Identifier: MIT
"""Vanity nameservers: the apex NS RRset of a secondary zone is the configured set, in-zone set
names answer their addresses (also as additional data), names outside the zone are no glue,
and a resolver following the parent's delegation to those names gets holdfast's answer."""

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from xfrlib import (START_TIMEOUT, Env, answers, assert_same, hftest, knotmaster, log, master,
                    query_set, secondary, wait_serial)

ZONE = "vanity.test."
HIDDEN_BODY = """\
@ 7200 NS ns-master
@ 7200 NS ns.hidden.invalid.
ns2 A 192.0.2.222
@ MX 10 mail
ns-master A 192.0.2.250
mail A 192.0.2.25
www A 192.0.2.80
www AAAA 2001:db8::80
sub NS ns.sub
ns.sub A 192.0.2.77
"""
# ns1 is reachable (holdfast listens on 127.0.0.1), ns2 is in the zone but unreachable (and the
# master has another A record there, which the set's address replaces), ns3 is outside the
# zone (no glue for it may appear).
VANITY = [("ns1.vanity.test.", ["127.0.0.1", "2001:db8::53"]),
          ("ns2.vanity.test.", ["198.51.100.2"]),
          ("ns3.elsewhere.example.", ["198.51.100.3"])]
PARENT = "test."
PARENT_HOST = "127.0.0.2"
PARENT_BODY = """\
@ NS ns
ns A 127.0.0.2
vanity NS ns1.vanity
vanity NS ns2.vanity
vanity NS ns3.elsewhere.example.
ns1.vanity A 127.0.0.1
ns1.vanity AAAA 2001:db8::53
ns2.vanity A 198.51.100.2
"""


def rr_texts(section, rdtype=None):
    return {(r.name.to_text().lower(), dns.rdatatype.to_text(r.rdtype), rd.to_text().lower())
            for r in section for rd in r if rdtype is None or r.rdtype == rdtype}


def check_apex_ns(port):
    resp = hftest.query(port, ZONE, "NS")
    assert resp is not None and resp.rcode() == dns.rcode.NOERROR and \
        resp.flags & dns.flags.AA, "apex NS: %s" % hftest.describe(resp)
    got = {rd for _, _, rd in rr_texts(resp.answer, dns.rdatatype.NS)}
    want = {name for name, _ in VANITY}
    assert got == want, "apex NS answered %s, the vanity set is %s" % (sorted(got), sorted(want))
    ttls = {r.ttl for r in resp.answer if r.rdtype == dns.rdatatype.NS}
    assert ttls == {7200}, "apex NS TTL %s, the master's NS RRset has 7200 (conf/README.md)" % ttls
    everything = " ".join(r.to_text() for s in (resp.answer, resp.authority, resp.additional)
                          for r in s).lower()
    for hidden in ("ns-master", "ns.hidden.invalid", "192.0.2.250", "192.0.2.222"):
        assert hidden not in everything, "the master's NS %s appears in the apex NS answer:\n%s" \
            % (hidden, resp.to_text())
    extra = rr_texts(resp.additional)
    want_extra = {(name, "AAAA" if ":" in a else "A", a) for name, addrs in VANITY
                  if name.endswith("." + ZONE) for a in addrs}
    assert want_extra <= extra, "additional section of the apex NS answer lacks %s:\n%s" % (
        sorted(want_extra - extra), resp.to_text())
    assert not any(name.endswith("elsewhere.example.") for name, _, _ in extra), \
        "glue for an out-of-zone vanity name in the additional section:\n%s" % resp.to_text()
    return got


def check_vanity_addresses(port):
    for name, addrs in VANITY:
        for qtype in ("A", "AAAA"):
            want = {a for a in addrs if (":" in a) == (qtype == "AAAA")}
            resp = hftest.query(port, name, qtype)
            if not name.endswith("." + ZONE):
                assert resp is not None and resp.rcode() == dns.rcode.REFUSED and \
                    not resp.answer, "out-of-zone vanity name %s %s must not be served: %s" % (
                        name, qtype, hftest.describe(resp))
                continue
            assert resp is not None and resp.rcode() == dns.rcode.NOERROR and \
                resp.flags & dns.flags.AA, "%s %s: %s" % (name, qtype, hftest.describe(resp))
            got = {rd for _, t, rd in rr_texts(resp.answer) if t == qtype}
            assert got == want, "%s %s answered %s, configured %s" % (name, qtype, sorted(got),
                                                                      sorted(want))
            if not want:
                assert hftest.authority_serial(resp) is not None, \
                    "NODATA for %s %s without SOA: %s" % (name, qtype, hftest.describe(resp))


def ask(host, port, qname, qtype):
    q = dns.message.make_query(qname, qtype, use_edns=False)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, host, port=port, timeout=2)


def walk(start, ports, qname, qtype):
    """Iterative resolution from `start` = (host, port) following referrals; `ports` maps the
    glue addresses the test can reach to a port. Returns (final response, the referrals)."""
    server, referrals = start, []
    for _ in range(5):
        resp = ask(server[0], server[1], qname, qtype)
        if resp.flags & dns.flags.AA:
            return resp, referrals
        ns = [r for r in resp.authority if r.rdtype == dns.rdatatype.NS]
        assert resp.rcode() == dns.rcode.NOERROR and ns, "neither an answer nor a referral " \
            "from %s: %s" % (server, hftest.describe(resp))
        referrals.append(resp)
        glue = [rd.address for r in resp.additional if r.rdtype in (dns.rdatatype.A,
                                                                     dns.rdatatype.AAAA)
                for rd in r]
        reachable = [a for a in glue if a in ports]
        assert reachable, "no reachable glue in the referral from %s: %s" % (server,
                                                                             resp.to_text())
        server = (reachable[0], ports[reachable[0]])
    raise AssertionError("more than 5 referrals for %s" % qname)


def case_vanity(tmp, binary):
    env = Env(tmp, binary)
    hidden = env.knot(notify=True)
    hidden.add_zone(ZONE, knotmaster.zone_text(ZONE, 1, HIDDEN_BODY))
    hidden.start()
    parent = env.knot(name="parent", host=PARENT_HOST, notify=False)
    parent.add_zone(PARENT, knotmaster.zone_text(PARENT, 1, PARENT_BODY, mname="ns.test.",
                                                 rname="hostmaster.test."))
    parent.start()
    hf = env.holdfast([secondary(ZONE, ["hidden"], nameservers="vanity")],
                      masters=[master("hidden", hidden.address)], keys=(),
                      nameserver_sets=[("vanity", VANITY)])
    hf.start()
    wait_serial(hf, ZONE, 1, START_TIMEOUT)

    names = check_apex_ns(hf.port)
    check_vanity_addresses(hf.port)
    log("apex NS is the vanity set %s with in-zone addresses as additional data, "
        "no out-of-zone glue" % sorted(names))

    # Everything else is the master's data, unchanged.
    vanity_names = {name for name, _ in VANITY}
    queries = [q for q in query_set(ZONE, HIDDEN_BODY)
               if q != (ZONE, "NS") and q[0] not in vanity_names]
    assert_same(answers(hidden, queries), answers(hf.port, queries), "non-NS data of %s" % ZONE)

    # A resolver's walk: parent referral (NS + glue) -> holdfast via the vanity glue.
    final, referrals = walk((PARENT_HOST, parent.port), {"127.0.0.1": hf.port},
                            "www." + ZONE, "A")
    assert len(referrals) == 1, "expected one referral, got %d" % len(referrals)
    want = hidden.query("www." + ZONE, "A")
    assert hftest.answer_summary(final) == hftest.answer_summary(want), \
        "www.%s after the walk: %s, the master serves %s" % (ZONE, hftest.describe(final),
                                                             hftest.describe(want))
    ref = referrals[0]
    parent_ns = {rd for _, _, rd in rr_texts(ref.authority, dns.rdatatype.NS)}
    assert parent_ns == names, "parent delegates to %s, holdfast's apex NS is %s" % (
        sorted(parent_ns), sorted(names))
    for name, t, addr in rr_texts(ref.additional):
        resp = hftest.query(hf.port, name, t)
        got = {rd for _, tt, rd in rr_texts(resp.answer) if tt == t} if resp else set()
        assert addr in got, "parent glue %s %s %s, holdfast answers %s" % (name, t, addr,
                                                                            sorted(got))
    log("walk: parent referral to %s, glue consistent with holdfast, www.%s answered "
        "authoritatively: %s" % (sorted(parent_ns), ZONE, final.answer[0].to_text()))
    hf.stop()
    parent.stop()
    hidden.stop()
