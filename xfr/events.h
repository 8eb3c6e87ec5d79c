// SPDX-License-Identifier: MIT
// Events for the xfr loop from other threads (NOTIFY from serve workers, operator actions):
// a mutex-guarded MPSC queue that wakes the loop with uv_async (several wakes coalesce).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <uv.h>

namespace holdfast::xfr {

struct ZoneEvent {
  enum class Kind {
    kNotify,     // a master announced a change: check now
    kRefresh,    // operator: check now
    kRetransfer, // operator: full transfer now, whatever the serials say
  };
  Kind kind;
  std::vector<uint8_t> apex;
  std::optional<uint32_t> serial; // NOTIFY: the SOA serial it carried (RFC 1996 3.7)
};

class EventQueue {
public:
  // `wake` is sent after each push; it must stay valid while producers run.
  void set_wake(uv_async_t *wake) {
    std::lock_guard lock(mu_);
    wake_ = wake;
  }
  void push(ZoneEvent ev) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(ev));
    if (wake_ != nullptr) {
      uv_async_send(wake_);
    }
  }
  std::vector<ZoneEvent> drain() {
    std::lock_guard lock(mu_);
    return std::exchange(events_, {});
  }

private:
  std::mutex mu_;
  std::vector<ZoneEvent> events_;
  uv_async_t *wake_ = nullptr;
};

} // namespace holdfast::xfr
