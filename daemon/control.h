// SPDX-License-Identifier: MIT
// The HTTP control plane on `server.http`: GET /metrics (Prometheus), /healthz, /readyz, and the
// JSON API under /api/v1 (zones, kept zones, zone detail, refresh, retransfer, purge; pools and
// member actions, control_pools.cc), guarded by the optional bearer token. cpp-httplib serves it
// from its own threads; everything it touches is either read-only, atomic, or reaches the xfr loop
// or the writer through a queue.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/endpoint.h"
#include "common/result.h"
#include "daemon/status.h"
#include "lb/status.h"
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
  // Traffic management. `pools`: every pool with its members, copied out (called from HTTP
  // threads: it must take the registry's snapshot lock, not touch the control loop's state).
  // Unset: no pools.
  using PoolsFn = std::function<std::vector<lb::PoolStatus>()>;
  void on_pools(PoolsFn fn) { pools_ = std::move(fn); }
  // An operator verb ("enable", "disable", "drain", "auto") on a member that on_pools() lists;
  // the handler waits for the member's new status (the daemon runs it on the control loop).
  using MemberAdminFn = std::function<Result<lb::MemberStatus>(
      const std::string &pool, const std::string &member, const std::string &verb)>;
  void on_member_admin(MemberAdminFn fn) { member_admin_ = std::move(fn); }
  // Binds (errors name the address) and starts serving.
  Status start(const Endpoint &at, const std::string &token);
  void stop();

private:
  void routes();
  void routes_kept();
  void purge(const std::string &name, httplib::Response &res);
  void routes_pools();
  std::vector<lb::PoolStatus> pools() const;
  void member_admin(const std::string &pool, const std::string &member, const std::string &verb,
                    httplib::Response &res);

  StatusSource &status_;
  std::string token_;
  std::array<uint8_t, 32> token_digest_{}; // SHA-256 of "Bearer TOKEN", compared in constant time
  std::function<void()> reload_;
  PurgeFn purge_;
  PoolsFn pools_;
  MemberAdminFn member_admin_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// The API's JSON for one member and one pool (control_pools.cc; the CLI reads these fields).
nlohmann::json member_json(const lb::MemberStatus &m);
nlohmann::json pool_json(const lb::PoolStatus &p);
// RFC 3339 UTC with milliseconds ("2026-12-07T22:31:35.123Z"); "" for 0.
std::string rfc3339_ms(int64_t unix_ms);

} // namespace holdfast::daemon
