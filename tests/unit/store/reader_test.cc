// SPDX-License-Identifier: MIT
// Zone reader (store/reader.h): longest-match zone lookup, exact / closest encloser / predecessor.
#include "store/reader.h"

#include <string>

#include <gtest/gtest.h>

#include "store/writer.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::key_of;
using test::Name;
using test::TempDir;

std::string soa(const std::string &origin) {
  return "$ORIGIN " + origin + "\n@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\n";
}

std::string key_text(const NameKey &k) {
  std::string out;
  for (size_t i = 0; i < k.len; ++i) {
    out += k.data[i] == 0 ? '|' : static_cast<char>(k.data[i]);
  }
  return out;
}

class ReaderTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    // Published first: "sub.example." gets the lower snapshot id, so a seek past its last
    // name lands in example.'s range; a seek past example.'s last name finds no key at all.
    publish("sub.example.", soa("sub.example.") + "www A 192.0.2.20\nzz A 192.0.2.21\n");
    publish("other.", soa("other.") + "www A 192.0.2.30\n");
    publish("example.", soa("example.") + "ns A 192.0.2.1\n"
                                          "a A 192.0.2.2\n"
                                          "b.c A 192.0.2.3\n"
                                          "www A 192.0.2.80\n"
                                          "a.www A 192.0.2.81\n"
                                          "zz.www A 192.0.2.82\n"
                                          "z A 192.0.2.90\n");
    txn_ = std::make_unique<ReadTxn>(*env_);
    reader_ = std::make_unique<Reader>(*txn_);
    ASSERT_TRUE(txn_->begin());
  }
  void TearDown() override {
    if (txn_) {
      txn_->end();
    }
  }

  void publish(const std::string &apex, const std::string &text) {
    auto p = test::publish_records(*env_, apex, test::parse_records(apex, text));
    ASSERT_TRUE(p.ok()) << p.error();
  }
  ZoneHandle zone(const std::string &apex) {
    ZoneHandle z;
    EXPECT_TRUE(reader_->find_zone(Name(apex), z)) << apex;
    return z;
  }

  TempDir dir_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<ReadTxn> txn_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(ReaderTest, FindZoneTakesTheLongestMatchingApex) {
  struct Case {
    const char *qname;
    const char *apex;
  } cases[] = {
      {"example.", "example."},
      {"www.example.", "example."},
      {"a.b.c.d.example.", "example."},
      {"xsub.example.", "example."}, // a label suffix is not a parent
      {"sub.example.", "sub.example."},
      {"www.sub.example.", "sub.example."},
      {"a.b.www.sub.example.", "sub.example."},
      {"other.", "other."},
      {"x.other.", "other."},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.qname);
    ZoneHandle z;
    Name qname(c.qname);
    ASSERT_TRUE(reader_->find_zone(qname, z));
    EXPECT_TRUE(knot_dname_is_equal(z.apex, Name(c.apex))) << name_to_string(z.apex);
    auto stored = read_zone(*env_, Name(c.apex));
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(z.snapshot, stored->record.current);
    EXPECT_EQ(z.record.current, stored->record.current);
    EXPECT_EQ(z.record.serial, 1u);
  }
}

TEST_F(ReaderTest, FindZoneApexIsTheSuffixOfTheNameLookedUp) {
  // reader.h: ZoneHandle::apex points into the name given to find_zone() (no copy, no map
  // access): it is the longest stored suffix of that name.
  Name qname("www.sub.example.");
  ZoneHandle z;
  ASSERT_TRUE(reader_->find_zone(qname.get(), z));
  EXPECT_GE(z.apex, qname.get());
  EXPECT_LT(z.apex, qname.get() + qname.size());
  EXPECT_EQ(name_to_string(z.apex), "sub.example.");
}

TEST_F(ReaderTest, FindZoneFailsOutsideEveryZone) {
  ZoneHandle z;
  EXPECT_FALSE(reader_->find_zone(Name("example.org."), z));
  EXPECT_FALSE(reader_->find_zone(Name("www.example.org."), z));
  EXPECT_FALSE(reader_->find_zone(Name("com."), z));
  EXPECT_FALSE(reader_->find_zone(Name("."), z));
  EXPECT_FALSE(reader_->find_zone(Name("xexample."), z));
}

TEST_F(ReaderTest, SubZonesHaveTheirOwnSnapshots) {
  EXPECT_NE(zone("example.").snapshot, zone("sub.example.").snapshot);
  // sub.example.'s data is not in example.: "www.sub" is not a node of the parent.
  NodeView n;
  EXPECT_FALSE(reader_->get(zone("example."), key_of("www.sub.example.", "example."), n));
  EXPECT_TRUE(reader_->get(zone("sub.example."), key_of("www.sub.example.", "sub.example."), n));
}

TEST_F(ReaderTest, LookupExactMatch) {
  ZoneHandle z = zone("example.");
  Lookup l;
  ASSERT_TRUE(reader_->lookup(z, key_of("www.example.", "example."), l));
  EXPECT_TRUE(l.exact);
  EXPECT_EQ(key_text(l.encloser), "www|");
  RRsetView a;
  ASSERT_TRUE(l.node.find(KNOT_RRTYPE_A, a));
  EXPECT_EQ(test::dump_node(l.node), "flags=0x0000 A/3600[c0000250]");
}

TEST_F(ReaderTest, LookupExactMatchOfTheApexAndOfAnEmptyNonTerminal) {
  ZoneHandle z = zone("example.");
  Lookup l;
  ASSERT_TRUE(reader_->lookup(z, NameKey{}, l));
  EXPECT_TRUE(l.exact);
  EXPECT_TRUE(l.node.has_type(KNOT_RRTYPE_SOA));

  Lookup ent;
  ASSERT_TRUE(reader_->lookup(z, key_of("c.example.", "example."), ent));
  EXPECT_TRUE(ent.exact);
  EXPECT_TRUE(ent.node.empty());
}

TEST_F(ReaderTest, LookupMissFindsClosestEncloserAndPredecessor) {
  ZoneHandle z = zone("example.");
  struct Case {
    const char *qname;
    const char *encloser;    // key text, '|' = label end
    const char *predecessor; // key text
    uint16_t encloser_type;  // a type the encloser node has, 0 for an empty node
  } cases[] = {
      // Between two children of www: the encloser is www, the predecessor a.www.
      {"m.www.example.", "www|", "www|a|", KNOT_RRTYPE_A},
      // After www's last child: the predecessor is that child.
      {"zzz.www.example.", "www|", "www|zz|", KNOT_RRTYPE_A},
      // Below a leaf: the leaf is both encloser and predecessor.
      {"x.y.a.example.", "a|", "a|", KNOT_RRTYPE_A},
      // Below an empty non-terminal.
      {"q.c.example.", "c|", "c|b|", 0},
      // A sibling between c's subtree and ns: the apex encloses it.
      {"d.example.", "", "c|b|", KNOT_RRTYPE_SOA},
      // Before every child of the apex but after the apex itself.
      {"0.example.", "", "", KNOT_RRTYPE_SOA},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.qname);
    Lookup l;
    ASSERT_TRUE(reader_->lookup(z, key_of(c.qname, "example."), l));
    EXPECT_FALSE(l.exact);
    EXPECT_EQ(key_text(l.encloser), c.encloser);
    EXPECT_EQ(key_text(l.predecessor), c.predecessor);
    ASSERT_TRUE(l.encloser_node.valid());
    if (c.encloser_type == 0) {
      EXPECT_TRUE(l.encloser_node.empty());
    } else {
      EXPECT_TRUE(l.encloser_node.has_type(c.encloser_type));
    }
  }
}

TEST_F(ReaderTest, LookupPastTheLastNameOfTheNewestSnapshot) {
  // example. has the highest snapshot id: the seek for "zzz" finds no key at all (MDB_LAST).
  ZoneHandle z = zone("example.");
  Lookup l;
  ASSERT_TRUE(reader_->lookup(z, key_of("zzz.example.", "example."), l));
  EXPECT_FALSE(l.exact);
  EXPECT_EQ(key_text(l.predecessor), "z|");
  EXPECT_EQ(key_text(l.encloser), "");
  EXPECT_TRUE(l.encloser_node.has_type(KNOT_RRTYPE_SOA));

  Lookup below;
  ASSERT_TRUE(reader_->lookup(z, key_of("a.z.example.", "example."), below));
  EXPECT_EQ(key_text(below.predecessor), "z|");
  EXPECT_EQ(key_text(below.encloser), "z|");
  EXPECT_TRUE(below.encloser_node.has_type(KNOT_RRTYPE_A));
}

TEST_F(ReaderTest, LookupPastTheLastNameOfAnOlderSnapshot) {
  // sub.example.'s range is followed by other snapshots: the seek lands there and steps back.
  ZoneHandle z = zone("sub.example.");
  Lookup l;
  ASSERT_TRUE(reader_->lookup(z, key_of("zzz.sub.example.", "sub.example."), l));
  EXPECT_FALSE(l.exact);
  EXPECT_EQ(key_text(l.predecessor), "zz|");
  EXPECT_EQ(key_text(l.encloser), "");
  EXPECT_TRUE(l.encloser_node.has_type(KNOT_RRTYPE_SOA));
}

TEST(ReaderRenew, ANewBatchSeesTheNewlyPublishedSnapshot) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto publish = [&](const char *a) {
    auto p = test::publish_records(
        *env, "example.", test::parse_records("example.", soa("example.") + "www A " + a + "\n"));
    EXPECT_TRUE(p.ok()) << p.error();
    return p.ok() ? p->snapshot : 0;
  };
  uint64_t s1 = publish("192.0.2.1");
  ReadTxn txn(*env);
  Reader reader(txn);
  ASSERT_TRUE(txn.begin());
  ZoneHandle z;
  ASSERT_TRUE(reader.find_zone(Name("example."), z));
  EXPECT_EQ(z.snapshot, s1);
  Lookup l;
  ASSERT_TRUE(reader.lookup(z, key_of("www.example.", "example."), l));
  EXPECT_EQ(test::dump_node(l.node), "flags=0x0000 A/3600[c0000201]");
  txn.end();

  uint64_t s2 = publish("192.0.2.2");
  ASSERT_TRUE(txn.begin());
  ASSERT_TRUE(reader.find_zone(Name("example."), z));
  EXPECT_EQ(z.snapshot, s2);
  // The cursor opened in the first batch is renewed for this one.
  ASSERT_TRUE(reader.lookup(z, key_of("www.example.", "example."), l));
  EXPECT_TRUE(l.exact);
  EXPECT_EQ(test::dump_node(l.node), "flags=0x0000 A/3600[c0000202]");
  txn.end();
}

} // namespace
} // namespace holdfast::store
