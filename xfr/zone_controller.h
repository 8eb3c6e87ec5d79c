// SPDX-License-Identifier: MIT
// One controller per secondary zone (STYLE.md 4): one timer, the served and notified serials,
// at most one operation in flight. NOTIFY and operator actions only pull the timer to now.
//
//            timer fires, then a throttle slot (kQueued meanwhile)
//                                        master's serial newer / no snapshot / forced
//   kIdle ─────────────────► kChecking ─────────────────────────────────────► kTransferring
//     ▲   (SOA to each master   │  same or older serial: timer = refresh           │
//     │    address in turn)     │  every address failed: timer = retry, backing off │
//     └─────────────────────────┴───────────────────────────────────────────────────┘
//        IXFR failing in a way AXFR may not (not a network error): one AXFR, same remote.
//        A NOTIFY arriving meanwhile sets `again_`: the check reruns when the operation ends.
//
// Never expire (DESIGN.md): no timer here ever withdraws the zone; failures only log, count and
// schedule the next attempt.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <uv.h>

#include "store/env.h"
#include "store/writer_thread.h"
#include "xfr/spec.h"
#include "xfr/throttle.h"
#include "xfr/transport.h"

namespace holdfast::xfr {

// Per-zone outcome counters and timestamps (read by metrics from other threads).
struct ZoneStats {
  std::atomic<uint64_t> checks{0}, check_failures{0};
  std::atomic<uint64_t> axfr_ok{0}, axfr_failed{0}, ixfr_ok{0}, ixfr_failed{0};
  std::atomic<uint64_t> up_to_date{0}, notifies{0};
  // Transfers of a sealed zone (signed or ZONEMD) that kept the master's records instead of
  // the vanity set and managed names (a conflict the operator must resolve).
  std::atomic<uint64_t> substitutions_skipped{0};
  std::atomic<uint32_t> served_serial{0}, master_serial{0};
  std::atomic<bool> has_snapshot{false}, master_seen{false}, master_reachable{false};
  std::atomic<int64_t> last_check_ns{0}, last_transfer_ns{0}; // successful ones
  std::atomic<int64_t> ahead_since_ns{0}; // when the master was first seen ahead (0: it is not)
  std::atomic<int64_t> started_ns{0};
  std::atomic<int64_t> last_transfer_duration_ns{0};
  std::atomic<uint64_t> last_transfer_bytes{0};
  std::atomic<int> state{0}; // ZoneController::State

  void set_error(std::string e) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(e);
  }
  std::string last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
  }

private:
  mutable std::mutex mu_;
  std::string last_error_; // of the last check or transfer; empty after a success
};

class ZoneController {
public:
  // Snapshot flushes and publishes run on `writer`; their completions come back on the loop.
  // `limits` (owned by the Service, changed by a reload) applies to each operation as it starts.
  ZoneController(uv_loop_t *loop, store::Env &env, store::WriterThread &writer,
                 std::shared_ptr<const ZoneSpec> spec, Throttle &throttle, const Limits &limits);
  ~ZoneController();
  ZoneController(const ZoneController &) = delete;
  ZoneController &operator=(const ZoneController &) = delete;

  // Reads the stored serial and schedules the first check (`zones`: how many start together).
  void start(size_t zones);
  // A NOTIFY from a master, or an operator's refresh: check now (coalesced).
  void check_now();
  // Operator: a full transfer now, whatever the serials say.
  void retransfer();
  // Cancels what is in flight and closes the timer; the loop must run once more after, and the
  // controller may be deleted once closed() is true.
  void stop();
  bool closed() const { return closed_; }

  enum class State { kIdle, kQueued, kChecking, kTransferring, kStopped };
  static const char *state_name(int state);

  const ZoneSpec &spec() const { return *spec_; }
  const ZoneStats &stats() const { return stats_; }

private:
  struct Remote {
    const Master *master;
    const Endpoint *address;
  };

  void schedule(uint64_t delay_ms);
  void begin_check(); // from the timer: waits for a throttle slot
  void start_check();
  void query_soa(bool tcp);
  void on_soa(const ExchangeEnd &end, std::optional<uint32_t> serial, bool truncated, bool tcp);
  void next_remote_or_retry(const std::string &why);
  void begin_transfer(bool ixfr);
  void on_transfer_end(bool ixfr, const ExchangeEnd &end, std::shared_ptr<void> job);
  // Records staged beyond the bound go to the writer; the master is not read meanwhile.
  void flush_staged(std::shared_ptr<void> job);
  // After the publish (on the writer thread) or a failure: counters, log, next timer.
  void finish_transfer(bool ixfr, const ExchangeEnd &end, std::shared_ptr<void> job,
                       const Result<store::Published> &pub);
  void done(bool ok);
  void set_state(State s) {
    state_ = s;
    stats_.state = static_cast<int>(s);
  }
  std::string remote_text() const;

  uv_loop_t *loop_;
  store::Env &env_;
  store::WriterThread &writer_;
  // False once stopped: a writer completion arriving later must not touch a freed controller.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::shared_ptr<const ZoneSpec> spec_;
  std::vector<Remote> remotes_;
  size_t remote_ = 0;
  uv_timer_t timer_{};
  Throttle &throttle_;
  const Limits &limits_;
  // The master this zone's operations count against in the throttle (see the constructor).
  std::string throttle_key_;
  bool holding_ = false; // owns a throttle slot
  bool closed_ = false;  // the timer's close callback ran
  Exchange *inflight_ = nullptr;
  State state_ = State::kIdle;
  std::optional<uint32_t> stored_; // serial of the stored snapshot
  bool again_ = false;             // a check was asked for while busy
  bool force_axfr_ = false;        // operator retransfer
  unsigned failures_ = 0;
  uint64_t round_ = 0;
  uint64_t seed_ = 0;
  std::string name_;
  ZoneStats stats_;
};

} // namespace holdfast::xfr
