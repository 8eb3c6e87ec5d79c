// SPDX-License-Identifier: MIT
// The traffic-management sections of the config, `checks:`, `pools:` and `records:`, parsed
// into lb::LbConfig (lb/spec.h); every key is in conf/README.md "Traffic management".
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/knot.h"

#include "common/dname.h"
#include "daemon/config_util.h"

namespace holdfast::daemon::config_detail {
namespace {

using lb::CheckType;

bool is_http(CheckType t) {
  return t == CheckType::kHttp || t == CheckType::kHttps;
}
bool is_tls(CheckType t) {
  return t == CheckType::kHttps || t == CheckType::kTls;
}

bool get_required(const YAML::Node &item, const char *k, const std::string &key, std::string &out,
                  Errors &errs) {
  auto n = item[k];
  if (!n || !get_text(n, key, out, errs) || out.empty()) {
    if (!n || n.IsScalar() || n.IsNull()) {
      errs.add(n ? n : item, key, "missing");
    }
    return false;
  }
  return true;
}

// An IP address alone (no port): probes go to the check's port.
bool get_ip(const YAML::Node &n, const std::string &key, std::optional<Endpoint> &out,
            Errors &errs) {
  std::string t = scalar_text(n);
  auto ep = parse_endpoint(t, 0);
  if (t.find('@') != std::string::npos || !ep) {
    errs.add(n, key, "expected an IPv4 or IPv6 address (no port), got '" + t + "'");
    return false;
  }
  out = *ep;
  return true;
}

bool get_ms(const YAML::Node &n, const std::string &key, uint64_t &out, Errors &errs) {
  uint64_t v = 0;
  if (!parse_duration_ms(scalar_text(n), v) || v == 0) {
    errs.add(n, key, "expected a duration like 500ms, 5s or 1m, got '" + scalar_text(n) + "'");
    return false;
  }
  out = v;
  return true;
}

std::string format_ms(uint64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// "200", "200-399" or "2xx", codes 100-599.
bool parse_status(const std::string &t, lb::StatusRange &r) {
  auto num = [](const std::string &s, uint16_t &v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && s.size() == 3;
  };
  if (t.size() == 3 && t[0] >= '1' && t[0] <= '5' && t.substr(1) == "xx") {
    r.lo = static_cast<uint16_t>((t[0] - '0') * 100);
    r.hi = static_cast<uint16_t>(r.lo + 99);
    return true;
  }
  auto dash = t.find('-');
  if (dash == std::string::npos) {
    return num(t, r.lo) && (r.hi = r.lo, r.lo >= 100 && r.lo <= 599);
  }
  return num(t.substr(0, dash), r.lo) && num(t.substr(dash + 1), r.hi) && r.lo >= 100 &&
         r.hi <= 599 && r.lo <= r.hi;
}

void load_expect_status(const YAML::Node &n, lb::CheckSpec &c, Errors &errs) {
  const std::string key = "checks[].expect-status";
  if (!n.IsSequence() || n.size() == 0) {
    errs.add(n, key, "expected a list of codes (200), ranges (200-399) or classes (2xx)");
    return;
  }
  c.expect_status.clear();
  for (const auto &e : n) {
    lb::StatusRange r;
    if (!parse_status(scalar_text(e), r)) {
      errs.add(e, key,
               "'" + scalar_text(e) +
                   "' is not a status code (200), range (200-399) or class (2xx) within 100-599");
      continue;
    }
    c.expect_status.push_back(r);
  }
}

// Header names are tokens (RFC 9110 5.1); a line break in a value would inject a header.
void load_headers(const YAML::Node &n, lb::CheckSpec &c, Errors &errs) {
  const std::string key = "checks[].headers";
  if (!n.IsMap()) {
    errs.add(n, key, "expected a mapping of header names to values");
    return;
  }
  for (const auto &kv : n) {
    std::string name = scalar_text(kv.first), value = scalar_text(kv.second);
    bool token = !name.empty();
    for (unsigned char ch : name) {
      token = token && ch > 32 && ch < 127 && std::strchr("\"(),/:;<=>?@[\\]{}", ch) == nullptr;
    }
    if (!token) {
      errs.add(kv.first, key, "'" + name + "' is not a valid header name");
    } else if (!kv.second.IsScalar() || value.find_first_of("\r\n") != std::string::npos) {
      errs.add(kv.second, key, "the value of '" + name + "' must be one line of text");
    } else {
      c.headers.emplace_back(name, value);
    }
  }
}

// Keys that only some check types use: a key given for another type is a mistake.
void check_type_keys(const YAML::Node &item, CheckType t, Errors &errs) {
  const struct {
    const char *key;
    bool allowed;
    const char *problem;
  } rules[] = {{"path", is_http(t), "only for http and https checks"},
               {"method", is_http(t), "only for http and https checks"},
               {"body", is_http(t), "only for http and https checks"},
               {"headers", is_http(t), "only for http and https checks"},
               {"expect-status", is_http(t), "only for http and https checks"},
               {"host", t != CheckType::kTcp, "only for http, https and tls checks"},
               {"send", !is_http(t), "only for tcp and tls checks"},
               {"tls-ca", is_tls(t), "only for https and tls checks"},
               {"tls-verify", is_tls(t), "only for https and tls checks"}};
  for (const auto &r : rules) {
    if (item[r.key] && !r.allowed) {
      errs.add(item[r.key], std::string("checks[].") + r.key, r.problem);
    }
  }
}

// type, port, path, method, body, headers, host, expect-status.
void load_check_request(const YAML::Node &item, lb::CheckSpec &c, Errors &errs) {
  if (auto n = item["type"]) {
    static const std::map<std::string, CheckType> types = {{"http", CheckType::kHttp},
                                                           {"https", CheckType::kHttps},
                                                           {"tcp", CheckType::kTcp},
                                                           {"tls", CheckType::kTls}};
    auto it = types.find(scalar_text(n));
    if (it == types.end()) {
      errs.add(n, "checks[].type",
               "expected http, https, tcp or tls, got '" + scalar_text(n) + "'");
      return;
    }
    c.type = it->second;
  }
  check_type_keys(item, c.type, errs);
  c.port = c.type == CheckType::kHttps ? 443 : 80;
  if (auto n = item["port"]) {
    get_uint<uint16_t>(n, "checks[].port", 1, 65535, c.port, errs);
  } else if (!is_http(c.type)) {
    errs.add(item, "checks[].port", "required for tcp and tls checks (check '" + c.id + "')");
  }
  if (auto n = item["path"]; n && is_http(c.type)) {
    c.path = scalar_text(n);
    if (c.path.empty() || c.path[0] != '/' || c.path.find_first_of(" \r\n") != std::string::npos) {
      errs.add(n, "checks[].path", "expected a path starting with /, got '" + c.path + "'");
    }
  }
  if (auto n = item["method"]; n && is_http(c.type)) {
    if (scalar_text(n) == "GET" || scalar_text(n) == "POST") {
      c.method = scalar_text(n) == "GET" ? lb::Method::kGet : lb::Method::kPost;
    } else {
      errs.add(n, "checks[].method", "expected GET or POST, got '" + scalar_text(n) + "'");
    }
  }
  if (auto n = item["body"]; n && is_http(c.type)) {
    if (c.method != lb::Method::kPost) {
      errs.add(n, "checks[].body", "only with method: POST");
    }
    get_text(n, "checks[].body", c.body, errs);
  }
  if (auto n = item["headers"]; n && is_http(c.type)) {
    load_headers(n, c, errs);
  }
  if (auto n = item["host"]; n && c.type != CheckType::kTcp) {
    get_text(n, "checks[].host", c.host, errs);
    if (c.host.empty() || c.host.find_first_of(" \t\r\n/") != std::string::npos) {
      errs.add(n, "checks[].host", "expected a host name, got '" + c.host + "'");
    }
  }
  if (auto n = item["expect-status"]; n && is_http(c.type)) {
    load_expect_status(n, c, errs);
  }
}

// send, expect-body, tls-ca, tls-verify, interval, timeout, fall, rise, source.
void load_check_rest(const YAML::Node &item, const std::string &dir, lb::CheckSpec &c,
                     Errors &errs) {
  if (auto n = item["send"]; n && !is_http(c.type)) {
    get_text(n, "checks[].send", c.send, errs);
  }
  if (auto n = item["expect-body"]) {
    get_text(n, "checks[].expect-body", c.expect_body, errs);
  }
  if (auto n = item["tls-ca"]; n && is_tls(c.type)) {
    c.tls_ca = resolve_path(dir, scalar_text(n));
    std::error_code ec;
    int err = c.tls_ca.empty() ? ENOENT : ::access(c.tls_ca.c_str(), R_OK) != 0 ? errno : 0;
    if (err != 0) {
      errs.add(n, "checks[].tls-ca", "cannot read '" + c.tls_ca + "': " + std::strerror(err));
    } else if (std::filesystem::is_directory(c.tls_ca, ec)) {
      errs.add(n, "checks[].tls-ca", "'" + c.tls_ca + "' is a directory, not a PEM file");
    }
  }
  if (auto n = item["tls-verify"]; n && is_tls(c.type)) {
    if (scalar_text(n) != "true" && scalar_text(n) != "false") {
      errs.add(n, "checks[].tls-verify", "expected true or false, got '" + scalar_text(n) + "'");
    }
    c.tls_verify = scalar_text(n) != "false";
  }
  auto interval = item["interval"];
  if (interval) {
    get_ms(interval, "checks[].interval", c.interval_ms, errs);
  }
  if (auto n = item["timeout"];
      n && get_ms(n, "checks[].timeout", c.timeout_ms, errs) && c.timeout_ms >= c.interval_ms) {
    errs.add(n, "checks[].timeout",
             "must be shorter than the interval (" + format_ms(c.interval_ms) + ")");
  } else if (!n && c.timeout_ms >= c.interval_ms) {
    errs.add(interval, "checks[].interval",
             "must be longer than the timeout (" + format_ms(c.timeout_ms) + ")");
  }
  if (auto n = item["fall"]) {
    get_uint<unsigned>(n, "checks[].fall", 1, 100, c.fall, errs);
  }
  if (auto n = item["rise"]) {
    get_uint<unsigned>(n, "checks[].rise", 1, 100, c.rise, errs);
  }
  if (auto n = item["source"]) {
    get_ip(n, "checks[].source", c.source, errs);
  }
}

void load_checks(const YAML::Node &n, const std::string &dir, lb::LbConfig &lb, Errors &errs) {
  each_mapping(n, "checks", errs, [&](const YAML::Node &item) {
    check_keys(item,
               {"id", "type", "port", "path", "method", "body", "headers", "host", "expect-status",
                "expect-body", "send", "tls-ca", "tls-verify", "interval", "timeout", "fall",
                "rise", "source"},
               "checks[]", errs);
    lb::CheckSpec c;
    if (!get_required(item, "id", "checks[].id", c.id, errs)) {
      return;
    }
    c.line = item.Mark().line + 1;
    if (lb.check(c.id) != nullptr) {
      errs.add(item["id"], "checks[].id", "check '" + c.id + "' is defined twice");
      return;
    }
    load_check_request(item, c, errs);
    load_check_rest(item, dir, c, errs);
    lb.checks.push_back(std::move(c));
  });
}

bool get_name(const YAML::Node &n, const std::string &key, std::vector<uint8_t> &out,
              Errors &errs) {
  if (!parse_zone_name(scalar_text(n), out)) {
    errs.add(n, key, "'" + scalar_text(n) + "' is not a valid domain name");
    return false;
  }
  return true;
}

// The answer a member gives: exactly one of address, cname, target (with port).
void load_member_answer(const YAML::Node &m, lb::MemberSpec &ms, Errors &errs) {
  if (auto n = m["address"]) {
    get_ip(n, "pools[].members[].address", ms.address, errs);
  }
  if (auto n = m["cname"]) {
    get_name(n, "pools[].members[].cname", ms.cname, errs);
  }
  if (auto n = m["target"]) {
    get_name(n, "pools[].members[].target", ms.target, errs);
    if (auto p = m["port"]) {
      get_uint<uint16_t>(p, "pools[].members[].port", 1, 65535, ms.port, errs);
    } else {
      errs.add(n, "pools[].members[].port", "required with target (member '" + ms.id + "')");
    }
  } else if (auto p = m["port"]) {
    errs.add(p, "pools[].members[].port", "only for target (SRV) members");
  }
  int given = (m["address"] ? 1 : 0) + (m["cname"] ? 1 : 0) + (m["target"] ? 1 : 0);
  if (given != 1) {
    errs.add(m, "pools[].members[]",
             "member '" + ms.id + "' needs exactly one of address, cname or target");
  }
}

void load_member(const YAML::Node &m, const lb::LbConfig &lb, lb::PoolSpec &p, Errors &errs) {
  check_keys(
      m, {"id", "address", "cname", "target", "port", "weight", "tier", "check-address", "check"},
      "pools[].members[]", errs);
  lb::MemberSpec ms;
  if (!get_required(m, "id", "pools[].members[].id", ms.id, errs)) {
    return;
  }
  for (const auto &other : p.members) {
    if (other.id == ms.id) {
      errs.add(m["id"], "pools[].members[].id",
               "member '" + ms.id + "' is listed twice in pool '" + p.id + "'");
      return;
    }
  }
  load_member_answer(m, ms, errs);
  if (auto n = m["weight"]) {
    get_uint<uint32_t>(n, "pools[].members[].weight", 0, 65535, ms.weight, errs);
  }
  if (auto n = m["tier"]) {
    get_uint<unsigned>(n, "pools[].members[].tier", 1, 9, ms.tier, errs);
  }
  if (auto n = m["check"]) {
    ms.check = scalar_text(n);
    if (lb.check(ms.check) == nullptr) {
      errs.add(n, "pools[].members[].check", "no check '" + ms.check + "' under checks:");
    }
  }
  if (auto n = m["check-address"];
      n && get_ip(n, "pools[].members[].check-address", ms.check_address, errs)) {
    if (ms.check.empty() && p.check.empty()) {
      errs.add(n, "pools[].members[].check-address",
               "member '" + ms.id + "' has no check (neither its own nor pool '" + p.id + "''s)");
    }
  }
  p.members.push_back(std::move(ms));
}

void load_pools(const YAML::Node &n, lb::LbConfig &lb, Errors &errs) {
  each_mapping(n, "pools", errs, [&](const YAML::Node &item) {
    check_keys(item, {"id", "check", "reintegrate", "members"}, "pools[]", errs);
    lb::PoolSpec p;
    if (!get_required(item, "id", "pools[].id", p.id, errs)) {
      return;
    }
    p.line = item.Mark().line + 1;
    if (lb.pool(p.id) != nullptr) {
      errs.add(item["id"], "pools[].id", "pool '" + p.id + "' is defined twice");
      return;
    }
    if (auto c = item["check"]) {
      p.check = scalar_text(c);
      if (lb.check(p.check) == nullptr) {
        errs.add(c, "pools[].check", "no check '" + p.check + "' under checks:");
      }
    }
    if (auto r = item["reintegrate"]) {
      if (scalar_text(r) != "auto" && scalar_text(r) != "manual") {
        errs.add(r, "pools[].reintegrate", "expected auto or manual, got '" + scalar_text(r) + "'");
      }
      p.reintegrate =
          scalar_text(r) == "manual" ? lb::Reintegrate::kManual : lb::Reintegrate::kAuto;
    }
    auto ms = item["members"];
    if (!ms || !ms.IsSequence() || ms.size() == 0) {
      errs.add(ms ? ms : item, "pools[].members",
               "expected a list of members for pool '" + p.id + "'");
    } else {
      each_mapping(ms, "pools[].members", errs,
                   [&](const YAML::Node &m) { load_member(m, lb, p, errs); });
    }
    lb.pools.push_back(std::move(p));
  });
}

} // namespace

void load_lb(const YAML::Node &root, const std::string &dir, Config &cfg, Errors &errs) {
  auto lb = std::make_shared<lb::LbConfig>();
  if (auto n = root["checks"]) {
    load_checks(n, dir, *lb, errs);
  }
  if (auto n = root["pools"]) {
    load_pools(n, *lb, errs);
  }
  if (auto n = root["records"]) {
    load_lb_records(n, cfg, *lb, errs);
  }
  cfg.lb = std::move(lb);
}

} // namespace holdfast::daemon::config_detail
