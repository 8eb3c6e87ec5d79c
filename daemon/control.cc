// SPDX-License-Identifier: MIT
// HTTP routes of the control plane (see control.h).
#include "daemon/control.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "daemon/metrics.h"

#include <spdlog/spdlog.h>

namespace holdfast::daemon {
namespace {

using nlohmann::json;

template <typename T> json opt(const std::optional<T> &v) {
  return v ? json(*v) : json(nullptr);
}

json zone_json(const ZoneStatus &z, bool detail) {
  json j = {{"zone", z.zone},
            {"kind", z.secondary ? "secondary" : "primary"},
            {"serial", opt(z.serial)},
            {"master_serial", opt(z.master_serial)},
            {"sync_lag_seconds", z.secondary ? json(z.sync_lag_seconds) : json(nullptr)},
            {"master_reachable", z.secondary ? json(z.master_reachable) : json(nullptr)},
            {"last_check", opt(z.last_check)},
            {"last_transfer", opt(z.last_transfer)},
            {"last_error", z.last_error.empty() ? json(nullptr) : json(z.last_error)},
            {"state", z.state},
            {"ready", z.ready}};
  if (detail) {
    j["counters"] = {{"checks", z.checks},
                     {"check_failures", z.check_failures},
                     {"axfr_success", z.axfr_success},
                     {"axfr_failure", z.axfr_failure},
                     {"ixfr_success", z.ixfr_success},
                     {"ixfr_failure", z.ixfr_failure},
                     {"notifies_accepted", z.notifies_accepted},
                     {"notifies_refused", z.notifies_refused}};
    j["last_transfer_duration_seconds"] = z.last_transfer_duration;
    j["last_transfer_size_bytes"] = z.last_transfer_bytes;
  }
  return j;
}

void reply_json(httplib::Response &res, int status, const json &body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

} // namespace

ControlPlane::ControlPlane(StatusSource &status)
    : status_(status), server_(std::make_unique<httplib::Server>()) {}

ControlPlane::~ControlPlane() {
  stop();
}

Status ControlPlane::start(const Endpoint &at, const std::string &token) {
  token_ = token;
  routes();
  if (!server_->bind_to_port(endpoint_host(at), endpoint_port(at))) {
    return fail("cannot listen on " + at.text +
                " for HTTP (server.http): address in use or not "
                "local");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Ok{};
}

void ControlPlane::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void ControlPlane::routes() {
  auto &s = *server_;
  s.Get("/healthz", [](const httplib::Request &, httplib::Response &res) {
    res.set_content("ok\n", "text/plain");
  });
  s.Get("/readyz", [this](const httplib::Request &, httplib::Response &res) {
    std::string waiting;
    for (const auto &z : status_.zones()) {
      if (!z.ready) {
        waiting += z.zone + "\n";
      }
    }
    res.status = waiting.empty() ? 200 : 503;
    res.set_content(waiting.empty() ? "ready\n" : "waiting for the first transfer of:\n" + waiting,
                    "text/plain");
  });
  s.Get("/metrics", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(render_metrics(status_.zones(), status_.server()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  // The API needs the token when one is configured; metrics and probes stay open.
  s.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
    if (token_.empty() || req.path.rfind("/api/", 0) != 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.get_header_value("Authorization") != "Bearer " + token_) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply_json(res, 401, {{"error", "missing or wrong bearer token (server.http-token)"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.Get("/api/v1/zones", [this](const httplib::Request &, httplib::Response &res) {
    json list = json::array();
    for (const auto &z : status_.zones()) {
      list.push_back(zone_json(z, false));
    }
    reply_json(res, 200, {{"zones", list}});
  });
  s.Get(R"(/api/v1/zones/([^/]+))", [this](const httplib::Request &req, httplib::Response &res) {
    auto z = status_.zone(req.matches[1]);
    if (!z) {
      reply_json(res, 404, {{"error", "no zone " + std::string(req.matches[1]) + " configured"}});
      return;
    }
    reply_json(res, 200, zone_json(*z, true));
  });
  s.Post(R"(/api/v1/zones/([^/]+)/(refresh|retransfer))", [this](const httplib::Request &req,
                                                                 httplib::Response &res) {
    std::string name = req.matches[1], action = req.matches[2];
    auto z = status_.zone(name);
    if (!z) {
      reply_json(res, 404, {{"error", "no zone " + name + " configured"}});
      return;
    }
    if (!z->secondary) {
      reply_json(res, 409, {{"error", z->zone + " is a primary zone (no masters)"}});
      return;
    }
    std::vector<uint8_t> apex;
    parse_zone_name(name, apex);
    bool ok = action == "refresh" ? status_.xfr().refresh(apex) : status_.xfr().retransfer(apex);
    reply_json(res, ok ? 202 : 404, {{"zone", z->zone}, {"action", action}});
  });
  s.Post("/api/v1/reload", [this](const httplib::Request &, httplib::Response &res) {
    if (!reload_) {
      reply_json(res, 503, {{"error", "reload is not available"}});
      return;
    }
    spdlog::info("reload requested through the control API");
    reload_(); // the loop re-reads the config; the outcome is logged
    reply_json(res, 202, {{"action", "reload"}});
  });
  s.set_error_handler([](const httplib::Request &, httplib::Response &res) {
    if (res.body.empty()) {
      reply_json(res, res.status,
                 {{"error", res.status == 404 ? "not found"
                                              : "bad request (a POST needs a Content-Length, "
                                                "even 0)"}});
    }
  });
}

} // namespace holdfast::daemon
