// SPDX-License-Identifier: MIT
// Shared by the config loader's files (config.cc, config_server.cc): the error list with
// "FILE:LINE: key: problem" messages, and the scalar parsers every section uses.
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "daemon/config.h"

namespace holdfast::daemon::config_detail {

class Errors {
public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void add(const YAML::Node &at, const std::string &key, const std::string &msg) {
    add(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), key, msg);
  }
  void add(const YAML::Mark &mark, const std::string &key, const std::string &msg) {
    std::string where = file_;
    if (mark.line >= 0) {
      where += ":" + std::to_string(mark.line + 1);
    }
    list_.push_back(where + ": " + key + ": " + msg);
  }
  bool empty() const { return list_.empty(); }
  std::string text() const {
    std::string out;
    for (const auto &l : list_) {
      if (!out.empty()) {
        out += '\n';
      }
      out += l;
    }
    return out;
  }

private:
  std::string file_;
  std::vector<std::string> list_;
};

inline void check_keys(const YAML::Node &map, const std::set<std::string> &allowed,
                       const std::string &section, Errors &errs) {
  for (const auto &kv : map) {
    auto key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string full = section;
      if (!full.empty()) {
        full += '.';
      }
      full += key;
      errs.add(kv.first, full, "unknown key");
    }
  }
}

// "10s", "5m", "2h", "1d" or a plain number of seconds.
inline bool parse_duration_ms(const std::string &text, uint64_t &out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr == text.data()) {
    return false;
  }
  std::string unit(ptr, text.data() + text.size());
  uint64_t mult = unit.empty() || unit == "s" ? 1000
                  : unit == "ms"              ? 1
                  : unit == "m"               ? 60000
                  : unit == "h"               ? 3600000
                  : unit == "d"               ? 86400000
                                              : 0;
  if (mult == 0 || v > UINT64_MAX / mult) {
    return false;
  }
  out = v * mult;
  return true;
}

// "512", "64K", "10M", "2G": bytes (binary multiples).
inline bool parse_size(const std::string &text, uint64_t &out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr == text.data()) {
    return false;
  }
  std::string unit(ptr, text.data() + text.size());
  uint64_t mult = unit.empty() || unit == "B" ? 1
                  : unit == "K"               ? uint64_t{1} << 10
                  : unit == "M"               ? uint64_t{1} << 20
                  : unit == "G"               ? uint64_t{1} << 30
                                              : 0;
  if (mult == 0 || v > UINT64_MAX / mult) {
    return false;
  }
  out = v * mult;
  return true;
}

// A scalar's text; anything else (a list, a map) is reported against its line.
inline bool get_text(const YAML::Node &n, const std::string &key, std::string &out, Errors &errs) {
  if (n.IsNull()) {
    out.clear();
    return true;
  }
  if (!n.IsScalar()) {
    errs.add(n, key, "expected a single value, not a list or a mapping");
    return false;
  }
  out = n.as<std::string>();
  return true;
}

template <typename T>
bool get_uint(const YAML::Node &n, const std::string &key, T min, T max, T &out, Errors &errs) {
  if (!n.IsScalar()) {
    errs.add(n, key, "expected a whole number, not a list or a mapping");
    return false;
  }
  uint64_t v = 0;
  auto s = n.as<std::string>();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < static_cast<uint64_t>(min) ||
      v > static_cast<uint64_t>(max)) {
    errs.add(n, key,
             "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                 ", got '" + s + "'");
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

// A scalar's text, or "" for a list or a mapping (for messages and enum keys).
inline std::string scalar_text(const YAML::Node &n) {
  return n.IsScalar() ? n.as<std::string>() : "";
}

// A list of mappings (`key` for messages); `f` gets each mapping; null (`key:` alone) is empty.
template <typename F>
void each_mapping(const YAML::Node &n, const std::string &key, Errors &errs, F f) {
  if (n.IsNull()) {
    return;
  }
  if (!n.IsSequence()) {
    errs.add(n, key, "expected a list");
    return;
  }
  for (const auto &item : n) {
    if (!item.IsMap()) {
      errs.add(item, key, "expected a mapping (id: ...)");
      continue;
    }
    f(item);
  }
}

inline std::string resolve_path(const std::string &base_dir, const std::string &p) {
  if (p.empty() || p[0] == '/') {
    return p;
  }
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// The `server:` section (config_server.cc).
void load_server(const YAML::Node &n, const std::string &dir, Config &cfg, Errors &errs);

// The `checks:`, `pools:` and `records:` sections of `root` into cfg.lb (config_lb.cc); needs
// cfg.zones (a record's name must lie in one of them).
void load_lb(const YAML::Node &root, const std::string &dir, Config &cfg, Errors &errs);
// Its `records:` part (config_lb_records.cc), after `checks:` and `pools:` are in `lb`.
void load_lb_records(const YAML::Node &n, const Config &cfg, lb::LbConfig &lb, Errors &errs);

// `holdfast check`: what the primary zone `z`'s file says against the managed records in it
// (a DNSSEC-signed zone; a CNAME beside other data). One "FILE:LINE: key: problem" per entry.
std::vector<std::string> lb_zone_file_problems(const Config &cfg, const ZoneConfig &z);

} // namespace holdfast::daemon::config_detail
