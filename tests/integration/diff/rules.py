# SPDX-License-Identifier: MIT
"""Building blocks for the KNOWN_DIFFERENCES table in diff_test.py.

A known difference has a condition (does it apply to this query and pair of responses?) and a
normalization applied to both responses; the difference is explained when the normalized
responses are equal. Normalizations only ever blank out or drop things, never invent them.
"""

import dns.name

from zonedata import NAME_TYPES

IGNORED = "<ignored by known difference>"
SECTIONS = ("answer", "authority", "additional")
ERROR_RCODES = {"FORMERR", "SERVFAIL", "NOTIMP", "REFUSED", "NOTAUTH", "NXRRSET", "YXRRSET",
                "NOTZONE", "BADVERS"}


class Known:
    """One accepted difference. when(q, r, o, zd) -> bool; fix(q, r, o, zd) -> (r, o).

    peer="nsd" marks an error of NSD's (knotd is right): the row applies only when knotd is
    compared with nsd (--peer nsd), never to holdfast.

    independent=True (only with fix=each(...)): optional material a server may add or leave
    out whatever it does elsewhere in the reply; --with-nsd then strips it from all three
    replies before asking that holdfast's other fields equal knotd's or nsd's."""

    def __init__(self, key, why, when, fix, peer=None, independent=False):
        self.key, self.why, self.when, self.fix, self.peer = key, why, when, fix, peer
        self.independent = independent


def each(fn):
    """Make a pair normalization from a one-response one: fn(q, resp, zd) -> resp."""
    def pair(q, r, o, zd):
        return fn(q, r, zd), fn(q, o, zd)
    pair.one = fn
    return pair


def ok(resp):
    return resp.get("status") == "ok" and isinstance(resp.get("answer"), tuple)


def records(resp, section):
    value = resp.get(section)
    return value if isinstance(value, tuple) else ()


def flags(resp):
    return set((resp.get("flags") or "").split())


def with_fields(resp, **changes):
    out = dict(resp)
    out.update(changes)
    return out


def ignore(resp, *fields):
    return with_fields(resp, **{f: IGNORED for f in fields})


def without_flags(resp, *names):
    if not isinstance(resp.get("flags"), str):
        return resp
    kept = [f for f in resp["flags"].split() if f not in names]
    return with_fields(resp, flags=" ".join(kept))


def without_options(resp, *codes):
    """Drop EDNS options by code (a list of "code:hex" strings in the normalized response)."""
    opts = resp.get("edns.options")
    if not isinstance(opts, tuple):
        return resp
    return with_fields(resp, **{"edns.options": tuple(
        o for o in opts if int(o.split(":")[0]) not in codes)})


def drop(resp, section, pred):
    if not isinstance(resp.get(section), tuple):
        return resp
    return with_fields(resp, **{section: tuple(rr for rr in resp[section] if not pred(rr))})


def lower(name):
    return name.lower()


def rdata_names(rr):
    """Domain names mentioned in the rdata of a record (targets for additional processing)."""
    _, _, _, rtype, rdata = rr
    parts = rdata.split()
    if rtype in ("NS", "CNAME", "DNAME", "PTR"):
        return [parts[0].lower()]
    if rtype == "MX":
        return [parts[1].lower()]
    if rtype == "SRV":
        return [parts[3].lower()]
    if rtype in ("HTTPS", "SVCB"):
        return [parts[1].lower()]
    return []


def mentions_zero_octet_label(q, *responses):
    """The query name, or an owner, NSEC next name or target name in a response, has a zero
    octet inside a label (presentation format "\\000")."""
    names = [q.qname or ""]
    for resp in responses:
        for section in SECTIONS:
            for rr in records(resp, section):
                names.append(rr[0])
                names += rdata_names(rr)
                if rr[3] == "NSEC":
                    names.append(rr[4].split()[0])
    return any("\\000" in n for n in names)


def referenced_names(resp, sections=("answer", "authority")):
    return {n for s in sections for rr in records(resp, s) for n in rdata_names(rr)}


def covered(rr):
    """The type an RRSIG covers (text), or None for other records."""
    return rr[4].split()[0] if rr[3] == "RRSIG" else None


def rtype_or_covered(rr):
    """The record's type, or for an RRSIG the type it covers (an RRset and its signatures)."""
    return covered(rr) or rr[3]


def drop_unreferenced_addresses(resp):
    """Remove A/AAAA (and their RRSIGs) from additional that no record in answer/authority
    points at."""
    names = referenced_names(resp)
    return drop(resp, "additional", lambda rr: rtype_or_covered(rr) in ("A", "AAAA")
                and rr[0].lower() not in names)


def lower_names(q, resp, zd):
    """Case-fold names, except owners equal to the query name, which must keep its case."""
    qname = (q.qname or "").lower()

    def fold(rr, section):
        owner, ttl, cls, rtype, rdata = rr
        if owner.lower() != qname or section == "additional":
            owner = owner.lower()
        if rtype in NAME_TYPES:
            rdata = rdata.lower()
        return (owner, ttl, cls, rtype, rdata)

    out = dict(resp)
    for s in SECTIONS:
        if isinstance(resp.get(s), tuple):
            out[s] = tuple(sorted(fold(rr, s) for rr in resp[s]))
    return out


def answered_with_data(q, resp):
    """The answer section ends in data: a non-alias record, or an alias asked for itself."""
    return any(rr[3] not in ("CNAME", "DNAME") or q.qtype in (5, 39)
               for rr in records(resp, "answer"))


def is_referral(resp):
    return (ok(resp) and "AA" not in flags(resp) and not records(resp, "answer")
            and any(rr[3] == "NS" for rr in records(resp, "authority")))


def cname_chain(resp):
    return [rr for rr in records(resp, "answer") if rr[3] == "CNAME"]


def has_loop(q, resp):
    """Following the answer's CNAMEs from the query name revisits a name, or an RR repeats."""
    ans = records(resp, "answer")
    if len(set(ans)) != len(ans):
        return True
    step = {rr[0].lower(): rr[4].lower() for rr in cname_chain(resp)}
    seen, name = set(), (q.qname or "").lower()
    while name in step:
        if name in seen:
            return True
        seen.add(name)
        name = step[name]
    return name in seen


def chain_leaves_zone(q, resp, zd):
    """Some CNAME in the answer (maybe DNAME-synthesized) points into another served zone."""
    if not q.qname:
        return False
    home = zd.zone_of(q.qname)
    for rr in cname_chain(resp):
        target_zone = zd.zone_of(rr[4])
        if target_zone is not None and target_zone != home:
            return True
    return False


def in_zone(zd, name, zone):
    return zd.zone_of(name) == zone


def additional_slack(resp):
    """How close to its limit a reply must be for left-out additional records to be expected."""
    signed = any(rr[3] == "RRSIG" for sec in SECTIONS for rr in records(resp, sec))
    return 160 if signed else 64


def synthesized_from_wildcard(q, resp):
    """The answer holds an RRSIG owned by the query name whose label count is smaller than the
    name's (RFC 4035 5.3.4: the RRset was expanded from a wildcard)."""
    labels = len(dns.name.from_text((q.qname or ".").lower())) - 1
    return any(rr[3] == "RRSIG" and rr[0].lower() == (q.qname or "").lower()
               and int(rr[4].split()[2]) < labels for rr in records(resp, "answer"))


def near_limit(resp, slack=64):
    return isinstance(resp.get("_size"), int) and resp["_size"] + slack > resp["_limit"]


def subset_pair(r, o, section):
    """If one side's records are a subset of the other's, keep only the common ones."""
    a, b = set(records(r, section)), set(records(o, section))
    if a <= b or b <= a:
        common = tuple(sorted(a & b))
        return with_fields(r, **{section: common}), with_fields(o, **{section: common})
    return r, o


def name_is_below(name, ancestor):
    try:
        return dns.name.from_text(name.lower()).is_subdomain(dns.name.from_text(ancestor.lower()))
    except Exception:  # noqa: BLE001 - malformed names never match
        return False


def outcome(resp):
    """Coarse reaction to a malformed query: drop, FORMERR, answer, or something else."""
    status = resp.get("status")
    if status == "no response" or (status or "").startswith("error"):
        return "drop"
    if status != "ok":
        return "other: " + str(status)
    if resp.get("rcode") == "FORMERR":
        return "FORMERR"
    if resp.get("rcode") == "NOERROR":
        return "answer"
    return "other: " + str(resp.get("rcode"))


def is_signed_rrset(q, recs, zd):
    """One complete RRset of the zone and, if the query has DO, all of the zone's RRSIGs for
    it (none without DO)."""
    data = [rr for rr in recs if rr[3] != "RRSIG"]
    sigs = {rr[4].lower() for rr in recs if rr[3] == "RRSIG"}
    if not data or not zd.is_complete_rrset(data):
        return False
    if len(sigs) != len([rr for rr in recs if rr[3] == "RRSIG"]) or any(
            rr[0].lower() != data[0][0].lower() for rr in recs):
        return False
    want = set()
    if q.edns is not None and q.edns.do:
        want = zd.rrsigs_for(data[0][0], data[0][3])
    return sigs == want


def consistent_with_tcp(q, resp, zd):
    """A UDP reply against the same query's TCP reply (resp["_tcp"]): the full reply (only
    additional records may be missing), or, with TC set, a part of a full reply that is bigger
    than the UDP size limit. Names compare case-insensitively (other rows fold case)."""
    full = resp.get("_tcp")
    if not (ok(resp) and full and ok(full)) or "TC" in flags(full):
        return False
    resp, full = lower_names(q, resp, zd), lower_names(q, full, zd)
    if "TC" in flags(resp):
        return full["_size"] > resp["_limit"] and all(
            set(records(resp, s)) <= set(records(full, s)) for s in SECTIONS)
    return set(records(resp, "additional")) <= set(records(full, "additional")) and all(
        resp.get(f) == full.get(f) for f in ("rcode", "flags", "question", "answer",
                                             "authority", "edns", "edns.flags"))


def covered_subset_pair(r, o):
    """QTYPE=RRSIG answers: if one side's RRSIGs are all of the other side's RRSIGs for some
    covered types, keep only those on both sides."""
    a, b = set(records(r, "answer")), set(records(o, "answer"))
    small, big = (a, b) if a <= b else (b, a) if b <= a else (None, None)
    if small is None or not small:
        return r, o
    types = {covered(rr) for rr in small}
    if small != {rr for rr in big if covered(rr) in types}:
        return r, o
    common = tuple(sorted(small))
    return with_fields(r, answer=common), with_fields(o, answer=common)
