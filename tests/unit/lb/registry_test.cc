// SPDX-License-Identifier: MIT
// The Registry: state kept over reloads, fall/rise from probe results, the manual latch,
// operator verbs, persistence, restore after a restart, and counters across view swaps.
#include <gtest/gtest.h>

#include "lb/registry.h"
#include "tests/unit/lb/lb_fixture.h"

namespace holdfast::lb {
namespace {

using test::addr;
using test::ask;

std::shared_ptr<LbConfig> config(uint64_t interval_ms = 5000) {
  auto cfg = std::make_shared<LbConfig>();
  cfg->checks.push_back(test::check("web", 2, 3));
  cfg->checks.back().interval_ms = interval_ms;
  cfg->pools.push_back(test::pool(
      "web", {addr("a", "192.0.2.1", 20), addr("b", "192.0.2.2", 20), addr("c", "192.0.2.3", 10)},
      "web"));
  cfg->pools.push_back(test::pool("man", {addr("m", "192.0.2.1"), addr("n", "192.0.2.9")}, "web"));
  cfg->pools.back().reintegrate = Reintegrate::kManual;
  cfg->pools.push_back(test::pool("fixed", {addr("f", "198.51.100.1")})); // no check
  cfg->records.push_back(test::record("www.example.com.", KNOT_RRTYPE_A, "web", Policy::kWeighted));
  return cfg;
}

ProbeResult fail() {
  return ProbeResult{Reason::kStatus, 0.01, "HTTP 503"};
}
ProbeResult ok() {
  return ProbeResult{Reason::kOk, 0.01, ""};
}

Live live_of(const Registry &r, const std::string &pool, const std::string &member) {
  auto p = r.pool(pool);
  EXPECT_TRUE(p.has_value()) << pool;
  for (const auto &m : p->members) {
    if (m.id == member) {
      return m.live;
    }
  }
  ADD_FAILURE() << member;
  return Live::kOut;
}

struct Fixture {
  ViewSlot slot{2};
  Registry reg{slot, 2};
  std::vector<std::vector<PersistedMember>> persisted;
  Fixture() {
    reg.on_persist([this](std::vector<PersistedMember> m) { persisted.push_back(std::move(m)); });
  }
  void probe(const std::string &key, const ProbeResult &r, int times) {
    for (int i = 0; i < times; ++i) {
      reg.on_probe(key, r);
    }
  }
};

TEST(LbRegistry, TargetsAreUniqueCheckAddressPairs) {
  Fixture f;
  f.reg.configure(config());
  auto t = f.reg.targets();
  std::vector<std::string> keys;
  for (const auto &x : t) {
    keys.push_back(x.key);
  }
  // 192.0.2.1 is in two pools with the same check: probed once. `fixed` has no check.
  EXPECT_EQ(keys, (std::vector<std::string>{"web@192.0.2.1", "web@192.0.2.2", "web@192.0.2.3",
                                            "web@192.0.2.9"}));
  EXPECT_EQ(t[0].check.fall, 3u);
  EXPECT_EQ(f.reg.pool("fixed")->members[0].probe, "");
}

TEST(LbRegistry, FallAndRiseFlipLiveAfterExactlyThatManyResults) {
  Fixture f;
  f.reg.configure(config());
  const View *v0 = f.slot.current();
  f.probe("web@192.0.2.2", fail(), 2);
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kUp);
  EXPECT_EQ(f.slot.current(), v0); // no change, no new view
  f.probe("web@192.0.2.2", fail(), 1);
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kOut);
  EXPECT_EQ(f.reg.pool("web")->members[1].reason, Reason::kStatus);
  EXPECT_EQ(f.reg.pool("web")->members[1].detail, "HTTP 503");
  EXPECT_NE(f.slot.current(), v0);
  std::map<std::string, int> shares; // the new view answers 2:1 between a and c
  for (int i = 0; i < 30; ++i) {
    ++shares[ask(*f.slot.current(), "www.example.com.", KNOT_RRTYPE_A)[0]];
  }
  EXPECT_EQ(shares["192.0.2.1"], 20);
  EXPECT_EQ(shares["192.0.2.3"], 10);
  f.probe("web@192.0.2.2", ok(), 1);
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kOut);
  f.probe("web@192.0.2.2", ok(), 1);
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kUp);
  f.probe("nope@192.0.2.2", fail(), 5); // unknown targets are ignored
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kUp);
}

TEST(LbRegistry, SharedTargetUpdatesEveryMemberUsingIt) {
  Fixture f;
  f.reg.configure(config());
  f.probe("web@192.0.2.1", fail(), 3);
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kOut);
  EXPECT_EQ(live_of(f.reg, "man", "m"), Live::kOut);
}

TEST(LbRegistry, ReloadKeepsHealthOperatorStateAndHysteresis) {
  Fixture f;
  f.reg.configure(config());
  f.probe("web@192.0.2.1", fail(), 3);
  ASSERT_TRUE(f.reg.set_admin("web", "c", "drain").ok());
  f.probe("web@192.0.2.1", ok(), 1); // one of the two successes rise needs
  f.reg.configure(config());         // same content, new object
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kOut);
  EXPECT_EQ(live_of(f.reg, "web", "c"), Live::kDrain);
  f.probe("web@192.0.2.1", ok(), 1); // the second: the count survived the reload
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kUp);
}

TEST(LbRegistry, AChangedCheckFingerprintResetsItsTargets) {
  Fixture f;
  f.reg.configure(config());
  f.probe("web@192.0.2.1", fail(), 3);
  ASSERT_TRUE(f.reg.set_admin("web", "b", "disable").ok());
  f.reg.configure(config(1000)); // interval changed: the check's targets start over, up
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kUp);
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kOut); // operator state stays
}

TEST(LbRegistry, ManualReintegrationLatchesUntilEnable) {
  Fixture f;
  f.reg.configure(config());
  f.probe("web@192.0.2.9", fail(), 3);
  EXPECT_EQ(live_of(f.reg, "man", "n"), Live::kOut);
  EXPECT_TRUE(f.reg.pool("man")->members[1].latched);
  f.probe("web@192.0.2.9", ok(), 5); // healthy again, still out
  EXPECT_EQ(live_of(f.reg, "man", "n"), Live::kOut);
  EXPECT_TRUE(f.reg.pool("man")->members[1].health_up);
  ASSERT_TRUE(f.reg.set_admin("man", "n", "enable").ok());
  EXPECT_EQ(live_of(f.reg, "man", "n"), Live::kUp);
  EXPECT_FALSE(f.reg.pool("man")->members[1].latched);
  ASSERT_TRUE(f.reg.set_admin("man", "n", "auto").ok()); // health decides again: up
  EXPECT_EQ(live_of(f.reg, "man", "n"), Live::kUp);
}

TEST(LbRegistry, OperatorVerbsAndErrors) {
  Fixture f;
  f.reg.configure(config());
  ASSERT_TRUE(f.reg.set_admin("web", "a", "disable").ok());
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kOut);
  EXPECT_EQ(f.reg.pool("web")->members[0].admin, Admin::kDown);
  ASSERT_TRUE(f.reg.set_admin("web", "a", "drain").ok());
  EXPECT_EQ(live_of(f.reg, "web", "a"), Live::kDrain);
  f.probe("web@192.0.2.2", fail(), 3);
  ASSERT_TRUE(f.reg.set_admin("web", "b", "enable").ok()); // forced up despite health
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kUp);
  ASSERT_TRUE(f.reg.set_admin("web", "b", "auto").ok());
  EXPECT_EQ(live_of(f.reg, "web", "b"), Live::kOut);
  auto e1 = f.reg.set_admin("nope", "a", "enable");
  ASSERT_FALSE(e1.ok());
  EXPECT_NE(e1.error().find("nope"), std::string::npos);
  auto e2 = f.reg.set_admin("web", "zz", "enable");
  ASSERT_FALSE(e2.ok());
  EXPECT_NE(e2.error().find("zz"), std::string::npos);
  auto e3 = f.reg.set_admin("web", "a", "reboot");
  ASSERT_FALSE(e3.ok());
  EXPECT_NE(e3.error().find("reboot"), std::string::npos);
}

TEST(LbRegistry, PersistHookGetsTheChangedMember) {
  Fixture f;
  f.reg.configure(config());
  f.persisted.clear();
  f.probe("web@192.0.2.3", fail(), 2);
  EXPECT_TRUE(f.persisted.empty()); // nothing persisted changed yet
  f.probe("web@192.0.2.3", fail(), 1);
  ASSERT_EQ(f.persisted.size(), 1u);
  ASSERT_EQ(f.persisted[0].size(), 1u);
  EXPECT_EQ(f.persisted[0][0].pool, "web");
  EXPECT_EQ(f.persisted[0][0].member, "c");
  EXPECT_FALSE(f.persisted[0][0].health_up);
  EXPECT_EQ(f.persisted[0][0].reason, Reason::kStatus);
  ASSERT_TRUE(f.reg.set_admin("web", "a", "drain").ok());
  ASSERT_EQ(f.persisted.size(), 2u);
  EXPECT_EQ(f.persisted[1][0].member, "a");
  EXPECT_EQ(f.persisted[1][0].admin, Admin::kDrain);
}

// Answers of 30 queries from the current view (fresh selector state in both cases).
std::vector<std::string> answers(const ViewSlot &slot) {
  std::vector<std::string> out;
  for (int i = 0; i < 30; ++i) {
    out.push_back(ask(*slot.current(), "www.example.com.", KNOT_RRTYPE_A)[0]);
  }
  return out;
}

TEST(LbRegistry, RestoreMakesTheFirstViewIdenticalToBeforeARestart) {
  Fixture before;
  before.reg.configure(config());
  before.probe("web@192.0.2.1", fail(), 3); // a out (b and c answer 2:1); m latched
  ASSERT_TRUE(before.reg.set_admin("fixed", "f", "drain").ok());
  auto saved = before.reg.persisted();
  auto expect = answers(before.slot);
  for (bool restore_first : {true, false}) {
    Fixture after;
    if (restore_first) {
      after.reg.restore(saved);
      after.reg.configure(config());
    } else {
      after.reg.configure(config());
      after.reg.restore(saved);
    }
    EXPECT_EQ(answers(after.slot), expect) << restore_first;
    auto a = after.reg.pools(), b = before.reg.pools();
    ASSERT_EQ(a.size(), b.size());
    for (size_t p = 0; p < a.size(); ++p) {
      for (size_t m = 0; m < a[p].members.size(); ++m) {
        const auto &x = a[p].members[m], &y = b[p].members[m];
        EXPECT_EQ(x.live, y.live) << x.id;
        EXPECT_EQ(x.admin, y.admin) << x.id;
        EXPECT_EQ(x.health_up, y.health_up) << x.id;
        EXPECT_EQ(x.latched, y.latched) << x.id;
        EXPECT_EQ(x.since_ms, y.since_ms) << x.id;
        EXPECT_EQ(x.reason, y.reason) << x.id;
      }
    }
    // The restored hysteresis is down: rise (2) successes bring a back.
    after.probe("web@192.0.2.1", ok(), 1);
    EXPECT_EQ(live_of(after.reg, "web", "a"), Live::kOut);
    after.probe("web@192.0.2.1", ok(), 1);
    EXPECT_EQ(live_of(after.reg, "web", "a"), Live::kUp);
    EXPECT_EQ(live_of(after.reg, "man", "m"), Live::kOut); // still latched
  }
}

uint64_t total(const Registry &r, const std::string &member) {
  std::vector<AnswerCount> a;
  std::vector<FallbackCount> f;
  r.add_counts(a, f);
  for (const auto &c : a) {
    if (c.member == member && c.name == "www.example.com.") {
      return c.count;
    }
  }
  return 0;
}

TEST(LbRegistry, CountersSurviveViewSwaps) {
  Fixture f;
  f.reg.configure(config());
  for (int i = 0; i < 50; ++i) {
    ask(*f.slot.current(), "www.example.com.", KNOT_RRTYPE_A);
  }
  EXPECT_EQ(total(f.reg, "a"), 20u);
  ASSERT_TRUE(f.reg.set_admin("web", "b", "disable").ok()); // a new view
  EXPECT_EQ(total(f.reg, "a"), 20u);                        // the retired view is still counted
  f.reg.reclaim();
  EXPECT_EQ(f.slot.retired(), 0u);
  EXPECT_EQ(total(f.reg, "a"), 20u); // folded
  for (int i = 0; i < 30; ++i) {
    ask(*f.slot.current(), "www.example.com.", KNOT_RRTYPE_A);
  }
  EXPECT_EQ(total(f.reg, "a"), 40u);
  EXPECT_EQ(total(f.reg, "b"), 20u);
  EXPECT_EQ(total(f.reg, "c"), 20u);
}

} // namespace
} // namespace holdfast::lb
