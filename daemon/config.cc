// SPDX-License-Identifier: MIT
// YAML config loading and validation (see config.h and conf/README.md).
#include "daemon/config.h"

#include <charconv>
#include <filesystem>
#include <set>
#include <thread>

#include "common/knot.h"
#include <yaml-cpp/yaml.h>

namespace holdfast::daemon {
namespace {

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

void check_keys(const YAML::Node &map, const std::set<std::string> &allowed,
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
bool parse_duration_ms(const std::string &text, uint64_t &out) {
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

// A scalar's text; anything else (a list, a map) is reported against its line.
bool get_text(const YAML::Node &n, const std::string &key, std::string &out, Errors &errs) {
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

std::string resolve_path(const std::string &base_dir, const std::string &p) {
  if (p.empty() || p[0] == '/') {
    return p;
  }
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

void load_server(const YAML::Node &n, const std::string &dir, Config &cfg, Errors &errs) {
  check_keys(n,
             {"listen", "workers", "storage", "udp-max-payload", "identity", "version", "nsid",
              "tcp-idle-timeout", "tcp-max-clients"},
             "server", errs);
  if (auto l = n["listen"]) {
    if (!l.IsSequence()) {
      errs.add(l, "server.listen", "expected a list of address@port");
    } else {
      for (const auto &item : l) {
        auto ep = serve::parse_endpoint(item.as<std::string>());
        if (!ep) {
          errs.add(item, "server.listen", ep.error());
        } else {
          cfg.listen.push_back(*ep);
        }
      }
    }
  }
  if (auto w = n["workers"]) {
    get_uint<unsigned>(w, "server.workers", 1, 256, cfg.workers, errs);
  }
  if (auto s = n["storage"]; s && get_text(s, "server.storage", cfg.storage, errs)) {
    cfg.storage = resolve_path(dir, cfg.storage);
  }
  if (auto p = n["udp-max-payload"]) {
    get_uint<uint16_t>(p, "server.udp-max-payload", 512, 4096, cfg.serve.udp_max_payload, errs);
  }
  if (auto v = n["identity"]) {
    get_text(v, "server.identity", cfg.serve.identity, errs);
  }
  if (auto v = n["version"]) {
    get_text(v, "server.version", cfg.serve.version, errs);
  }
  if (auto v = n["nsid"]) {
    get_text(v, "server.nsid", cfg.serve.nsid, errs);
  }
  if (auto t = n["tcp-idle-timeout"]) {
    if (!parse_duration_ms(t.as<std::string>(), cfg.worker.tcp_idle_timeout_ms) ||
        cfg.worker.tcp_idle_timeout_ms == 0) {
      errs.add(t, "server.tcp-idle-timeout",
               "expected a duration like 10s or 2m, got '" + t.as<std::string>() + "'");
    }
  }
  if (auto m = n["tcp-max-clients"]) {
    get_uint<int>(m, "server.tcp-max-clients", 1, 1000000, cfg.worker.tcp_max_clients, errs);
  }
}

void load_zones(const YAML::Node &n, const std::string &dir, Config &cfg, Errors &errs) {
  if (!n.IsSequence()) {
    errs.add(n, "zones", "expected a list of zones");
    return;
  }
  std::set<std::vector<uint8_t>> seen;
  for (const auto &z : n) {
    if (!z.IsMap()) {
      errs.add(z, "zones", "expected a zone (domain: ..., file: ...)");
      continue;
    }
    check_keys(z, {"domain", "file"}, "zones[]", errs);
    ZoneConfig zc;
    auto d = z["domain"];
    if (!d) {
      errs.add(z, "zones[].domain", "missing");
      continue;
    }
    zc.domain = d.as<std::string>();
    if (zc.domain.empty() || zc.domain.back() != '.') {
      zc.domain += '.';
    }
    uint8_t wire[KNOT_DNAME_MAXLEN];
    if (knot_dname_from_str(wire, zc.domain.c_str(), sizeof(wire)) == nullptr) {
      errs.add(d, "zones[].domain", "'" + d.as<std::string>() + "' is not a valid domain name");
      continue;
    }
    knot_dname_to_lower(wire);
    zc.apex.assign(wire, wire + knot_dname_size(wire));
    if (!seen.insert(zc.apex).second) {
      errs.add(d, "zones[].domain", "zone " + zc.domain + " is listed twice");
      continue;
    }
    auto f = z["file"];
    if (!f) {
      errs.add(z, "zones[].file", "missing for zone " + zc.domain);
      continue;
    }
    // Whether the file is readable is not a config error: `run` keeps serving the zone's stored
    // snapshot when its file is gone; `check` reports unreadable files when it parses them.
    zc.file = resolve_path(dir, f.as<std::string>());
    cfg.zones.push_back(std::move(zc));
  }
}

} // namespace

Result<Config> load_config(const std::string &path) {
  Config cfg;
  cfg.path = path;
  Errors errs(path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile &) {
    return fail(path + ": cannot read the config file");
  } catch (const YAML::ParserException &e) {
    return fail(path + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  if (!root.IsMap()) {
    return fail(path + ": expected a YAML mapping with server: and zones:");
  }
  std::string dir = std::filesystem::absolute(path).parent_path().string();
  try {
    check_keys(root, {"server", "zones", "log"}, "", errs);
    if (auto s = root["server"]) {
      load_server(s, dir, cfg, errs);
    }
    if (auto l = root["log"]) {
      check_keys(l, {"level"}, "log", errs);
      if (auto lv = l["level"]) {
        cfg.log_level = lv.as<std::string>();
        if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warning" &&
            cfg.log_level != "error") {
          errs.add(lv, "log.level", "expected debug, info, warning or error");
        }
      }
    }
    if (auto z = root["zones"]) {
      load_zones(z, dir, cfg, errs);
    }
  } catch (const YAML::Exception &e) {
    errs.add(e.mark, "config", "unexpected structure: " + e.msg);
  }
  if (cfg.listen.empty() && errs.empty()) {
    errs.add(root["server"], "server.listen", "no address to listen on");
  }
  if (cfg.storage.empty() && errs.empty()) {
    errs.add(root["server"], "server.storage", "missing (the directory for the LMDB store)");
  }
  if (!errs.empty()) {
    return fail(errs.text());
  }
  if (cfg.workers == 0) {
    cfg.workers = std::max(1u, std::thread::hardware_concurrency());
  }
  return cfg;
}

} // namespace holdfast::daemon
