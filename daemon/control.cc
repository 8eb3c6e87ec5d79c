// SPDX-License-Identifier: MIT
// HTTP routes of the control plane (see control.h).
#include "daemon/control.h"

#include <gnutls/crypto.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <array>

#include "common/dname.h"
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

// Bodies the API takes are empty or small: a bigger one is refused (413) before it is read.
constexpr size_t kMaxBody = 64 * 1024;
// A client gets this long for each read or write; one that stalls mid-request is cut off.
// (cpp-httplib answers a request whose headers timed out with 400 and then waits for the next
// one as on any kept-alive connection: the idle wait is short, so such a client is gone
// after about kIoTimeoutSeconds + kIdleSeconds.)
constexpr time_t kIoTimeoutSeconds = 5;
constexpr time_t kIdleSeconds = 2;

using Digest = std::array<uint8_t, 32>;

Digest sha256(const std::string &text) {
  Digest d{};
  (void)gnutls_hash_fast(GNUTLS_DIG_SHA256, text.data(), text.size(), d.data());
  return d;
}

// Constant time (as CRYPTO_memcmp): comparing digests of equal length, every octet, with no
// early exit, so the time taken tells nothing about how much of a guessed token was right.
bool same_digest(const Digest &a, const Digest &b) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | (a[i] ^ b[i]);
  }
  return diff == 0;
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
  token_digest_ = sha256("Bearer " + token);
  server_->set_payload_max_length(kMaxBody);
  server_->set_read_timeout(kIoTimeoutSeconds, 0);
  server_->set_write_timeout(kIoTimeoutSeconds, 0);
  server_->set_keep_alive_timeout(kIdleSeconds);
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
    res.set_content(render_metrics(status_.zones(), status_.server(), status_.lb_stats()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  // The API needs the token when one is configured; metrics and probes stay open.
  s.set_pre_routing_handler([this](const httplib::Request &req, httplib::Response &res) {
    if (token_.empty() || req.path.rfind("/api/", 0) != 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (!same_digest(sha256(req.get_header_value("Authorization")), token_digest_)) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply_json(res, 401, {{"error", "missing or wrong bearer token (server.http-token)"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.Get("/api/v1/zones", [this](const httplib::Request &req, httplib::Response &res) {
    json list = json::array();
    if (req.has_param("kept") && req.get_param_value("kept") != "0") {
      for (const auto &z : status_.kept()) {
        list.push_back({{"zone", z.zone},
                        {"serial", z.serial},
                        {"records", z.records},
                        {"dropped", opt(z.dropped)},
                        {"source", z.source}});
      }
      reply_json(res, 200, {{"zones", list}});
      return;
    }
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
  routes_kept();
  routes_pools();
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
      const char *why = res.status == 404   ? "not found"
                        : res.status == 413 ? "request body over 64 KiB"
                                            : "bad request (a POST needs a Content-Length, even 0)";
      reply_json(res, res.status, {{"error", why}});
    }
  });
}

// Purging a kept zone: POST /api/v1/zones/ZONE/purge, or DELETE /api/v1/zones/ZONE.
void ControlPlane::routes_kept() {
  auto handler = [this](const httplib::Request &req, httplib::Response &res) {
    purge(req.matches[1], res);
  };
  server_->Post(R"(/api/v1/zones/([^/]+)/purge)", handler);
  server_->Delete(R"(/api/v1/zones/([^/]+))", handler);
}

void ControlPlane::purge(const std::string &name, httplib::Response &res) {
  std::vector<uint8_t> apex;
  if (!parse_zone_name(name, apex)) {
    reply_json(res, 400, {{"error", "'" + name + "' is not a zone name"}});
    return;
  }
  std::string zone = name_to_string(apex.data());
  if (status_.zone(name)) {
    reply_json(res, 409,
               {{"error", zone + " is in the config (zones[]): only a kept zone, one " +
                              "removed from the config and reloaded, can be purged"}});
    return;
  }
  if (!purge_) {
    reply_json(res, 503, {{"error", "purge is not available"}});
    return;
  }
  auto r = purge_(apex);
  if (!r) {
    reply_json(res, 500, {{"error", zone + ": purge failed: " + r.error()}});
    return;
  }
  switch (*r) {
  case store::PurgeOutcome::kPurged:
    spdlog::info("[{}] kept zone purged through the control API: its snapshots are deleted", zone);
    reply_json(res, 200, {{"zone", zone}, {"action", "purge"}});
    return;
  case store::PurgeOutcome::kNotKept:
    reply_json(res, 409, {{"error", zone + " is served (the config lists it): not purged"}});
    return;
  case store::PurgeOutcome::kAbsent:
    reply_json(res, 404, {{"error", "no kept zone " + zone + " in storage"}});
    return;
  }
}

} // namespace holdfast::daemon
