// SPDX-License-Identifier: MIT
// Converting member states for the store (see lb_persist.h).
#include "daemon/lb_persist.h"

namespace holdfast::daemon {

store::MemberStateRecord to_record(const lb::PersistedMember &m) {
  return {m.pool,      m.member,  static_cast<uint8_t>(m.admin),
          m.health_up, m.latched, static_cast<uint8_t>(m.reason),
          m.detail,    m.since_ms};
}

lb::PersistedMember from_record(const store::MemberStateRecord &r) {
  lb::PersistedMember m;
  m.pool = r.pool;
  m.member = r.member;
  m.admin = r.admin <= static_cast<uint8_t>(lb::Admin::kDrain) ? static_cast<lb::Admin>(r.admin)
                                                               : lb::Admin::kAuto;
  m.health_up = r.health_up;
  m.latched = r.latched;
  m.reason = r.reason <= static_cast<uint8_t>(lb::Reason::kError)
                 ? static_cast<lb::Reason>(r.reason)
                 : lb::Reason::kError;
  m.detail = r.detail;
  m.since_ms = r.since_ms;
  return m;
}

Status save_members(store::Env &env, const std::vector<lb::PersistedMember> &members) {
  std::vector<store::MemberStateRecord> records;
  records.reserve(members.size());
  for (const auto &m : members) {
    records.push_back(to_record(m));
  }
  return store::save_member_states(env, records);
}

Result<std::vector<lb::PersistedMember>> load_members(store::Env &env) {
  auto records = store::load_member_states(env);
  if (!records) {
    return Error{records.error()};
  }
  std::vector<lb::PersistedMember> out;
  out.reserve(records->size());
  for (const auto &r : *records) {
    out.push_back(from_record(r));
  }
  return out;
}

} // namespace holdfast::daemon
