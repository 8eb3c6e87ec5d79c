// SPDX-License-Identifier: MIT
// Response rate limiting (serve/rrl.h): the rate and burst per key, the slip ratio, client
// networks by prefix, exempt prefixes, independent kinds and names, prefix parsing.
#include "serve/rrl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace holdfast::serve {
namespace {

constexpr uint64_t kSecond = 1000000000;
const uint8_t *kName = reinterpret_cast<const uint8_t *>("\x03www\x07"
                                                         "example");
const uint8_t *kZone = reinterpret_cast<const uint8_t *>("\x07"
                                                         "example");

sockaddr_storage addr(const char *text) {
  sockaddr_storage ss{};
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6->sin6_addr), 1) << text;
    v6->sin6_family = AF_INET6;
  }
  return ss;
}

RrlOptions options(uint32_t rate, uint32_t slip = 2) {
  RrlOptions o;
  o.rate_limit = rate;
  o.slip = slip;
  o.table_size = 4099;
  return o;
}

// Sends `n` responses at second `at`; returns how many passed.
struct Client {
  const Rrl &rrl;
  sockaddr_storage ss;
  RrlKind kind = RrlKind::kAnswer;
  const uint8_t *name = kName;
  uint32_t limited = 0;
  int send(int n, double at) {
    int passed = 0;
    uint64_t now = rrl.ticks_at(static_cast<uint64_t>(at * kSecond));
    for (int i = 0; i < n; ++i) {
      passed += rrl.decide(reinterpret_cast<const sockaddr *>(&ss), kind, name, now, limited) ==
                RrlVerdict::kPass;
    }
    return passed;
  }
};

TEST(Rrl, BurstOfFourSecondsThenTheRatePerSecond) {
  Rrl rrl(options(10), 1);
  Client c{rrl, addr("192.0.2.1")};
  // A quiet client may send Knot DNS's window (4 s) of responses at once.
  EXPECT_EQ(c.send(100, 0.0), 40);
  // Then 10 per second as time goes on, never more.
  EXPECT_EQ(c.send(100, 1.0), 10);
  EXPECT_EQ(c.send(100, 1.5), 5);
  EXPECT_EQ(c.send(100, 1.5), 0);
  EXPECT_EQ(c.send(100, 2.0), 5);
  // After a long pause the full burst is back (and no more than that).
  EXPECT_EQ(c.send(100, 100.0), 40);
  EXPECT_EQ(c.limited, 100u - 40 + 90 + 95 + 100 + 95 + 60);
}

TEST(Rrl, RateLimitZeroIsOff) {
  Rrl rrl(options(0), 1);
  Client c{rrl, addr("192.0.2.1")};
  EXPECT_EQ(c.send(10000, 0.0), 10000);
}

TEST(Rrl, SlipRatioOfLimitedResponses) {
  struct Case {
    uint32_t slip;
    int slipped_of_12; // of 12 limited responses
  };
  for (Case k : {Case{0, 0}, Case{1, 12}, Case{2, 6}, Case{3, 4}, Case{12, 1}}) {
    Rrl rrl(options(1, k.slip), 1);
    sockaddr_storage ss = addr("198.51.100.7");
    uint32_t limited = 0;
    int pass = 0, slip = 0, drop = 0;
    for (int i = 0; i < 4 + 12; ++i) {
      switch (rrl.decide(reinterpret_cast<const sockaddr *>(&ss), RrlKind::kAnswer, kName, 0,
                         limited)) {
      case RrlVerdict::kPass:
        ++pass;
        break;
      case RrlVerdict::kSlip:
        ++slip;
        break;
      case RrlVerdict::kDrop:
        ++drop;
        break;
      }
    }
    EXPECT_EQ(pass, 4) << "slip " << k.slip;
    EXPECT_EQ(slip, k.slipped_of_12) << "slip " << k.slip;
    EXPECT_EQ(drop, 12 - k.slipped_of_12) << "slip " << k.slip;
    EXPECT_EQ(limited, 12u);
  }
}

TEST(Rrl, SlipTwoAlternatesDropAndTruncate) {
  Rrl rrl(options(1, 2), 1);
  sockaddr_storage ss = addr("198.51.100.7");
  uint32_t limited = 0;
  std::string seq;
  for (int i = 0; i < 10; ++i) {
    auto v =
        rrl.decide(reinterpret_cast<const sockaddr *>(&ss), RrlKind::kAnswer, kName, 0, limited);
    seq += v == RrlVerdict::kPass ? 'P' : v == RrlVerdict::kSlip ? 'S' : 'D';
  }
  EXPECT_EQ(seq, "PPPPDSDSDS");
}

// Clients in one network share its budget; other networks have their own.
TEST(Rrl, ClientsShareTheirNetworksBudget) {
  struct Case {
    const char *a, *b;
    uint8_t v4, v6;
    bool shared;
  };
  const Case cases[] = {
      {"192.0.2.1", "192.0.2.200", 24, 56, true},
      {"192.0.2.1", "192.0.3.1", 24, 56, false},
      {"192.0.2.1", "192.0.2.200", 32, 56, false},
      {"127.0.0.2", "127.0.0.3", 32, 56, false},
      {"192.0.2.1", "192.0.3.1", 16, 56, true},
      {"2001:db8:0:ff::1", "2001:db8:0:aa::2", 24, 56, true},
      {"2001:db8:0:ff::1", "2001:db8:0:1ff::1", 24, 56, false},
      {"2001:db8:0:ff::1", "2001:db8:0:1ff::1", 24, 48, true},
      {"::ffff:192.0.2.1", "192.0.2.9", 24, 56, true}, // a dual-stack socket's IPv4 client
      {"192.0.2.1", "::ffff:192.0.3.1", 24, 56, false},
  };
  for (const auto &k : cases) {
    RrlOptions o = options(10);
    o.ipv4_prefix = k.v4;
    o.ipv6_prefix = k.v6;
    Rrl rrl(o, 7);
    Client a{rrl, addr(k.a)}, b{rrl, addr(k.b)};
    EXPECT_EQ(a.send(40, 0), 40);
    EXPECT_EQ(b.send(10, 0), k.shared ? 0 : 10) << k.a << " vs " << k.b;
  }
}

TEST(Rrl, ExemptPrefixesAreNeverLimited) {
  RrlOptions o = options(1);
  o.exempt = {*parse_prefix("127.0.0.0/8"), *parse_prefix("2001:db8::/32")};
  Rrl rrl(o, 3);
  for (const char *a : {"127.0.0.1", "127.255.0.9", "::ffff:127.0.0.1", "2001:db8:1::1"}) {
    Client c{rrl, addr(a)};
    EXPECT_EQ(c.send(1000, 0), 1000) << a;
  }
  Client other{rrl, addr("128.0.0.1")};
  EXPECT_EQ(other.send(1000, 0), 4);
}

// A flood of one kind (or one name) leaves the budgets of the others alone.
TEST(Rrl, KindsAndNamesHaveTheirOwnBudgets) {
  Rrl rrl(options(10), 5);
  Client answers{rrl, addr("203.0.113.5")};
  EXPECT_EQ(answers.send(1000, 0), 40);
  for (RrlKind kind : {RrlKind::kNodata, RrlKind::kNxdomain, RrlKind::kReferral, RrlKind::kError}) {
    Client c{rrl, addr("203.0.113.6"), kind};
    EXPECT_EQ(c.send(1000, 0), 40) << static_cast<int>(kind);
  }
  Client zone{rrl, addr("203.0.113.7"), RrlKind::kAnswer, kZone};
  EXPECT_EQ(zone.send(1000, 0), 40);
  // Names compare without case (RFC 4343): 0x20 randomisation does not buy a new budget.
  Client upper{rrl, addr("203.0.113.8"), RrlKind::kAnswer,
               reinterpret_cast<const uint8_t *>("\x03WwW\x07"
                                                 "EXAMPLE")};
  EXPECT_EQ(upper.send(1000, 0), 0);
}

TEST(Rrl, ParsePrefix) {
  struct Case {
    const char *text;
    bool ok;
    int family;
    unsigned len;
  };
  const Case cases[] = {
      {"127.0.0.0/8", true, AF_INET, 8}, {"192.0.2.1", true, AF_INET, 32},
      {"0.0.0.0/0", true, AF_INET, 0},   {"2001:db8::/32", true, AF_INET6, 32},
      {"::1", true, AF_INET6, 128},      {"192.0.2.0/33", false, 0, 0},
      {"2001:db8::/129", false, 0, 0},   {"192.0.2.0/", false, 0, 0},
      {"192.0.2.0/x", false, 0, 0},      {"example.com", false, 0, 0},
  };
  for (const auto &k : cases) {
    auto p = parse_prefix(k.text);
    ASSERT_EQ(p.ok(), k.ok) << k.text;
    if (k.ok) {
      EXPECT_EQ(p->family, k.family) << k.text;
      EXPECT_EQ(p->len, k.len) << k.text;
    }
  }
  // Host bits are cleared: 192.0.2.77/24 is 192.0.2.0/24.
  EXPECT_EQ(*parse_prefix("192.0.2.77/24"), *parse_prefix("192.0.2.0/24"));
  sockaddr_storage in = addr("192.0.2.200"), out = addr("192.0.3.1");
  EXPECT_TRUE(prefix_contains(*parse_prefix("192.0.2.77/24"), reinterpret_cast<sockaddr *>(&in)));
  EXPECT_FALSE(prefix_contains(*parse_prefix("192.0.2.77/24"), reinterpret_cast<sockaddr *>(&out)));
}

} // namespace
} // namespace holdfast::serve
