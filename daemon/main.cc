// SPDX-License-Identifier: MIT
// holdfast command line: run, check, zone list|status|refresh|retransfer|purge, pool
// list|status|enable|disable|drain|auto, reload, --version.
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

// `holdfast pool ...`: traffic management through the control API (issue 11).
CLI::App *add_pool_commands(CLI::App &app, std::string &config, holdfast::daemon::PoolCommand &pc) {
  auto *pool = app.add_subcommand("pool", "Ask a running holdfast about its traffic-management "
                                          "pools, or set a member's operator state, through the "
                                          "control API named in the config (server.http).");
  pool->require_subcommand(1);
  pool->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();
  struct Action {
    const char *name, *help;
    bool needs_pool, needs_member;
  };
  const Action actions[] = {
      {"list", "Every pool and member: state, operator state, health, last probe.", false, false},
      {"status", "One pool's members.", true, false},
      {"enable", "Force the member up (and clear a reintegrate: manual latch).", true, true},
      {"disable", "Force the member down.", true, true},
      {"drain", "Weight 0: answered only when no other member is up.", true, true},
      {"auto", "Back to health checks deciding.", true, true},
  };
  for (const auto &a : actions) {
    auto *sub = pool->add_subcommand(a.name, a.help);
    sub->add_option("-c,--config", config, "Config file (YAML)")->capture_default_str();
    sub->add_flag("--json", pc.json, "Print the API's JSON instead of a table");
    if (a.needs_pool) {
      sub->add_option("pool", pc.pool, "Pool id (pools[].id)")->required();
    }
    if (a.needs_member) {
      sub->add_option("member", pc.member, "Member id (pools[].members[].id)")->required();
    }
    sub->callback([&pc, name = a.name] { pc.action = name; });
  }
  return pool;
}

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

  holdfast::daemon::PoolCommand pc;
  auto *pool = add_pool_commands(app, config, pc);

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
  if (pool->parsed()) {
    pc.config = config;
    return holdfast::daemon::pool_command(pc);
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
