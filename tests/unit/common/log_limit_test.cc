// SPDX-License-Identifier: MIT
// Per-source log rate limiting (common/log_limit.h): one line per source per interval, exact
// suppressed counts, a bounded number of lines under a flood from random sources, no lock.
#include "common/log_limit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace holdfast {
namespace {

constexpr int64_t kSec = 1'000'000'000;

sockaddr_in v4(const char *ip, uint16_t port = 53) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

uint64_t key(const char *ip) {
  auto a = v4(ip);
  return LogLimiter::key_of(reinterpret_cast<const sockaddr *>(&a));
}

TEST(LogLimiter, OneLinePerSourcePerIntervalWithTheCountOfTheRest) {
  LogLimiter lim(10 * kSec, 42);
  uint64_t k = key("192.0.2.1");
  auto first = lim.allow(k, 100 * kSec);
  EXPECT_TRUE(first.log);
  EXPECT_EQ(first.suppressed, 0u);
  for (int i = 0; i < 999; ++i) {
    EXPECT_FALSE(lim.allow(k, 100 * kSec + i * 1'000'000).log);
  }
  EXPECT_FALSE(lim.allow(k, 110 * kSec - 1).log); // one nanosecond short of the interval
  auto next = lim.allow(k, 110 * kSec);
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 1000u);
  auto quiet = lim.allow(k, 500 * kSec); // long after: logged, nothing suppressed meanwhile
  EXPECT_TRUE(quiet.log);
  EXPECT_EQ(quiet.suppressed, 0u);
}

TEST(LogLimiter, SourcesInOtherSlotsAreLimitedApart) {
  LogLimiter lim(10 * kSec, 42);
  uint64_t a = key("192.0.2.1");
  uint64_t b = 0;
  for (int i = 2; i < 50 && b == 0; ++i) {
    uint64_t k = key(("192.0.2." + std::to_string(i)).c_str());
    b = lim.slot_of(k) != lim.slot_of(a) ? k : 0;
  }
  ASSERT_NE(b, 0u);
  EXPECT_TRUE(lim.allow(a, kSec).log);
  EXPECT_FALSE(lim.allow(a, kSec).log);
  EXPECT_TRUE(lim.allow(b, kSec).log); // a's flood does not silence b
  EXPECT_FALSE(lim.allow(b, kSec).log);
}

TEST(LogLimiter, KeyIsTheAddressNotThePortAndTakesAMix) {
  auto a1 = v4("192.0.2.1", 1000), a2 = v4("192.0.2.1", 2000), b = v4("192.0.2.2", 1000);
  auto k = [](const sockaddr_in &a, std::string_view mix = {}) {
    return LogLimiter::key_of(reinterpret_cast<const sockaddr *>(&a), mix);
  };
  EXPECT_EQ(k(a1), k(a2));
  EXPECT_NE(k(a1), k(b));
  EXPECT_NE(k(a1, "example."), k(a1, "example.org."));
  sockaddr_in6 six{};
  six.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
  EXPECT_NE(LogLimiter::key_of(reinterpret_cast<const sockaddr *>(&six)), k(a1));
}

// A spoofed flood from ever new sources: at most one line per slot per interval.
TEST(LogLimiter, FloodFromRandomSourcesLogsAtMostOneLinePerSlot) {
  LogLimiter lim(10 * kSec, 7);
  size_t logged = 0;
  for (uint32_t i = 0; i < 200000; ++i) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x0a000000 + i);
    logged += lim.allow(LogLimiter::key_of(reinterpret_cast<const sockaddr *>(&a)), kSec).log;
  }
  EXPECT_LE(logged, LogLimiter::kSlots);
  EXPECT_GT(logged, LogLimiter::kSlots / 2);
}

// Workers racing on one source: one line, and every other event counted exactly once.
TEST(LogLimiter, ConcurrentEventsAreCountedExactly) {
  LogLimiter lim(10 * kSec, 42);
  uint64_t k = key("192.0.2.1");
  constexpr int kThreads = 4, kEach = 50000;
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        logged += lim.allow(k, kSec).log ? 1 : 0;
      }
    });
  }
  for (auto &t : threads) {
    t.join();
  }
  EXPECT_EQ(logged.load(), 1);
  auto next = lim.allow(k, 11 * kSec);
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, uint64_t{kThreads} * kEach - 1);
}

} // namespace
} // namespace holdfast
