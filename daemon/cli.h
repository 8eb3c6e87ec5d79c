// SPDX-License-Identifier: MIT
// `holdfast zone list|status|refresh|retransfer|purge` and `holdfast pool
// list|status|enable|disable|drain|auto`: clients of the control API. They find the API from the
// same config file the server runs with (server.http, server.http-token).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace holdfast::daemon {

struct ZoneCommand {
  std::string config;
  std::string action; // list, status, refresh, retransfer, purge, reload
  std::string zone;   // all but list
  bool json = false;
  bool kept = false; // list: the kept zones (removed from the config, data still stored)
};

// Prints the result (a table, or the API's JSON); returns the process exit code.
int zone_command(const ZoneCommand &cmd);

struct PoolCommand {
  std::string config;
  std::string action; // list, status, enable, disable, drain, auto
  std::string pool;   // all but list
  std::string member; // enable, disable, drain, auto
  bool json = false;
};

// Prints the pools (a table, or the API's JSON) or the outcome of a member action; returns the
// process exit code.
int pool_command(const PoolCommand &cmd);
// The table `pool list` and `pool status` print, from the API's pool objects (a JSON array):
// one line per member (pool, member, state, admin, health, latency, since, last result).
std::string pool_table(const nlohmann::json &pools);

} // namespace holdfast::daemon
