# SPDX-License-Identifier: MIT
"""What the zone files contain, for the known-difference matchers (lower-case lookups)."""

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone

NAME_TYPES = {"NS", "CNAME", "DNAME", "PTR", "MX", "SOA", "SRV", "RP", "HTTPS", "SVCB", "NAPTR"}


class ZoneData:
    def __init__(self, zones):
        self.apexes = []
        self.rrsets = {}  # (owner lower, type text) -> set of rdata text lower
        self.nsec3param = {}  # apex lower -> (salt hex, iterations) of NSEC3-signed zones
        for origin, path in zones:
            zone = dns.zone.from_file(path, origin=origin, relativize=False, check_origin=False)
            self.apexes.append(zone.origin.to_text().lower())
            param = zone.get_rdataset(zone.origin, dns.rdatatype.NSEC3PARAM)
            if param:
                self.nsec3param[self.apexes[-1]] = (param[0].salt.hex() or "-",
                                                    param[0].iterations)
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

    def nsec3_owner(self, name):
        """The owner name of the NSEC3 RR that matches name (lower case), or None when name is
        not in an NSEC3-signed zone."""
        zone = self.zone_of(name)
        if zone not in self.nsec3param:
            return None
        salt, iterations = self.nsec3param[zone]
        digest = dns.dnssec.nsec3_hash(name.lower(), None if salt == "-" else salt, iterations,
                                       dns.dnssec.NSEC3Hash.SHA1)
        return digest.lower() + "." + zone

    def nsec3_owners(self):
        """Owner names (lower case) of all NSEC3 RRs."""
        return {o for (o, t) in self.rrsets if t == "NSEC3"}

    def is_nsec_signed(self, name):
        zone = self.zone_of(name)
        return zone is not None and (zone, "NSEC") in self.rrsets

    def dname_owner_above(self, name):
        """True when a proper ancestor of name owns a DNAME."""
        n = dns.name.from_text(name.lower())
        while len(n) > 1:
            n = n.parent()
            if (n.to_text(), "DNAME") in self.rrsets:
                return True
        return False

    def exists(self, name):
        """name owns records or is an empty non-terminal above owners."""
        name = name.lower()
        return name in self.owners or any(o.endswith("." + name) for o in self.owners)

    def below_nsec3_owner(self, name):
        """A proper ancestor of name is an NSEC3 owner name."""
        n = dns.name.from_text(name.lower())
        owners = self.nsec3_owners()
        while len(n) > 1:
            n = n.parent()
            if n.to_text() in owners:
                return True
        return False

    def below_ent_without_nsec3(self, name):
        """In an NSEC3 zone: name or an ancestor is an empty non-terminal without an NSEC3 of
        its own (opt-out leaves those out when only insecure delegations are below them)."""
        if self.nsec3_owner(name) is None:
            return False
        zone = dns.name.from_text(self.zone_of(name))
        n = dns.name.from_text(name.lower())
        owners = self.nsec3_owners()
        while n != zone and len(n) > 1:
            text = n.to_text()
            if text not in self.owners and self.exists(text) and \
                    self.nsec3_owner(text) not in owners:
                return True
            n = n.parent()
        return False

    def alias_owner(self, name):
        """The owner of the CNAME that applies to name: name itself, or the closest wildcard
        '*.<ancestor>' owning a CNAME; None if there is none."""
        n = dns.name.from_text(name.lower())
        if (n.to_text(), "CNAME") in self.rrsets:
            return n.to_text()
        while len(n) > 1:
            n = n.parent()
            wild = "*." + n.to_text() if n.to_text() != "." else "*."
            if (wild, "CNAME") in self.rrsets:
                return wild
            if self.exists(n.to_text()):
                return None  # the closest encloser has no CNAME wildcard below it
        return None

    def rrsigs_for(self, owner, rtype):
        """RRSIG rdata (text, lower case) covering owner's rtype RRset in the zone, or the
        wildcard's that owner is synthesized from (the first source that has the RRset)."""
        for source in self.wildcard_sources(owner):
            if (source, rtype) in self.rrsets:
                return {rd for rd in self.rrsets.get((source, "RRSIG"), ())
                        if rd.split()[0] == rtype.lower()}
        return set()
