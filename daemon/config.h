// SPDX-License-Identifier: MIT
// The configuration schema: YAML parsed once into immutable typed structs (STYLE.md 9).
// Every key is listed in conf/README.md; an unknown key is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/tsig.h"
#include "lb/spec.h"
#include "serve/query.h"
#include "serve/socket.h"
#include "serve/worker.h"
#include "xfr/spec.h"

namespace holdfast::daemon {

struct ZoneConfig {
  std::string domain;        // as written, fully qualified
  std::vector<uint8_t> apex; // wire format, lowercase
  std::string file;          // absolute path; empty for a secondary zone
  int file_line = 0;         // line of `file:` in the config, for `holdfast check` messages
  std::shared_ptr<const xfr::ZoneSpec> secondary; // set when the zone has masters
};

struct Config {
  std::string path; // the config file itself
  std::vector<serve::Endpoint> listen;
  unsigned workers = 0; // 0 = one per core
  std::string storage;
  std::optional<Endpoint> http; // control plane; none when `server.http: none`
  std::string http_token;       // bearer token for /api/*; empty: no token
  std::string user;             // drop to this user after binding; empty: stay
  std::string log_level = "info";
  uint64_t log_rate_limit_ms = 10000; // per-packet lines: one per source per this; 0 = all
  serve::ServeOptions serve;
  serve::WorkerOptions worker;
  xfr::Limits xfr; // server.soa-timeout, transfer-*-timeout, transfers, transfers-per-master
  std::vector<std::shared_ptr<const TsigKey>> keys; // `keys:`, for masters and signed queries
  serve::RrlOptions rrl; // server.rrl; rate_limit 0: off
  std::vector<ZoneConfig> zones;
  // `checks:`, `pools:`, `records:` (traffic management); never null, empty when not configured.
  std::shared_ptr<const lb::LbConfig> lb = std::make_shared<const lb::LbConfig>();
  // Every secondary zone's spec (the same objects as in `zones`).
  std::vector<std::shared_ptr<const xfr::ZoneSpec>> secondaries() const;
};

// Zone or host name text (final dot optional) -> lowercase wire format; false if not a name.
bool parse_zone_name(const std::string &text, std::vector<uint8_t> &wire);

// Loads and validates; on failure the message lists every problem, one per line, each as
// "FILE:LINE: key: problem".
Result<Config> load_config(const std::string &path);

} // namespace holdfast::daemon
