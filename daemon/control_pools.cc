// SPDX-License-Identifier: MIT
// Traffic-management routes of the control plane (see control.h): the pools with their members'
// state, and the operator verbs enable, disable, drain and auto on one member.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <spdlog/spdlog.h>

#include "daemon/control.h"

namespace holdfast::daemon {
namespace {

using nlohmann::json;

const char *live_name(lb::Live l) {
  switch (l) {
  case lb::Live::kOut:
    return "down";
  case lb::Live::kUp:
    return "up";
  case lb::Live::kDrain:
    return "drain";
  }
  return "down";
}

void reply(httplib::Response &res, int status, const json &body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

const lb::PoolStatus *find_pool(const std::vector<lb::PoolStatus> &pools, const std::string &id) {
  auto it = std::find_if(pools.begin(), pools.end(), [&](const auto &p) { return p.id == id; });
  return it == pools.end() ? nullptr : &*it;
}

} // namespace

// "2026-12-07T22:31:35.123Z"; "" for 0 (never changed).
std::string rfc3339_ms(int64_t unix_ms) {
  if (unix_ms == 0) {
    return "";
  }
  int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
  if (ms < 0) {
    secs -= 1;
    ms += 1000;
  }
  auto t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

json member_json(const lb::MemberStatus &m) {
  auto since = rfc3339_ms(m.since_ms);
  return {{"id", m.id},
          {"address", m.address},
          {"probe", m.probe.empty() ? json(nullptr) : json(m.probe)},
          {"state", live_name(m.live)},
          {"admin", lb::admin_name(m.admin)},
          {"health", m.health_up ? "up" : "down"},
          {"latched", m.latched},
          {"last_result", lb::reason_name(m.reason)},
          {"reason", lb::reason_name(m.reason)},
          {"detail", m.detail},
          {"latency_seconds", m.latency_s},
          {"since", since.empty() ? json(nullptr) : json(since)},
          {"since_ms", m.since_ms},
          {"weight", m.weight},
          {"tier", m.tier}};
}

json pool_json(const lb::PoolStatus &p) {
  json members = json::array();
  size_t up = 0;
  for (const auto &m : p.members) {
    members.push_back(member_json(m));
    up += m.live == lb::Live::kUp ? 1 : 0;
  }
  return {{"id", p.id},
          {"check", p.check.empty() ? json(nullptr) : json(p.check)},
          {"reintegrate", p.reintegrate},
          {"members_up", up},
          {"members", members}};
}

void ControlPlane::routes_pools() {
  auto &s = *server_;
  s.Get("/api/v1/pools", [this](const httplib::Request &, httplib::Response &res) {
    json list = json::array();
    for (const auto &p : pools()) {
      list.push_back(pool_json(p));
    }
    reply(res, 200, {{"pools", list}});
  });
  s.Get(R"(/api/v1/pools/([^/]+))", [this](const httplib::Request &req, httplib::Response &res) {
    std::string id = req.matches[1];
    auto all = pools();
    if (const auto *p = find_pool(all, id)) {
      reply(res, 200, pool_json(*p));
      return;
    }
    reply(res, 404, {{"error", "no pool " + id + " configured (pools[])"}});
  });
  s.Post(R"(/api/v1/pools/([^/]+)/members/([^/]+)/([^/]+))",
         [this](const httplib::Request &req, httplib::Response &res) {
           member_admin(req.matches[1], req.matches[2], req.matches[3], res);
         });
}

std::vector<lb::PoolStatus> ControlPlane::pools() const {
  return pools_ ? pools_() : std::vector<lb::PoolStatus>{};
}

// enable = force up and clear a manual-reintegration latch, disable = force down, drain =
// weight 0 (answered only when nothing else is up), auto = health decides (issue 11).
void ControlPlane::member_admin(const std::string &pool, const std::string &member,
                                const std::string &verb, httplib::Response &res) {
  static const char *const kVerbs[] = {"enable", "disable", "drain", "auto"};
  if (std::find(std::begin(kVerbs), std::end(kVerbs), verb) == std::end(kVerbs)) {
    reply(res, 400,
          {{"error", "unknown member action '" + verb + "': one of enable, disable, drain, auto"}});
    return;
  }
  auto all = pools();
  const auto *p = find_pool(all, pool);
  if (p == nullptr) {
    reply(res, 404, {{"error", "no pool " + pool + " configured (pools[])"}});
    return;
  }
  if (std::none_of(p->members.begin(), p->members.end(),
                   [&](const auto &m) { return m.id == member; })) {
    reply(res, 404, {{"error", "pool " + pool + " has no member " + member}});
    return;
  }
  if (!member_admin_) {
    reply(res, 503, {{"error", "member actions are not available"}});
    return;
  }
  auto r = member_admin_(pool, member, verb);
  if (!r) {
    reply(
        res, 500,
        {{"error", "pool " + pool + " member " + member + ": " + verb + " failed: " + r.error()}});
    return;
  }
  spdlog::info("pool {} member {}: {} through the control API (now {}, operator state {})", pool,
               member, verb, live_name(r->live), lb::admin_name(r->admin));
  reply(res, 200, {{"pool", pool}, {"action", verb}, {"member", member_json(*r)}});
}

} // namespace holdfast::daemon
