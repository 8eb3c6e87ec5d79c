// SPDX-License-Identifier: MIT
// Snapshot writer (store/writer.h): publish/abort, ordering, flushes, flags, GC, map growth.
#include "store/writer.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/dname.h"
#include "store/keys.h"
#include "store/node.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;
using test::Record;
using test::TempDir;

// Zone cut, glue and occluded data, ENTs, wildcards, DNAME, CNAME (every flag the writer sets).
const char *kZone = R"(
$ORIGIN example.
$TTL 3600
@            SOA   ns1 hostmaster 1 7200 3600 1209600 300
@            NS    ns1
ns1          A     192.0.2.1
www          A     192.0.2.80
www          A     192.0.2.81
www          AAAA  2001:db8::80
www          TXT   "hello" "world"
*.www        TXT   "wild under data"
a.b.c        A     192.0.2.3
*.wild       A     192.0.2.99
sub          NS    ns.sub
sub          NS    ns.other.test.
ns.sub       A     192.0.2.53
deep.ns.sub  A     192.0.2.54
x.y.sub      A     192.0.2.55
dn           DNAME example.net.
below.dn     A     192.0.2.7
alias        CNAME www
)";

std::vector<Record> zone_records(const char *text = kZone) {
  return test::parse_records("example.", text);
}

std::string soa(uint32_t serial) {
  return "$ORIGIN example.\n@ 3600 SOA ns1 hostmaster " + std::to_string(serial) +
         " 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n";
}

std::string flags_of(const std::map<std::string, std::string> &dump, const std::string &name) {
  auto it = dump.find(name);
  if (it == dump.end()) {
    return "<missing>";
  }
  return it->second.substr(0, it->second.find(' '));
}

std::string hexflags(uint16_t f) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "flags=0x%04x", f);
  return buf;
}

class SnapshotWriterTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
  }
  Published publish(const std::vector<Record> &records, size_t flush_bytes = 0) {
    auto p = test::publish_records(*env_, "example.", records, flush_bytes);
    EXPECT_TRUE(p.ok()) << p.error();
    return p.ok() ? *p : Published{};
  }
  std::map<std::string, std::string> dump(uint64_t snapshot) {
    return test::dump_snapshot(*env_, snapshot, "example.");
  }
  ZoneRecord current() {
    auto z = read_zone(*env_, Name("example."));
    EXPECT_TRUE(z.has_value());
    return z ? z->record : ZoneRecord{};
  }

  TempDir dir_;
  std::unique_ptr<Env> env_;
};

TEST_F(SnapshotWriterTest, PublishMakesTheSnapshotCurrent) {
  auto records = zone_records();
  Published p = publish(records);
  EXPECT_NE(p.snapshot, 0u);
  EXPECT_EQ(p.serial, 1u);
  EXPECT_EQ(p.records, records.size());
  // 13 owners with data + the ENTs c, b.c, wild and y.sub.
  EXPECT_EQ(p.nodes, 17u);

  auto zones = list_zones(*env_);
  ASSERT_EQ(zones.size(), 1u);
  EXPECT_EQ(name_to_string(zones[0].apex.data()), "example.");
  EXPECT_EQ(zones[0].record.current, p.snapshot);
  EXPECT_EQ(zones[0].record.previous, 0u);
  EXPECT_EQ(zones[0].record.serial, 1u);
  EXPECT_EQ(zones[0].record.records, records.size());
  EXPECT_EQ(zones[0].record.source_kind, SourceKind::kTransfer);
  EXPECT_EQ(zones[0].source, "unit-test");
  EXPECT_EQ(test::count_nodes(*env_, p.snapshot), 17u);
}

TEST_F(SnapshotWriterTest, ReadZoneFindsTheZoneInAnyCase) {
  Published p = publish(zone_records());
  auto z = read_zone(*env_, Name("EXAMPLE."));
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->record.current, p.snapshot);
  EXPECT_FALSE(read_zone(*env_, Name("example.org.")).has_value());
}

TEST_F(SnapshotWriterTest, AbortLeavesNoTrace) {
  auto w = SnapshotWriter::begin(*env_, Name("example."), {});
  ASSERT_TRUE(w.ok()) << w.error();
  (*w)->set_flush_bytes(64); // make sure something reached LMDB before the abort
  for (const auto &r : zone_records()) {
    ASSERT_TRUE((*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                          static_cast<uint16_t>(r.rdata.size()))
                    .ok());
  }
  (*w)->abort();
  EXPECT_FALSE(read_zone(*env_, Name("example.")).has_value());
  EXPECT_TRUE(list_zones(*env_).empty());
  // Snapshot ids start at 1: the aborted build was 1.
  EXPECT_EQ(test::count_nodes(*env_, 1), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, 1));
}

TEST_F(SnapshotWriterTest, DestroyingAnUnpublishedWriterAborts) {
  {
    auto w = SnapshotWriter::begin(*env_, Name("example."), {});
    ASSERT_TRUE(w.ok());
    (*w)->set_flush_bytes(64);
    for (const auto &r : zone_records()) {
      ASSERT_TRUE((*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                            static_cast<uint16_t>(r.rdata.size()))
                      .ok());
    }
    EXPECT_GT(test::count_nodes(*env_, 1), 0u); // flushed, not yet visible
    EXPECT_TRUE(test::snapshot_registered(*env_, 1));
    EXPECT_FALSE(read_zone(*env_, Name("example.")).has_value());
  }
  EXPECT_EQ(test::count_nodes(*env_, 1), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, 1));
}

TEST_F(SnapshotWriterTest, RecordOrderDoesNotChangeTheNodes) {
  auto records = zone_records();
  Published base = publish(records);
  auto expected = dump(base.snapshot);
  ASSERT_EQ(expected.size(), 17u);
  EXPECT_EQ(expected["www.example."],
            "flags=0x0004 A/3600[c0000250,c0000251] TXT/3600[0568656c6c6f05776f726c64] "
            "AAAA/3600[20010db8000000000000000000000080]");

  std::mt19937 rng(1034);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("shuffle " + std::to_string(round));
    std::shuffle(records.begin(), records.end(), rng);
    Published p = publish(records);
    EXPECT_EQ(p.records, base.records);
    EXPECT_EQ(p.nodes, base.nodes);
    EXPECT_EQ(dump(p.snapshot), expected);
  }
}

TEST_F(SnapshotWriterTest, DuplicateRecordsAreStoredOnce) {
  auto records = zone_records();
  auto twice = records;
  twice.insert(twice.end(), records.begin(), records.end());
  Published once = publish(records);
  auto expected = dump(once.snapshot);
  Published p = publish(twice);
  EXPECT_EQ(p.records, records.size());
  EXPECT_EQ(dump(p.snapshot), expected);
}

TEST_F(SnapshotWriterTest, MultiFlushMergesRRsetsSplitAcrossFlushes) {
  auto records = zone_records();
  Published base = publish(records);
  auto expected = dump(base.snapshot);

  // A 64-byte bound flushes after nearly every record: www's four A/AAAA/TXT records and the
  // apex SOA/NS land in different write transactions and must be merged into one node.
  std::mt19937 rng(6);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::shuffle(records.begin(), records.end(), rng);
    Published p = publish(records, 64);
    EXPECT_EQ(p.records, base.records);
    EXPECT_EQ(dump(p.snapshot), expected);
  }
}

TEST_F(SnapshotWriterTest, MultiFlushKeepsTheFirstTtlOfAnRRset) {
  // RFC 2181 5.2: TTLs of an RRset must match; the first one seen wins, in one flush or many.
  auto records = test::parse_records("example.", soa(1) + "t 100 A 192.0.2.1\nt 200 A 192.0.2.2\n");
  Published one = publish(records);
  EXPECT_EQ(dump(one.snapshot)["t.example."], "flags=0x0000 A/100[c0000201,c0000202]");
  Published many = publish(records, 16);
  EXPECT_EQ(dump(many.snapshot)["t.example."], "flags=0x0000 A/100[c0000201,c0000202]");
}

TEST_F(SnapshotWriterTest, Rfc4592EmptyNonTerminalsExistAfterPublish) {
  Published p = publish(zone_records());
  auto d = dump(p.snapshot);
  // RFC 4592 2.2.2: an empty non-terminal is a name that owns no data but has descendants.
  EXPECT_EQ(d["c.example."], "flags=0x0000");
  EXPECT_EQ(d["b.c.example."], "flags=0x0000");
  EXPECT_EQ(d["wild.example."], hexflags(kFlagWildcardChild));
  EXPECT_EQ(d["y.sub.example."], hexflags(kFlagNonAuth));
  // Names that were never mentioned do not appear.
  EXPECT_EQ(d.count("a.c.example."), 0u);
  EXPECT_EQ(d.count("nothing.example."), 0u);

  // And the reader sees them as nodes with no RRsets.
  ReadTxn txn(*env_);
  ASSERT_TRUE(txn.begin());
  Reader reader(txn);
  ZoneHandle zone;
  ASSERT_TRUE(reader.find_zone(Name("example."), zone));
  NodeView node;
  ASSERT_TRUE(reader.get(zone, test::key_of("b.c.example.", "example."), node));
  EXPECT_TRUE(node.empty());
  txn.end();
}

TEST_F(SnapshotWriterTest, Rfc1034ZoneCutFlags) {
  Published p = publish(zone_records());
  auto d = dump(p.snapshot);
  // RFC 1034 4.2.1: NS below the apex is a cut; the apex NS is not.
  EXPECT_EQ(flags_of(d, "example."), hexflags(0));
  EXPECT_EQ(flags_of(d, "sub.example."), hexflags(kFlagDelegation));
  // Everything strictly below the cut is glue or occluded: not authoritative.
  EXPECT_EQ(flags_of(d, "ns.sub.example."), hexflags(kFlagNonAuth));
  EXPECT_EQ(flags_of(d, "deep.ns.sub.example."), hexflags(kFlagNonAuth));
  EXPECT_EQ(flags_of(d, "x.y.sub.example."), hexflags(kFlagNonAuth));
  // Siblings of the cut are untouched.
  EXPECT_EQ(flags_of(d, "ns1.example."), hexflags(0));
}

TEST_F(SnapshotWriterTest, Rfc4592WildcardChildFlagOnTheParentOfStar) {
  Published p = publish(zone_records());
  auto d = dump(p.snapshot);
  EXPECT_EQ(flags_of(d, "wild.example."), hexflags(kFlagWildcardChild)); // an ENT parent
  EXPECT_EQ(flags_of(d, "www.example."), hexflags(kFlagWildcardChild));  // a parent with data
  EXPECT_EQ(flags_of(d, "*.wild.example."), hexflags(0));
  EXPECT_EQ(flags_of(d, "example."), hexflags(0)); // no "*.example."
}

TEST_F(SnapshotWriterTest, Rfc4592EmptyWildcardStillMarksItsParent) {
  // Only "x.*.ew" has data: "*.ew" is an empty non-terminal, and still a wildcard
  // (RFC 4592 2.2.2), so "ew" has a wildcard child.
  auto p = publish(test::parse_records("example.", soa(1) + "x.*.ew A 192.0.2.1\n"));
  auto d = dump(p.snapshot);
  EXPECT_EQ(d["*.ew.example."], hexflags(0));
  EXPECT_EQ(d["ew.example."], hexflags(kFlagWildcardChild));
}

TEST_F(SnapshotWriterTest, Rfc6672DnameAndCnameFlags) {
  Published p = publish(zone_records());
  auto d = dump(p.snapshot);
  EXPECT_EQ(flags_of(d, "dn.example."), hexflags(kFlagDname));
  // RFC 6672 2.3: names below a DNAME owner are occluded.
  EXPECT_EQ(flags_of(d, "below.dn.example."), hexflags(kFlagBelowDname));
  EXPECT_EQ(flags_of(d, "alias.example."), hexflags(kFlagCname));
}

TEST_F(SnapshotWriterTest, SecondPublishReplacesTheFirstAndKeepsItAsPrevious) {
  Published p1 = publish(test::parse_records("example.", soa(1) + "v A 192.0.2.1\n"));
  Published p2 = publish(test::parse_records("example.", soa(2) + "v A 192.0.2.2\n"));
  ZoneRecord z = current();
  EXPECT_EQ(z.current, p2.snapshot);
  EXPECT_EQ(z.previous, p1.snapshot);
  EXPECT_EQ(z.serial, 2u);
  EXPECT_NE(p1.snapshot, p2.snapshot);
  EXPECT_EQ(dump(p1.snapshot)["v.example."], "flags=0x0000 A/3600[c0000201]");
  EXPECT_EQ(dump(p2.snapshot)["v.example."], "flags=0x0000 A/3600[c0000202]");

  // A third publish: the first is neither current nor previous and is deleted.
  Published p3 = publish(test::parse_records("example.", soa(3) + "v A 192.0.2.3\n"));
  z = current();
  EXPECT_EQ(z.current, p3.snapshot);
  EXPECT_EQ(z.previous, p2.snapshot);
  EXPECT_EQ(z.serial, 3u);
  EXPECT_EQ(test::count_nodes(*env_, p1.snapshot), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, p1.snapshot));
  EXPECT_EQ(test::count_nodes(*env_, p2.snapshot), p2.nodes);
  EXPECT_EQ(test::count_nodes(*env_, p3.snapshot), p3.nodes);

  // Nothing left to collect, and collecting deletes nothing live.
  size_t deleted = 99;
  ASSERT_TRUE(collect_garbage(*env_, &deleted).ok());
  EXPECT_EQ(deleted, 0u);
  EXPECT_EQ(test::count_nodes(*env_, p2.snapshot), p2.nodes);
  EXPECT_EQ(test::count_nodes(*env_, p3.snapshot), p3.nodes);
  EXPECT_TRUE(test::snapshot_registered(*env_, p2.snapshot));
  EXPECT_TRUE(test::snapshot_registered(*env_, p3.snapshot));
  EXPECT_EQ(current().current, p3.snapshot);
}

TEST_F(SnapshotWriterTest, GarbageCollectorDeletesCrashedBuildsOnly) {
  Published p1 = publish(zone_records());
  Published p2 = publish(zone_records());
  // A build that crashed before publishing: a "building" record and a node range; and a
  // node range whose record is already gone (a crash between the two deletes).
  {
    auto txn = env_->begin_write();
    ASSERT_TRUE(txn.ok());
    for (uint64_t id : {uint64_t{500}, uint64_t{600}}) {
      DbKey dk;
      NameKey k = test::key_of("www.example.", "example.");
      make_db_key(id, k, dk);
      std::vector<uint8_t> value;
      encode_node(0, {}, value);
      MDB_val key = dk.val(), val{value.size(), value.data()};
      ASSERT_EQ(mdb_put(txn->get(), env_->nodes(), &key, &val, 0), MDB_SUCCESS);
    }
    uint8_t idkey[8];
    put_be64(idkey, 500);
    std::vector<uint8_t> rec(sizeof(SnapshotRecord));
    rec[0] = static_cast<uint8_t>(SnapshotState::kBuilding);
    Name apex("example.");
    rec.insert(rec.end(), apex.get(), apex.get() + apex.size());
    MDB_val sk{8, idkey}, sv{rec.size(), rec.data()};
    ASSERT_EQ(mdb_put(txn->get(), env_->snapshots(), &sk, &sv, 0), MDB_SUCCESS);
    ASSERT_EQ(txn->commit(), MDB_SUCCESS);
  }
  size_t deleted = 0;
  ASSERT_TRUE(collect_garbage(*env_, &deleted).ok());
  EXPECT_EQ(deleted, 2u);
  EXPECT_EQ(test::count_nodes(*env_, 500), 0u);
  EXPECT_EQ(test::count_nodes(*env_, 600), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, 500));
  EXPECT_EQ(test::count_nodes(*env_, p1.snapshot), p1.nodes);
  EXPECT_EQ(test::count_nodes(*env_, p2.snapshot), p2.nodes);
  EXPECT_EQ(current().current, p2.snapshot);
  EXPECT_EQ(current().previous, p1.snapshot);
}

// A rejected zone must leave the previous snapshot current and remove its own partial data.
class RejectedZoneTest : public SnapshotWriterTest {
protected:
  void SetUp() override {
    SnapshotWriterTest::SetUp();
    good_ = publish(zone_records());
    good_dump_ = dump(good_.snapshot);
  }
  void expect_rejected(const std::string &text, const std::string &message_part) {
    auto records = test::parse_records("example.", text);
    ASSERT_FALSE(records.empty());
    auto p = test::publish_records(*env_, "example.", records);
    ASSERT_FALSE(p.ok()) << "zone was accepted";
    EXPECT_NE(p.error().find(message_part), std::string::npos) << p.error();
    ZoneRecord z = current();
    EXPECT_EQ(z.current, good_.snapshot);
    EXPECT_EQ(z.serial, 1u);
    EXPECT_EQ(dump(good_.snapshot), good_dump_);
    // The rejected build got the next id; none of it may remain.
    EXPECT_EQ(test::count_nodes(*env_, good_.snapshot + 1), 0u);
    EXPECT_FALSE(test::snapshot_registered(*env_, good_.snapshot + 1));
  }
  Published good_;
  std::map<std::string, std::string> good_dump_;
};

TEST_F(RejectedZoneTest, Rfc1035NoSoaAtTheApex) {
  expect_rejected("$ORIGIN example.\n@ NS ns1\nns1 A 192.0.2.1\n",
                  "no SOA record at the zone apex");
}

TEST_F(RejectedZoneTest, Rfc1035NoApexAtAll) {
  expect_rejected("$ORIGIN example.\nwww A 192.0.2.1\n", "no SOA record at the zone apex");
}

TEST_F(RejectedZoneTest, Rfc1035SoaBelowTheApex) {
  expect_rejected(soa(2) + "www SOA ns1 hostmaster 2 1 1 1 1\n",
                  "SOA record at www.example. is not at the zone apex");
}

TEST_F(RejectedZoneTest, Rfc1035TwoSoaRecords) {
  expect_rejected(soa(2) + "@ SOA ns1 hostmaster 3 7200 3600 1209600 300\n",
                  "more than one SOA record at the zone apex");
}

TEST_F(RejectedZoneTest, Rfc1034CnameAndOtherData) {
  expect_rejected(soa(2) + "alias CNAME www\nalias A 192.0.2.9\n",
                  "CNAME record at alias.example. has other data beside it");
}

TEST_F(RejectedZoneTest, Rfc2181TwoCnameRecords) {
  expect_rejected(soa(2) + "alias CNAME www\nalias CNAME ns1\n",
                  "more than one CNAME record at alias.example.");
}

TEST_F(RejectedZoneTest, OwnerOutsideTheZone) {
  // add() refuses the record; the caller drops the writer, which aborts the build.
  auto records = test::parse_records("example.", soa(2) + "www.example.org. A 192.0.2.9\n");
  auto p = test::publish_records(*env_, "example.", records);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(), "record www.example.org. is outside the zone example.");
  EXPECT_EQ(current().current, good_.snapshot);
  EXPECT_EQ(dump(good_.snapshot), good_dump_);
  EXPECT_EQ(test::count_nodes(*env_, good_.snapshot + 1), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, good_.snapshot + 1));
}

// Defect: the node layout counts records in 16 bits; 65,536 used to be stored as 0.
TEST_F(RejectedZoneTest, RRsetOfMoreThan65535RecordsIsRefusedWithNameAndType) {
  auto w = SnapshotWriter::begin(*env_, Name("example."), {});
  ASSERT_TRUE(w.ok()) << w.error();
  (*w)->set_flush_bytes(size_t{1} << 20); // and across flushes
  Status st = Ok{};
  for (const auto &r : test::parse_records("example.", soa(2))) {
    ASSERT_TRUE((*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                          static_cast<uint16_t>(r.rdata.size()))
                    .ok());
  }
  for (uint32_t i = 0; i <= kMaxRRsetRecords && st; ++i) {
    uint8_t txt[5] = {4};
    std::memcpy(txt + 1, &i, 4);
    st = (*w)->add(Name("big.example."), KNOT_RRTYPE_TXT, KNOT_CLASS_IN, 60, txt, 5);
  }
  std::string error = st ? "" : st.error();
  if (st) {
    auto p = (*w)->publish();
    ASSERT_FALSE(p.ok());
    error = p.error();
  }
  EXPECT_NE(error.find("TXT RRset of big.example. has 65536 records"), std::string::npos) << error;
  w->reset(); // aborts: what the flushes wrote goes
  EXPECT_EQ(current().current, good_.snapshot);
  EXPECT_EQ(current().serial, good_.serial);
  EXPECT_EQ(dump(good_.snapshot), good_dump_);
  EXPECT_EQ(test::count_nodes(*env_, good_.snapshot + 1), 0u);
}

TEST_F(RejectedZoneTest, ClassOtherThanIn) {
  auto records = test::parse_records("example.", soa(2));
  Record ch = records.back();
  ch.rclass = KNOT_CLASS_CH;
  records.push_back(ch);
  auto p = test::publish_records(*env_, "example.", records);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("has class 3, only IN is served"), std::string::npos) << p.error();
  EXPECT_EQ(current().current, good_.snapshot);
}

TEST_F(SnapshotWriterTest, OwnerNamesInAnyCaseAreAccepted) {
  // Transfers and zone files may spell owners in any case (RFC 4343); the apex given to the
  // writer is "example." but a master may send "WWW.EXAMPLE.".
  auto records = test::parse_records("example.", soa(1));
  auto upper = test::parse_records("EXAMPLE.", "WWW.EXAMPLE. A 192.0.2.80\n");
  records.insert(records.end(), upper.begin(), upper.end());
  auto p = test::publish_records(*env_, "example.", records);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(dump(p->snapshot)["www.example."], "flags=0x0000 A/3600[c0000250]");
}

TEST_F(SnapshotWriterTest, Rfc2181OwnersWithAnyOctetAreStoredApart) {
  // RFC 2181 11: "a\000b" is one label; it must not become "b.a" (dname.h escapes it).
  auto records = test::parse_records("example.", soa(1) + "a\\000b A 192.0.2.1\n"
                                                          "b.a A 192.0.2.2\n"
                                                          "\\001.\\000 A 192.0.2.3\n"
                                                          "\\000\\001 TXT x\n");
  Published p = publish(records);
  auto d = dump(p.snapshot);
  EXPECT_EQ(d["a\\000b.example."], "flags=0x0000 A/3600[c0000201]");
  EXPECT_EQ(d["b.a.example."], "flags=0x0000 A/3600[c0000202]");
  EXPECT_EQ(d["\\001.\\000.example."], "flags=0x0000 A/3600[c0000203]");
  EXPECT_EQ(d.count("\\000.example."), 1u) << "the empty non-terminal";
  EXPECT_EQ(d.count("\\000\\001.example."), 1u);
}

TEST_F(SnapshotWriterTest, OwnerWhoseKeyOutgrowsLmdbIsRefusedByName) {
  // Only right below the root: 250 zero octets escape to 504 key octets, 512 with the id.
  std::string l63, l61;
  for (int i = 0; i < 63; ++i) {
    l63 += "\\000";
  }
  for (int i = 0; i < 61; ++i) {
    l61 += "\\000";
  }
  auto w = SnapshotWriter::begin(*env_, Name("."), {});
  ASSERT_TRUE(w.ok()) << w.error();
  uint8_t addr[4] = {192, 0, 2, 1};
  std::string owner = l63 + "." + l63 + "." + l63 + "." + l61 + ".";
  auto st = (*w)->add(Name(owner), KNOT_RRTYPE_A, KNOT_CLASS_IN, 60, addr, 4);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("cannot be stored"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find(owner), std::string::npos) << st.error();
  // One octet shorter fits (and is stored).
  std::string shorter = l63 + "." + l63 + "." + l63 + "." + l61.substr(4) + ".";
  EXPECT_TRUE((*w)->add(Name(shorter), KNOT_RRTYPE_A, KNOT_CLASS_IN, 60, addr, 4).ok());
}

TEST(SnapshotWriterMap, GrowsFromOneMebibyteToHoldFiftyThousandRecords) {
  TempDir dir;
  auto env = test::open_env(dir.path(), size_t{1} << 20);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->map_size(), size_t{1} << 20);

  std::string text = soa(7);
  for (int i = 0; i < 50000; ++i) {
    text += "h" + std::to_string(i) + " A 10." + std::to_string(i >> 16) + "." +
            std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + "\n";
  }
  auto records = test::parse_records("example.", text);
  ASSERT_EQ(records.size(), 50003u);

  auto p = test::publish_records(*env, "example.", records);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->records, 50003u);
  EXPECT_EQ(p->serial, 7u);
  EXPECT_GT(env->map_size(), size_t{1} << 20);
  auto z = read_zone(*env, Name("example."));
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->record.current, p->snapshot);
  EXPECT_EQ(z->record.records, 50003u);
  EXPECT_EQ(test::count_nodes(*env, p->snapshot), 50002u);

  // Again through the multi-flush path, which may hit MDB_MAP_FULL between flushes.
  auto q = test::publish_records(*env, "example.", records, 256 << 10);
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->records, 50003u);
  EXPECT_EQ(test::count_nodes(*env, q->snapshot), 50002u);

  ReadTxn txn(*env);
  ASSERT_TRUE(txn.begin());
  Reader reader(txn);
  ZoneHandle zone;
  ASSERT_TRUE(reader.find_zone(Name("example."), zone));
  EXPECT_EQ(zone.snapshot, q->snapshot);
  NodeView node;
  ASSERT_TRUE(reader.get(zone, test::key_of("h49999.example.", "example."), node));
  EXPECT_EQ(test::dump_node(node), "flags=0x0000 A/3600[0a00c34f]");
  txn.end();
}

} // namespace
} // namespace holdfast::store
