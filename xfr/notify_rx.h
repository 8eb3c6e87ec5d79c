// SPDX-License-Identifier: MIT
// NOTIFY intake (RFC 1996): checks a NOTIFY against the zone's masters and keys, answers it, and
// hands an event to the xfr loop through an MPSC queue woken by uv_async. Runs on serve worker
// threads, so it only reads immutable zone specs, logs, and enqueues: it never starts a
// transfer itself (STYLE.md 4; the zone's controller pulls its timer forward).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <uv.h>

#include "common/knot.h"
#include "common/log_limit.h"

#include "xfr/events.h"
#include "xfr/spec.h"

namespace holdfast::xfr {

struct NotifyCounters {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
};

struct ZoneNotifies {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
};

class NotifyRx {
public:
  NotifyRx(const std::vector<std::shared_ptr<const ZoneSpec>> &zones, EventQueue &queue);
  // Same contract as serve::NotifyHandler::answer (the daemon adapts one to the other).
  size_t answer(const knot_pkt_t *query, const sockaddr *remote, knot_pkt_t *resp);
  const NotifyCounters &counters() const { return counters_; }
  // Per secondary zone (null for other names).
  std::shared_ptr<const ZoneNotifies> zone_counters(const std::vector<uint8_t> &apex) const {
    auto t = table_.load();
    auto it = t->counters.find(apex);
    return it == t->counters.end() ? nullptr : it->second;
  }
  // Config reload: the new set of secondary zones (workers see the old or the new table).
  void reconfigure(const std::vector<std::shared_ptr<const ZoneSpec>> &zones);

private:
  // Which of the zone's masters sent it, checking TSIG; sets the RCODE to answer on refusal.
  const Master *authorize(const ZoneSpec &zone, const knot_pkt_t *query, const sockaddr *remote,
                          uint16_t &rcode, uint16_t &tsig_rcode, std::string &why) const;

  // A NOTIFY's log line, rate limited per source (log_limit.h).
  void log_notify(bool refused, uint64_t key, const std::vector<uint8_t> &apex,
                  const sockaddr *remote, std::optional<uint32_t> serial,
                  const std::string &outcome);

  // Read by every worker per NOTIFY, swapped whole by a reload.
  struct Table {
    std::map<std::vector<uint8_t>, std::shared_ptr<const ZoneSpec>> zones;
    std::map<std::vector<uint8_t>, std::shared_ptr<ZoneNotifies>> counters;
  };
  std::atomic<std::shared_ptr<const Table>> table_;
  EventQueue &queue_;
  NotifyCounters counters_;
  LogLimiter refused_log_, accepted_log_; // log lines per source (per zone when accepted)
};

} // namespace holdfast::xfr
