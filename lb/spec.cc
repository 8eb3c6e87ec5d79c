// SPDX-License-Identifier: MIT
// Look-ups over the traffic-management config, members' rdata and check fingerprints.
#include "lb/spec.h"

#include <netinet/in.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/knot.h"

namespace holdfast::lb {
namespace {

void put16(std::vector<uint8_t> &out, uint32_t v) {
  v = std::min<uint32_t>(v, 0xffff);
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

} // namespace

bool member_rdata(const MemberSpec &m, uint16_t type, std::vector<uint8_t> &out, bool &cname) {
  const auto *sa = m.address ? reinterpret_cast<const sockaddr *>(&m.address->addr) : nullptr;
  cname = false;
  if (type == KNOT_RRTYPE_SRV) {
    if (m.target.empty()) {
      return false;
    }
    // RFC 2782: priority, weight, port, target (never compressed).
    put16(out, m.tier);
    put16(out, m.weight);
    put16(out, m.port);
    out.insert(out.end(), m.target.begin(), m.target.end());
    return true;
  }
  if (type == KNOT_RRTYPE_A && sa != nullptr && sa->sa_family == AF_INET) {
    const auto *in = reinterpret_cast<const sockaddr_in *>(sa);
    const auto *p = reinterpret_cast<const uint8_t *>(&in->sin_addr);
    out.assign(p, p + 4);
    return true;
  }
  if (type == KNOT_RRTYPE_AAAA && sa != nullptr && sa->sa_family == AF_INET6) {
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    const auto *p = reinterpret_cast<const uint8_t *>(&in6->sin6_addr);
    out.assign(p, p + 16);
    return true;
  }
  if (!m.cname.empty()) {
    out = m.cname;
    cname = true;
    return true;
  }
  return false;
}

const CheckSpec *LbConfig::check(const std::string &id) const {
  for (const auto &c : checks) {
    if (c.id == id) {
      return &c;
    }
  }
  return nullptr;
}

const PoolSpec *LbConfig::pool(const std::string &id) const {
  for (const auto &p : pools) {
    if (p.id == id) {
      return &p;
    }
  }
  return nullptr;
}

std::string fingerprint(const CheckSpec &c) {
  std::string out = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", c.id,
                                static_cast<int>(c.type), c.port, c.path,
                                static_cast<int>(c.method), c.body, c.host, c.expect_body,
                                c.send, c.tls_ca, c.tls_verify, c.interval_ms, c.timeout_ms,
                                c.fall, c.rise, c.source ? c.source->text : "");
  for (const auto &[k, v] : c.headers) {
    out += "|h:" + k + "=" + v;
  }
  for (const auto &s : c.expect_status) {
    out += fmt::format("|s:{}-{}", s.lo, s.hi);
  }
  return out;
}

} // namespace holdfast::lb
