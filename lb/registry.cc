// SPDX-License-Identifier: MIT
// Traffic-management state on the control loop (see registry.h): targets' hysteresis,
// members' operator state, the View published on every change, persistence and counters.
#include "lb/registry.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/dname.h"

namespace holdfast::lb {

namespace {

const char *live_name(Live l) {
  switch (l) {
  case Live::kOut:
    return "out";
  case Live::kUp:
    return "up";
  case Live::kDrain:
    return "drain";
  }
  return "out";
}

int64_t now_ms() {
  return unix_now_ns() / 1000000;
}

const std::string &check_of(const PoolSpec &p, const MemberSpec &m) {
  return m.check.empty() ? p.check : m.check;
}

// What the member answers, for the operator: its address, cname or SRV target.
std::string answer_text(const MemberSpec &m) {
  if (m.address) {
    return endpoint_host(*m.address);
  }
  if (!m.cname.empty()) {
    return name_to_string(m.cname.data());
  }
  if (!m.target.empty()) {
    return name_to_string(m.target.data());
  }
  return "";
}

} // namespace

Registry::Registry(ViewSlot &slot, unsigned workers) : slot_(slot), workers_(workers) {}

void Registry::configure(std::shared_ptr<const LbConfig> cfg) {
  std::unordered_map<std::string, std::pair<std::string, Hysteresis>> old_targets;
  for (const auto &t : targets_) {
    old_targets.emplace(t.key, std::make_pair(t.fingerprint, t.h));
  }
  std::map<MemberKey, MemberState> old_members;
  for (size_t pi = 0; cfg_ && pi < cfg_->pools.size(); ++pi) {
    for (size_t mi = 0; mi < cfg_->pools[pi].members.size(); ++mi) {
      old_members.emplace(MemberKey{cfg_->pools[pi].id, cfg_->pools[pi].members[mi].id},
                          std::move(members_[pi][mi]));
    }
  }
  cfg_ = std::move(cfg);
  targets_.clear();
  target_index_.clear();
  members_.assign(cfg_->pools.size(), {});
  std::vector<std::pair<size_t, size_t>> all;
  for (size_t pi = 0; pi < cfg_->pools.size(); ++pi) {
    const PoolSpec &p = cfg_->pools[pi];
    members_[pi].resize(p.members.size());
    for (size_t mi = 0; mi < p.members.size(); ++mi) {
      MemberState &ms = members_[pi][mi];
      auto old = old_members.find(MemberKey{p.id, p.members[mi].id});
      bool kept = old != old_members.end();
      if (kept) {
        ms = std::move(old->second);
      } else {
        ms.since_ms = now_ms();
      }
      ms.target = add_target(p, p.members[mi], pi, mi, old_targets);
      if (p.reintegrate == Reintegrate::kAuto && ms.latched) {
        ms.latched = false; // a latch only holds under reintegrate: manual
        ms.dirty = true;
      }
      if (!kept) {
        ms.health_up = ms.target < 0 || targets_[ms.target].h.up;
        ms.live = effective(ms.admin, ms.health_up, ms.latched);
        if (auto pm = pending_.find(MemberKey{p.id, p.members[mi].id}); pm != pending_.end()) {
          apply_restored(ms, pm->second, p.reintegrate == Reintegrate::kManual);
        }
      }
      all.emplace_back(pi, mi);
    }
  }
  pending_.clear();
  {
    std::lock_guard lock(mu_);
    rebuild_status();
  }
  refresh(all, "configuration changed", true);
}

int Registry::add_target(const PoolSpec &p, const MemberSpec &m, size_t pi, size_t mi,
                         std::unordered_map<std::string, std::pair<std::string, Hysteresis>> &old) {
  const CheckSpec *c = check_of(p, m).empty() ? nullptr : cfg_->check(check_of(p, m));
  const Endpoint *a = m.probe_address();
  if (c == nullptr || a == nullptr) {
    return -1; // nothing to probe: always up
  }
  std::string key = c->id + "@" + endpoint_host(*a);
  auto [it, added] = target_index_.try_emplace(key, targets_.size());
  if (added) {
    TargetState t;
    t.key = key;
    t.check = c;
    t.address = *a;
    t.fingerprint = fingerprint(*c);
    // A changed check starts over (up); an unchanged one keeps its hysteresis.
    if (auto o = old.find(key); o != old.end() && o->second.first == t.fingerprint) {
      t.h = o->second.second;
    }
    targets_.push_back(std::move(t));
  }
  targets_[it->second].users.emplace_back(pi, mi);
  return static_cast<int>(it->second);
}

void Registry::apply_restored(MemberState &ms, const PersistedMember &pm, bool manual) {
  ms.admin = pm.admin;
  ms.latched = pm.latched && manual; // a latch only holds under reintegrate: manual
  ms.reason = pm.reason;
  ms.detail = pm.detail;
  ms.since_ms = pm.since_ms;
  if (ms.target >= 0) {
    targets_[ms.target].h = Hysteresis{};
    targets_[ms.target].h.up = pm.health_up;
  }
  ms.health_up = ms.target < 0 || targets_[ms.target].h.up;
  ms.live = effective(ms.admin, ms.health_up, ms.latched);
}

void Registry::restore(const std::vector<PersistedMember> &members) {
  if (!cfg_) {
    for (const auto &m : members) {
      pending_[MemberKey{m.pool, m.member}] = m;
    }
    spdlog::info("lb: restored the state of {} member(s)", members.size());
    return;
  }
  std::vector<std::pair<size_t, size_t>> touched;
  for (const auto &m : members) {
    for (size_t pi = 0; pi < cfg_->pools.size(); ++pi) {
      const PoolSpec &p = cfg_->pools[pi];
      for (size_t mi = 0; p.id == m.pool && mi < p.members.size(); ++mi) {
        if (p.members[mi].id == m.member) {
          apply_restored(members_[pi][mi], m, p.reintegrate == Reintegrate::kManual);
          touched.emplace_back(pi, mi);
        }
      }
    }
  }
  spdlog::info("lb: restored the state of {} member(s)", touched.size());
  refresh(touched, "restored", true);
}

std::vector<Registry::Target> Registry::targets() const {
  std::vector<Target> out;
  out.reserve(targets_.size());
  for (const auto &t : targets_) {
    out.push_back(Target{t.key, *t.check, t.address});
  }
  return out;
}

void Registry::on_probe(const std::string &key, const ProbeResult &r) {
  auto it = target_index_.find(key);
  if (it == target_index_.end()) {
    spdlog::debug("lb: result for {} ignored: no member uses it any more", key);
    return;
  }
  TargetState &t = targets_[it->second];
  bool flipped = observe(t.h, r.ok(), t.check->rise, t.check->fall);
  for (auto [pi, mi] : t.users) {
    MemberState &ms = members_[pi][mi];
    ms.reason = r.reason;
    ms.detail = r.detail;
    ms.latency_s = r.latency_s;
    if (flipped && !t.h.up && cfg_->pools[pi].reintegrate == Reintegrate::kManual && !ms.latched) {
      ms.latched = true; // stays out after recovering, until `enable`
      ms.dirty = true;
    }
  }
  std::string why = "check " + key + ": " + reason_name(r.reason);
  if (!r.detail.empty()) {
    why += ", " + r.detail;
  }
  refresh(t.users, why, false);
}

Status Registry::set_admin(const std::string &pool, const std::string &member,
                           const std::string &verb) {
  const PoolSpec *p = cfg_ ? cfg_->pool(pool) : nullptr;
  if (p == nullptr) {
    return fail("unknown pool '" + pool + "'");
  }
  size_t pi = static_cast<size_t>(p - cfg_->pools.data());
  size_t mi = 0;
  while (mi < p->members.size() && p->members[mi].id != member) {
    ++mi;
  }
  if (mi == p->members.size()) {
    return fail("unknown member '" + member + "' in pool '" + pool + "'");
  }
  Admin a = Admin::kAuto;
  if (verb == "enable") {
    a = Admin::kUp;
  } else if (verb == "disable") {
    a = Admin::kDown;
  } else if (verb == "drain") {
    a = Admin::kDrain;
  } else if (verb != "auto") {
    return fail("unknown action '" + verb + "' (enable, disable, drain or auto)");
  }
  MemberState &ms = members_[pi][mi];
  ms.dirty = ms.admin != a || (verb == "enable" && ms.latched);
  ms.admin = a;
  if (verb == "enable") {
    ms.latched = false;
  }
  refresh({{pi, mi}}, "operator: " + verb, false);
  return Ok{};
}

// Recomputes health and Live of the members in `which`: logs each Live change once, updates
// the operator's copy, publishes a view when a Live changed (or `force`), then persists the
// members whose persisted state changed.
void Registry::refresh(const std::vector<std::pair<size_t, size_t>> &which, const std::string &why,
                       bool force) {
  std::vector<PersistedMember> changed;
  bool live_changed = false;
  for (auto [pi, mi] : which) {
    MemberState &ms = members_[pi][mi];
    bool health = ms.target < 0 || targets_[ms.target].h.up;
    Live live = effective(ms.admin, health, ms.latched);
    Live was = ms.live;
    bool persist = ms.dirty || health != ms.health_up || live != was;
    ms.health_up = health;
    ms.live = live;
    ms.dirty = false;
    if (live != was) {
      ms.since_ms = now_ms();
      live_changed = true;
      log_change(pi, mi, was, why);
    }
    if (persist) {
      changed.push_back(persisted(pi, mi));
    }
  }
  {
    std::lock_guard lock(mu_);
    for (auto [pi, mi] : which) {
      status_[pi].members[mi] = status_of(pi, mi);
    }
    if (live_changed || force) {
      publish();
    }
  }
  if (!changed.empty() && persist_) {
    persist_(std::move(changed));
  }
}

// One line per change of a member's effective state, e.g.
//   [pool web] member a: out (was up), check web@192.0.2.1: status, HTTP 503
void Registry::log_change(size_t pi, size_t mi, Live was, const std::string &why) const {
  const MemberState &ms = members_[pi][mi];
  auto lvl = ms.live == Live::kOut ? spdlog::level::warn : spdlog::level::info;
  spdlog::log(lvl, "[pool {}] member {}: {} (was {}), {}{}", cfg_->pools[pi].id,
              cfg_->pools[pi].members[mi].id, live_name(ms.live), live_name(was), why,
              ms.latched && ms.live == Live::kOut ? ", reintegrate: manual, out until enabled"
                                                  : "");
}

// Under mu_: builds a view from the members' Live states and hands it to the workers.
void Registry::publish() {
  std::vector<std::vector<Live>> live(members_.size());
  for (size_t pi = 0; pi < members_.size(); ++pi) {
    for (const auto &ms : members_[pi]) {
      live[pi].push_back(ms.live);
    }
  }
  slot_.publish(View::build(cfg_, live, workers_));
}

PersistedMember Registry::persisted(size_t pi, size_t mi) const {
  const MemberState &ms = members_[pi][mi];
  return PersistedMember{cfg_->pools[pi].id, cfg_->pools[pi].members[mi].id,
                         ms.admin,           ms.health_up,
                         ms.latched,         ms.reason,
                         ms.detail,          ms.since_ms};
}

std::vector<PersistedMember> Registry::persisted() const {
  std::vector<PersistedMember> out;
  for (size_t pi = 0; pi < members_.size(); ++pi) {
    for (size_t mi = 0; mi < members_[pi].size(); ++mi) {
      out.push_back(persisted(pi, mi));
    }
  }
  return out;
}

MemberStatus Registry::status_of(size_t pi, size_t mi) const {
  const MemberSpec &m = cfg_->pools[pi].members[mi];
  const MemberState &ms = members_[pi][mi];
  MemberStatus s;
  s.id = m.id;
  s.address = answer_text(m);
  s.probe = ms.target >= 0 ? targets_[ms.target].key : "";
  s.live = ms.live;
  s.admin = ms.admin;
  s.health_up = ms.health_up;
  s.latched = ms.latched;
  s.reason = ms.reason;
  s.detail = ms.detail;
  s.latency_s = ms.latency_s;
  s.since_ms = ms.since_ms;
  s.weight = m.weight;
  s.tier = m.tier;
  return s;
}

// Under mu_: the operator's copy in the shape of the current config.
void Registry::rebuild_status() {
  status_.clear();
  for (size_t pi = 0; pi < cfg_->pools.size(); ++pi) {
    const PoolSpec &p = cfg_->pools[pi];
    PoolStatus ps{p.id, p.check, p.reintegrate == Reintegrate::kManual ? "manual" : "auto", {}};
    for (size_t mi = 0; mi < p.members.size(); ++mi) {
      ps.members.push_back(status_of(pi, mi));
    }
    status_.push_back(std::move(ps));
  }
}

std::vector<PoolStatus> Registry::pools() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::optional<PoolStatus> Registry::pool(const std::string &id) const {
  std::lock_guard lock(mu_);
  for (const auto &p : status_) {
    if (p.id == id) {
      return p;
    }
  }
  return std::nullopt;
}

void Registry::add_counts(std::vector<AnswerCount> &answers,
                          std::vector<FallbackCount> &fallbacks) const {
  std::lock_guard lock(mu_);
  merge_counts(answers, folded_answers_);
  merge_counts(fallbacks, folded_fallbacks_);
  slot_.visit([&](const View &v) { v.add_counts(answers, fallbacks); });
}

void Registry::on_persist(std::function<void(std::vector<PersistedMember>)> hook) {
  persist_ = std::move(hook);
}

void Registry::reclaim() {
  std::lock_guard lock(mu_);
  slot_.reclaim([&](const View &v) { v.add_counts(folded_answers_, folded_fallbacks_); });
}

} // namespace holdfast::lb
