// SPDX-License-Identifier: MIT
// Managed names of the traffic layer in a zone's snapshot (DESIGN.md "Traffic management": a
// managed name exists in the zone like any other). When a snapshot is written from a master's
// transfer or a zone file, the zone's own RRsets that a managed record replaces are set aside
// and a placeholder RRset (every member, as if all were up) is written in their place, the way
// the vanity NS set replaces the apex NS RRset. Queries for a managed (name, type) are answered
// by the lb view, never from the placeholder; the placeholder makes the name exist (NODATA for
// other types, empty non-terminals above it) and is what a store reader without the daemon's
// lb view (a second process) serves.
//
// A zone whose apex is sealed (DNSSEC-signed, or carrying a ZONEMD) keeps its own records:
// holdfast holds no keys, so substituted records would not validate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/knot.h"

#include "common/result.h"
#include "store/writer.h"

namespace holdfast::store {

struct OverlayRRset {
  std::vector<uint8_t> owner; // wire, lowercase, inside the zone
  uint16_t type = 0;          // A, AAAA, CNAME or SRV
  uint32_t ttl = 60;
  std::vector<std::vector<uint8_t>> rdata; // the placeholder's records (at least one)
};

class Overlay {
public:
  Overlay() = default;
  explicit Overlay(std::vector<OverlayRRset> sets);
  bool empty() const { return sets_.empty(); }
  // True when the zone's own record (owner, type) gives way: a managed type at a managed
  // name; a CNAME there (it cannot live beside the managed data, RFC 1034 3.6.2); every type
  // at a name whose managed record is a CNAME, DNSSEC records excepted.
  bool replaces(const knot_dname_t *owner, uint16_t type) const;
  // Writes the placeholders.
  Status emit(SnapshotWriter &writer) const;
  // Text of everything the overlay writes: a zone is written again when it changes.
  const std::string &fingerprint() const { return fingerprint_; }

private:
  std::vector<OverlayRRset> sets_;
  std::string fingerprint_;
};

// True when `rr` makes the zone's apex records tamper-evident, so that substitutes must not
// replace them: an RRSIG over the apex SOA (the zone is DNSSEC-signed; holdfast holds no keys,
// replaced records would fail validation) or an apex ZONEMD (RFC 8976: its digest covers the
// zone's records, so a substituted set would fail the check, here and downstream).
bool seals_apex(const knot_rrset_t &rr, const knot_dname_t *apex);

// Records set aside while a zone streams in, written back if the zone turns out sealed.
class SetAside {
public:
  void keep(const knot_rrset_t &rr);
  Status write_back(SnapshotWriter &writer) const;

private:
  struct Kept {
    std::vector<uint8_t> owner;
    uint16_t type;
    uint32_t ttl;
    std::vector<uint8_t> rdata;
  };
  std::vector<Kept> kept_;
};

} // namespace holdfast::store
