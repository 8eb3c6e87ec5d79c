// SPDX-License-Identifier: MIT
// Response rate limiting in QueryProcessor::process(): which responses share a budget (Knot
// DNS's classes), what a slipped response looks like, and that TCP is never limited.
#include "serve/query.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

class QueryRrlTest : public QueryTest {
protected:
  void SetUp() override {
    QueryTest::SetUp();
    RrlOptions o;
    o.rate_limit = 1; // a burst of 4 (the 4 s window), then one per second
    o.slip = 2;
    o.table_size = 4099;
    rrl_ = std::make_unique<Rrl>(o, 11);
    ServeOptions opts;
    opts.rrl = rrl_.get();
    qp_ = std::make_unique<QueryProcessor>(*env_, opts);
    client_.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.33", &client_.sin_addr);
  }
  // One UDP (or TCP) query from client_; the raw reply, empty when dropped.
  std::vector<uint8_t> send(const std::string &qname, uint16_t qtype, bool tcp = false,
                            QueryOptions o = {}) {
    auto q = make_query(qname, qtype, o);
    EXPECT_TRUE(qp_->begin_batch());
    size_t n = qp_->process(q.data(), q.size(), out_, sizeof(out_), tcp,
                            reinterpret_cast<const sockaddr *>(&client_));
    qp_->end_batch();
    return std::vector<uint8_t>(out_, out_ + n);
  }
  // Of `names` asked in turn, how many got their full answer (not dropped, not truncated).
  int full_answers(const std::vector<std::string> &names, uint16_t qtype = KNOT_RRTYPE_A) {
    int full = 0;
    for (const auto &n : names) {
      auto r = send(n, qtype);
      full += !r.empty() && !knot_wire_get_tc(r.data());
    }
    return full;
  }
  static std::vector<std::string> numbered(const std::string &fmt, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(fmt.substr(0, fmt.find('#')) + std::to_string(i) +
                    fmt.substr(fmt.find('#') + 1));
    }
    return out;
  }

  std::unique_ptr<Rrl> rrl_;
  sockaddr_in client_{};
};

// A burst passes (4, or 5 if the test straddles a second), then every second limited response
// slips out as header + question with TC, the others are dropped.
TEST_F(QueryRrlTest, FloodIsLimitedAndEverySecondLimitedResponseSlips) {
  int full = 0, slipped = 0, dropped = 0;
  for (int i = 0; i < 24; ++i) {
    auto r = send("www.example.", KNOT_RRTYPE_A);
    if (r.empty()) {
      ++dropped;
      continue;
    }
    Response resp(r);
    ASSERT_TRUE(resp.parsed());
    EXPECT_EQ(resp.id(), 0xbeef);
    if (!resp.tc()) {
      ++full;
      EXPECT_EQ(resp.answer().size(), 1u);
      continue;
    }
    ++slipped;
    // RFC 1035 4.1.1: TC, the question echoed, nothing else.
    EXPECT_EQ(resp.qdcount(), 1);
    EXPECT_EQ(resp.qname_text(), "www.example.");
    EXPECT_TRUE(resp.answer().empty());
    EXPECT_TRUE(resp.authority().empty());
    EXPECT_TRUE(resp.additional().empty());
    EXPECT_EQ(resp.size(), 12u + 13 + 4);
  }
  EXPECT_GE(full, 4);
  EXPECT_LE(full, 5);
  EXPECT_EQ(slipped, (24 - full) / 2);
  EXPECT_EQ(dropped, 24 - full - slipped);
  EXPECT_EQ(qp_->counters().rrl_limited.load(), static_cast<uint64_t>(24 - full));
  EXPECT_EQ(qp_->counters().rrl_slipped.load(), static_cast<uint64_t>(slipped));
}

TEST_F(QueryRrlTest, TcpIsNeverLimited) {
  for (int i = 0; i < 50; ++i) {
    auto r = send("www.example.", KNOT_RRTYPE_A, true);
    ASSERT_FALSE(r.empty());
    EXPECT_FALSE(knot_wire_get_tc(r.data()));
  }
  EXPECT_EQ(qp_->counters().rrl_limited.load(), 0u);
}

// A NOTIFY's answer is no larger than the NOTIFY: nothing to amplify, and a master that sends
// many (one per zone) must not see them dropped.
TEST_F(QueryRrlTest, NotifyIsNotLimited) {
  QueryOptions notify;
  notify.opcode = KNOT_OPCODE_NOTIFY;
  for (int i = 0; i < 50; ++i) {
    auto r = send("example.", KNOT_RRTYPE_SOA, false, notify);
    ASSERT_FALSE(r.empty()) << i;
    EXPECT_FALSE(knot_wire_get_tc(r.data()));
  }
  EXPECT_EQ(qp_->counters().rrl_limited.load(), 0u);
}

// Random names cannot buy fresh budgets: NXDOMAIN, wildcard answers and referrals count
// against the zone or the delegation point; each kind has its own budget.
TEST_F(QueryRrlTest, RandomNamesShareTheirZonesBudgetPerKind) {
  EXPECT_LE(full_answers(numbered("nx#.example.", 12)), 5);       // NXDOMAIN: the zone
  EXPECT_LE(full_answers(numbered("w#.wild.example.", 12)), 5);   // wildcard: the zone
  EXPECT_LE(full_answers(numbered("h#.sub.example.", 12)), 5);    // referral: sub.example.
  EXPECT_GE(full_answers({"www.example.", "mail.example."}), 2);  // answers: their own names
  EXPECT_GE(full_answers(numbered("n#.nowhere.test.", 4), 1), 4); // REFUSED: error kind
  EXPECT_LE(full_answers(numbered("n#.nowhere.test.", 8), 1), 1);
}

TEST_F(QueryRrlTest, ExistingNamesHaveTheirOwnBudgets) {
  // NODATA and answers count against the question name: 12 names, 12 full answers.
  std::vector<std::string> names;
  for (const char *n : {"ns1", "ns2", "mail", "www", "alias", "chain"}) {
    names.push_back(std::string(n) + ".example.");
  }
  EXPECT_EQ(full_answers(names, KNOT_RRTYPE_A), 6);
  EXPECT_EQ(full_answers(names, KNOT_RRTYPE_TXT), 6);
}

} // namespace
} // namespace holdfast::serve::testing
