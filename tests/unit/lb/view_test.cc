// SPDX-License-Identifier: MIT
// The View: finding managed names, the Pick for each case, the fallback chain and
// when-all-down, per-worker counters, and the rdata wire bytes.
#include <gtest/gtest.h>

#include "tests/unit/lb/lb_fixture.h"

namespace holdfast::lb {
namespace {

using test::addr;
using test::ask;
using test::record;
using test::wire;
using V = std::vector<std::string>;

std::shared_ptr<LbConfig> base() {
  auto cfg = std::make_shared<LbConfig>();
  cfg->pools.push_back(
      test::pool("web", {addr("a", "192.0.2.1", 20), addr("b", "192.0.2.2", 20),
                         addr("c", "192.0.2.3", 10), addr("c6", "2001:db8::3", 10)}));
  cfg->pools.push_back(test::pool("backup1", {addr("x", "198.51.100.1")}));
  cfg->pools.push_back(
      test::pool("backup2", {addr("y", "198.51.100.2"), addr("z", "198.51.100.3")}));
  cfg->pools.push_back(test::pool("cdn", {test::cname("edge", "e.cdn.example.")}));
  cfg->pools.push_back(test::pool("sip", {test::srv("edge1", "edge1.sip.example.com.", 5060, 1),
                                          test::srv("sip1", "sip1.example.com.", 5060, 2, 7),
                                          test::srv("last", "sip9.example.com.", 5061, 3)}));
  cfg->records.push_back(record("www.example.com.", KNOT_RRTYPE_A, "web", Policy::kWeighted));
  cfg->records.push_back(record("www.example.com.", KNOT_RRTYPE_AAAA, "web", Policy::kWeighted));
  cfg->records.push_back(record("alias.example.com.", KNOT_RRTYPE_CNAME, "cdn", Policy::kWeighted));
  cfg->records.push_back(record("_sip._udp.example.com.", KNOT_RRTYPE_SRV, "sip", Policy::kSrv));
  cfg->records.push_back(
      record("rr.example.net.", KNOT_RRTYPE_A, "web", Policy::kRoundRobin, "example.net."));
  return cfg;
}

// Live states with some members out: [pool][member] in config order.
std::vector<std::vector<Live>> all(const LbConfig &cfg, Live l) {
  std::vector<std::vector<Live>> out;
  for (const auto &p : cfg.pools) {
    out.emplace_back(p.members.size(), l);
  }
  return out;
}

TEST(LbView, FindHitsManagedNamesOnly) {
  auto v = View::build(base(), {}, 2);
  ASSERT_FALSE(v->empty());
  auto com = wire("example.com."), net = wire("example.net."), upper = wire("example.com.");
  upper[1] = 'E'; // the zone apex as the query spelled it
  EXPECT_NE(v->find(com.data(), test::key("www.example.com.")), nullptr);
  EXPECT_NE(v->find(upper.data(), test::key("www.example.com.")), nullptr);
  EXPECT_NE(v->find(com.data(), test::key("_sip._udp.example.com.")), nullptr);
  EXPECT_EQ(v->find(com.data(), test::key("other.example.com.")), nullptr);
  EXPECT_EQ(v->find(com.data(), test::key("example.com.")), nullptr);
  EXPECT_EQ(v->find(com.data(), test::key("a.www.example.com.")), nullptr);
  // Same relative key in another zone.
  EXPECT_EQ(v->find(net.data(), test::key("www.example.net.", "example.net.")), nullptr);
  EXPECT_NE(v->find(net.data(), test::key("rr.example.net.", "example.net.")), nullptr);
  auto empty = View::build(std::make_shared<LbConfig>(), {}, 2);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(empty->find(com.data(), test::key("www.example.com.")), nullptr);
}

TEST(LbView, EachPick) {
  auto v = View::build(base(), {}, 1);
  Pick p = Pick::kRRset;
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_MX, 0, &p), V{});
  EXPECT_EQ(p, Pick::kZone); // MX is not managed there: the zone's data
  ask(*v, "www.example.com.", KNOT_RRTYPE_CNAME, 0, &p);
  EXPECT_EQ(p, Pick::kZone);
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_A, 0, &p), V{"192.0.2.1"});
  EXPECT_EQ(p, Pick::kRRset);
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_AAAA, 0, &p), V{"2001:db8::3"});
  EXPECT_EQ(p, Pick::kRRset);
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_ANY, 0, &p).size(), 1u);
  EXPECT_EQ(p, Pick::kRRset); // ANY: the A record
  for (uint16_t qt : {KNOT_RRTYPE_A, KNOT_RRTYPE_MX, KNOT_RRTYPE_CNAME, KNOT_RRTYPE_ANY}) {
    EXPECT_EQ(ask(*v, "alias.example.com.", qt, 0, &p), V{"e.cdn.example."});
    EXPECT_EQ(p, Pick::kCname) << qt; // a managed CNAME answers every qtype
  }
  EXPECT_EQ(ask(*v, "_sip._udp.example.com.", KNOT_RRTYPE_SRV, 0, &p),
            (V{"1 0 5060 edge1.sip.example.com.", "2 7 5060 sip1.example.com.",
               "3 0 5061 sip9.example.com."}));
  EXPECT_EQ(p, Pick::kRRset);
}

TEST(LbView, AnswerCarriesTypeAndTtl) {
  auto cfg = base();
  cfg->records[0].ttl = 30;
  auto v = View::build(cfg, {}, 1);
  Arena arena;
  auto com = wire("example.com.");
  const View::Name *n = v->find(com.data(), test::key("www.example.com."));
  ASSERT_NE(n, nullptr);
  Answer a = v->answer(*n, KNOT_RRTYPE_A, 0, arena.mm());
  EXPECT_EQ(a.type, KNOT_RRTYPE_A);
  EXPECT_EQ(a.ttl, 30u);
  EXPECT_EQ(a.rrs.count, 1);
}

TEST(LbView, WeightedSharesThroughTheViewPerWorker) {
  auto v = View::build(base(), {}, 2);
  std::map<std::string, int> w0, w1;
  for (int i = 0; i < 50; ++i) {
    ++w0[ask(*v, "www.example.com.", KNOT_RRTYPE_A, 0)[0]];
    if (i < 25) {
      ++w1[ask(*v, "www.example.com.", KNOT_RRTYPE_A, 1)[0]];
    }
  }
  // Worker 0's 50 answers are exact whatever worker 1 does.
  EXPECT_EQ(w0["192.0.2.1"], 20);
  EXPECT_EQ(w0["192.0.2.2"], 20);
  EXPECT_EQ(w0["192.0.2.3"], 10);
  // Workers beyond the configured number share a block safely.
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_A, 7).size(), 1u);
}

TEST(LbView, FallbackChainThenEachWhenAllDown) {
  auto cfg = base();
  cfg->records[0].fallback = {"backup1", "backup2"};
  auto live = all(*cfg, Live::kUp);
  live[0].assign(4, Live::kOut); // web down: backup1
  EXPECT_EQ(ask(*View::build(cfg, live, 1), "www.example.com.", KNOT_RRTYPE_A), V{"198.51.100.1"});
  live[1][0] = Live::kOut; // backup1 down too: backup2 (same policy)
  auto v = View::build(cfg, live, 1);
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_A), V{"198.51.100.2"});
  EXPECT_EQ(ask(*v, "www.example.com.", KNOT_RRTYPE_A), V{"198.51.100.3"});
  live[2][0] = Live::kDrain; // a drained member still answers before when-all-down
  live[2][1] = Live::kOut;
  EXPECT_EQ(ask(*View::build(cfg, live, 1), "www.example.com.", KNOT_RRTYPE_A), V{"198.51.100.2"});
  live[2][0] = Live::kOut;
  Pick p = Pick::kZone;
  cfg->records[0].when_all_down = AllDown::kAll; // as if every member of `pool` were up
  auto va = View::build(cfg, live, 1);
  std::map<std::string, int> shares;
  for (int i = 0; i < 50; ++i) {
    ++shares[ask(*va, "www.example.com.", KNOT_RRTYPE_A, 0, &p)[0]];
    EXPECT_EQ(p, Pick::kRRset);
  }
  EXPECT_EQ(shares["192.0.2.1"], 20);
  EXPECT_EQ(shares["192.0.2.3"], 10);
  cfg->records[0].when_all_down = AllDown::kNodata;
  EXPECT_EQ(ask(*View::build(cfg, live, 1), "www.example.com.", KNOT_RRTYPE_A, 0, &p), V{});
  EXPECT_EQ(p, Pick::kNodata);
  cfg->records[0].when_all_down = AllDown::kServfail;
  EXPECT_EQ(ask(*View::build(cfg, live, 1), "www.example.com.", KNOT_RRTYPE_A, 0, &p), V{});
  EXPECT_EQ(p, Pick::kServfail);
  // The AAAA record has no fallback and c6 is out: when-all-down (default all) answers c6.
  EXPECT_EQ(ask(*View::build(cfg, live, 1), "www.example.com.", KNOT_RRTYPE_AAAA, 0, &p),
            V{"2001:db8::3"});
}

uint64_t answers_of(const std::vector<AnswerCount> &a, const std::string &name,
                    const std::string &type, const std::string &member) {
  for (const auto &c : a) {
    if (c.name == name && c.type == type && c.member == member) {
      return c.count;
    }
  }
  return ~0ull;
}

uint64_t fallbacks_of(const std::vector<FallbackCount> &f, const std::string &name,
                      const std::string &kind) {
  for (const auto &c : f) {
    if (c.name == name && c.kind == kind) {
      return c.count;
    }
  }
  return ~0ull;
}

TEST(LbView, CountsAnswersPerMemberAndFallbacksPerKind) {
  auto cfg = base();
  cfg->records[0].fallback = {"backup1"};
  auto live = all(*cfg, Live::kUp);
  live[0].assign(4, Live::kOut);
  auto v = View::build(cfg, live, 2);
  for (int i = 0; i < 5; ++i) {
    ask(*v, "www.example.com.", KNOT_RRTYPE_A, 0);
    ask(*v, "www.example.com.", KNOT_RRTYPE_A, 1);
    ask(*v, "_sip._udp.example.com.", KNOT_RRTYPE_SRV, 9); // the shared block
  }
  ask(*v, "www.example.com.", KNOT_RRTYPE_AAAA, 0); // when-all-down: all
  std::vector<AnswerCount> a;
  std::vector<FallbackCount> f;
  v->add_counts(a, f);
  v->add_counts(a, f); // merging equal labels adds
  EXPECT_EQ(answers_of(a, "www.example.com.", "A", "x"), 20u);
  EXPECT_EQ(answers_of(a, "_sip._udp.example.com.", "SRV", "sip1"), 10u);
  EXPECT_EQ(answers_of(a, "www.example.com.", "AAAA", "c6"), 2u);
  EXPECT_EQ(fallbacks_of(f, "www.example.com.", "fallback"), 20u);
  EXPECT_EQ(fallbacks_of(f, "www.example.com.", "all"), 2u);
}

TEST(LbView, RdataWireBytes) {
  auto cfg = base();
  auto v = View::build(cfg, {}, 1);
  Arena arena;
  auto com = wire("example.com.");
  auto get = [&](const char *name, uint16_t qt) {
    return v->answer(*v->find(com.data(), test::key(name)), qt, 0, arena.mm());
  };
  Answer a = get("www.example.com.", KNOT_RRTYPE_A);
  ASSERT_EQ(a.rrs.count, 1);
  EXPECT_EQ(a.rrs.size, 6u); // len(2) + 4
  EXPECT_EQ(a.rrs.rdata->len, 4);
  EXPECT_EQ(std::vector<uint8_t>(a.rrs.rdata->data, a.rrs.rdata->data + 4),
            (std::vector<uint8_t>{192, 0, 2, 1}));
  Answer aaaa = get("www.example.com.", KNOT_RRTYPE_AAAA);
  ASSERT_EQ(aaaa.rrs.rdata->len, 16);
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
  EXPECT_EQ(memcmp(aaaa.rrs.rdata->data, v6, 16), 0);
  Answer cn = get("alias.example.com.", KNOT_RRTYPE_A);
  const uint8_t edge[] = "\x01"
                         "e\x03"
                         "cdn\x07"
                         "example";
  ASSERT_EQ(cn.rrs.rdata->len, sizeof edge); // the terminating zero included
  EXPECT_EQ(memcmp(cn.rrs.rdata->data, edge, sizeof edge), 0);
  EXPECT_EQ(cn.rrs.size, knot_rdata_size(sizeof edge)); // odd length: padded to even
  Answer s = get("_sip._udp.example.com.", KNOT_RRTYPE_SRV);
  ASSERT_EQ(s.rrs.count, 3);
  knot_rdata_t *second = knot_rdataset_next(s.rrs.rdata);
  const uint8_t sip1[] = "\x00\x02\x00\x07\x13\xc4\x04sip1\x07"
                         "example\x03"
                         "com";
  ASSERT_EQ(second->len, sizeof sip1);
  EXPECT_EQ(memcmp(second->data, sip1, sizeof sip1), 0);
  size_t total = 0;
  knot_rdata_t *rd = s.rrs.rdata;
  for (int i = 0; i < 3; ++i, rd = knot_rdataset_next(rd)) {
    total += knot_rdata_size(rd->len);
  }
  EXPECT_EQ(s.rrs.size, total);
}

} // namespace
} // namespace holdfast::lb
