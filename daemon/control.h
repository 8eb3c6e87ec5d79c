// SPDX-License-Identifier: MIT
// The HTTP control plane on `server.http`: GET /metrics (Prometheus), /healthz, /readyz, and the
// JSON API under /api/v1 (zones, zone detail, refresh, retransfer), guarded by the optional
// bearer token. cpp-httplib serves it from its own threads; everything it touches is either
// read-only, atomic, or reaches the xfr loop through the event queue.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/endpoint.h"
#include "common/result.h"
#include "daemon/status.h"

namespace httplib {
class Server;
}

namespace holdfast::daemon {

class ControlPlane {
public:
  explicit ControlPlane(StatusSource &status);
  ~ControlPlane();
  ControlPlane(const ControlPlane &) = delete;
  ControlPlane &operator=(const ControlPlane &) = delete;

  // What POST /api/v1/reload does (it must only wake the control loop).
  void on_reload(std::function<void()> fn) { reload_ = std::move(fn); }
  // Binds (errors name the address) and starts serving.
  Status start(const Endpoint &at, const std::string &token);
  void stop();

private:
  void routes();

  StatusSource &status_;
  std::string token_;
  std::function<void()> reload_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

} // namespace holdfast::daemon
