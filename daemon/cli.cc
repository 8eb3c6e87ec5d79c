// SPDX-License-Identifier: MIT
// The zone commands of the CLI, over the control API (see cli.h).
#include "daemon/cli.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "daemon/config.h"

namespace holdfast::daemon {
namespace {

using nlohmann::json;

std::string text_or_dash(const json &v) {
  if (v.is_null()) {
    return "-";
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_number_float()) {
    return fmt::format("{:.0f}s", v.get<double>());
  }
  return v.dump();
}

std::string when(const json &v) {
  if (!v.is_number()) {
    return "-";
  }
  auto t = static_cast<time_t>(v.get<double>());
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_table(const json &zones) {
  std::printf("%-30s %-9s %10s %10s %6s %-12s %s\n", "ZONE", "KIND", "SERIAL", "MASTER", "LAG",
              "STATE", "LAST ERROR");
  for (const auto &z : zones) {
    std::printf("%-30s %-9s %10s %10s %6s %-12s %s\n", text_or_dash(z["zone"]).c_str(),
                text_or_dash(z["kind"]).c_str(), text_or_dash(z["serial"]).c_str(),
                text_or_dash(z["master_serial"]).c_str(),
                text_or_dash(z["sync_lag_seconds"]).c_str(), text_or_dash(z["state"]).c_str(),
                text_or_dash(z["last_error"]).c_str());
  }
}

void print_kept(const json &zones) {
  std::printf("%-30s %10s %8s %-20s %s\n", "ZONE", "SERIAL", "RECORDS", "DROPPED", "SOURCE");
  for (const auto &z : zones) {
    std::printf("%-30s %10s %8s %-20s %s\n", text_or_dash(z["zone"]).c_str(),
                text_or_dash(z["serial"]).c_str(), text_or_dash(z["records"]).c_str(),
                when(z["dropped"]).c_str(), text_or_dash(z["source"]).c_str());
  }
}

void print_detail(const json &z) {
  print_table(json::array({z}));
  std::printf("\nlast check     %s\nlast transfer  %s (%s s, %s bytes)\n",
              when(z["last_check"]).c_str(), when(z["last_transfer"]).c_str(),
              z.value("last_transfer_duration_seconds", json(nullptr)).dump().c_str(),
              z.value("last_transfer_size_bytes", json(nullptr)).dump().c_str());
  if (z.contains("counters")) {
    for (const auto &[k, v] : z["counters"].items()) {
      std::printf("%-18s %s\n", k.c_str(), v.dump().c_str());
    }
  }
}

// One request to the API named in `config`: the body of a successful answer, or nothing (why
// printed).
std::optional<std::string> call_api(const std::string &config, bool post, const std::string &path) {
  auto cfg = load_config(config);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().c_str());
    return std::nullopt;
  }
  if (!cfg->http) {
    std::fprintf(stderr, "%s: server.http is none: the control API is off\n", config.c_str());
    return std::nullopt;
  }
  httplib::Client cli(endpoint_host(*cfg->http), endpoint_port(*cfg->http));
  cli.set_connection_timeout(3);
  cli.set_read_timeout(10);
  httplib::Headers headers;
  if (!cfg->http_token.empty()) {
    headers.emplace("Authorization", "Bearer " + cfg->http_token);
  }
  auto res = post ? cli.Post(path, headers, "", "application/json") : cli.Get(path, headers);
  if (!res) {
    std::fprintf(stderr,
                 "cannot reach holdfast at http://%s (server.http): %s error (is it "
                 "running?)\n",
                 format_url_host(reinterpret_cast<const sockaddr *>(&cfg->http->addr)).c_str(),
                 httplib::to_string(res.error()).c_str());
    return std::nullopt;
  }
  if (res->status >= 300) {
    json body = json::parse(res->body, nullptr, false);
    std::string why =
        body.is_object() && body.contains("error") ? body["error"].get<std::string>() : res->body;
    std::fprintf(stderr, "holdfast: %s (HTTP %d)\n", why.c_str(), res->status);
    return std::nullopt;
  }
  return res->body;
}

} // namespace

int zone_command(const ZoneCommand &cmd) {
  std::string path = cmd.kept ? "/api/v1/zones?kept=1" : "/api/v1/zones";
  if (cmd.action == "reload") {
    path = "/api/v1/reload";
  } else if (cmd.action != "list") {
    path += "/" + cmd.zone + "/" + cmd.action; // zone names need no escaping in a path segment
  }
  bool post = cmd.action == "refresh" || cmd.action == "retransfer" || cmd.action == "reload" ||
              cmd.action == "purge";
  if (cmd.action == "status") {
    path = "/api/v1/zones/" + cmd.zone;
  }
  auto text = call_api(cmd.config, post, path);
  if (!text) {
    return 1;
  }
  json body = json::parse(*text, nullptr, false);
  if (cmd.json || body.is_discarded()) {
    std::printf("%s", text->c_str());
  } else if (cmd.action == "reload") {
    std::printf("reload requested (the server logs whether the new config was taken)\n");
  } else if (cmd.action == "purge") {
    std::printf("%s: purged (its stored snapshots are deleted)\n",
                body.value("zone", cmd.zone).c_str());
  } else if (post) {
    std::printf("%s: %s requested\n", body.value("zone", cmd.zone).c_str(), cmd.action.c_str());
  } else if (cmd.action == "list" && cmd.kept) {
    print_kept(body["zones"]);
  } else if (cmd.action == "list") {
    print_table(body["zones"]);
  } else {
    print_detail(body);
  }
  return 0;
}

namespace {

// "status: HTTP 503"; "ok" alone when the detail says nothing more.
std::string last_result(const json &m) {
  std::string r = text_or_dash(m.value("last_result", json(nullptr)));
  std::string detail = m.value("detail", std::string());
  return detail.empty() ? r : r + ": " + detail;
}

std::string latency(const json &m) {
  const json &l = m.value("latency_seconds", json(nullptr));
  if (m.value("probe", json(nullptr)).is_null() || !l.is_number()) {
    return "-"; // never probed: the member is always up
  }
  return fmt::format("{:.1f}ms", l.get<double>() * 1000);
}

} // namespace

std::string pool_table(const json &pools) {
  std::string out =
      fmt::format("{:<16} {:<16} {:<6} {:<6} {:<6} {:>9} {:<24} {}\n", "POOL", "MEMBER", "STATE",
                  "ADMIN", "HEALTH", "LATENCY", "SINCE", "LAST RESULT");
  for (const auto &p : pools) {
    for (const auto &m : p.value("members", json::array())) {
      out += fmt::format("{:<16} {:<16} {:<6} {:<6} {:<6} {:>9} {:<24} {}\n",
                         text_or_dash(p.value("id", json(nullptr))),
                         text_or_dash(m.value("id", json(nullptr))),
                         text_or_dash(m.value("state", json(nullptr))),
                         text_or_dash(m.value("admin", json(nullptr))),
                         text_or_dash(m.value("health", json(nullptr))), latency(m),
                         text_or_dash(m.value("since", json(nullptr))), last_result(m));
    }
  }
  return out;
}

int pool_command(const PoolCommand &cmd) {
  bool post = cmd.action != "list" && cmd.action != "status";
  std::string path = "/api/v1/pools"; // ids are [A-Za-z0-9_-]: no escaping in a path segment
  if (cmd.action == "status") {
    path += "/" + cmd.pool;
  } else if (post) {
    path += "/" + cmd.pool + "/members/" + cmd.member + "/" + cmd.action;
  }
  auto text = call_api(cmd.config, post, path);
  if (!text) {
    return 1;
  }
  json body = json::parse(*text, nullptr, false);
  if (cmd.json || body.is_discarded()) {
    std::printf("%s", text->c_str());
  } else if (cmd.action == "list") {
    std::printf("%s", pool_table(body.value("pools", json::array())).c_str());
  } else if (cmd.action == "status") {
    std::printf("%s", pool_table(json::array({body})).c_str());
  } else {
    json m = body.value("member", json::object());
    std::printf("pool %s member %s: %s done, now %s (operator state %s)\n", cmd.pool.c_str(),
                cmd.member.c_str(), cmd.action.c_str(),
                text_or_dash(m.value("state", json(nullptr))).c_str(),
                text_or_dash(m.value("admin", json(nullptr))).c_str());
  }
  return 0;
}

} // namespace holdfast::daemon
