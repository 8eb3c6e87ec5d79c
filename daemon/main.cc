// SPDX-License-Identifier: MIT
// holdfast command line: run, check, zone list|status|refresh|retransfer|purge, --version.
#include <csignal>
#include <cstdio>
#include <string>

#include "common/knot.h"
#include <CLI/CLI.hpp>
#include <lmdb.h>

#include "daemon/cli.h"
#include "daemon/config.h"
#include "daemon/server.h"

#ifndef HOLDFAST_VERSION
#define HOLDFAST_VERSION "0.0.0"
#endif

namespace {

int run(int argc, char **argv) {
  // A TCP client that hangs up before reading its answer must not kill the server: libuv
  // writes with write(2), which raises SIGPIPE on a closed socket.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"holdfast: an authoritative DNS server that keeps serving its secondary zones "
               "from LMDB snapshots, even when every master is gone."};
  std::string libknot = std::to_string(KNOT_VERSION_MAJOR) + "." +
                        std::to_string(KNOT_VERSION_MINOR) + "." +
                        std::to_string(KNOT_VERSION_PATCH);
  app.set_version_flag("--version", std::string("holdfast ") + HOLDFAST_VERSION + " (libknot " +
                                        libknot + ", " + MDB_VERSION_STRING + ")");
  app.require_subcommand(1);

  std::string config = "/etc/holdfast/holdfast.yaml";
  auto *run = app.add_subcommand("run", "Run the server in the foreground until SIGTERM/SIGINT "
                                        "(SIGHUP reloads the config and changed zone files).");
  run->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();
  auto *check = app.add_subcommand("check", "Validate the config and every zone file; exit "
                                            "non-zero with the problems listed.");
  check->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();

  holdfast::daemon::ZoneCommand zc;
  auto *zone = app.add_subcommand("zone", "Ask a running holdfast about its zones, through the "
                                          "control API named in the config (server.http).");
  zone->require_subcommand(1);
  zone->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();
  struct Action {
    const char *name, *help;
    bool needs_zone;
  };
  const Action actions[] = {
      {"list", "Every zone: serial, master serial, sync lag, state, last error.", false},
      {"status", "One zone in detail, with its transfer counters.", true},
      {"refresh", "Check the zone's masters now (transfers if they are ahead).", true},
      {"retransfer", "Transfer the whole zone (AXFR) now, whatever the serials say.", true},
      {"purge",
       "Delete the stored data of a kept zone (one removed from the config; see zone "
       "list --kept). A zone in the config is refused.",
       true},
  };
  for (const auto &a : actions) {
    auto *sub = zone->add_subcommand(a.name, a.help);
    sub->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();
    sub->add_flag("--json", zc.json, "Print the API's JSON instead of a table");
    if (std::string(a.name) == "list") {
      sub->add_flag("--kept", zc.kept,
                    "Zones removed from the config whose data is kept (not served): serial, "
                    "records, when they were dropped");
    }
    if (a.needs_zone) {
      sub->add_option("zone", zc.zone, "Zone name, e.g. example.com.")->required();
    }
    sub->callback([&zc, name = a.name] { zc.action = name; });
  }

  auto *reload = app.add_subcommand("reload", "Make the running server re-read its config "
                                              "(as SIGHUP does), through the control API.");
  reload->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (check->parsed()) {
    return holdfast::daemon::check_config(config);
  }
  if (reload->parsed()) {
    zc.config = config;
    zc.action = "reload";
    return holdfast::daemon::zone_command(zc);
  }
  if (zone->parsed()) {
    zc.config = config;
    return holdfast::daemon::zone_command(zc);
  }
  auto cfg = holdfast::daemon::load_config(config);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().c_str());
    return 1;
  }
  return holdfast::daemon::run_server(*cfg);
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "holdfast: %s\n", e.what());
    return 1;
  }
}
