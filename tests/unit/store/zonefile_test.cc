// SPDX-License-Identifier: MIT
// Zone file loading (store/zonefile.h): parse, unchanged detection, reload, error reporting.
#include "store/zonefile.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;
using test::TempDir;

std::string zone_text(uint32_t serial, const std::string &extra = "") {
  return "$ORIGIN example.\n"
         "$TTL 3600\n"
         "@    SOA ns1 hostmaster " +
         std::to_string(serial) +
         " 7200 3600 1209600 300\n"
         "@    NS  ns1\n"
         "ns1  A   192.0.2.1\n"
         "www  A   192.0.2.80\n" +
         extra;
}

// Sets a file's mtime explicitly: two writes within one clock tick must still differ.
void set_mtime(const std::string &path, time_t sec) {
  struct timespec times[2] = {{sec, 0}, {sec, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class ZoneFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.file("store"));
    ASSERT_NE(env_, nullptr);
    path_ = dir_.write("example.zone", zone_text(1));
    set_mtime(path_, 1700000000);
  }
  Result<ZoneFileLoad> load(bool force = false) {
    return load_zone_file(*env_, Name("example."), path_, force);
  }
  ZoneRecord stored() {
    auto z = read_zone(*env_, Name("example."));
    EXPECT_TRUE(z.has_value());
    return z ? z->record : ZoneRecord{};
  }

  TempDir dir_;
  std::unique_ptr<Env> env_;
  std::string path_;
};

TEST_F(ZoneFileTest, LoadsAndPublishesTheFile) {
  auto r = load();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->outcome, LoadOutcome::kLoaded);
  EXPECT_EQ(r->published.serial, 1u);
  EXPECT_EQ(r->published.records, 4u);
  EXPECT_EQ(r->published.nodes, 3u);
  EXPECT_GE(r->seconds, 0.0);

  auto z = read_zone(*env_, Name("example."));
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->record.current, r->published.snapshot);
  EXPECT_EQ(z->record.source_kind, SourceKind::kZoneFile);
  EXPECT_EQ(z->source, path_);
  struct stat sb {};
  ASSERT_EQ(::stat(path_.c_str(), &sb), 0);
  EXPECT_EQ(z->record.source_size, static_cast<uint64_t>(sb.st_size));
  EXPECT_EQ(z->record.source_inode, sb.st_ino);
  EXPECT_EQ(z->record.source_mtime_ns, int64_t{1700000000} * 1000000000);

  auto nodes = test::dump_snapshot(*env_, r->published.snapshot, "example.");
  EXPECT_EQ(nodes["www.example."], "flags=0x0000 A/3600[c0000250]");
}

TEST_F(ZoneFileTest, SecondLoadOfAnUnchangedFileParsesNothing) {
  auto first = load();
  ASSERT_TRUE(first.ok()) << first.error();
  auto second = load();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second->outcome, LoadOutcome::kUnchanged);
  EXPECT_EQ(second->published.snapshot, first->published.snapshot);
  EXPECT_EQ(second->published.serial, 1u);
  EXPECT_EQ(second->published.records, 4u);
  EXPECT_EQ(stored().current, first->published.snapshot);
  EXPECT_EQ(stored().previous, 0u);
}

TEST_F(ZoneFileTest, ForceReloadsAnUnchangedFile) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  auto again = load(/*force=*/true);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->outcome, LoadOutcome::kLoaded);
  EXPECT_NE(again->published.snapshot, first->published.snapshot);
  EXPECT_EQ(stored().current, again->published.snapshot);
  EXPECT_EQ(stored().previous, first->published.snapshot);
}

TEST_F(ZoneFileTest, ReloadsAfterTheFileChanges) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  // Same size (serial 1 -> 2), only the content and mtime differ.
  dir_.write("example.zone", zone_text(2));
  set_mtime(path_, 1700000100);
  auto second = load();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second->outcome, LoadOutcome::kLoaded);
  EXPECT_EQ(second->published.serial, 2u);
  EXPECT_NE(second->published.snapshot, first->published.snapshot);
  EXPECT_EQ(stored().current, second->published.snapshot);
  EXPECT_EQ(stored().serial, 2u);

  // A size change alone (mtime put back) is a change too.
  dir_.write("example.zone", zone_text(3, "mail A 192.0.2.25\n"));
  set_mtime(path_, 1700000100);
  auto third = load();
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ(third->outcome, LoadOutcome::kLoaded);
  EXPECT_EQ(third->published.serial, 3u);
  EXPECT_EQ(third->published.records, 5u);
}

TEST_F(ZoneFileTest, SyntaxErrorNamesFileAndLineAndKeepsThePreviousSnapshot) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  // Line 8 is broken: an A record with an invalid address.
  dir_.write("example.zone", zone_text(2, "ok   A   192.0.2.7\nbad  A   192.0.2.300\n"));
  set_mtime(path_, 1700000200);
  auto r = load();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(path_ + ":8: ", 0), 0u) << r.error();
  EXPECT_EQ(stored().current, first->published.snapshot);
  EXPECT_EQ(stored().serial, 1u);
  // The failed build left nothing behind.
  EXPECT_EQ(test::count_nodes(*env_, first->published.snapshot + 1), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, first->published.snapshot + 1));
  // The old snapshot is intact.
  auto nodes = test::dump_snapshot(*env_, first->published.snapshot, "example.");
  EXPECT_EQ(nodes["www.example."], "flags=0x0000 A/3600[c0000250]");
}

TEST_F(ZoneFileTest, UnknownTypeErrorNamesFileAndLine) {
  dir_.write("example.zone", zone_text(1, "\n\nx  NOSUCHTYPE  1\n"));
  auto r = load();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(path_ + ":9: ", 0), 0u) << r.error();
  EXPECT_FALSE(read_zone(*env_, Name("example.")).has_value());
}

TEST_F(ZoneFileTest, OutOfZoneRecordNamesFileAndLine) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  dir_.write("example.zone", zone_text(2, "www.example.org. A 192.0.2.9\n"));
  set_mtime(path_, 1700000300);
  auto r = load();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), path_ + ":7: record www.example.org. is outside the zone example.");
  EXPECT_EQ(stored().current, first->published.snapshot);
}

TEST_F(ZoneFileTest, SemanticErrorNamesTheFileAndKeepsThePreviousSnapshot) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  dir_.write("example.zone", zone_text(2, "www CNAME ns1\n"));
  set_mtime(path_, 1700000400);
  auto r = load();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), path_ + ": CNAME record at www.example. has other data beside it");
  EXPECT_EQ(stored().current, first->published.snapshot);
  EXPECT_EQ(stored().serial, 1u);
}

TEST_F(ZoneFileTest, MissingFileIsAnErrorAndKeepsThePreviousSnapshot) {
  auto first = load();
  ASSERT_TRUE(first.ok());
  std::string missing = dir_.file("nope.zone");
  auto r = load_zone_file(*env_, Name("example."), missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(missing + ": cannot read zone file", 0), 0u) << r.error();
  EXPECT_EQ(stored().current, first->published.snapshot);
}

TEST_F(ZoneFileTest, CheckParsesWithoutStoring) {
  auto n = check_zone_file(Name("example."), path_);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, 4u);
  EXPECT_TRUE(list_zones(*env_).empty());

  dir_.write("example.zone", zone_text(1, "bad A 1.2.3\n"));
  auto bad = check_zone_file(Name("example."), path_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rfind(path_ + ":7: ", 0), 0u) << bad.error();
}

TEST_F(ZoneFileTest, CheckFindsZoneLevelErrorsLikeLoadingDoes) {
  // RFC 1034 3.6.2: a CNAME cannot share its owner with other data; the parser alone accepts it.
  dir_.write("example.zone", zone_text(1, "www CNAME ns\nwww A 192.0.2.9\n"));
  auto bad = check_zone_file(Name("example."), path_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("CNAME record at www.example. has other data"), std::string::npos)
      << bad.error();
  EXPECT_TRUE(list_zones(*env_).empty()); // the real store is untouched
}

std::string small_zone(const std::string &origin, uint32_t serial) {
  return "$ORIGIN " + origin + "\n@ SOA ns hostmaster " + std::to_string(serial) +
         " 7200 3600 1209600 300\n@ NS ns\nns A 192.0.2.1\n";
}

TEST(ZoneFileBatch, SmallZonesShareACommitAndAreReportedInOrder) {
  TempDir dir;
  auto env = test::open_env(dir.file("store"));
  ASSERT_NE(env, nullptr);
  Name a("a.example."), b("b.example."), c("c.example."), d("d.example.");
  std::vector<ZoneFileJob> jobs = {
      {a, dir.write("a.zone", small_zone("a.example.", 1))},
      {b, dir.write("b.zone", small_zone("b.example.", 1) + "bad A 192.0.2.256\n")},
      {c, dir.write("c.zone", small_zone("c.example.", 1))},
      {d, dir.file("d.zone")}, // missing
  };
  std::vector<size_t> order;
  std::vector<std::string> outcome;
  auto record = [&](size_t i, const Result<ZoneFileLoad> &r) {
    order.push_back(i);
    if (!r.ok()) {
      outcome.push_back("error: " + r.error());
    } else {
      outcome.push_back(r->outcome == LoadOutcome::kLoaded ? "loaded" : "unchanged");
    }
  };
  load_zone_files(*env, jobs, record);
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3}));
  ASSERT_EQ(outcome.size(), 4u);
  EXPECT_EQ(outcome[0], "loaded");
  EXPECT_EQ(outcome[1].rfind("error: " + jobs[1].path + ":5: ", 0), 0u) << outcome[1];
  EXPECT_EQ(outcome[2], "loaded");
  EXPECT_EQ(outcome[3].rfind("error: " + jobs[3].path + ": cannot read zone file", 0), 0u)
      << outcome[3];

  auto zones = list_zones(*env);
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(name_to_string(zones[0].apex.data()), "a.example.");
  EXPECT_EQ(name_to_string(zones[1].apex.data()), "c.example.");
  // The failed zone left nothing for the garbage collector.
  size_t deleted = 99;
  ASSERT_TRUE(collect_garbage(*env, &deleted).ok());
  EXPECT_EQ(deleted, 0u);

  // Again: the loaded files are unchanged and not parsed.
  order.clear();
  outcome.clear();
  load_zone_files(*env, jobs, record);
  ASSERT_EQ(outcome.size(), 4u);
  EXPECT_EQ(outcome[0], "unchanged");
  EXPECT_EQ(outcome[2], "unchanged");
}

TEST(ZoneFileBatch, SharedCommitKeepsPreviousAndDeletesOlderSnapshots) {
  TempDir dir;
  auto env = test::open_env(dir.file("store"));
  ASSERT_NE(env, nullptr);
  Name a("a.example.");
  std::vector<uint64_t> ids;
  for (uint32_t serial = 1; serial <= 3; ++serial) {
    std::string path = dir.write("a.zone", small_zone("a.example.", serial));
    set_mtime(path, 1700000000 + serial);
    std::vector<ZoneFileJob> jobs = {{a, path}};
    load_zone_files(*env, jobs, [&](size_t, const Result<ZoneFileLoad> &r) {
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(r->published.serial, serial);
      ids.push_back(r->published.snapshot);
    });
  }
  ASSERT_EQ(ids.size(), 3u);
  auto z = read_zone(*env, a);
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->record.current, ids[2]);
  EXPECT_EQ(z->record.previous, ids[1]);
  EXPECT_EQ(test::count_nodes(*env, ids[0]), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env, ids[0]));
  EXPECT_EQ(test::count_nodes(*env, ids[1]), 2u); // apex and ns
  EXPECT_EQ(test::count_nodes(*env, ids[2]), 2u);
}

TEST(ZoneFileData, MixedCaseOriginLoadsAsTheLowercaseZone) {
  // tests/data/zones/nested.example.zone writes "$ORIGIN Nested.Example." (RFC 4343: names
  // compare case-insensitively), so its owners are spelt "ns.Nested.Example." and so on.
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  std::string path = std::string(HOLDFAST_TEST_DATA) + "/zones/nested.example.zone";
  auto r = load_zone_file(*env, Name("nested.example."), path);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->published.serial, 99u);
  auto nodes = test::dump_snapshot(*env, r->published.snapshot, "nested.example.");
  EXPECT_EQ(nodes["www.nested.example."],
            "flags=0x0000 A/600[c0000297] TXT/600[0a6e657374656420777777]");
}

} // namespace
} // namespace holdfast::store
