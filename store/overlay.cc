// SPDX-License-Identifier: MIT
// Managed-name placeholders and the apex seal (see overlay.h).
#include "store/overlay.h"

#include <algorithm>

#include "common/dname.h"

namespace holdfast::store {

Overlay::Overlay(std::vector<OverlayRRset> sets) : sets_(std::move(sets)) {
  for (const auto &s : sets_) {
    fingerprint_ += name_to_string(s.owner.data()) + "/" + std::to_string(s.type) + "/" +
                    std::to_string(s.ttl) + ":";
    for (const auto &rd : s.rdata) {
      for (uint8_t b : rd) {
        static const char *kHex = "0123456789abcdef";
        fingerprint_ += kHex[b >> 4];
        fingerprint_ += kHex[b & 15];
      }
      fingerprint_ += ',';
    }
    fingerprint_ += ';';
  }
}

bool Overlay::replaces(const knot_dname_t *owner, uint16_t type) const {
  if (type == KNOT_RRTYPE_RRSIG || type == KNOT_RRTYPE_NSEC || type == KNOT_RRTYPE_NSEC3) {
    return false; // never at an unsigned zone's name; a signed zone is sealed anyway
  }
  return std::any_of(sets_.begin(), sets_.end(), [&](const OverlayRRset &s) {
    return knot_dname_is_case_equal(owner, s.owner.data()) &&
           (s.type == type || type == KNOT_RRTYPE_CNAME || s.type == KNOT_RRTYPE_CNAME);
  });
}

Status Overlay::emit(SnapshotWriter &writer) const {
  for (const auto &s : sets_) {
    for (const auto &rd : s.rdata) {
      auto st = writer.add(s.owner.data(), s.type, KNOT_CLASS_IN, s.ttl, rd.data(),
                           static_cast<uint16_t>(rd.size()));
      if (!st) {
        return st;
      }
    }
  }
  return Ok{};
}

bool seals_apex(const knot_rrset_t &rr, const knot_dname_t *apex) {
  if (!knot_dname_is_case_equal(rr.owner, apex)) {
    return false;
  }
  if (rr.type == KNOT_RRTYPE_ZONEMD) {
    return true;
  }
  if (rr.type != KNOT_RRTYPE_RRSIG) {
    return false;
  }
  knot_rdata_t *rd = rr.rrs.rdata;
  for (uint16_t i = 0; i < rr.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    if (rd->len >= 2 && knot_rrsig_type_covered(rd) == KNOT_RRTYPE_SOA) {
      return true;
    }
  }
  return false;
}

void SetAside::keep(const knot_rrset_t &rr) {
  knot_rdata_t *rd = rr.rrs.rdata;
  for (uint16_t i = 0; i < rr.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    kept_.push_back({{rr.owner, rr.owner + knot_dname_size(rr.owner)},
                     rr.type,
                     rr.ttl,
                     {rd->data, rd->data + rd->len}});
  }
}

Status SetAside::write_back(SnapshotWriter &writer) const {
  for (const auto &k : kept_) {
    auto st = writer.add(k.owner.data(), k.type, KNOT_CLASS_IN, k.ttl, k.rdata.data(),
                         static_cast<uint16_t>(k.rdata.size()));
    if (!st) {
      return st;
    }
  }
  return Ok{};
}

} // namespace holdfast::store
