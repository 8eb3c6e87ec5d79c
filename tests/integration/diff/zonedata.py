# SPDX-License-Identifier: MIT
"""What the zone files contain, for the known-difference matchers (lower-case lookups)."""

import dns.name
import dns.rdatatype
import dns.zone

NAME_TYPES = {"NS", "CNAME", "DNAME", "PTR", "MX", "SOA", "SRV", "RP", "HTTPS", "SVCB", "NAPTR"}


class ZoneData:
    def __init__(self, zones):
        self.apexes = []
        self.rrsets = {}  # (owner lower, type text) -> set of rdata text lower
        for origin, path in zones:
            zone = dns.zone.from_file(path, origin=origin, relativize=False, check_origin=False)
            self.apexes.append(zone.origin.to_text().lower())
            for name, node in zone.nodes.items():
                for rds in node.rdatasets:
                    key = (name.to_text().lower(), dns.rdatatype.to_text(rds.rdtype))
                    self.rrsets.setdefault(key, set()).update(
                        rd.to_text(origin=None, relativize=False).lower() for rd in rds)
        self.owners = {owner for owner, _ in self.rrsets}

    def zone_of(self, name):
        """The most specific served zone containing name, or None."""
        name = dns.name.from_text(name.lower())
        best = None
        for apex in self.apexes:
            a = dns.name.from_text(apex)
            if name.is_subdomain(a) and (best is None or len(a) > len(best)):
                best = a
        return best.to_text() if best is not None else None

    def types_at(self, name):
        name = name.lower()
        return {t for (o, t) in self.rrsets if o == name}

    def wildcard_sources(self, name):
        """Owners a name could be synthesized from: itself and *.<ancestor> for each ancestor."""
        n = dns.name.from_text(name.lower())
        out = [n.to_text()]
        while len(n) > 1:
            n = n.parent()
            out.append("*." + n.to_text() if n.to_text() != "." else "*.")
        return out

    def is_complete_rrset(self, records):
        """records: [(owner, ttl, class, type, rdata)] of one owner/type: all of a zone RRset?"""
        owners = {r[0].lower() for r in records}
        types = {r[3] for r in records}
        if len(owners) != 1 or len(types) != 1:
            return False
        owner, rtype = owners.pop(), types.pop()
        got = {r[4].lower() for r in records}
        for source in self.wildcard_sources(owner):
            if (source, rtype) in self.rrsets:
                return self.rrsets[(source, rtype)] == got
        return False

    def below_wildcard_with(self, name, rtype):
        """True when name is at or below a wildcard owner that has an RRset of rtype."""
        n = dns.name.from_text(name.lower())
        for (owner, t) in self.rrsets:
            if t == rtype and owner.startswith("*."):
                base = dns.name.from_text(owner[2:])
                if n.is_subdomain(base) and n != base:
                    return True
        return False
