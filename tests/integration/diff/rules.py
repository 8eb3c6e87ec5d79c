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
    """One accepted difference. when(q, r, o, zd) -> bool; fix(q, r, o, zd) -> (r, o)."""

    def __init__(self, key, why, when, fix):
        self.key, self.why, self.when, self.fix = key, why, when, fix


def each(fn):
    """Make a pair normalization from a one-response one: fn(q, resp, zd) -> resp."""
    return lambda q, r, o, zd: (fn(q, r, zd), fn(q, o, zd))


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


def referenced_names(resp, sections=("answer", "authority")):
    return {n for s in sections for rr in records(resp, s) for n in rdata_names(rr)}


def drop_unreferenced_addresses(resp):
    """Remove A/AAAA from additional that no record in answer/authority points at."""
    names = referenced_names(resp)
    return drop(resp, "additional", lambda rr: rr[3] in ("A", "AAAA") and rr[0].lower()
                not in names)


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
