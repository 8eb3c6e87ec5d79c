// SPDX-License-Identifier: MIT
// A point-in-time view of every zone and of the server, read from the store, the xfr
// controllers' stats and the workers' counters. Both /metrics and the JSON API render it, so
// the two never disagree.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "lb/status.h"
#include "serve/worker.h"
#include "store/env.h"
#include "store/writer_thread.h"
#include "xfr/service.h"

namespace holdfast::daemon {

struct ZoneStatus {
  std::string zone;
  bool secondary = false;
  std::optional<uint32_t> serial;        // served
  std::optional<uint32_t> master_serial; // last seen at a master
  double sync_lag_seconds = 0;
  bool master_reachable = false;
  std::optional<double> last_check;    // unix seconds of the last successful check
  std::optional<double> last_transfer; // unix seconds of the last successful transfer
  double last_transfer_duration = 0;
  uint64_t last_transfer_bytes = 0;
  std::string last_error;
  std::string state = "idle";
  bool ready = false; // has a snapshot, or its first transfer attempt failed
  uint64_t checks = 0, check_failures = 0;
  uint64_t axfr_success = 0, axfr_failure = 0, ixfr_success = 0, ixfr_failure = 0;
  uint64_t substitutions_skipped = 0; // sealed zone: vanity set / managed names not applied
  uint64_t notifies_accepted = 0, notifies_refused = 0;
};

struct ServerStatus {
  uint64_t udp_queries = 0, tcp_queries = 0, dropped = 0, tcp_connections = 0, truncated = 0;
  uint64_t tcp_refused = 0, tcp_timeouts = 0, tcp_paused = 0; // bounded TCP (serve/worker.h)
  uint64_t rrl_limited = 0, rrl_slipped = 0;
  uint64_t rcode[serve::QueryCounters::kRcodes] = {};
  uint64_t qtype[256] = {};
  uint64_t qtype_other = 0;
  uint64_t snapshots = 0;
  uint64_t storage_bytes = 0;
  uint64_t storage_map_bytes = 0, storage_map_resizes = 0;
  uint64_t writer_backlog = 0;
  uint64_t kept_zones = 0; // in the store, not in the config: not served
  uint64_t notifies_received = 0, notifies_accepted = 0, notifies_refused = 0;
};

// A zone that left the config, its data kept in the store (store/schema.h kZoneFlagKept).
struct KeptZoneStatus {
  std::string zone;
  uint32_t serial = 0;
  uint32_t records = 0;
  std::optional<double> dropped; // unix seconds it left the config
  std::string source;            // zone file or master it was last published from
};

// What the control plane reads. Everything it points to outlives the plane.
class StatusSource {
public:
  StatusSource(std::shared_ptr<const Config> cfg, store::Env &env, xfr::Service &xfr,
               const std::vector<std::unique_ptr<serve::Worker>> &workers,
               const store::WriterThread *writer = nullptr);
  // A reload's new config (which zones exist).
  void set_config(std::shared_ptr<const Config> cfg) { cfg_.store(std::move(cfg)); }
  std::vector<ZoneStatus> zones();
  // One zone by name (any case, final dot optional), if configured.
  std::optional<ZoneStatus> zone(const std::string &name);
  ServerStatus server();
  // Zones in the store that no config lists (not served).
  std::vector<KeptZoneStatus> kept();
  xfr::Service &xfr() { return xfr_; }
  // Traffic management for /metrics: the daemon sets it once, before the control plane starts;
  // it is called from HTTP threads (copy out under the registry's and counters' locks).
  void on_lb_stats(std::function<lb::LbStats()> fn) { lb_stats_ = std::move(fn); }
  lb::LbStats lb_stats() const { return lb_stats_ ? lb_stats_() : lb::LbStats{}; }

private:
  ZoneStatus status_of(const ZoneConfig &z, const std::optional<uint32_t> &stored, int64_t now);
  static void fill(ZoneStatus &st, const xfr::ZoneStats &s, int64_t now);

  std::atomic<std::shared_ptr<const Config>> cfg_;
  store::Env &env_;
  xfr::Service &xfr_;
  const std::vector<std::unique_ptr<serve::Worker>> &workers_;
  const store::WriterThread *writer_;
  std::function<lb::LbStats()> lb_stats_;
  std::mutex mu_;      // one reader slot for every HTTP thread
  store::ReadTxn txn_; // gated: never held while the map grows
};

} // namespace holdfast::daemon
