// SPDX-License-Identifier: MIT
// `holdfast zone list|status|refresh|retransfer|purge`: a client of the control API. It finds the
// API from the same config file the server runs with (server.http, server.http-token).
#pragma once

#include <string>

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

} // namespace holdfast::daemon
