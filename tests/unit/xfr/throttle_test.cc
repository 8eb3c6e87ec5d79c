// SPDX-License-Identifier: MIT
// xfr/throttle.h: at most N zone operations at once, the rest started in arrival order.
#include "xfr/throttle.h"

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

} // namespace
} // namespace holdfast::xfr
