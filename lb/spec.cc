// SPDX-License-Identifier: MIT
// Look-ups over the traffic-management config and check fingerprints.
#include "lb/spec.h"

#include <fmt/format.h>

namespace holdfast::lb {

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
