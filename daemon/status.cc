// SPDX-License-Identifier: MIT
// Collecting zone and server status (see status.h).
#include "daemon/status.h"

#include <algorithm>
#include <map>

#include "common/clock.h"
#include "common/dname.h"
#include "common/knot.h"
#include "store/writer.h"

namespace holdfast::daemon {
namespace {

double seconds(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

} // namespace

StatusSource::StatusSource(std::shared_ptr<const Config> cfg, store::Env &env, xfr::Service &xfr,
                           const std::vector<std::unique_ptr<serve::Worker>> &workers,
                           const store::WriterThread *writer)
    : cfg_(std::move(cfg)), env_(env), xfr_(xfr), workers_(workers), writer_(writer), txn_(env) {}

ZoneStatus StatusSource::status_of(const ZoneConfig &z, const std::optional<uint32_t> &stored,
                                   int64_t now) {
  ZoneStatus st;
  st.zone = z.domain;
  st.serial = stored;
  st.ready = stored.has_value();
  if (!z.secondary) {
    return st;
  }
  st.secondary = true;
  xfr_.with_zone(z.apex, [&](const xfr::ZoneController &c) { fill(st, c.stats(), now); });
  if (auto n = xfr_.notify_rx().zone_counters(z.apex)) {
    st.notifies_accepted = n->accepted;
    st.notifies_refused = n->refused;
  }
  return st;
}

void StatusSource::fill(ZoneStatus &st, const xfr::ZoneStats &s, int64_t now) {
  if (s.master_seen) {
    st.master_serial = s.master_serial.load();
  }
  st.master_reachable = s.master_reachable;
  if (int64_t t = s.last_check_ns; t != 0) {
    st.last_check = seconds(t);
  }
  if (int64_t t = s.last_transfer_ns; t != 0) {
    st.last_transfer = seconds(t);
  }
  // Sync lag (issue 4): 0 while in step with a master that answers; otherwise the time since
  // the master was first seen ahead, or since the last successful check when none answers.
  int64_t lag = 0;
  if (int64_t ahead = s.ahead_since_ns; ahead != 0) {
    lag = now - ahead;
  }
  if (!s.master_reachable) {
    int64_t since = s.last_check_ns != 0 ? s.last_check_ns.load() : s.started_ns.load();
    if (since != 0) {
      lag = std::max(lag, now - since);
    }
  }
  st.sync_lag_seconds = seconds(std::max<int64_t>(lag, 0));
  st.last_transfer_duration = seconds(s.last_transfer_duration_ns);
  st.last_transfer_bytes = s.last_transfer_bytes;
  st.last_error = s.last_error();
  st.state = xfr::ZoneController::state_name(s.state);
  st.checks = s.checks;
  st.check_failures = s.check_failures;
  st.axfr_success = s.axfr_ok;
  st.axfr_failure = s.axfr_failed;
  st.ixfr_success = s.ixfr_ok;
  st.ixfr_failure = s.ixfr_failed;
  st.substitutions_skipped = s.substitutions_skipped;
  st.ready = st.ready || s.check_failures > 0 || s.axfr_failed > 0;
}

std::vector<ZoneStatus> StatusSource::zones() {
  std::map<std::vector<uint8_t>, uint32_t> stored;
  {
    std::lock_guard lock(mu_);
    if (txn_.begin()) {
      for (const auto &z : store::list_zones(env_, txn_.get())) {
        stored.emplace(z.apex, z.record.serial);
      }
      txn_.end();
    }
  }
  int64_t now = unix_now_ns();
  auto cfg = cfg_.load();
  std::vector<ZoneStatus> out;
  out.reserve(cfg->zones.size());
  for (const auto &z : cfg->zones) {
    auto it = stored.find(z.apex);
    out.push_back(status_of(z, it == stored.end() ? std::nullopt : std::optional(it->second), now));
  }
  return out;
}

std::optional<ZoneStatus> StatusSource::zone(const std::string &name) {
  std::vector<uint8_t> apex;
  if (!parse_zone_name(name, apex)) {
    return std::nullopt;
  }
  auto cfg = cfg_.load();
  for (const auto &z : cfg->zones) {
    if (z.apex != apex) {
      continue;
    }
    std::optional<uint32_t> serial;
    {
      std::lock_guard lock(mu_);
      if (txn_.begin()) {
        if (auto info = store::read_zone(env_, apex.data(), txn_.get())) {
          serial = info->record.serial;
        }
        txn_.end();
      }
    }
    return status_of(z, serial, unix_now_ns());
  }
  return std::nullopt;
}

std::vector<KeptZoneStatus> StatusSource::kept() {
  std::vector<KeptZoneStatus> out;
  std::lock_guard lock(mu_);
  if (!txn_.begin()) {
    return out;
  }
  for (const auto &k : store::list_kept(env_, txn_.get())) {
    KeptZoneStatus z;
    z.zone = name_to_string(k.info.apex.data());
    z.serial = k.info.record.serial;
    z.records = k.info.record.records;
    if (k.dropped_ns != 0) {
      z.dropped = seconds(k.dropped_ns);
    }
    z.source = k.info.source;
    out.push_back(std::move(z));
  }
  txn_.end();
  return out;
}

ServerStatus StatusSource::server() {
  ServerStatus s;
  for (const auto &w : workers_) {
    const auto &c = w->counters();
    s.udp_queries += c.udp_queries;
    s.tcp_queries += c.tcp_queries;
    s.dropped += c.dropped;
    s.tcp_connections += c.tcp_connections;
    s.tcp_refused += c.tcp_refused;
    s.tcp_timeouts += c.tcp_timeouts;
    s.tcp_paused += c.tcp_paused;
    const auto &q = w->query_counters();
    s.truncated += q.truncated;
    s.rrl_limited += q.rrl_limited;
    s.rrl_slipped += q.rrl_slipped;
    for (size_t i = 0; i < serve::QueryCounters::kRcodes; ++i) {
      s.rcode[i] += q.rcode[i];
    }
    for (size_t i = 0; i < 256; ++i) {
      s.qtype[i] += q.qtype[i];
    }
    s.qtype_other += q.qtype_other;
  }
  {
    std::lock_guard lock(mu_);
    if (txn_.begin()) {
      MDB_stat st;
      if (mdb_stat(txn_.get(), env_.snapshots(), &st) == MDB_SUCCESS) {
        s.snapshots = st.ms_entries;
      }
      s.kept_zones = store::count_kept(env_, txn_.get());
      txn_.end();
    }
  }
  // Cached by the writer thread: never touches the environment while the map grows.
  s.storage_bytes = env_.used_bytes();
  s.storage_map_bytes = env_.map_size();
  s.storage_map_resizes = env_.resizes();
  s.writer_backlog = writer_ != nullptr ? writer_->backlog() : 0;
  const auto &n = xfr_.notify_rx().counters();
  s.notifies_received = n.received;
  s.notifies_accepted = n.accepted;
  s.notifies_refused = n.refused;
  return s;
}

} // namespace holdfast::daemon
