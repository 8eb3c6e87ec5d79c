// SPDX-License-Identifier: MIT
// SOA serial arithmetic (common/serial.h): RFC 1982 3.2 comparison with 32-bit serials.
#include "common/serial.h"

#include <cstdint>
#include <ostream>

#include <gtest/gtest.h>

namespace holdfast {

static std::ostream &operator<<(std::ostream &os, SerialOrder o) {
  switch (o) {
  case SerialOrder::kEqual:
    return os << "equal";
  case SerialOrder::kOlder:
    return os << "older";
  case SerialOrder::kNewer:
    return os << "newer";
  case SerialOrder::kUndefined:
    return os << "undefined";
  }
  return os << "?";
}

namespace {

constexpr uint32_t kHalf = uint32_t{1} << 31;

// The order is decidable at compile time (serial.h is constexpr).
static_assert(serial_compare(2, 1) == SerialOrder::kNewer);
static_assert(serial_compare(0, 0xffffffffu) == SerialOrder::kNewer);
static_assert(serial_is_newer(1, 0xffffffffu));

struct Case {
  uint32_t a, b;
  SerialOrder order; // how a relates to b
  const char *why;
};

const Case kCases[] = {
    {5, 5, SerialOrder::kEqual, "same serial"},
    {0, 0, SerialOrder::kEqual, "zero equals zero"},
    {6, 5, SerialOrder::kNewer, "plain increment"},
    {5, 6, SerialOrder::kOlder, "plain decrement"},
    {2024010102, 2024010101, SerialOrder::kNewer, "date-style serial"},
    // RFC 1982 3.1: addition wraps, so 0 follows 2^32 - 1.
    {0, 0xffffffffu, SerialOrder::kNewer, "wrap past 2^32-1 to 0"},
    {0xffffffffu, 0, SerialOrder::kOlder, "2^32-1 is behind 0"},
    {10, 0xfffffff0u, SerialOrder::kNewer, "wrap by 26"},
    // RFC 1982 3.2: i1 < i2 when (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31).
    {kHalf - 1, 0, SerialOrder::kNewer, "largest forward step (2^31 - 1)"},
    {0, kHalf - 1, SerialOrder::kOlder, "largest backward step"},
    {kHalf + 1, 0, SerialOrder::kOlder, "2^31 + 1 ahead numerically is behind"},
    {0, kHalf + 1, SerialOrder::kNewer, "and the reverse"},
    // RFC 1982 3.2: exactly 2^31 apart the comparison is undefined, in both directions.
    {kHalf, 0, SerialOrder::kUndefined, "0 and 2^31"},
    {0, kHalf, SerialOrder::kUndefined, "2^31 and 0"},
    {100 + kHalf, 100, SerialOrder::kUndefined, "any pair 2^31 apart"},
};

TEST(Rfc1982SerialArithmetic, ComparisonFollowsSection32) {
  for (const auto &c : kCases) {
    EXPECT_EQ(serial_compare(c.a, c.b), c.order) << c.why << ": " << c.a << " vs " << c.b;
  }
}

TEST(Rfc1982SerialArithmetic, ComparisonIsAntisymmetric) {
  for (const auto &c : kCases) {
    SerialOrder mirrored = c.order == SerialOrder::kNewer   ? SerialOrder::kOlder
                           : c.order == SerialOrder::kOlder ? SerialOrder::kNewer
                                                            : c.order;
    EXPECT_EQ(serial_compare(c.b, c.a), mirrored) << c.why;
  }
}

TEST(Rfc1982SerialArithmetic, NewerOnlyWhenTheMasterIsAhead) {
  for (const auto &c : kCases) {
    bool expect = c.order == SerialOrder::kNewer || c.order == SerialOrder::kUndefined;
    EXPECT_EQ(serial_is_newer(c.a, c.b), expect) << c.why << ": master " << c.a << ", ours " << c.b;
  }
}

TEST(Rfc1982SerialArithmetic, EqualOrOlderSerialIsNothingToTransfer) {
  EXPECT_FALSE(serial_is_newer(7, 7));
  EXPECT_FALSE(serial_is_newer(6, 7));
  EXPECT_FALSE(serial_is_newer(0xffffffffu, 0)); // wrapped: 0 is ahead
}

// RFC 1982 3.2 leaves 2^31 apart undefined; treating it as a change (as Knot DNS and NSD do)
// lets an operator who jumped the serial by exactly 2^31 still get the zone transferred.
TEST(Rfc1982SerialArithmetic, UndefinedDistanceCountsAsNewer) {
  EXPECT_TRUE(serial_is_newer(kHalf, 0));
  EXPECT_TRUE(serial_is_newer(0, kHalf));
}

} // namespace
} // namespace holdfast
