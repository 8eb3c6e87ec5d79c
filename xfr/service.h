// SPDX-License-Identifier: MIT
// The xfr side of the control loop: one ZoneController per secondary zone, the NOTIFY intake,
// and the event queue through which other threads (serve workers, the control plane) reach
// the controllers. Everything but NotifyRx::answer and post() runs on the loop's thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <uv.h>

#include "store/env.h"
#include "store/writer_thread.h"
#include "xfr/events.h"
#include "xfr/notify_rx.h"
#include "xfr/spec.h"
#include "xfr/throttle.h"
#include "xfr/zone_controller.h"

namespace holdfast::xfr {

class Service {
public:
  // `limits`: timeouts and how many zone operations (SOA check + transfer) are in flight at
  // once, overall and per master; the others wait their turn. The store is written through
  // `writer` only (snapshot flushes and publishes).
  Service(uv_loop_t *loop, store::Env &env, store::WriterThread &writer,
          std::vector<std::shared_ptr<const ZoneSpec>> zones, const Limits &limits = {});
  ~Service();
  Service(const Service &) = delete;
  Service &operator=(const Service &) = delete;

  // Starts polling (call once the store's start-up garbage collection is done).
  void start();
  // Cancels transfers in flight and closes handles; run the loop once more afterwards.
  void stop();

  // Thread-safe operator actions (STYLE.md: reach the loop through the queue). False when the
  // zone is not a secondary zone here.
  bool refresh(const std::vector<uint8_t> &apex);
  bool retransfer(const std::vector<uint8_t> &apex);

  // Config reload, on the loop thread: zones no longer listed stop, new ones start, and those
  // whose spec changed (masters, keys, timers, vanity set) are replaced. Returns how many
  // controllers were replaced. A changed vanity set is transferred again at once (it is
  // applied when a snapshot is written).
  size_t reconfigure(std::vector<std::shared_ptr<const ZoneSpec>> zones);
  // Config reload, on the loop thread: new timeouts and caps, for operations that start after.
  void set_limits(const Limits &limits);

  NotifyRx &notify_rx() { return notify_rx_; }
  // Calls fn(controller) under the lock, for other threads (metrics, API); false if the zone
  // is not a secondary zone here.
  template <typename F> bool with_zone(const std::vector<uint8_t> &apex, F fn) const {
    std::lock_guard lock(mu_);
    auto it = controllers_.find(apex);
    if (it == controllers_.end()) {
      return false;
    }
    fn(*it->second);
    return true;
  }

private:
  void on_events();
  void add(std::shared_ptr<const ZoneSpec> spec);

  uv_loop_t *loop_;
  Limits limits_; // read by every controller (by reference) when an operation starts
  Throttle throttle_;
  EventQueue queue_;
  NotifyRx notify_rx_;
  store::Env &env_;
  store::WriterThread &writer_;
  mutable std::mutex mu_; // controllers_ changes on the loop, is read from HTTP threads
  std::map<std::vector<uint8_t>, std::unique_ptr<ZoneController>> controllers_;
  std::vector<std::unique_ptr<ZoneController>> retired_; // stopped, waiting for their close
  uv_async_t wake_{};
  bool started_ = false;
  bool stopped_ = false;
};

} // namespace holdfast::xfr
