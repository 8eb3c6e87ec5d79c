// SPDX-License-Identifier: MIT
// Managed-name placeholders per zone (see lb_overlay.h).
#include "daemon/lb_overlay.h"

#include <netinet/in.h>

#include "common/knot.h"

namespace holdfast::daemon {
namespace {

// The address of `m` as A (4 octets) or AAAA (16) rdata, if it has one of that family.
bool address_rdata(const lb::MemberSpec &m, uint16_t type, std::vector<uint8_t> &out) {
  if (!m.address) {
    return false;
  }
  const auto *sa = reinterpret_cast<const sockaddr *>(&m.address->addr);
  if (type == KNOT_RRTYPE_A && sa->sa_family == AF_INET) {
    const auto &a = reinterpret_cast<const sockaddr_in *>(sa)->sin_addr;
    const auto *p = reinterpret_cast<const uint8_t *>(&a);
    out.assign(p, p + 4);
    return true;
  }
  if (type == KNOT_RRTYPE_AAAA && sa->sa_family == AF_INET6) {
    const auto &a = reinterpret_cast<const sockaddr_in6 *>(sa)->sin6_addr;
    const auto *p = reinterpret_cast<const uint8_t *>(&a);
    out.assign(p, p + 16);
    return true;
  }
  return false;
}

std::vector<uint8_t> srv_rdata(const lb::MemberSpec &m) {
  std::vector<uint8_t> rd;
  auto put16 = [&rd](unsigned v) {
    rd.push_back(static_cast<uint8_t>(v >> 8));
    rd.push_back(static_cast<uint8_t>(v));
  };
  put16(m.tier);
  put16(m.weight > 65535 ? 65535 : m.weight);
  put16(m.port);
  rd.insert(rd.end(), m.target.begin(), m.target.end());
  return rd;
}

// One record's placeholder RRset; false when no member can answer it.
bool placeholder(const lb::RecordSpec &r, const lb::PoolSpec &pool, store::OverlayRRset &out) {
  out.owner = r.name;
  out.type = r.type;
  out.ttl = r.ttl;
  const lb::MemberSpec *cname = nullptr;
  for (const auto &m : pool.members) {
    std::vector<uint8_t> rd;
    if (r.type == KNOT_RRTYPE_SRV && !m.target.empty()) {
      out.rdata.push_back(srv_rdata(m));
    } else if (address_rdata(m, r.type, rd)) {
      out.rdata.push_back(std::move(rd));
    } else if (!m.cname.empty() && cname == nullptr) {
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
