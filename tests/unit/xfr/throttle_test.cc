// SPDX-License-Identifier: MIT
// xfr/throttle.h: at most N zone operations at once (M per master), the rest started in arrival
// order, without nesting calls when operations end as soon as they start.
#include "xfr/throttle.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace holdfast::xfr {
namespace {

TEST(Throttle, StartsAtOnceWhileSlotsAreFree) {
  Throttle t(2);
  std::vector<int> started;
  t.run([&] { started.push_back(1); });
  t.run([&] { started.push_back(2); });
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  EXPECT_EQ(t.active(), 2u);
  EXPECT_EQ(t.waiting(), 0u);
}

TEST(Throttle, WaitingOperationsStartInArrivalOrderAsSlotsFree) {
  Throttle t(1);
  std::vector<int> started;
  for (int i = 1; i <= 3; ++i) {
    t.run([&started, i] { started.push_back(i); });
  }
  EXPECT_EQ(started, (std::vector<int>{1}));
  EXPECT_EQ(t.waiting(), 2u);
  t.release();
  EXPECT_EQ(started, (std::vector<int>{1, 2}));
  t.release();
  EXPECT_EQ(started, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(t.active(), 1u);
  t.release();
  EXPECT_EQ(t.active(), 0u);
}

TEST(Throttle, ClearDropsWhatIsWaiting) {
  Throttle t(1);
  int runs = 0;
  t.run([&] { ++runs; });
  t.run([&] { ++runs; });
  t.clear();
  t.release();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(t.active(), 0u);
}

TEST(Throttle, OperationsEndingAsTheyStartDoNotNest) {
  // One slot held, 100k operations waiting, each ending inside its own start (as a zone whose
  // check fails at once does): handing the slot on must loop, not recurse 100k calls deep.
  constexpr int kWaiting = 100'000;
  Throttle t(1);
  int depth = 0, deepest = 0, runs = 0;
  t.run([] {});
  for (int i = 0; i < kWaiting; ++i) {
    t.run([&] {
      deepest = std::max(deepest, ++depth);
      ++runs;
      t.release();
      --depth;
    });
  }
  EXPECT_EQ(t.waiting(), size_t{kWaiting});
  t.release();
  EXPECT_EQ(runs, kWaiting);
  EXPECT_EQ(deepest, 1);
  EXPECT_EQ(t.active(), 0u);
  EXPECT_EQ(t.waiting(), 0u);
}

TEST(Throttle, AMasterAtItsCapLeavesTheOtherSlotsToOtherMasters) {
  Throttle t(4, 2);
  std::vector<std::string> started;
  for (int i = 1; i <= 3; ++i) {
    t.run([&started, i] { started.push_back("slow" + std::to_string(i)); }, nullptr, "slow");
  }
  for (int i = 1; i <= 3; ++i) {
    t.run([&started, i] { started.push_back("fast" + std::to_string(i)); }, nullptr, "fast");
  }
  EXPECT_EQ(started, (std::vector<std::string>{"slow1", "slow2", "fast1", "fast2"}));
  EXPECT_EQ(t.active("slow"), 2u);
  EXPECT_EQ(t.waiting(), 2u);
  // slow3 waited longer, but its master is at its cap: the slot goes to fast3.
  t.release("fast");
  EXPECT_EQ(started.back(), "fast3");
  t.release("slow");
  EXPECT_EQ(started.back(), "slow3");
  EXPECT_EQ(t.active(), 4u);
  EXPECT_EQ(t.waiting(), 0u);
}

TEST(Throttle, RaisedLimitsStartWhatNowFits) {
  Throttle t(1, 1);
  int runs = 0;
  for (int i = 0; i < 3; ++i) {
    t.run([&] { ++runs; }, nullptr, "m");
  }
  EXPECT_EQ(runs, 1);
  t.set_limits(8, 2);
  EXPECT_EQ(runs, 2);
  t.set_limits(8, 8);
  EXPECT_EQ(runs, 3);
}

TEST(Throttle, CancelDropsOnlyThatOwnersWaitingEntries) {
  Throttle t(1);
  int a = 0, b = 0, owner_a = 0, owner_b = 0;
  t.run([] {});
  t.run([&] { ++a; }, &owner_a, "x");
  t.run([&] { ++b; }, &owner_b, "y");
  t.cancel(&owner_a);
  EXPECT_EQ(t.waiting(), 1u);
  t.release();
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
}

} // namespace
} // namespace holdfast::xfr
