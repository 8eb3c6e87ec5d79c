// SPDX-License-Identifier: MIT
// Probe outcomes, the rise/fall hysteresis and the operator override (see health.h).
#include "lb/health.h"

namespace holdfast::lb {

const char *reason_name(Reason r) {
  switch (r) {
  case Reason::kOk:
    return "ok";
  case Reason::kTimeout:
    return "timeout";
  case Reason::kRefused:
    return "refused";
  case Reason::kTls:
    return "tls";
  case Reason::kStatus:
    return "status";
  case Reason::kBody:
    return "body";
  case Reason::kError:
    return "error";
  }
  return "error";
}

const char *admin_name(Admin a) {
  switch (a) {
  case Admin::kAuto:
    return "auto";
  case Admin::kUp:
    return "up";
  case Admin::kDown:
    return "down";
  case Admin::kDrain:
    return "drain";
  }
  return "auto";
}

bool observe(Hysteresis &h, bool ok, unsigned rise, unsigned fall) {
  if (h.up) {
    h.successes = 0;
    h.failures = ok ? 0 : h.failures + 1;
    if (h.failures >= fall) {
      h.up = false;
      h.failures = 0;
      return true;
    }
    return false;
  }
  h.failures = 0;
  h.successes = ok ? h.successes + 1 : 0;
  if (h.successes >= rise) {
    h.up = true;
    h.successes = 0;
    return true;
  }
  return false;
}

Live effective(Admin admin, bool health_up, bool latched) {
  switch (admin) {
  case Admin::kUp:
    return Live::kUp;
  case Admin::kDown:
    return Live::kOut;
  case Admin::kDrain:
    return health_up && !latched ? Live::kDrain : Live::kOut;
  case Admin::kAuto:
    break;
  }
  return health_up && !latched ? Live::kUp : Live::kOut;
}

} // namespace holdfast::lb
