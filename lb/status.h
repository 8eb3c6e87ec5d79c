// SPDX-License-Identifier: MIT
// Member and pool state as the operator interface shows it (API, CLI, metrics): plain values
// copied out of the registry, safe to hand to another thread.
#pragma once

#include <cstdint>
#include <iterator>
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

// Counters for /metrics, summed over workers and over every view since the start (monotonic).
struct AnswerCount { // holdfast_lb_answers_total{name,type,member}
  std::string name, type, member;
  uint64_t count = 0;
};
struct FallbackCount { // holdfast_lb_fallback_answers_total{name,type,kind}
  std::string name, type, kind; // kind: "fallback", "all", "nodata", "servfail"
  uint64_t count = 0;
};
struct CheckCount { // holdfast_health_checks_total{check,address,result}
  std::string check, address, result; // result: reason_name()
  uint64_t count = 0;
};
// holdfast_health_check_duration_seconds{check}: a Prometheus histogram.
inline constexpr double kDurationBounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,   1,    2.5,   5,    10};
struct CheckDuration {
  std::string check;
  uint64_t buckets[std::size(kDurationBounds)] = {}; // cumulative: probes <= each bound
  uint64_t count = 0;
  double sum = 0;
};

// Everything the operator interface reads, copied out under the owners' locks.
struct LbStats {
  std::vector<PoolStatus> pools;
  std::vector<AnswerCount> answers;
  std::vector<FallbackCount> fallbacks;
  std::vector<CheckCount> checks;
  std::vector<CheckDuration> durations;
};

// What survives a restart for one member (written by the single writer, read at start).
struct PersistedMember {
  std::string pool, member;
  Admin admin = Admin::kAuto;
  bool health_up = true;
  bool latched = false;
  Reason reason = Reason::kOk;
  std::string detail;
  int64_t since_ms = 0;
};

} // namespace holdfast::lb
