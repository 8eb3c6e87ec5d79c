// SPDX-License-Identifier: MIT
// Traffic-management member state in the "lb-state" table (store/schema.h): the operator state
// and last observed health of each (pool, member), written by the single writer whenever a
// member changes and read once at start, so that a restart answers exactly as before (issue 11).
// Plain values: store/ knows nothing of lb/ (daemon/lb_persist.h converts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/env.h"

namespace holdfast::store {

struct MemberStateRecord {
  std::string pool, member;
  uint8_t admin = 0; // lb::Admin
  bool health_up = true;
  bool latched = false;
  uint8_t reason = 0; // lb::Reason
  std::string detail;
  int64_t since_ms = 0; // unix ms of the member's last change
  bool operator==(const MemberStateRecord &) const = default;
};

// Replaces the whole table with `records` in one write transaction (the writer thread only:
// the daemon submits this as a job). A pool/member pair too long for an LMDB key is an error
// that names it; nothing is written then.
Status save_member_states(Env &env, const std::vector<MemberStateRecord> &records);

// Every stored record, ordered by (pool, member), through a gated one-shot read. Values of an
// unknown layout version (written by a newer holdfast) are skipped: those members start fresh.
Result<std::vector<MemberStateRecord>> load_member_states(Env &env);

} // namespace holdfast::store
