// SPDX-License-Identifier: MIT
// The traffic-management layer as the daemon runs it: the registry (member states, views) and
// the monitor (probes) on the control loop, the member states kept in the store through the
// single writer, and the doors other threads use (operator actions, status, metrics).
//
//   monitor (curl on the loop) ──probe result──► registry ──view──► ViewSlot ──► serve workers
//   HTTP thread ──admin verb──► LoopQueue ──► registry ──persist──► writer thread ──► store
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "common/loop_queue.h"
#include "common/result.h"
#include "daemon/lb_persist.h"
#include "lb/monitor.h"
#include "lb/registry.h"
#include "lb/spec.h"
#include "lb/status.h"
#include "lb/view_slot.h"
#include "store/env.h"
#include "store/writer_thread.h"

namespace holdfast::daemon {

class LbRuntime {
public:
  // Control loop thread. `slot` is the one the serve workers read.
  LbRuntime(uv_loop_t *loop, store::Env &env, store::WriterThread &writer, lb::ViewSlot &slot);
  ~LbRuntime();
  LbRuntime(const LbRuntime &) = delete;
  LbRuntime &operator=(const LbRuntime &) = delete;

  // Control loop: the states saved before a restart, then the config; probes start at once.
  void start(std::shared_ptr<const lb::LbConfig> cfg);
  // Control loop (reload): members and targets that stay keep their state.
  void reconfigure(std::shared_ptr<const lb::LbConfig> cfg);
  // Control loop: stops probing and closes the loop handles (run the loop once more after).
  void stop();
  // Saves every member's state now and waits for the writer (before it stops at shutdown:
  // queued saves would be dropped).
  void flush();

  // Any thread.
  std::vector<lb::PoolStatus> pools() const { return registry_.pools(); }
  lb::LbStats stats() const;
  // Any thread but the control loop's: runs the verb there and waits for the outcome.
  Result<lb::MemberStatus> admin(const std::string &pool, const std::string &member,
                                 const std::string &verb);

private:
  void persist();

  store::Env &env_;
  store::WriterThread &writer_;
  MemberStateSaver saver_;
  lb::Registry registry_;
  lb::Monitor monitor_;
  LoopQueue tasks_;
  uv_timer_t reclaim_{};
  bool stopped_ = false;
};

} // namespace holdfast::daemon
