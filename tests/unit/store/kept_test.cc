// SPDX-License-Identifier: MIT
// Kept zones (store/schema.h kZoneFlagKept): a zone that leaves the config is not found by the
// serve path but keeps its snapshots; publishing keeps the mark; purge deletes only kept zones.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/dname.h"
#include "store/reader.h"
#include "store/writer.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;
using test::TempDir;

std::string zone_text(const std::string &apex, uint32_t serial) {
  return "$ORIGIN " + apex + "\n@ 3600 SOA ns1 hostmaster " + std::to_string(serial) +
         " 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n";
}

std::vector<uint8_t> wire(const char *name) {
  Name n(name);
  const knot_dname_t *p = n;
  return {p, p + knot_dname_size(p)};
}

class KeptTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    publish("example.", 5);
    publish("sub.example.", 7);
    publish("example.org.", 9);
  }
  Published publish(const std::string &apex, uint32_t serial) {
    auto p = test::publish_records(*env_, apex, test::parse_records(apex, zone_text(apex, serial)));
    EXPECT_TRUE(p.ok()) << p.error();
    return p.ok() ? *p : Published{};
  }
  // The apex of the zone the serve path answers `qname` from ("" when none).
  std::string served_by(const char *qname) {
    ReadTxn txn(*env_);
    EXPECT_TRUE(txn.begin());
    Reader reader(txn);
    ZoneHandle zone;
    std::string out = reader.find_zone(Name(qname), zone) ? name_to_string(zone.apex) : "";
    txn.end();
    return out;
  }
  std::vector<std::string> kept() {
    ReadTxn txn(*env_);
    EXPECT_TRUE(txn.begin());
    std::vector<std::string> out;
    for (const auto &k : list_kept(*env_, txn.get())) {
      out.push_back(name_to_string(k.info.apex.data()) + " " +
                    std::to_string(k.info.record.serial));
    }
    txn.end();
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Env> env_;
};

TEST_F(KeptTest, UnconfiguredZonesAreNotServedButKept) {
  int64_t before = unix_now_ns();
  auto r = sync_kept(*env_, {wire("example.")});
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->kept.size(), 2u);
  EXPECT_TRUE(r->restored.empty());
  EXPECT_EQ(kept(), (std::vector<std::string>{"example.org. 9", "sub.example. 7"}));
  // A kept zone is as absent to the serve path: its names fall to the parent zone, if served.
  EXPECT_EQ(served_by("www.sub.example."), "example.");
  EXPECT_EQ(served_by("www.example.org."), "");
  EXPECT_EQ(served_by("www.example."), "example.");
  ReadTxn txn(*env_);
  ASSERT_TRUE(txn.begin());
  for (const auto &k : list_kept(*env_, txn.get())) {
    EXPECT_GE(k.dropped_ns, before);
    EXPECT_LE(k.dropped_ns, unix_now_ns());
  }
  txn.end();
}

TEST_F(KeptTest, ConfiguredAgainIsServedFromTheKeptSnapshot) {
  auto org = read_zone(*env_, Name("example.org."));
  ASSERT_TRUE(sync_kept(*env_, {}).ok());
  EXPECT_EQ(served_by("example.org."), "");
  auto r = sync_kept(*env_, {wire("example.org."), wire("example.")});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->restored.size(), 2u);
  EXPECT_EQ(served_by("www.example.org."), "example.org.");
  EXPECT_EQ(kept(), (std::vector<std::string>{"sub.example. 7"}));
  auto now = read_zone(*env_, Name("example.org."));
  EXPECT_EQ(now->record.current, org->record.current); // the very snapshot, not a copy
  EXPECT_EQ(now->record.serial, 9u);
  // Nothing to change: nothing written.
  r = sync_kept(*env_, {wire("example.org."), wire("example.")});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->kept.empty() && r->restored.empty());
}

// A transfer that finishes after a reload dropped its zone must not bring it back.
TEST_F(KeptTest, PublishingAKeptZoneKeepsItKept) {
  ASSERT_TRUE(sync_kept(*env_, {wire("example.")}).ok());
  publish("example.org.", 10);
  EXPECT_EQ(served_by("example.org."), "");
  EXPECT_EQ(kept(), (std::vector<std::string>{"example.org. 10", "sub.example. 7"}));
  publish("example.", 6); // and a served zone stays served
  EXPECT_EQ(served_by("example."), "example.");
}

TEST_F(KeptTest, PurgeDeletesOnlyKeptZones) {
  auto org = read_zone(*env_, Name("example.org."));
  uint64_t snapshot = org->record.current;
  ASSERT_GT(test::count_nodes(*env_, snapshot), 0u);
  auto r = purge_zone(*env_, Name("example.org."));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, PurgeOutcome::kNotKept); // served: untouched
  EXPECT_EQ(served_by("example.org."), "example.org.");

  ASSERT_TRUE(sync_kept(*env_, {wire("example.")}).ok());
  r = purge_zone(*env_, Name("EXAMPLE.ORG."));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, PurgeOutcome::kPurged);
  EXPECT_FALSE(read_zone(*env_, Name("example.org.")).has_value());
  EXPECT_EQ(test::count_nodes(*env_, snapshot), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, snapshot));
  EXPECT_EQ(kept(), (std::vector<std::string>{"sub.example. 7"}));
  r = purge_zone(*env_, Name("example.org."));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PurgeOutcome::kAbsent);
  // Configured again after the purge: nothing to serve until it is transferred.
  ASSERT_TRUE(sync_kept(*env_, {wire("example."), wire("example.org.")}).ok());
  EXPECT_EQ(served_by("example.org."), "");
}

} // namespace
} // namespace holdfast::store
