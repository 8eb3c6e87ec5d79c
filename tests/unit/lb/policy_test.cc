// SPDX-License-Identifier: MIT
// The answer policies: exact weighted shares, rotation, failover tiers, SRV tiers, last
// resort, and which members a record type makes eligible.
#include <map>

#include <gtest/gtest.h>

#include "lb/policy.h"
#include "tests/unit/lb/lb_fixture.h"

namespace holdfast::lb {
namespace {

using test::addr;
using test::ask;

// Runs `answers` picks of `p` over c with fresh selector state; returns the member picked
// first in each answer.
std::vector<uint16_t> run(Policy p, const std::vector<Candidate> &c, size_t answers,
                          unsigned count = 1) {
  std::vector<int64_t> current(c.size(), 0);
  Selector s;
  s.current = current.data();
  std::vector<uint16_t> out(c.size()), firsts;
  for (size_t i = 0; i < answers; ++i) {
    size_t n = pick(p, c, count, s, out.data(), out.size());
    firsts.push_back(n == 0 ? 0xffff : out[0]);
  }
  return firsts;
}

std::map<uint16_t, int> shares(const std::vector<uint16_t> &picks, size_t from, size_t len) {
  std::map<uint16_t, int> m;
  for (size_t i = from; i < from + len; ++i) {
    ++m[picks[i]];
  }
  return m;
}

TEST(LbWeighted, TwentyTwentyTenGiveExactSharesOverEveryFiftyAnswers) {
  std::vector<Candidate> c{{0, Live::kUp, 20, 1}, {1, Live::kUp, 20, 1}, {2, Live::kUp, 10, 1}};
  auto picks = run(Policy::kWeighted, c, 200);
  for (size_t from = 0; from + 50 <= picks.size(); from += 50) {
    auto m = shares(picks, from, 50);
    EXPECT_EQ(m[0], 20);
    EXPECT_EQ(m[1], 20);
    EXPECT_EQ(m[2], 10);
  }
  // Smooth: the heavy members never get long runs (nginx spreads C between them).
  for (size_t i = 0; i + 3 <= 50; ++i) {
    EXPECT_FALSE(picks[i] == picks[i + 1] && picks[i + 1] == picks[i + 2]) << i;
  }
}

TEST(LbWeighted, WithAOutBAndCSplitTwoToOne) {
  std::vector<Candidate> c{{0, Live::kOut, 20, 1}, {1, Live::kUp, 20, 1}, {2, Live::kUp, 10, 1}};
  auto picks = run(Policy::kWeighted, c, 90);
  for (size_t from = 0; from < 90; from += 30) {
    auto m = shares(picks, from, 30);
    EXPECT_EQ(m[0], 0);
    EXPECT_EQ(m[1], 20);
    EXPECT_EQ(m[2], 10);
  }
}

TEST(LbWeighted, CountPicksDistinctMembers) {
  std::vector<Candidate> c{{0, Live::kUp, 20, 1}, {1, Live::kUp, 20, 1}, {2, Live::kUp, 10, 1}};
  std::vector<int64_t> current(3, 0);
  Selector s{current.data(), 0};
  uint16_t out[3];
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(pick_weighted(c, 2, s, out, 3), 2u);
    EXPECT_NE(out[0], out[1]);
  }
  EXPECT_EQ(pick_weighted(c, 5, s, out, 3), 3u); // at most every member
}

TEST(LbPolicy, DrainIsALastResort) {
  std::vector<Candidate> c{{0, Live::kUp, 20, 1}, {1, Live::kDrain, 20, 1}};
  for (Policy p : {Policy::kWeighted, Policy::kRoundRobin, Policy::kFailover, Policy::kSrv}) {
    auto picks = run(p, c, 10);
    EXPECT_EQ(shares(picks, 0, 10)[0], 10) << static_cast<int>(p);
  }
  c[0].live = Live::kOut;
  for (Policy p : {Policy::kWeighted, Policy::kRoundRobin, Policy::kFailover, Policy::kSrv}) {
    auto picks = run(p, c, 10);
    EXPECT_EQ(shares(picks, 0, 10)[1], 10) << static_cast<int>(p);
  }
  c[1].live = Live::kOut;
  EXPECT_EQ(run(Policy::kWeighted, c, 1)[0], 0xffff); // nothing takes part
}

TEST(LbPolicy, WeightZeroIsALastResortExceptAsAnSrvWeight) {
  std::vector<Candidate> c{{0, Live::kUp, 0, 1}, {1, Live::kUp, 10, 1}};
  EXPECT_EQ(shares(run(Policy::kWeighted, c, 10), 0, 10)[1], 10);
  EXPECT_EQ(shares(run(Policy::kRoundRobin, c, 10), 0, 10)[1], 10);
  c[1].live = Live::kOut;
  EXPECT_EQ(shares(run(Policy::kWeighted, c, 10), 0, 10)[0], 10);
  // SRV: weight 0 is RFC 2782's "no preference", an ordinary member.
  c[1].live = Live::kUp;
  uint16_t out[2];
  EXPECT_EQ(pick_srv(c, out, 2), 2u);
  // Several last-resort members share by weight (0 counts as 1).
  std::vector<Candidate> d{{0, Live::kDrain, 2, 1}, {1, Live::kUp, 0, 1}, {2, Live::kOut, 5, 1}};
  auto m = shares(run(Policy::kWeighted, d, 30), 0, 30);
  EXPECT_EQ(m[0], 20);
  EXPECT_EQ(m[1], 10);
}

TEST(LbRoundRobin, RotatesByOnePerAnswerAndHonoursCount) {
  std::vector<Candidate> c{
      {0, Live::kUp, 1, 1}, {1, Live::kOut, 1, 1}, {2, Live::kUp, 1, 1}, {3, Live::kUp, 1, 1}};
  Selector s;
  uint16_t out[4];
  ASSERT_EQ(pick_round_robin(c, 8, s, out, 4), 3u);
  EXPECT_EQ((std::vector<uint16_t>{out[0], out[1], out[2]}), (std::vector<uint16_t>{0, 2, 3}));
  ASSERT_EQ(pick_round_robin(c, 8, s, out, 4), 3u);
  EXPECT_EQ((std::vector<uint16_t>{out[0], out[1], out[2]}), (std::vector<uint16_t>{2, 3, 0}));
  ASSERT_EQ(pick_round_robin(c, 2, s, out, 4), 2u);
  EXPECT_EQ((std::vector<uint16_t>{out[0], out[1]}), (std::vector<uint16_t>{3, 0}));
  ASSERT_EQ(pick_round_robin(c, 2, s, out, 4), 2u);
  EXPECT_EQ((std::vector<uint16_t>{out[0], out[1]}), (std::vector<uint16_t>{0, 2}));
}

TEST(LbFailover, LowestTierWithAMemberUpAnswersAndPrimaryReturns) {
  std::vector<Candidate> c{
      {0, Live::kUp, 1, 1}, {1, Live::kUp, 1, 2}, {2, Live::kUp, 1, 2}, {3, Live::kUp, 1, 3}};
  Selector s;
  uint16_t out[4];
  ASSERT_EQ(pick_failover(c, s, out, 4), 1u);
  EXPECT_EQ(out[0], 0);
  c[0].live = Live::kOut; // the primary fails: the backups, rotated
  ASSERT_EQ(pick_failover(c, s, out, 4), 2u);
  uint16_t first = out[0];
  ASSERT_EQ(pick_failover(c, s, out, 4), 2u);
  EXPECT_NE(out[0], first);
  EXPECT_TRUE(out[0] == 1 || out[0] == 2);
  c[1].live = c[2].live = Live::kOut;
  ASSERT_EQ(pick_failover(c, s, out, 4), 1u);
  EXPECT_EQ(out[0], 3);
  c[0].live = Live::kUp; // reintegrated: back to the primary
  ASSERT_EQ(pick_failover(c, s, out, 4), 1u);
  EXPECT_EQ(out[0], 0);
}

TEST(LbSrv, ATierOneMemberOutLeavesTiersTwoAndThree) {
  std::vector<Candidate> c{{0, Live::kUp, 0, 1}, {1, Live::kUp, 0, 2}, {2, Live::kUp, 0, 3}};
  uint16_t out[3];
  ASSERT_EQ(pick_srv(c, out, 3), 3u);
  c[0].live = Live::kOut;
  ASSERT_EQ(pick_srv(c, out, 3), 2u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 2);
}

// Eligibility by record type, through the View.
std::shared_ptr<LbConfig> mixed_config(Policy policy) {
  auto cfg = std::make_shared<LbConfig>();
  cfg->pools.push_back(test::pool("p", {addr("v4", "192.0.2.1", 10), addr("v6", "2001:db8::3", 10),
                                        test::cname("edge", "edge.cdn.example.", 10)}));
  cfg->records.push_back(test::record("www.example.com.", KNOT_RRTYPE_A, "p", policy));
  cfg->records.push_back(test::record("www.example.com.", KNOT_RRTYPE_AAAA, "p", policy));
  return cfg;
}

TEST(LbEligibility, IpVersionsAreKeptApartAndCnameMembersServeBoth) {
  auto v = View::build(mixed_config(Policy::kRoundRobin), {}, 1);
  // Round-robin: the first answer starts with v4 (A) / v6 (AAAA); the cname member is never
  // in an address RRset unless picked first.
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_A), (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_AAAA),
            (std::vector<std::string>{"2001:db8::3"}));
}

TEST(LbEligibility, ACnameMemberPickedInAnARecordGivesACname) {
  auto v = View::build(mixed_config(Policy::kWeighted), {}, 1);
  int cnames = 0, v4 = 0;
  for (int i = 0; i < 20; ++i) {
    Pick pk = Pick::kZone;
    auto t = ask(*v, "www.example.com.", KNOT_RRTYPE_A, 0, &pk);
    if (pk == Pick::kCname) {
      ++cnames;
      EXPECT_EQ(t, (std::vector<std::string>{"edge.cdn.example."}));
    } else {
      ++v4;
      EXPECT_EQ(pk, Pick::kRRset);
      EXPECT_EQ(t, (std::vector<std::string>{"192.0.2.1"}));
    }
  }
  EXPECT_EQ(cnames, 10); // equal weights: exactly half
  EXPECT_EQ(v4, 10);
}

} // namespace
} // namespace holdfast::lb
