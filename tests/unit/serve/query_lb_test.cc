// SPDX-License-Identifier: MIT
// Managed names answered through QueryProcessor (DESIGN.md "Traffic management"): the lb view
// answers the managed types at a name the snapshot's placeholder makes exist; other types and
// names come from the zone; CNAME members are followed in-zone; SRV targets get additional
// addresses.
#include <memory>

#include <gtest/gtest.h>

#include "daemon/lb_overlay.h"
#include "lb/view_slot.h"
#include "tests/unit/lb/lb_fixture.h"
#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

namespace lbt = lb::test;

const char *kLbZone = "$ORIGIN lbz.\n$TTL 3600\n"
                      "@     SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                      "@     NS  ns1\n"
                      "ns1   A   192.0.2.1\n"
                      "www   A   192.0.2.80\n"
                      "www   TXT \"own\"\n"
                      "alias CNAME www\n"
                      "sip1  A   192.0.2.11\n";

std::shared_ptr<lb::LbConfig> lb_config(lb::AllDown all_down = lb::AllDown::kAll) {
  auto cfg = std::make_shared<lb::LbConfig>();
  cfg->pools.push_back(lbt::pool(
      "web", {lbt::addr("a", "192.0.2.1", 2), lbt::addr("b", "192.0.2.2", 1)}));
  cfg->pools.push_back(lbt::pool("sip", {lbt::srv("s1", "sip1.lbz.", 5060, 1),
                                         lbt::srv("s2", "sip9.example.com.", 5060, 2)}));
  cfg->pools.push_back(lbt::pool("edge", {lbt::cname("e", "edge.cdn.example.")}));
  cfg->records.push_back(lbt::record("www.lbz.", KNOT_RRTYPE_A, "web", lb::Policy::kWeighted,
                                     "lbz."));
  cfg->records.back().when_all_down = all_down;
  cfg->records.push_back(
      lbt::record("_sip._udp.lbz.", KNOT_RRTYPE_SRV, "sip", lb::Policy::kSrv, "lbz."));
  cfg->records.push_back(
      lbt::record("cdn.lbz.", KNOT_RRTYPE_CNAME, "edge", lb::Policy::kWeighted, "lbz."));
  return cfg;
}

class QueryLbTest : public QueryTest {
protected:
  void SetUp() override {
    QueryTest::SetUp();
    cfg_ = lb_config();
    overlay_ = daemon::overlay_for(*cfg_, lbt::wire("lbz."));
    ASSERT_NE(overlay_, nullptr);
    auto r = store::load_zone_file(*env_, Name("lbz."), dir_.write("lbz.zone", kLbZone), false,
                                   nullptr, nullptr, overlay_.get());
    ASSERT_TRUE(r.ok()) << r.error();
    ServeOptions opts;
    opts.lb = &slot_;
    qp_ = std::make_unique<QueryProcessor>(*env_, opts);
  }
  void publish(std::shared_ptr<lb::LbConfig> cfg, std::vector<std::vector<lb::Live>> live = {}) {
    slot_.publish(lb::View::build(std::move(cfg), live, 1));
  }

  std::shared_ptr<lb::LbConfig> cfg_;
  std::shared_ptr<const store::Overlay> overlay_;
  lb::ViewSlot slot_{1};
};

TEST_F(QueryLbTest, WeightedMembersShareAnswersByWeightWithTheRecordsTtl) {
  publish(cfg_);
  Lines got;
  for (int i = 0; i < 3; ++i) {
    auto r = ask("www.lbz.", KNOT_RRTYPE_A);
    EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
    EXPECT_TRUE(r->aa());
    ASSERT_EQ(r->answer().size(), 1u);
    got.push_back(r->answer()[0]);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Lines{"www.lbz. 60 A 192.0.2.1", "www.lbz. 60 A 192.0.2.1",
                        "www.lbz. 60 A 192.0.2.2"}));
}

TEST_F(QueryLbTest, OtherTypesAtAManagedNameComeFromTheZone) {
  publish(cfg_);
  EXPECT_EQ(ask("www.lbz.", KNOT_RRTYPE_TXT)->answer(), Lines{"www.lbz. 3600 TXT \"own\""});
  auto r = ask("www.lbz.", KNOT_RRTYPE_AAAA);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority().size(), 1u); // NODATA: the SOA
}

TEST_F(QueryLbTest, AnAliasToAManagedNameIsFollowed) {
  publish(cfg_);
  auto r = ask("alias.lbz.", KNOT_RRTYPE_A);
  ASSERT_EQ(r->answer().size(), 2u);
  EXPECT_EQ(r->answer()[0], "alias.lbz. 3600 CNAME www.lbz.");
  EXPECT_EQ(r->answer()[1].rfind("www.lbz. 60 A 192.0.2.", 0), 0u) << r->answer()[1];
}

TEST_F(QueryLbTest, SrvTiersWithAdditionalAddressesForInZoneTargets) {
  publish(cfg_);
  auto r = ask("_sip._udp.lbz.", KNOT_RRTYPE_SRV);
  auto answer = r->answer();
  std::sort(answer.begin(), answer.end());
  EXPECT_EQ(answer, (Lines{"_sip._udp.lbz. 60 SRV 1 0 5060 sip1.lbz.",
                           "_sip._udp.lbz. 60 SRV 2 0 5060 sip9.example.com."}));
  EXPECT_EQ(r->additional(), Lines{"sip1.lbz. 3600 A 192.0.2.11"});
  // The tier-1 member out: tier 2 alone.
  publish(cfg_, {{}, {lb::Live::kOut, lb::Live::kUp}, {}});
  EXPECT_EQ(ask("_sip._udp.lbz.", KNOT_RRTYPE_SRV)->answer(),
            Lines{"_sip._udp.lbz. 60 SRV 2 0 5060 sip9.example.com."});
}

TEST_F(QueryLbTest, AManagedSrvTargetGetsTheAddressesOfMembersUp) {
  auto cfg = lb_config();
  cfg->records.push_back(
      lbt::record("sip1.lbz.", KNOT_RRTYPE_A, "web", lb::Policy::kWeighted, "lbz."));
  cfg->records.back().count = 2;
  auto ov = daemon::overlay_for(*cfg, lbt::wire("lbz."));
  auto r = store::load_zone_file(*env_, Name("lbz."), dir_.write("lbz2.zone", kLbZone), false,
                                 nullptr, nullptr, ov.get());
  ASSERT_TRUE(r.ok()) << r.error();
  publish(cfg, {{lb::Live::kOut, lb::Live::kUp}, {}, {}});
  EXPECT_EQ(ask("_sip._udp.lbz.", KNOT_RRTYPE_SRV)->additional(),
            Lines{"sip1.lbz. 60 A 192.0.2.2"});
}

TEST_F(QueryLbTest, ACnameMemberAnswersEveryTypeAsAnAlias) {
  publish(cfg_);
  EXPECT_EQ(ask("cdn.lbz.", KNOT_RRTYPE_A)->answer(),
            Lines{"cdn.lbz. 60 CNAME edge.cdn.example."});
  EXPECT_EQ(ask("cdn.lbz.", KNOT_RRTYPE_CNAME)->answer(),
            Lines{"cdn.lbz. 60 CNAME edge.cdn.example."});
}

TEST_F(QueryLbTest, EveryMemberDownFollowsWhenAllDown) {
  std::vector<std::vector<lb::Live>> down = {{lb::Live::kOut, lb::Live::kOut}, {}, {}};
  publish(lb_config(lb::AllDown::kNodata), down);
  auto r = ask("www.lbz.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{});
  publish(lb_config(lb::AllDown::kServfail), down);
  EXPECT_EQ(ask("www.lbz.", KNOT_RRTYPE_A)->rcode(), KNOT_RCODE_SERVFAIL);
  publish(lb_config(lb::AllDown::kAll), down);
  EXPECT_EQ(ask("www.lbz.", KNOT_RRTYPE_A)->answer().size(), 1u);
}

TEST_F(QueryLbTest, WithoutAViewThePlaceholderIsServed) {
  auto r = ask("www.lbz.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->answer(), (Lines{"www.lbz. 60 A 192.0.2.1", "www.lbz. 60 A 192.0.2.2"}));
  EXPECT_EQ(ask("nope.lbz.", KNOT_RRTYPE_A)->rcode(), KNOT_RCODE_NXDOMAIN);
}

} // namespace
} // namespace holdfast::serve::testing
