// SPDX-License-Identifier: MIT
// Member state for the store (daemon/lb_persist.h): lb::PersistedMember survives the trip
// through the "lb-state" table, and values this version does not know fall back to safe ones.
#include "daemon/lb_persist.h"

#include <gtest/gtest.h>

#include "tests/unit/testutil.h"

namespace holdfast::daemon {
namespace {

lb::PersistedMember sample(const std::string &pool, const std::string &member, lb::Admin admin,
                           bool up, bool latched, lb::Reason reason, const std::string &detail,
                           int64_t since) {
  lb::PersistedMember m;
  m.pool = pool;
  m.member = member;
  m.admin = admin;
  m.health_up = up;
  m.latched = latched;
  m.reason = reason;
  m.detail = detail;
  m.since_ms = since;
  return m;
}

void expect_same(const lb::PersistedMember &a, const lb::PersistedMember &b) {
  EXPECT_EQ(a.pool, b.pool);
  EXPECT_EQ(a.member, b.member);
  EXPECT_EQ(a.admin, b.admin);
  EXPECT_EQ(a.health_up, b.health_up);
  EXPECT_EQ(a.latched, b.latched);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.detail, b.detail);
  EXPECT_EQ(a.since_ms, b.since_ms);
}

TEST(LbPersist, MembersRoundTripThroughTheStore) {
  test::TempDir dir;
  std::vector<lb::PersistedMember> members = {
      sample("sip", "edge1", lb::Admin::kDrain, true, false, lb::Reason::kOk, "", 1),
      sample("web", "a", lb::Admin::kAuto, false, true, lb::Reason::kTls, "certificate has expired",
             1700000000123),
      sample("web", "b", lb::Admin::kDown, false, false, lb::Reason::kBody, "no OK", 2),
  };
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(save_members(*env, members).ok());
  }
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto loaded = load_members(*env);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->size(), members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    expect_same((*loaded)[i], members[i]);
  }
}

TEST(LbPersist, UnknownAdminAndReasonBecomeAutoAndError) {
  store::MemberStateRecord r{"web", "a", 9, true, false, 200, "from a newer holdfast", 5};
  auto m = from_record(r);
  EXPECT_EQ(m.admin, lb::Admin::kAuto);
  EXPECT_EQ(m.reason, lb::Reason::kError);
  EXPECT_EQ(m.detail, "from a newer holdfast");
  EXPECT_EQ(to_record(sample("p", "m", lb::Admin::kUp, true, false, lb::Reason::kTimeout, "", 0)),
            (store::MemberStateRecord{"p", "m", 1, true, false, 1, "", 0}));
}

} // namespace
} // namespace holdfast::daemon
