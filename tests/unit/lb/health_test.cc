// SPDX-License-Identifier: MIT
// The rise/fall hysteresis and the effective member state, table-driven.
#include <gtest/gtest.h>

#include "lb/health.h"

namespace holdfast::lb {
namespace {

TEST(LbHysteresis, FlipsAfterExactlyFallFailuresAndRiseSuccesses) {
  struct Step {
    bool ok;
    bool flips;
    bool up_after;
  };
  // rise 2, fall 3; a success while up and a failure while down reset the other count.
  const Step steps[] = {
      {false, false, true},  {false, false, true}, {true, false, true},   // reset
      {false, false, true},  {false, false, true}, {false, true, false},  // 3rd in a row
      {false, false, false}, {true, false, false}, {false, false, false}, // reset
      {true, false, false},  {true, true, true},                          // 2nd in a row
      {true, false, true},
  };
  Hysteresis h;
  int i = 0;
  for (const auto &s : steps) {
    EXPECT_EQ(observe(h, s.ok, 2, 3), s.flips) << "step " << i;
    EXPECT_EQ(h.up, s.up_after) << "step " << i;
    ++i;
  }
}

TEST(LbHysteresis, RiseAndFallOfOneFlipAtOnce) {
  Hysteresis h;
  EXPECT_TRUE(observe(h, false, 1, 1));
  EXPECT_FALSE(h.up);
  EXPECT_TRUE(observe(h, true, 1, 1));
  EXPECT_TRUE(h.up);
}

TEST(LbEffective, AdminFirstThenHealthAndTheManualLatch) {
  struct Row {
    Admin admin;
    bool health_up;
    bool latched;
    Live live;
  };
  const Row rows[] = {
      {Admin::kAuto, true, false, Live::kUp},    {Admin::kAuto, false, false, Live::kOut},
      {Admin::kAuto, true, true, Live::kOut}, // recovered but latched: out until enabled
      {Admin::kUp, false, false, Live::kUp},     {Admin::kUp, true, true, Live::kUp},
      {Admin::kDown, true, false, Live::kOut},   {Admin::kDrain, true, false, Live::kDrain},
      {Admin::kDrain, false, false, Live::kOut}, {Admin::kDrain, true, true, Live::kOut},
  };
  for (const auto &r : rows) {
    EXPECT_EQ(effective(r.admin, r.health_up, r.latched), r.live)
        << admin_name(r.admin) << " health " << r.health_up << " latched " << r.latched;
  }
}

} // namespace
} // namespace holdfast::lb
