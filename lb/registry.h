// SPDX-License-Identifier: MIT
// The control loop's traffic-management state: per (check, address) target the rise/fall
// hysteresis, per (pool, member) the operator state, manual-reintegration latch and last
// probe result. Every change of a member's effective state is logged once, rebuilds and
// publishes the View, and is handed to the persist hook (the store keeps it for restarts).
//
// Threads: everything runs on the control loop except pools(), pool() and add_counts(),
// which any thread may call: they copy out under a mutex the control loop updates.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "lb/health.h"
#include "lb/spec.h"
#include "lb/status.h"
#include "lb/view_slot.h"

namespace holdfast::lb {

class Registry {
public:
  // One (check, address) pair to probe, however many members use it.
  struct Target {
    std::string key; // check id + "@" + address ("web@192.0.2.1"): stable over reloads
    CheckSpec check;
    Endpoint address;
  };

  Registry(ViewSlot &slot, unsigned workers);

  // Load and reload: targets whose check fingerprint is unchanged keep their hysteresis,
  // (pool, member) pairs that stay keep operator state, latch and last result. Publishes.
  void configure(std::shared_ptr<const LbConfig> cfg);
  // The state saved before a restart (before or after the first configure): admin, latch,
  // last result, since, and health_up as the initial hysteresis of the member's target.
  void restore(const std::vector<PersistedMember> &members);

  std::vector<Target> targets() const;
  // One probe outcome for target `key` (unknown keys, e.g. after a reload, are ignored).
  void on_probe(const std::string &key, const ProbeResult &r);
  // verb: enable (forced up, clears the manual latch), disable (forced down), drain, auto.
  Status set_admin(const std::string &pool, const std::string &member, const std::string &verb);

  // Any thread.
  std::vector<PoolStatus> pools() const;
  std::optional<PoolStatus> pool(const std::string &id) const;
  // Answer counters since the start: retired views' totals plus the live views' counters.
  void add_counts(std::vector<AnswerCount> &answers, std::vector<FallbackCount> &fallbacks) const;

  // Called on the control loop with the members whose persisted state changed.
  void on_persist(std::function<void(std::vector<PersistedMember>)> hook);
  // Deletes retired views no worker holds, folding their counters (call periodically).
  void reclaim();
  // Every member's state as it would be persisted (config order).
  std::vector<PersistedMember> persisted() const;

private:
  struct TargetState {
    std::string key;
    const CheckSpec *check = nullptr; // in cfg_
    Endpoint address;
    std::string fingerprint;
    Hysteresis h;
    std::vector<std::pair<size_t, size_t>> users; // (pool, member) indexes
  };
  struct MemberState {
    Admin admin = Admin::kAuto;
    bool latched = false;
    bool health_up = true;
    Live live = Live::kUp;
    Reason reason = Reason::kOk;
    std::string detail;
    double latency_s = 0;
    int64_t since_ms = 0;
    int target = -1;    // index in targets_, -1: always up
    bool dirty = false; // admin or latch changed since the last refresh
  };
  using MemberKey = std::pair<std::string, std::string>; // pool id, member id

  int add_target(const PoolSpec &p, const MemberSpec &m, size_t pi, size_t mi,
                 std::unordered_map<std::string, std::pair<std::string, Hysteresis>> &old);
  void apply_restored(MemberState &ms, const PersistedMember &pm, bool manual);
  void refresh(const std::vector<std::pair<size_t, size_t>> &which, const std::string &why,
               bool force);
  void log_change(size_t pi, size_t mi, Live was, const std::string &why) const;
  void publish();
  PersistedMember persisted(size_t pi, size_t mi) const;
  MemberStatus status_of(size_t pi, size_t mi) const;
  void rebuild_status();

  ViewSlot &slot_;
  unsigned workers_;
  std::shared_ptr<const LbConfig> cfg_;
  std::vector<TargetState> targets_;
  std::unordered_map<std::string, size_t> target_index_;
  std::vector<std::vector<MemberState>> members_; // [pool][member], config order
  std::map<MemberKey, PersistedMember> pending_;  // restored before the first configure
  std::function<void(std::vector<PersistedMember>)> persist_;

  mutable std::mutex mu_; // guards status_, the folded counters and slot_'s view list
  std::vector<PoolStatus> status_;
  std::vector<AnswerCount> folded_answers_;
  std::vector<FallbackCount> folded_fallbacks_;
};

} // namespace holdfast::lb
