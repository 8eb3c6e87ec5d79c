// SPDX-License-Identifier: MIT
// Managed-name placeholders per zone (see lb_overlay.h).
#include "daemon/lb_overlay.h"

#include "common/knot.h"

namespace holdfast::daemon {
namespace {

// One record's placeholder RRset; false when no member can answer it.
bool placeholder(const lb::RecordSpec &r, const lb::PoolSpec &pool, store::OverlayRRset &out) {
  out.owner = r.name;
  out.type = r.type;
  out.ttl = r.ttl;
  const lb::MemberSpec *cname = nullptr;
  for (const auto &m : pool.members) {
    std::vector<uint8_t> rd;
    bool alias = false;
    if (!lb::member_rdata(m, r.type, rd, alias)) {
      continue;
    }
    if (!alias) {
      out.rdata.push_back(std::move(rd));
    } else if (cname == nullptr) {
      cname = &m;
    }
  }
  if (out.rdata.empty() && cname != nullptr) {
    // Only aliases can answer (a CNAME record, or an A/AAAA pool of CNAME members): the name
    // is an alias in the snapshot; a CNAME RRset has one record (RFC 1034 3.6.2).
    out.type = KNOT_RRTYPE_CNAME;
    out.rdata.push_back(cname->cname);
  }
  return !out.rdata.empty();
}

} // namespace

std::shared_ptr<const store::Overlay> overlay_for(const lb::LbConfig &lb,
                                                  const std::vector<uint8_t> &apex) {
  std::vector<store::OverlayRRset> sets;
  for (const auto &r : lb.records) {
    const lb::PoolSpec *pool = lb.pool(r.pool);
    store::OverlayRRset set;
    if (r.zone == apex && pool != nullptr && placeholder(r, *pool, set)) {
      sets.push_back(std::move(set));
    }
  }
  if (sets.empty()) {
    return nullptr;
  }
  return std::make_shared<const store::Overlay>(std::move(sets));
}

} // namespace holdfast::daemon
