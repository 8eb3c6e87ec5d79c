// SPDX-License-Identifier: MIT
// Member and pool state as the operator interface shows it (API, CLI, metrics): plain values
// copied out of the registry, safe to hand to another thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lb/health.h"

namespace holdfast::lb {

struct MemberStatus {
  std::string id;
  std::string address;       // what is answered: address, cname or SRV target ("" if none)
  std::string probe;         // "check@address" probed, "" when the member is always up
  Live live = Live::kUp;     // effective state
  Admin admin = Admin::kAuto;
  bool health_up = true;     // last hysteresis state
  bool latched = false;      // went down under reintegrate: manual, waiting for `enable`
  Reason reason = Reason::kOk; // last probe outcome
  std::string detail;        // last probe detail
  double latency_s = 0;      // last probe
  int64_t since_ms = 0;      // unix ms of the last change of `live`
  uint32_t weight = 0;
  unsigned tier = 1;
};

struct PoolStatus {
  std::string id;
  std::string check;
  std::string reintegrate; // "auto" | "manual"
  std::vector<MemberStatus> members;
};

} // namespace holdfast::lb
