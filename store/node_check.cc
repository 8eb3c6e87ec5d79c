// SPDX-License-Identifier: MIT
// The per-node checks shared by the publish pass and the in-place IXFR patch (node_check.h).
#include "store/node_check.h"

#include "common/dname.h"

namespace holdfast::store {
namespace {

std::string owner_text(const NameKey &key, const knot_dname_t *apex) {
  uint8_t name[KNOT_DNAME_MAXLEN];
  key_to_name(key, apex, name);
  return name_to_string(name);
}

} // namespace

std::string check_node(const NodeView &node, const NameKey &key, const knot_dname_t *apex) {
  bool is_apex = key.len == 0;
  RRsetView rr;
  if (node.find(KNOT_RRTYPE_SOA, rr)) {
    if (!is_apex) {
      return "SOA record at " + owner_text(key, apex) + " is not at the zone apex";
    }
    if (rr.rrs.count != 1) {
      return "more than one SOA record at the zone apex";
    }
  }
  if (node.find(KNOT_RRTYPE_CNAME, rr)) {
    if (rr.rrs.count != 1) {
      return "more than one CNAME record at " + owner_text(key, apex);
    }
    // RFC 4035 2.5: RRSIG and NSEC may sit beside a CNAME in a signed zone.
    for (uint16_t i = 0; i < node.count(); ++i) {
      uint16_t t = node.at(i).type;
      if (t != KNOT_RRTYPE_CNAME && t != KNOT_RRTYPE_RRSIG && t != KNOT_RRTYPE_NSEC) {
        return "CNAME record at " + owner_text(key, apex) + " has other data beside it";
      }
    }
  }
  return "";
}

} // namespace holdfast::store
