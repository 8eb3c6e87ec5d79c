// SPDX-License-Identifier: MIT
// Prometheus text rendering (see metrics.h). Names follow Prometheus conventions: base units
// (_seconds, _bytes), _total for counters, one `zone` label per zone.
#include "daemon/metrics.h"

#include <functional>

#include <fmt/format.h>

#include "common/knot.h"

namespace holdfast::daemon {
namespace {

// Label values escape backslash, double quote and newline (exposition format).
std::string escape(const std::string &v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Writer {
public:
  void family(const char *name, const char *type, const char *help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const char *name, const std::string &labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{' + labels + '}';
    }
    out_ += ' ';
    out_ += fmt::format("{}", value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

std::string zone_label(const ZoneStatus &z) {
  return "zone=\"" + escape(z.zone) + "\"";
}

void zone_metrics(Writer &w, const std::vector<ZoneStatus> &zones) {
  using Get = std::function<std::optional<double>(const ZoneStatus &)>;
  struct Gauge {
    const char *name, *help;
    bool secondary_only;
    Get get;
  };
  const Gauge gauges[] = {
      {"holdfast_zone_serial", "SOA serial of the snapshot being served.", false,
       [](const ZoneStatus &z) -> std::optional<double> {
         return z.serial ? std::optional<double>(*z.serial) : std::nullopt;
       }},
      {"holdfast_zone_master_serial", "SOA serial last seen at a master.", true,
       [](const ZoneStatus &z) -> std::optional<double> {
         return z.master_serial ? std::optional<double>(*z.master_serial) : std::nullopt;
       }},
      {"holdfast_zone_sync_lag_seconds",
       "0 while the served serial is the master's; else seconds since the master was first seen "
       "ahead, or since the last successful check when no master answers.",
       true, [](const ZoneStatus &z) -> std::optional<double> { return z.sync_lag_seconds; }},
      {"holdfast_zone_master_reachable", "1 when the last check got an answer from a master.", true,
       [](const ZoneStatus &z) -> std::optional<double> { return z.master_reachable ? 1 : 0; }},
      {"holdfast_zone_last_check_timestamp_seconds", "Unix time of the last successful check.",
       true, [](const ZoneStatus &z) { return z.last_check; }},
      {"holdfast_zone_last_transfer_timestamp_seconds",
       "Unix time of the last successful transfer.", true,
       [](const ZoneStatus &z) { return z.last_transfer; }},
      {"holdfast_zone_last_transfer_duration_seconds", "Duration of the last successful transfer.",
       true, [](const ZoneStatus &z) -> std::optional<double> { return z.last_transfer_duration; }},
      {"holdfast_zone_last_transfer_size_bytes", "Bytes received by the last successful transfer.",
       true,
       [](const ZoneStatus &z) -> std::optional<double> {
         return static_cast<double>(z.last_transfer_bytes);
       }},
  };
  for (const auto &g : gauges) {
    w.family(g.name, "gauge", g.help);
    for (const auto &z : zones) {
      if (g.secondary_only && !z.secondary) {
        continue;
      }
      if (auto v = g.get(z)) {
        w.sample(g.name, zone_label(z), *v);
      }
    }
  }
  w.family("holdfast_zone_transfers_total", "counter", "Zone transfers by kind and result.");
  for (const auto &z : zones) {
    if (!z.secondary) {
      continue;
    }
    std::string l = zone_label(z);
    w.sample("holdfast_zone_transfers_total", l + ",kind=\"axfr\",result=\"success\"",
             static_cast<double>(z.axfr_success));
    w.sample("holdfast_zone_transfers_total", l + ",kind=\"axfr\",result=\"failure\"",
             static_cast<double>(z.axfr_failure));
    w.sample("holdfast_zone_transfers_total", l + ",kind=\"ixfr\",result=\"success\"",
             static_cast<double>(z.ixfr_success));
    w.sample("holdfast_zone_transfers_total", l + ",kind=\"ixfr\",result=\"failure\"",
             static_cast<double>(z.ixfr_failure));
  }
  const struct {
    const char *name, *help;
    uint64_t ZoneStatus::*field;
  } counters[] = {
      {"holdfast_zone_checks_total", "SOA checks of the masters started.", &ZoneStatus::checks},
      {"holdfast_zone_check_failures_total", "SOA checks that no master answered.",
       &ZoneStatus::check_failures},
      {"holdfast_zone_substitutions_skipped_total",
       "Transfers of a signed or digested zone that kept the master's records instead of the "
       "vanity nameserver set and managed names.",
       &ZoneStatus::substitutions_skipped},
  };
  for (const auto &c : counters) {
    w.family(c.name, "counter", c.help);
    for (const auto &z : zones) {
      if (z.secondary) {
        w.sample(c.name, zone_label(z), static_cast<double>(z.*c.field));
      }
    }
  }
  w.family("holdfast_zone_notifies_total", "counter", "NOTIFY messages received, by result.");
  for (const auto &z : zones) {
    if (z.secondary) {
      std::string l = zone_label(z);
      w.sample("holdfast_zone_notifies_total", l + ",result=\"accepted\"",
               static_cast<double>(z.notifies_accepted));
      w.sample("holdfast_zone_notifies_total", l + ",result=\"refused\"",
               static_cast<double>(z.notifies_refused));
    }
  }
}

void server_metrics(Writer &w, const std::vector<ZoneStatus> &zones, const ServerStatus &s) {
  w.family("holdfast_queries_total", "counter", "Queries received, by transport.");
  w.sample("holdfast_queries_total", "protocol=\"udp\"", static_cast<double>(s.udp_queries));
  w.sample("holdfast_queries_total", "protocol=\"tcp\"", static_cast<double>(s.tcp_queries));
  w.family("holdfast_queries_by_type_total", "counter", "Answered queries by QTYPE.");
  char name[64];
  for (int t = 0; t < 256; ++t) {
    if (s.qtype[t] != 0 &&
        knot_rrtype_to_string(static_cast<uint16_t>(t), name, sizeof(name)) > 0) {
      w.sample("holdfast_queries_by_type_total", fmt::format("type=\"{}\"", name),
               static_cast<double>(s.qtype[t]));
    }
  }
  if (s.qtype_other != 0) {
    w.sample("holdfast_queries_by_type_total", "type=\"other\"",
             static_cast<double>(s.qtype_other));
  }
  w.family("holdfast_responses_total", "counter", "Responses by RCODE.");
  for (size_t r = 0; r < serve::QueryCounters::kRcodes; ++r) {
    if (s.rcode[r] == 0) {
      continue;
    }
    const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, static_cast<int>(r));
    std::string rc = l != nullptr ? l->name : "RCODE" + std::to_string(r);
    w.sample("holdfast_responses_total", "rcode=\"" + rc + "\"", static_cast<double>(s.rcode[r]));
  }
  const struct {
    const char *name, *type, *help;
    double value;
  } plain[] = {
      {"holdfast_truncated_responses_total", "counter", "Responses sent with TC set.",
       static_cast<double>(s.truncated)},
      {"holdfast_dropped_packets_total", "counter", "Packets dropped without an answer.",
       static_cast<double>(s.dropped)},
      {"holdfast_rrl_limited_total", "counter",
       "UDP responses over the rate limit (server.rrl): dropped or slipped.",
       static_cast<double>(s.rrl_limited)},
      {"holdfast_rrl_slipped_total", "counter",
       "Rate-limited UDP responses sent truncated (TC) instead of dropped.",
       static_cast<double>(s.rrl_slipped)},
      {"holdfast_tcp_connections_total", "counter", "TCP connections accepted.",
       static_cast<double>(s.tcp_connections)},
      {"holdfast_tcp_refused_total", "counter",
       "TCP connections refused (tcp-max-clients, tcp-max-clients-per-address).",
       static_cast<double>(s.tcp_refused)},
      {"holdfast_tcp_timeouts_total", "counter",
       "TCP connections closed at tcp-io-timeout or tcp-idle-timeout.",
       static_cast<double>(s.tcp_timeouts)},
      {"holdfast_tcp_paused_total", "counter",
       "Times a TCP connection stopped being read until its unsent answers drained.",
       static_cast<double>(s.tcp_paused)},
      {"holdfast_snapshots", "gauge", "Zone snapshots in the store (current, previous, building).",
       static_cast<double>(s.snapshots)},
      {"holdfast_storage_size_bytes", "gauge", "Bytes used in the LMDB store.",
       static_cast<double>(s.storage_bytes)},
      {"holdfast_storage_map_size_bytes", "gauge", "Size of the LMDB memory map (grows on demand).",
       static_cast<double>(s.storage_map_bytes)},
      {"holdfast_storage_map_resizes_total", "counter", "Times the LMDB map grew since start.",
       static_cast<double>(s.storage_map_resizes)},
      {"holdfast_writer_backlog", "gauge",
       "Store writes (flushes, publishes, zone-file loads) queued or running on the writer thread.",
       static_cast<double>(s.writer_backlog)},
      {"holdfast_kept_zones", "gauge",
       "Zones removed from the config whose snapshots are kept in the store (not served).",
       static_cast<double>(s.kept_zones)},
  };
  for (const auto &p : plain) {
    w.family(p.name, p.type, p.help);
    w.sample(p.name, "", p.value);
  }
  w.family("holdfast_notifies_total", "counter",
           "NOTIFY messages received by the server, by result (any zone name).");
  w.sample("holdfast_notifies_total", "result=\"accepted\"",
           static_cast<double>(s.notifies_accepted));
  w.sample("holdfast_notifies_total", "result=\"refused\"",
           static_cast<double>(s.notifies_refused));
  double primaries = 0, secondaries = 0;
  for (const auto &z : zones) {
    (z.secondary ? secondaries : primaries) += 1;
  }
  w.family("holdfast_zones", "gauge", "Configured zones by kind.");
  w.sample("holdfast_zones", "kind=\"primary\"", primaries);
  w.sample("holdfast_zones", "kind=\"secondary\"", secondaries);
}

std::string label(const char *name, const std::string &value) {
  return std::string(name) + "=\"" + escape(value) + "\"";
}

void member_metrics(Writer &w, const std::vector<lb::PoolStatus> &pools) {
  w.family("holdfast_member_up", "gauge",
           "1 when the member takes part in answers (effective state up or drain), else 0.");
  for (const auto &p : pools) {
    for (const auto &m : p.members) {
      w.sample("holdfast_member_up", label("pool", p.id) + "," + label("member", m.id),
               m.live == lb::Live::kOut ? 0 : 1);
    }
  }
  // An enum as Prometheus does it: one series per state, 1 for the current one.
  w.family("holdfast_member_admin_state", "gauge",
           "Operator state of the member (auto, up = enabled, down = disabled, drain): 1 for the "
           "current state, 0 for the others.");
  const lb::Admin states[] = {lb::Admin::kAuto, lb::Admin::kUp, lb::Admin::kDown,
                              lb::Admin::kDrain};
  for (const auto &p : pools) {
    for (const auto &m : p.members) {
      std::string l = label("pool", p.id) + "," + label("member", m.id) + ",state=\"";
      for (auto a : states) {
        w.sample("holdfast_member_admin_state", l + lb::admin_name(a) + "\"", m.admin == a ? 1 : 0);
      }
    }
  }
}

void probe_metrics(Writer &w, const lb::LbStats &traffic) {
  w.family("holdfast_health_checks_total", "counter",
           "Health probes by check, probed address and result (ok or the failure reason).");
  for (const auto &c : traffic.checks) {
    w.sample("holdfast_health_checks_total",
             label("check", c.check) + "," + label("address", c.address) + "," +
                 label("result", c.result),
             static_cast<double>(c.count));
  }
  const char *h = "holdfast_health_check_duration_seconds";
  w.family(h, "histogram", "Duration of health probes, by check.");
  std::string bucket = std::string(h) + "_bucket", sum = std::string(h) + "_sum",
              count = std::string(h) + "_count";
  for (const auto &d : traffic.durations) {
    std::string l = label("check", d.check);
    for (size_t i = 0; i < std::size(lb::kDurationBounds); ++i) {
      w.sample(bucket.c_str(), l + fmt::format(",le=\"{}\"", lb::kDurationBounds[i]),
               static_cast<double>(d.buckets[i]));
    }
    w.sample(bucket.c_str(), l + ",le=\"+Inf\"", static_cast<double>(d.count));
    w.sample(sum.c_str(), l, d.sum);
    w.sample(count.c_str(), l, static_cast<double>(d.count));
  }
}

void answer_metrics(Writer &w, const lb::LbStats &traffic) {
  w.family("holdfast_lb_answers_total", "counter",
           "Traffic-managed answers by record (name, type) and member answered.");
  for (const auto &a : traffic.answers) {
    w.sample("holdfast_lb_answers_total",
             label("name", a.name) + "," + label("type", a.type) + "," + label("member", a.member),
             static_cast<double>(a.count));
  }
  w.family("holdfast_lb_fallback_answers_total", "counter",
           "Traffic-managed answers given with no member of the pool up, by kind: fallback (a "
           "fallback pool), all (when-all-down: all), nodata, servfail.");
  for (const auto &f : traffic.fallbacks) {
    w.sample("holdfast_lb_fallback_answers_total",
             label("name", f.name) + "," + label("type", f.type) + "," + label("kind", f.kind),
             static_cast<double>(f.count));
  }
}

void lb_metrics(Writer &w, const lb::LbStats &traffic) {
  if (traffic.pools.empty() && traffic.answers.empty() && traffic.fallbacks.empty() &&
      traffic.checks.empty() && traffic.durations.empty()) {
    return; // no traffic management configured
  }
  member_metrics(w, traffic.pools);
  probe_metrics(w, traffic);
  answer_metrics(w, traffic);
}

} // namespace

std::string render_metrics(const std::vector<ZoneStatus> &zones, const ServerStatus &server,
                           const lb::LbStats &traffic) {
  Writer w;
  zone_metrics(w, zones);
  server_metrics(w, zones, server);
  lb_metrics(w, traffic);
  return w.take();
}

} // namespace holdfast::daemon
