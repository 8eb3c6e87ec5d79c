// SPDX-License-Identifier: MIT
// Lock-free per-source log rate limiting (see log_limit.h).
#include "common/log_limit.h"

#include <netinet/in.h>

#include <chrono>
#include <random>

namespace holdfast {
namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) {
    h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  return h;
}

std::atomic<int64_t> g_interval_ns{LogLimiter::kDefaultIntervalNs};

} // namespace

void set_log_rate_limit(int64_t interval_ns) {
  g_interval_ns.store(interval_ns, std::memory_order_relaxed);
}

int64_t LogLimiter::interval_ns() const {
  return interval_ns_ != kProcessInterval ? interval_ns_
                                          : g_interval_ns.load(std::memory_order_relaxed);
}

LogLimiter::LogLimiter(int64_t interval_ns, uint64_t seed)
    : interval_ns_(interval_ns),
      seed_(seed != 0 ? seed : (uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

size_t LogLimiter::slot_of(uint64_t key) const {
  return mix64(key ^ seed_) % kSlots;
}

LogLimiter::Decision LogLimiter::allow(uint64_t key, int64_t now_ns) {
  int64_t interval = interval_ns();
  if (interval <= 0) {
    return {true, 0};
  }
  Slot &s = slots_[slot_of(key)];
  int64_t next = s.next_ns.load(std::memory_order_relaxed);
  // The first thread to move the slot's deadline on logs; every other event is counted, once.
  if (now_ns < next ||
      !s.next_ns.compare_exchange_strong(next, now_ns + interval, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    s.suppressed.fetch_add(1, std::memory_order_relaxed);
    return {};
  }
  return {true, s.suppressed.exchange(0, std::memory_order_relaxed)};
}

LogLimiter::Decision LogLimiter::allow(uint64_t key) {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return allow(key, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
}

uint64_t LogLimiter::key_of(const sockaddr *sa, std::string_view mix) {
  uint64_t h = 0xcbf29ce484222325ULL;
  if (sa != nullptr && sa->sa_family == AF_INET) {
    const auto *in = reinterpret_cast<const sockaddr_in *>(sa);
    h = fnv1a(reinterpret_cast<const uint8_t *>(&in->sin_addr), 4, h);
  } else if (sa != nullptr && sa->sa_family == AF_INET6) {
    const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    h = fnv1a(in6->sin6_addr.s6_addr, 16, h);
  }
  return fnv1a(reinterpret_cast<const uint8_t *>(mix.data()), mix.size(), h);
}

} // namespace holdfast
