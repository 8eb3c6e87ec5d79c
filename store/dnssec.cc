// SPDX-License-Identifier: MIT
// DNSSEC facts about stored data (see dnssec.h).
#include "store/dnssec.h"

#include <cstring>

namespace holdfast::store {
namespace {

uint16_t covered_type(const knot_rdata_t *rd) {
  return rd->len >= 2 ? static_cast<uint16_t>(rd->data[0] << 8 | rd->data[1]) : 0;
}

// The run of RRSIG records covering `type` (or the first run when type is 0).
bool rrsig_run(const NodeView &node, uint16_t type, knot_rdataset_t &out, uint16_t &covered) {
  RRsetView sigs;
  if (!node.find(KNOT_RRTYPE_RRSIG, sigs) || sigs.rrs.count == 0) {
    return false;
  }
  knot_rdata_t *rd = sigs.rrs.rdata;
  uint16_t i = 0;
  for (; i < sigs.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    if (type == 0 || covered_type(rd) == type) {
      break;
    }
  }
  if (i == sigs.rrs.count) {
    return false;
  }
  covered = covered_type(rd);
  out.rdata = rd;
  out.count = 0;
  out.size = 0;
  for (; i < sigs.rrs.count && covered_type(rd) == covered; ++i, rd = knot_rdataset_next(rd)) {
    ++out.count;
    out.size += static_cast<uint32_t>(knot_rdata_size(rd->len));
  }
  return true;
}

} // namespace

ZoneSigning zone_signing(const NodeView &apex) {
  ZoneSigning out;
  knot_rdataset_t soa_sigs;
  if (!rrsigs_covering(apex, KNOT_RRTYPE_SOA, soa_sigs)) {
    return out;
  }
  out.mode = DnssecMode::kNsec;
  RRsetView param;
  if (!apex.find(KNOT_RRTYPE_NSEC3PARAM, param)) {
    return out;
  }
  // RFC 5155 4.1.2: an NSEC3PARAM whose Flags are not zero is ignored; the first usable one
  // in canonical order is the zone's chain.
  knot_rdata_t *rd = param.rrs.rdata;
  for (uint16_t i = 0; i < param.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    Nsec3Params p;
    if (parse_nsec3_params(rd->data, rd->len, p) && p.valid() && p.flags == 0) {
      out.nsec3 = p;
      out.mode = DnssecMode::kNsec3;
      break;
    }
  }
  return out;
}

bool nsec3_node_hash(const NameKey &key, const NodeView &node, uint8_t hash[kNsec3HashLen]) {
  if (key.labels != 1 || key.len != kNsec3LabelLen + 1 || node.empty()) {
    return false;
  }
  bool has_nsec3 = false;
  for (uint16_t i = 0; i < node.count(); ++i) {
    uint16_t t = node.at(i).type;
    if (t == KNOT_RRTYPE_NSEC3) {
      has_nsec3 = true;
    } else if (t != KNOT_RRTYPE_RRSIG) {
      return false;
    }
  }
  return has_nsec3 && base32hex_decode(key.data, kNsec3LabelLen, hash);
}

NameKey nsec3_owner_key(const uint8_t hash[kNsec3HashLen]) {
  NameKey key;
  base32hex_encode(hash, key.data);
  key.data[kNsec3LabelLen] = 0;
  key.len = kNsec3LabelLen + 1;
  key.labels = 1;
  return key;
}

void node_hashes(const NameKey &key, const knot_dname_t *apex, const Nsec3Params &params,
                 uint8_t out[kNsec3TrailerLen]) {
  uint8_t name[KNOT_DNAME_MAXLEN + 2] = {1, '*'};
  size_t len = key_to_name(key, apex, name + 2);
  std::memset(out, 0, kNsec3TrailerLen);
  (void)nsec3_hash(name + 2, params, out);
  if (len + 2 <= KNOT_DNAME_MAXLEN) { // "*.owner" still a name
    (void)nsec3_hash(name, params, out + kNsec3HashLen);
  }
}

bool rrsigs_covering(const NodeView &node, uint16_t type, knot_rdataset_t &out) {
  uint16_t covered = 0;
  return type != 0 && rrsig_run(node, type, out, covered);
}

bool first_rrsigs(const NodeView &node, knot_rdataset_t &out, uint16_t &covered) {
  return rrsig_run(node, 0, out, covered);
}

} // namespace holdfast::store
