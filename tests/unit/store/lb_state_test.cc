// SPDX-License-Identifier: MIT
// The "lb-state" table: traffic-management member state round-trips, survives a reopen, is
// replaced whole, and a store written before the table existed still opens.
#include "store/lb_state.h"

#include <future>

#include <gtest/gtest.h>

#include "store/schema.h"
#include "store/writer_thread.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::TempDir;

std::vector<MemberStateRecord> sample() {
  return {
      {"sip", "edge1", 0, false, false, 1, "timeout after 2 s", 1700000000123},
      {"web", "a", 3, true, false, 0, "", -5},
      {"web", "b", 1, false, true, 4, "HTTP 503", 1700000000999},
  };
}

TEST(StoreLbState, SavedRecordsLoadBackInKeyOrder) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto records = sample();
  std::swap(records[0], records[2]); // saved in any order, loaded by (pool, member)
  ASSERT_TRUE(save_member_states(*env, records).ok());
  auto loaded = load_member_states(*env);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(*loaded, sample());
}

TEST(StoreLbState, SaveReplacesTheWholeTable) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(save_member_states(*env, sample()).ok());
  std::vector<MemberStateRecord> now = {{"web", "c", 2, true, false, 0, "drained", 42}};
  ASSERT_TRUE(save_member_states(*env, now).ok());
  auto loaded = load_member_states(*env);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, now);
  ASSERT_TRUE(save_member_states(*env, {}).ok());
  EXPECT_TRUE(load_member_states(*env)->empty());
}

TEST(StoreLbState, SurvivesReopen) {
  TempDir dir;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(save_member_states(*env, sample()).ok());
  }
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto loaded = load_member_states(*env);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, sample());
}

TEST(StoreLbState, LongDetailIsCutNotRefused) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  MemberStateRecord r{"p", "m", 0, false, false, 6, std::string(5000, 'x'), 1};
  ASSERT_TRUE(save_member_states(*env, {r}).ok());
  auto loaded = load_member_states(*env);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].detail, std::string(1024, 'x'));
}

TEST(StoreLbState, IdsTooLongForAKeyAreAnErrorNamingThem) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  ASSERT_TRUE(save_member_states(*env, sample()).ok());
  MemberStateRecord r{"web", std::string(600, 'm'), 0, true, false, 0, "", 0};
  auto st = save_member_states(*env, {r});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("pool web member mmm"), std::string::npos) << st.error();
  EXPECT_EQ(*load_member_states(*env), sample()); // nothing written
}

TEST(StoreLbState, OnlyTheWriterThreadSaves) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  WriterThread writer(*env, nullptr);
  EXPECT_FALSE(save_member_states(*env, sample()).ok());
  std::promise<bool> saved;
  ASSERT_TRUE(writer.submit([&] { saved.set_value(save_member_states(*env, sample()).ok()); }));
  EXPECT_TRUE(saved.get_future().get());
  EXPECT_EQ(*load_member_states(*env), sample()); // loading is a gated read: any thread
}

// A store of format 3 written before "lb-state" existed: simulated by deleting the table.
void drop_lb_table(const std::string &dir) {
  auto env = test::open_env(dir);
  ASSERT_NE(env, nullptr);
  MDB_txn *txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env->raw(), nullptr, 0, &txn), MDB_SUCCESS);
  ASSERT_EQ(mdb_drop(txn, env->lb_state(), 1), MDB_SUCCESS);
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
}

TEST(StoreLbState, StoreWithoutTheTableOpensReadOnlyAndEmpty) {
  TempDir dir;
  drop_lb_table(dir.path());
  EnvOptions opts;
  opts.path = dir.path();
  opts.initial_map_size = size_t{64} << 20;
  opts.read_only = true;
  auto env = Env::open(opts);
  ASSERT_TRUE(env.ok()) << env.error();
  EXPECT_FALSE((*env)->has_lb_state());
  auto loaded = load_member_states(**env);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
  EXPECT_FALSE(save_member_states(**env, sample()).ok());
}

TEST(StoreLbState, StoreWithoutTheTableGetsItAtTheNextWritableOpen) {
  TempDir dir;
  drop_lb_table(dir.path());
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  EXPECT_TRUE(env->has_lb_state());
  EXPECT_TRUE(load_member_states(*env)->empty());
  ASSERT_TRUE(save_member_states(*env, sample()).ok());
  EXPECT_EQ(*load_member_states(*env), sample());
}

} // namespace
} // namespace holdfast::store
