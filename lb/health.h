// SPDX-License-Identifier: MIT
// Health of probed targets: what one probe found, the rise/fall hysteresis (a pure function,
// table-tested like xfr/timing), and the operator's override. Shared by the monitor (probes),
// the registry (member states) and the operator interface.
#pragma once

#include <cstdint>
#include <string>

namespace holdfast::lb {

// Why a probe failed (logged once per state change, shown by the API, a metric label).
enum class Reason : uint8_t {
  kOk,
  kTimeout, // no connection or no complete answer within `timeout`
  kRefused, // connection refused or reset, host/network unreachable
  kTls,     // handshake, certificate chain, dates or name
  kStatus,  // HTTP status outside expect-status
  kBody,    // expect-body not found
  kError,   // anything else (local: bad source address, out of sockets...)
};
const char *reason_name(Reason r); // "ok", "timeout", "refused", "tls", "status", "body", "error"

struct ProbeResult {
  Reason reason = Reason::kOk;
  double latency_s = 0; // from the start of the probe to its outcome
  std::string detail;   // for the log line: "HTTP 503", "certificate has expired", ...
  bool ok() const { return reason == Reason::kOk; }
};

// One (check, address) pair's hysteresis. A target starts up (healthy until shown otherwise).
struct Hysteresis {
  bool up = true;
  unsigned successes = 0; // consecutive, while down
  unsigned failures = 0;  // consecutive, while up
};
// Applies one probe outcome; returns true when `up` flipped (after `fall` consecutive failures
// while up, `rise` consecutive successes while down).
bool observe(Hysteresis &h, bool ok, unsigned rise, unsigned fall);

// The operator's state for a member (API/CLI verbs enable, disable, drain, auto).
enum class Admin : uint8_t {
  kAuto,  // health decides
  kUp,    // forced up (`enable`; also clears a manual-reintegration latch)
  kDown,  // forced down (`disable`)
  kDrain, // weight 0: answered only when no other member is up
};
const char *admin_name(Admin a); // "auto", "up", "down", "drain"

// How a member takes part in answers right now.
enum class Live : uint8_t { kOut, kUp, kDrain };

// Effective state: admin override first, then health; with `latched` (reintegrate: manual and
// the member went down), a recovered member stays out until enabled.
Live effective(Admin admin, bool health_up, bool latched);

} // namespace holdfast::lb
