// SPDX-License-Identifier: MIT
// Refresh/retry timing math (xfr/timing.h), table-driven: every delay lies in its window
// [base - 10 %, base], backoff doubles per failure and stops at refresh, jitter is per zone.
#include "xfr/timing.h"

#include <cstdint>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace holdfast::xfr {
namespace {

constexpr uint64_t kSeeds[] = {0, 1, 2, 42, 0xdeadbeef, 0x9e3779b97f4a7c15ULL, ~uint64_t{0}};

// base - base/10 <= d <= base
void expect_in_window(uint64_t d, uint64_t base, const std::string &what) {
  EXPECT_LE(d, base) << what;
  EXPECT_GE(d, base - base / 10) << what;
}

struct RefreshCase {
  uint64_t refresh_ms;
  const char *why;
};

const RefreshCase kRefreshCases[] = {
    {0, "zero refresh polls at once"}, {9, "under 10 ms: no room for jitter"},
    {10, "10 ms: at most 1 ms early"}, {1000, "one second"},
    {120'000, "default 2 minutes"},    {86'400'000, "one day"},
    {uint64_t{1} << 40, "very large"},
};

// RFC 1035 3.3.13: REFRESH is the interval before the zone should be checked; polls may be
// early by up to 10 % (spreading zones apart), never late.
TEST(XfrTimingRefresh, DelayIsRefreshShortenedByAtMostTenPercent) {
  for (const auto &c : kRefreshCases) {
    for (uint64_t seed : kSeeds) {
      for (uint64_t round = 0; round < 50; ++round) {
        expect_in_window(next_refresh_ms(c.refresh_ms, seed, round), c.refresh_ms,
                         std::string(c.why) + ", seed " + std::to_string(seed) + ", round " +
                             std::to_string(round));
      }
    }
  }
}

TEST(XfrTimingRefresh, TinyRefreshHasNoJitter) {
  for (uint64_t seed : kSeeds) {
    EXPECT_EQ(next_refresh_ms(0, seed, 3), 0u);
    EXPECT_EQ(next_refresh_ms(9, seed, 3), 9u);
  }
}

TEST(XfrTimingRefresh, SameSeedAndRoundGiveTheSameDelay) {
  for (uint64_t seed : kSeeds) {
    EXPECT_EQ(next_refresh_ms(120'000, seed, 7), next_refresh_ms(120'000, seed, 7));
  }
}

// Zones configured together must not poll in lockstep: different seeds spread over the window.
TEST(XfrTimingRefresh, DifferentZonesDriftApart) {
  std::set<uint64_t> delays;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    delays.insert(next_refresh_ms(120'000, seed, 0));
  }
  EXPECT_GE(delays.size(), 90u) << "100 zones should get (nearly) 100 different delays";
  EXPECT_LT(*delays.begin(), 120'000u - 6'000u) << "jitter should use the lower half too";
}

TEST(XfrTimingRefresh, OneZoneVariesFromRoundToRound) {
  std::set<uint64_t> delays;
  for (uint64_t round = 0; round < 50; ++round) {
    delays.insert(next_refresh_ms(120'000, 42, round));
  }
  EXPECT_GE(delays.size(), 45u);
}

struct RetryCase {
  uint64_t retry_ms, refresh_ms;
  unsigned failures;
  uint64_t base; // the delay before jitter
  const char *why;
};

const RetryCase kRetryCases[] = {
    {15'000, 120'000, 1, 15'000, "first failure waits retry"},
    {15'000, 120'000, 2, 30'000, "second failure doubles"},
    {15'000, 120'000, 3, 60'000, "third doubles again"},
    {15'000, 120'000, 4, 120'000, "reaches refresh exactly"},
    {15'000, 120'000, 5, 120'000, "capped at refresh"},
    {15'000, 120'000, 1000, 120'000, "many failures stay capped (no overflow)"},
    {10'000, 25'000, 2, 20'000, "below the cap"},
    {10'000, 25'000, 3, 25'000, "cap between two doublings"},
    {60'000, 30'000, 1, 60'000, "retry above refresh: retry wins"},
    {60'000, 30'000, 9, 60'000, "and never doubles"},
    {1'000, 3'600'000, 12, 2'048'000, "2^11 * retry, still under one hour"},
    {1'000, 3'600'000, 13, 3'600'000, "next doubling is capped at one hour"},
    {5, 100, 1, 5, "tiny retry: no jitter"},
    {0, 120'000, 4, 0, "zero retry stays zero"},
    {15'000, 120'000, 0, 15'000, "no failure counted yet: plain retry"},
    {3'600'000, ~uint64_t{0} / 2, 33, uint64_t{3'600'000} << 32, "32 doublings below a huge cap"},
    {3'600'000, ~uint64_t{0} / 2, 64, ~uint64_t{0} / 2, "doubling stops at a huge cap"},
};

// RFC 1035 3.3.13: RETRY is the interval before a failed refresh is retried; repeated failures
// back off (doubling) up to REFRESH, so a dead master is not hammered.
TEST(XfrTimingRetry, BacksOffByDoublingUpToRefresh) {
  for (const auto &c : kRetryCases) {
    for (uint64_t seed : kSeeds) {
      uint64_t d = next_retry_ms(c.retry_ms, c.refresh_ms, c.failures, seed);
      expect_in_window(d, c.base,
                       std::string(c.why) + ": retry " + std::to_string(c.retry_ms) + ", refresh " +
                           std::to_string(c.refresh_ms) + ", failures " +
                           std::to_string(c.failures) + ", seed " + std::to_string(seed));
    }
  }
}

TEST(XfrTimingRetry, NeverLaterThanRefreshUnlessRetryIsLonger) {
  for (unsigned failures = 1; failures < 80; ++failures) {
    for (uint64_t seed : kSeeds) {
      EXPECT_LE(next_retry_ms(15'000, 120'000, failures, seed), 120'000u) << failures;
      EXPECT_LE(next_retry_ms(60'000, 30'000, failures, seed), 60'000u) << failures;
    }
  }
}

TEST(XfrTimingRetry, DelayGrowsWithFailuresUntilTheCap) {
  // Windows of successive doublings overlap by less than the doubling, so the lower bound of
  // the next window is above the upper bound of the previous one.
  for (uint64_t seed : kSeeds) {
    uint64_t prev = 0;
    for (unsigned failures = 1; failures <= 4; ++failures) {
      uint64_t d = next_retry_ms(15'000, 120'000, failures, seed);
      EXPECT_GT(d, prev) << "failures " << failures << ", seed " << seed;
      prev = d;
    }
  }
}

TEST(XfrTimingRetry, JitterDiffersBetweenZones) {
  std::set<uint64_t> delays;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    delays.insert(next_retry_ms(15'000, 120'000, 2, seed));
  }
  EXPECT_GE(delays.size(), 90u);
}

struct FirstCase {
  uint64_t refresh_ms;
  uint64_t window; // the delay is in [0, window), or 0 when window is 0
};

const FirstCase kFirstCases[] = {
    {0, 0}, {1, 1}, {500, 500}, {1000, 1000}, {120'000, 1000}, {86'400'000, 1000},
};

// The first check after start comes within a second (or within refresh when shorter).
TEST(XfrTimingFirstCheck, ComesWithinASecondOrWithinRefresh) {
  for (const auto &c : kFirstCases) {
    for (uint64_t seed = 0; seed < 200; ++seed) {
      uint64_t d = first_check_ms(c.refresh_ms, seed);
      if (c.window == 0) {
        EXPECT_EQ(d, 0u);
      } else {
        EXPECT_LT(d, c.window) << "refresh " << c.refresh_ms << ", seed " << seed;
      }
    }
  }
}

TEST(XfrTimingFirstCheck, ManyZonesDoNotStartAtTheSameInstant) {
  std::set<uint64_t> delays;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    delays.insert(first_check_ms(120'000, seed));
  }
  EXPECT_GE(delays.size(), 80u);
}

TEST(XfrTimingMix, IsAStableFunctionOfSeedAndRound) {
  EXPECT_EQ(mix(1, 2), mix(1, 2));
  EXPECT_NE(mix(1, 2), mix(2, 1));
  EXPECT_NE(mix(0, 0), mix(0, 1));
  EXPECT_NE(mix(0, 0), 0u);
}

} // namespace
} // namespace holdfast::xfr
