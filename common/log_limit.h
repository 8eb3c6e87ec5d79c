// SPDX-License-Identifier: MIT
// Rate limiting of per-packet log lines (refused NOTIFYs and the like): at most one line per
// source per interval, the next line carrying the count of those not logged.
//
// A spoofed flood must not serialise the serve workers on spdlog's mutex, so the limiter itself
// takes no lock: a fixed table of slots, a source hashed to one, each slot an atomic "next line
// allowed at" time and an atomic count of suppressed events. A slot logs at most once per
// interval whatever hashes to it, so even a flood from random sources yields at most kSlots
// lines per interval. Sources sharing a slot share its count (the text says "similar").
// Counters kept elsewhere (Prometheus) stay exact: this only decides what is written.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace holdfast {

// The interval of every LogLimiter built with kProcessInterval (config `log.rate-limit`, set at
// start and reload as the log level is); 0 turns limiting off. Default 10 s.
void set_log_rate_limit(int64_t interval_ns);

class LogLimiter {
public:
  static constexpr size_t kSlots = 1024;
  static constexpr int64_t kDefaultIntervalNs = int64_t{10'000'000'000}; // 10 s

  // `interval_ns` kProcessInterval follows set_log_rate_limit(); 0 logs every event. `seed` 0
  // picks a random one (tests pass their own).
  static constexpr int64_t kProcessInterval = -1;
  explicit LogLimiter(int64_t interval_ns = kProcessInterval, uint64_t seed = 0);
  LogLimiter(const LogLimiter &) = delete;
  LogLimiter &operator=(const LogLimiter &) = delete;

  struct Decision {
    bool log = false;
    uint64_t suppressed = 0; // events of this slot not logged since its previous line
  };
  // Whether an event from `key` is logged at `now_ns` (any monotonic clock, nanoseconds).
  Decision allow(uint64_t key, int64_t now_ns);
  // allow() at the monotonic clock's now.
  Decision allow(uint64_t key);

  int64_t interval_ns() const;
  // The slot `key` counts in (keys sharing one share its interval and count).
  size_t slot_of(uint64_t key) const;

  // Keys: the IP address of `sa` (not the port: a flood changes ports at will), optionally
  // mixed with some text (a zone name) to limit per (source, zone).
  static uint64_t key_of(const sockaddr *sa, std::string_view mix = {});

private:
  static_assert(std::atomic<int64_t>::is_always_lock_free &&
                std::atomic<uint64_t>::is_always_lock_free);
  struct alignas(64) Slot {
    std::atomic<int64_t> next_ns{0};
    std::atomic<uint64_t> suppressed{0};
  };
  int64_t interval_ns_;
  uint64_t seed_; // per process: a remote cannot aim its sources at one slot
  Slot slots_[kSlots];
};

} // namespace holdfast
