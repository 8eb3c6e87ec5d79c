// SPDX-License-Identifier: MIT
// The `records:` section: the managed names, each checked against the zones, pools and other
// records it meets (conf/README.md "Traffic management").
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "common/knot.h"

#include "common/dname.h"
#include "daemon/config_util.h"
#include "lb/view.h"

namespace holdfast::daemon::config_detail {
namespace {

// Whether a member can be in an answer of `type` (LB_PLAN.md "Eligible members").
bool eligible(const lb::MemberSpec &m, uint16_t type) {
  int family = m.address ? m.address->addr.ss_family : AF_UNSPEC;
  switch (type) {
  case KNOT_RRTYPE_A:
    return family == AF_INET || !m.cname.empty();
  case KNOT_RRTYPE_AAAA:
    return family == AF_INET6 || !m.cname.empty();
  case KNOT_RRTYPE_CNAME:
    return !m.cname.empty();
  default:
    return !m.target.empty();
  }
}

const char *eligible_text(uint16_t type) {
  switch (type) {
  case KNOT_RRTYPE_A:
    return "an IPv4 address or a cname";
  case KNOT_RRTYPE_AAAA:
    return "an IPv6 address or a cname";
  case KNOT_RRTYPE_CNAME:
    return "a cname";
  default:
    return "a target";
  }
}

// A pool named by `pool:` or `fallback:`: it must exist and be able to answer the type.
void check_pool_ref(const YAML::Node &n, const std::string &key, const lb::LbConfig &lb,
                    uint16_t type, Errors &errs) {
  const lb::PoolSpec *p = lb.pool(scalar_text(n));
  if (p == nullptr) {
    errs.add(n, key, "no pool '" + scalar_text(n) + "' under pools:");
  } else if (type != 0 && std::none_of(p->members.begin(), p->members.end(),
                                       [&](const auto &m) { return eligible(m, type); })) {
    errs.add(n, key,
             "pool '" + p->id + "' has no member that can answer " + lb::type_label(type) +
                 " (one with " + eligible_text(type) + ")");
  } else if (key == "records[].pool" &&
             (type == KNOT_RRTYPE_A || type == KNOT_RRTYPE_AAAA) &&
             std::none_of(p->members.begin(), p->members.end(), [&](const auto &m) {
               return eligible(m, type) && m.cname.empty();
             })) {
    // The snapshot holds the record's type at the name (store/overlay.h): an address record
    // answered only by aliases is a CNAME record.
    errs.add(n, key,
             "pool '" + p->id + "' has no " + (type == KNOT_RRTYPE_A ? "IPv4" : "IPv6") +
                 " address member: for a pool of cname members use type: CNAME");
  }
}

// An alias at the apex would stand beside its SOA and NS (RFC 2181 10.1).
bool has_cname_member(const lb::LbConfig &lb, const lb::RecordSpec &r) {
  auto aliases = [&](const std::string &id) {
    const lb::PoolSpec *p = lb.pool(id);
    return p != nullptr && std::any_of(p->members.begin(), p->members.end(),
                                       [](const auto &m) { return !m.cname.empty(); });
  };
  return aliases(r.pool) || std::any_of(r.fallback.begin(), r.fallback.end(), aliases);
}

// name: lowercase wire, no wildcard label, inside the longest configured zone that holds it.
bool load_name(const YAML::Node &item, const Config &cfg, lb::RecordSpec &r, Errors &errs) {
  auto n = item["name"];
  if (!n || !parse_zone_name(scalar_text(n), r.name)) {
    errs.add(n ? n : item, "records[].name",
             n ? "'" + scalar_text(n) + "' is not a valid domain name" : "missing");
    return false;
  }
  r.name_text = name_to_string(r.name.data());
  for (const uint8_t *l = r.name.data(); *l != 0; l += *l + 1) {
    if (l[0] == 1 && l[1] == '*') {
      // A wildcard owner would answer names that are not configured (RFC 4592).
      errs.add(n, "records[].name", r.name_text + ": a wildcard label is not allowed here");
      return false;
    }
  }
  for (const auto &z : cfg.zones) {
    if (knot_dname_in_bailiwick(r.name.data(), z.apex.data()) >= 0 &&
        z.apex.size() > r.zone.size()) {
      r.zone = z.apex;
    }
  }
  if (r.zone.empty()) {
    errs.add(n, "records[].name", r.name_text + " is not inside any zone under zones:");
    return false;
  }
  return true;
}

// type, policy (default: srv for SRV, weighted otherwise), count, ttl.
bool load_kind(const YAML::Node &item, lb::RecordSpec &r, Errors &errs) {
  static const std::map<std::string, uint16_t> types = {{"A", KNOT_RRTYPE_A},
                                                        {"AAAA", KNOT_RRTYPE_AAAA},
                                                        {"CNAME", KNOT_RRTYPE_CNAME},
                                                        {"SRV", KNOT_RRTYPE_SRV}};
  static const std::map<std::string, lb::Policy> policies = {
      {"weighted", lb::Policy::kWeighted},
      {"round-robin", lb::Policy::kRoundRobin},
      {"failover", lb::Policy::kFailover},
      {"srv", lb::Policy::kSrv}};
  auto t = item["type"];
  std::string text = t ? scalar_text(t) : "";
  std::transform(text.begin(), text.end(), text.begin(), ::toupper);
  if (!t || types.count(text) == 0) {
    errs.add(t ? t : item, "records[].type",
             t ? "expected A, AAAA, CNAME or SRV, got '" + scalar_text(t) + "'" : "missing");
    return false;
  }
  r.type = types.at(text);
  r.policy = r.type == KNOT_RRTYPE_SRV ? lb::Policy::kSrv : lb::Policy::kWeighted;
  if (auto p = item["policy"]) {
    auto it = policies.find(scalar_text(p));
    if (it == policies.end()) {
      errs.add(p, "records[].policy",
               "expected weighted, round-robin, failover or srv, got '" + scalar_text(p) + "'");
      return false;
    }
    r.policy = it->second;
    if ((r.policy == lb::Policy::kSrv) != (r.type == KNOT_RRTYPE_SRV)) {
      errs.add(p, "records[].policy",
               r.type == KNOT_RRTYPE_SRV ? "type SRV needs policy: srv"
                                         : "policy srv is only for type SRV");
    }
  }
  r.count = r.policy == lb::Policy::kRoundRobin ? 8 : 1;
  if (auto c = item["count"]) {
    if (r.policy != lb::Policy::kWeighted && r.policy != lb::Policy::kRoundRobin) {
      errs.add(c, "records[].count", "only for policies weighted and round-robin");
    } else {
      get_uint<unsigned>(c, "records[].count", 1, 255, r.count, errs);
    }
  }
  if (auto v = item["ttl"]) {
    uint64_t ms = 0;
    // RFC 2181 8: a TTL is at most 2^31 - 1 seconds.
    if (!parse_duration_ms(scalar_text(v), ms) || ms % 1000 != 0 || ms / 1000 > 2147483647) {
      errs.add(v, "records[].ttl",
               "expected whole seconds like 60s or 5m (at most 2147483647s), got '" +
                   scalar_text(v) + "'");
    } else {
      r.ttl = static_cast<uint32_t>(ms / 1000);
    }
  }
  return true;
}

// pool, fallback, when-all-down.
void load_pools_of(const YAML::Node &item, const lb::LbConfig &lb, lb::RecordSpec &r,
                   Errors &errs) {
  auto p = item["pool"];
  if (!p || scalar_text(p).empty()) {
    errs.add(p ? p : item, "records[].pool", "missing");
  } else {
    r.pool = scalar_text(p);
    check_pool_ref(p, "records[].pool", lb, r.type, errs);
  }
  if (auto f = item["fallback"]) {
    if (!f.IsSequence()) {
      errs.add(f, "records[].fallback", "expected a list of pool ids");
    }
    for (const auto &e : f.IsSequence() ? f : YAML::Node(YAML::NodeType::Sequence)) {
      std::string id = scalar_text(e);
      if (id == r.pool) {
        errs.add(e, "records[].fallback", "pool '" + id + "' is the record's own pool");
      } else if (std::find(r.fallback.begin(), r.fallback.end(), id) != r.fallback.end()) {
        errs.add(e, "records[].fallback", "pool '" + id + "' is listed twice");
      } else {
        check_pool_ref(e, "records[].fallback", lb, r.type, errs);
        r.fallback.push_back(id);
      }
    }
  }
  if (auto w = item["when-all-down"]) {
    static const std::map<std::string, lb::AllDown> modes = {{"all", lb::AllDown::kAll},
                                                             {"nodata", lb::AllDown::kNodata},
                                                             {"servfail", lb::AllDown::kServfail}};
    auto it = modes.find(scalar_text(w));
    if (it == modes.end()) {
      errs.add(w, "records[].when-all-down",
               "expected all, nodata or servfail, got '" + scalar_text(w) + "'");
    } else {
      r.when_all_down = it->second;
    }
  }
}

// One RRset per (name, type); a CNAME stands alone at its name (RFC 2181 10.1), the apex
// included (it holds SOA and NS).
void check_conflicts(const YAML::Node &item, const lb::LbConfig &lb, const lb::RecordSpec &r,
                     Errors &errs) {
  if (r.type != KNOT_RRTYPE_CNAME && r.type != KNOT_RRTYPE_SRV && r.name == r.zone &&
      has_cname_member(lb, r)) {
    errs.add(item["pool"], "records[].pool",
             r.name_text + ": a cname member would answer a CNAME at the zone apex (RFC 2181 "
                           "10.1)");
  }
  if (r.type == KNOT_RRTYPE_CNAME && r.name == r.zone) {
    errs.add(item["type"], "records[].type",
             r.name_text + ": a CNAME cannot be at a zone apex (RFC 2181 10.1)");
  }
  for (const auto &o : lb.records) {
    if (o.name != r.name) {
      continue;
    }
    std::string other = std::string(lb::type_label(o.type)) + " at line " + std::to_string(o.line);
    if (o.type == r.type) {
      errs.add(item["name"], "records[].name",
               r.name_text + " " + lb::type_label(r.type) + " is already managed (line " +
                   std::to_string(o.line) + ")");
    } else if (o.type == KNOT_RRTYPE_CNAME || r.type == KNOT_RRTYPE_CNAME) {
      errs.add(item["type"], "records[].type",
               r.name_text + ": a CNAME cannot share its name with another managed record (" +
                   other + ", RFC 2181 10.1)");
    }
  }
}

} // namespace

void load_lb_records(const YAML::Node &n, const Config &cfg, lb::LbConfig &lb, Errors &errs) {
  each_mapping(n, "records", errs, [&](const YAML::Node &item) {
    check_keys(item,
               {"name", "type", "pool", "policy", "count", "ttl", "fallback", "when-all-down"},
               "records[]", errs);
    lb::RecordSpec r;
    r.line = item.Mark().line + 1;
    bool named = load_name(item, cfg, r, errs);
    if (!load_kind(item, r, errs)) {
      return;
    }
    load_pools_of(item, lb, r, errs);
    if (named) {
      check_conflicts(item, lb, r, errs);
      lb.records.push_back(std::move(r));
    }
  });
}

} // namespace holdfast::daemon::config_detail
