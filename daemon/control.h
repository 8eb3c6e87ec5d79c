// SPDX-License-Identifier: MIT
// The HTTP control plane on `server.http`: GET /metrics (Prometheus), /healthz, /readyz, and the
// JSON API under /api/v1 (zones, kept zones, zone detail, refresh, retransfer, purge), guarded by
// the optional bearer token. cpp-httplib serves it from its own threads; everything it touches
// is either read-only, atomic, or reaches the xfr loop or the writer through a queue.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/endpoint.h"
#include "common/result.h"
#include "daemon/status.h"
#include "store/writer.h"

namespace httplib {
class Server;
struct Response;
} // namespace httplib

namespace holdfast::daemon {

class ControlPlane {
public:
  explicit ControlPlane(StatusSource &status);
  ~ControlPlane();
  ControlPlane(const ControlPlane &) = delete;
  ControlPlane &operator=(const ControlPlane &) = delete;

  // What POST /api/v1/reload does (it must only wake the control loop).
  void on_reload(std::function<void()> fn) { reload_ = std::move(fn); }
  // What purging a kept zone does (on the writer thread; the handler waits for the outcome).
  using PurgeFn = std::function<Result<store::PurgeOutcome>(const std::vector<uint8_t> &apex)>;
  void on_purge(PurgeFn fn) { purge_ = std::move(fn); }
  // Binds (errors name the address) and starts serving.
  Status start(const Endpoint &at, const std::string &token);
  void stop();

private:
  void routes();
  void routes_kept();
  void purge(const std::string &name, httplib::Response &res);

  StatusSource &status_;
  std::string token_;
  std::array<uint8_t, 32> token_digest_{}; // SHA-256 of "Bearer TOKEN", compared in constant time
  std::function<void()> reload_;
  PurgeFn purge_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

} // namespace holdfast::daemon
