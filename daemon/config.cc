// SPDX-License-Identifier: MIT
// YAML config loading and validation (see config.h and conf/README.md).
#include "daemon/config.h"
#include "daemon/config_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>

#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/dname.h"
#include "common/knot.h"
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace holdfast::daemon {
using namespace config_detail;

namespace {

// The config's named objects, resolved by id when zones refer to them.
struct Named {
  std::map<std::string, std::shared_ptr<const TsigKey>> keys;
  std::map<std::string, std::string> fingerprints; // "key:ID" / "master:ID" -> its settings
  std::map<std::string, std::shared_ptr<const xfr::Master>> masters;
  std::map<std::string, std::vector<xfr::NameServer>> ns_sets;
};

bool get_id(const YAML::Node &item, const std::string &section, std::string &id, Errors &errs) {
  auto n = item["id"];
  if (!n || !n.IsScalar() || n.as<std::string>().empty()) {
    errs.add(item, section + "[].id", "missing");
    return false;
  }
  id = n.as<std::string>();
  return true;
}

template <typename F>
void for_each_item(const YAML::Node &n, const std::string &section, Errors &errs, F f) {
  if (!n.IsSequence()) {
    errs.add(n, section, "expected a list");
    return;
  }
  for (const auto &item : n) {
    if (!item.IsMap()) {
      errs.add(item, section, "expected a mapping (id: ...)");
      continue;
    }
    f(item);
  }
}

void load_keys(const YAML::Node &n, Named &named, Errors &errs) {
  for_each_item(n, "keys", errs, [&](const YAML::Node &k) {
    check_keys(k, {"id", "algorithm", "secret"}, "keys[]", errs);
    std::string id, alg, secret;
    if (!get_id(k, "keys", id, errs)) {
      return;
    }
    auto a = k["algorithm"];
    auto sec = k["secret"];
    if (!a || !get_text(a, "keys[].algorithm", alg, errs) || alg.empty()) {
      errs.add(a ? a : k, "keys[].algorithm", "missing for key '" + id + "'");
      return;
    }
    if (!sec || !get_text(sec, "keys[].secret", secret, errs) || secret.empty()) {
      errs.add(sec ? sec : k, "keys[].secret", "missing for key '" + id + "'");
      return;
    }
    if (dnssec_tsig_algorithm_from_name(alg.c_str()) == DNSSEC_TSIG_UNKNOWN) {
      errs.add(a, "keys[].algorithm",
               "unknown TSIG algorithm '" + alg +
                   "' (hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512)");
      return;
    }
    // The key's DNS name is its id, as in knot.conf, so both ends name it the same.
    auto key = TsigKey::make(id, alg, secret);
    if (!key) {
      errs.add(sec, "keys[].secret", key.error() + " (expected base64)");
      return;
    }
    named.fingerprints["key:" + id] = alg + ":" + secret;
    if (!named.keys.emplace(id, *key).second) {
      errs.add(k["id"], "keys[].id", "key '" + id + "' is defined twice");
    }
  });
}

void load_masters(const YAML::Node &n, Named &named, Errors &errs) {
  for_each_item(n, "masters", errs, [&](const YAML::Node &m) {
    check_keys(m, {"id", "addresses", "key", "source"}, "masters[]", errs);
    auto master = std::make_shared<xfr::Master>();
    if (!get_id(m, "masters", master->id, errs)) {
      return;
    }
    auto addrs = m["addresses"];
    if (!addrs || !addrs.IsSequence() || addrs.size() == 0) {
      errs.add(addrs ? addrs : m, "masters[].addresses",
               "expected a list of address@port for master '" + master->id + "'");
      return;
    }
    for (const auto &a : addrs) {
      auto ep = parse_endpoint(a.as<std::string>());
      if (!ep) {
        errs.add(a, "masters[].addresses", ep.error());
      } else {
        master->addresses.push_back(*ep);
      }
    }
    if (auto k = m["key"]) {
      auto it = named.keys.find(k.as<std::string>());
      if (it == named.keys.end()) {
        errs.add(k, "masters[].key", "no key '" + k.as<std::string>() + "' under keys:");
      } else {
        master->key = it->second;
      }
    }
    if (auto src = m["source"]) {
      auto ep = parse_endpoint(src.as<std::string>(), 0);
      if (!ep) {
        errs.add(src, "masters[].source", ep.error());
      } else {
        master->source = *ep;
      }
    }
    std::string fp = master->id + "[";
    for (const auto &a : master->addresses) {
      fp += a.text + ",";
    }
    fp += "]key=" + (m["key"] ? named.fingerprints["key:" + m["key"].as<std::string>()] : "") +
          ",source=" + (master->source ? master->source->text : "");
    named.fingerprints["master:" + master->id] = fp;
    if (!named.masters.emplace(master->id, master).second) {
      errs.add(m["id"], "masters[].id", "master '" + master->id + "' is defined twice");
    }
  });
}

void load_ns_sets(const YAML::Node &n, Named &named, Errors &errs) {
  for_each_item(n, "nameserver-sets", errs, [&](const YAML::Node &set) {
    check_keys(set, {"id", "nameservers"}, "nameserver-sets[]", errs);
    std::string id;
    if (!get_id(set, "nameserver-sets", id, errs)) {
      return;
    }
    std::vector<xfr::NameServer> list;
    auto nss = set["nameservers"];
    if (!nss || !nss.IsSequence() || nss.size() == 0) {
      errs.add(nss ? nss : set, "nameserver-sets[].nameservers",
               "expected a list of {name, addresses} for set '" + id + "'");
      return;
    }
    for_each_item(nss, "nameserver-sets[].nameservers", errs, [&](const YAML::Node &ns) {
      check_keys(ns, {"name", "addresses"}, "nameserver-sets[].nameservers[]", errs);
      xfr::NameServer entry;
      auto name = ns["name"];
      if (!name || !name.IsScalar() || !parse_zone_name(name.as<std::string>(), entry.name)) {
        errs.add(name ? name : ns, "nameserver-sets[].nameservers[].name",
                 "missing or not a valid domain name");
        return;
      }
      if (auto addrs = ns["addresses"]) {
        if (!addrs.IsSequence()) {
          errs.add(addrs, "nameserver-sets[].nameservers[].addresses", "expected a list");
          return;
        }
        for (const auto &a : addrs) {
          auto ep = parse_endpoint(a.as<std::string>(), 0);
          if (!ep) {
            errs.add(a, "nameserver-sets[].nameservers[].addresses", ep.error());
          } else {
            entry.addresses.push_back(*ep);
          }
        }
      }
      list.push_back(std::move(entry));
    });
    if (!named.ns_sets.emplace(id, std::move(list)).second) {
      errs.add(set["id"], "nameserver-sets[].id", "set '" + id + "' is defined twice");
    }
  });
}

bool get_duration(const YAML::Node &n, const std::string &key, uint64_t &out, Errors &errs) {
  if (!n.IsScalar() || !parse_duration_ms(n.as<std::string>(), out) || out == 0) {
    errs.add(n, key, "expected a duration like 500ms, 15s, 2m or 1h");
    return false;
  }
  return true;
}

// The secondary part of a zone entry: masters, timers, limits, vanity set.
void load_secondary(const YAML::Node &z, ZoneConfig &zc, const Named &named, Errors &errs) {
  auto spec = std::make_shared<xfr::ZoneSpec>();
  spec->name = zc.domain;
  spec->apex = zc.apex;
  auto ms = z["masters"];
  if (!ms.IsSequence() || ms.size() == 0) {
    errs.add(ms, "zones[].masters", "expected a list of master ids for zone " + zc.domain);
    return;
  }
  for (const auto &m : ms) {
    auto it = named.masters.find(m.as<std::string>());
    if (it == named.masters.end()) {
      errs.add(m, "zones[].masters", "no master '" + m.as<std::string>() + "' under masters:");
      continue;
    }
    spec->masters.push_back(it->second);
  }
  if (auto r = z["refresh"]) {
    get_duration(r, "zones[].refresh", spec->refresh_ms, errs);
  }
  if (auto r = z["retry"]) {
    get_duration(r, "zones[].retry", spec->retry_ms, errs);
  }
  if (auto m = z["max-zone-size"]) {
    if (!m.IsScalar() || !parse_size(m.as<std::string>(), spec->max_size)) {
      errs.add(m, "zones[].max-zone-size", "expected a size like 64M or 2G");
    }
  }
  if (auto v = z["zonemd"]) {
    std::string mode = v.IsScalar() ? v.as<std::string>() : "";
    if (mode == "off") {
      spec->zonemd = store::ZonemdPolicy::kOff;
    } else if (mode == "verify") {
      spec->zonemd = store::ZonemdPolicy::kVerify;
    } else if (mode == "require") {
      spec->zonemd = store::ZonemdPolicy::kRequire;
    } else {
      errs.add(v, "zones[].zonemd", "expected off, verify or require");
    }
  }
  if (auto v = z["nameservers"]) {
    auto it = named.ns_sets.find(v.as<std::string>());
    if (it == named.ns_sets.end()) {
      errs.add(v, "zones[].nameservers",
               "no set '" + v.as<std::string>() + "' under nameserver-sets:");
    } else {
      spec->vanity = it->second;
    }
  }
  for (const auto &ns : spec->vanity) {
    spec->vanity_fingerprint += name_to_string(ns.name.data()) + "[";
    for (const auto &a : ns.addresses) {
      spec->vanity_fingerprint += a.text + ",";
    }
    spec->vanity_fingerprint += "]";
  }
  for (const auto &m : spec->masters) {
    spec->fingerprint += named.fingerprints.at("master:" + m->id) + ";";
  }
  spec->fingerprint += fmt::format("refresh={},retry={},max={},zonemd={},vanity={}",
                                   spec->refresh_ms, spec->retry_ms, spec->max_size,
                                   static_cast<int>(spec->zonemd), spec->vanity_fingerprint);
  zc.secondary = std::move(spec);
}

void load_zones(const YAML::Node &n, const std::string &dir, const Named &named, Config &cfg,
                Errors &errs) {
  if (n.IsNull()) {
    return; // `zones:` with nothing under it: no zones yet
  }
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
    check_keys(
        z,
        {"domain", "file", "masters", "refresh", "retry", "max-zone-size", "nameservers", "zonemd"},
        "zones[]", errs);
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
    if (!parse_zone_name(zc.domain, zc.apex)) {
      errs.add(d, "zones[].domain", "'" + d.as<std::string>() + "' is not a valid domain name");
      continue;
    }
    if (!seen.insert(zc.apex).second) {
      errs.add(d, "zones[].domain", "zone " + zc.domain + " is listed twice");
      continue;
    }
    auto f = z["file"];
    if (z["masters"]) {
      if (f) {
        errs.add(f, "zones[].file",
                 "zone " + zc.domain + " has both file: and masters: (primary or secondary?)");
        continue;
      }
      load_secondary(z, zc, named, errs);
      cfg.zones.push_back(std::move(zc));
      continue;
    }
    for (const char *key : {"refresh", "retry", "max-zone-size", "nameservers", "zonemd"}) {
      if (z[key]) {
        errs.add(z[key], std::string("zones[].") + key, "only for secondary zones (with masters:)");
      }
    }
    if (!f) {
      errs.add(z, "zones[].file", "missing for zone " + zc.domain + " (or give masters:)");
      continue;
    }
    // Whether the file is readable is not a config error: `run` keeps serving the zone's stored
    // snapshot when its file is gone; `check` reports unreadable files when it parses them.
    zc.file = resolve_path(dir, f.as<std::string>());
    zc.file_line = f.Mark().line + 1;
    cfg.zones.push_back(std::move(zc));
  }
}

} // namespace

Result<Config> load_config(const std::string &path) {
  Config cfg;
  cfg.http = *parse_endpoint("127.0.0.1@9153"); // the Prometheus exporter port for DNS servers
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
    check_keys(root,
               {"server", "zones", "log", "keys", "masters", "nameserver-sets", "checks", "pools",
                "records"},
               "", errs);
    if (auto s = root["server"]) {
      load_server(s, dir, cfg, errs);
    }
    if (auto l = root["log"]) {
      check_keys(l, {"level", "rate-limit"}, "log", errs);
      if (auto r = l["rate-limit"];
          r && !parse_duration_ms(r.as<std::string>(), cfg.log_rate_limit_ms)) {
        errs.add(r, "log.rate-limit",
                 "expected a duration like 10s, or 0 to log every event; got '" +
                     r.as<std::string>() + "'");
      }
      if (auto lv = l["level"]) {
        cfg.log_level = lv.as<std::string>();
        if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warning" &&
            cfg.log_level != "error") {
          errs.add(lv, "log.level", "expected debug, info, warning or error");
        }
      }
    }
    Named named;
    if (auto k = root["keys"]) {
      load_keys(k, named, errs);
    }
    if (auto m = root["masters"]) {
      load_masters(m, named, errs);
    }
    if (auto v = root["nameserver-sets"]) {
      load_ns_sets(v, named, errs);
    }
    if (auto z = root["zones"]) {
      load_zones(z, dir, named, cfg, errs);
    }
    load_lb(root, dir, cfg, errs); // after zones: a managed name must lie in one
    for (const auto &[id, key] : named.keys) {
      cfg.keys.push_back(key); // RFC 8945 5.2: queries signed with any of them are answered
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

bool parse_zone_name(const std::string &text, std::vector<uint8_t> &wire) {
  std::string fq = text;
  if (fq.empty() || fq.back() != '.') {
    fq += '.';
  }
  uint8_t buf[KNOT_DNAME_MAXLEN];
  if (knot_dname_from_str(buf, fq.c_str(), sizeof(buf)) == nullptr) {
    return false;
  }
  knot_dname_to_lower(buf);
  wire.assign(buf, buf + knot_dname_size(buf));
  return true;
}

std::vector<std::shared_ptr<const xfr::ZoneSpec>> Config::secondaries() const {
  std::vector<std::shared_ptr<const xfr::ZoneSpec>> out;
  for (const auto &z : zones) {
    if (z.secondary) {
      out.push_back(z.secondary);
    }
  }
  return out;
}

} // namespace holdfast::daemon
