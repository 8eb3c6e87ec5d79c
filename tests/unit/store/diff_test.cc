// SPDX-License-Identifier: MIT
// Zone differences (store/diff.h): composing IXFR sequences (RFC 1995 4) and applying them onto
// the zone's current snapshot; a difference that does not apply publishes nothing.
#include "store/diff.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/common/message.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;
using test::rrs;
using test::soa;

const std::string kApex = "example.";

// The stored zone at serial 5: a delegation with glue, and "b" an empty non-terminal.
const std::string kBody = R"(
@       NS   ns1
ns1     A    192.0.2.1
www     A    192.0.2.80
www     A    192.0.2.81
mail    MX   10 www
sub     NS   ns.sub
ns.sub  A    192.0.2.53
a.b     A    192.0.2.3
)";
const std::string kZone5 = soa(5) + kBody;

// kBody with `from` replaced by `to` (each must occur once), for expected zones.
std::string edit(std::string text, const std::string &from, const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Adds or removes every record of `text` (relative to the apex).
Status change(ZoneDiff &diff, bool add, const std::string &text) {
  for (const auto &r : rrs(text)) {
    auto st = add ? diff.add(r.owner.data(), r.type, r.ttl, r.rdata.data(),
                             static_cast<uint16_t>(r.rdata.size()))
                  : diff.remove(r.owner.data(), r.type, r.rdata.data(),
                                static_cast<uint16_t>(r.rdata.size()));
    if (!st) {
      return st;
    }
  }
  return Ok{};
}
Status add(ZoneDiff &diff, const std::string &text) {
  return change(diff, true, text);
}
Status remove(ZoneDiff &diff, const std::string &text) {
  return change(diff, false, text);
}

// One difference sequence from -> to, as an IXFR lists it.
void sequence(ZoneDiff &diff, uint32_t from, uint32_t to, const std::string &removed,
              const std::string &added) {
  auto st = remove(diff, soa(from) + removed);
  ASSERT_TRUE(st.ok()) << st.error();
  st = add(diff, soa(to) + added);
  ASSERT_TRUE(st.ok()) << st.error();
}

TEST(ZoneDiffCompose, RemovalsAndAdditionsAreCounted) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(remove(diff, "www A 192.0.2.80\n").ok());
  ASSERT_TRUE(add(diff, "www A 192.0.2.90\nftp A 192.0.2.21\n").ok());
  EXPECT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff.changes(), 3u);
}

// RFC 1995 4: sequences apply in order, so a record added by one and removed by a later one
// is as if it never existed.
TEST(ZoneDiffCompose, Rfc1995AddedThenRemovedCancelsOut) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(add(diff, "tmp A 192.0.2.6\n").ok());
  ASSERT_TRUE(remove(diff, "tmp A 192.0.2.6\n").ok());
  EXPECT_EQ(diff.size(), 0u);
  EXPECT_EQ(diff.changes(), 2u);
}

TEST(ZoneDiffCompose, Rfc1995RemovedThenAddedBackIsKept) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(remove(diff, "www A 192.0.2.80\n").ok());
  ASSERT_TRUE(add(diff, "www 60 A 192.0.2.80\n").ok());
  EXPECT_EQ(diff.size(), 1u);
  ASSERT_TRUE(remove(diff, "www A 192.0.2.80\n").ok()) << "kept, so it can be removed again";
  EXPECT_EQ(diff.size(), 1u);
}

TEST(ZoneDiffCompose, RemovingTheSameRecordTwiceIsAnError) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(remove(diff, "www A 192.0.2.80\n").ok());
  auto st = remove(diff, "www A 192.0.2.80\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("www.example. A twice"), std::string::npos) << st.error();
}

TEST(ZoneDiffCompose, AddingTheSameRecordTwiceIsAnError) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(add(diff, "new A 192.0.2.9\n").ok());
  auto st = add(diff, "new A 192.0.2.9\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("twice"), std::string::npos) << st.error();
}

TEST(ZoneDiffCompose, ReAddingAReplacedRecordIsAnError) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(remove(diff, "www A 192.0.2.80\n").ok());
  ASSERT_TRUE(add(diff, "www A 192.0.2.80\n").ok());
  EXPECT_FALSE(add(diff, "www A 192.0.2.80\n").ok());
}

TEST(ZoneDiffCompose, RecordOutsideTheZoneIsAnError) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  auto st = add(diff, "www.example.org. A 192.0.2.1\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("outside the zone"), std::string::npos) << st.error();
  st = remove(diff, "www.example.org. A 192.0.2.1\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("outside the zone"), std::string::npos) << st.error();
}

// RFC 4343: the same owner in another case is the same record.
TEST(ZoneDiffCompose, Rfc4343OwnerCaseDoesNotMatter) {
  Name apex("EXAMPLE.");
  ZoneDiff diff(apex);
  ASSERT_TRUE(add(diff, "WWW.EXAMPLE. A 192.0.2.9\n").ok());
  ASSERT_TRUE(remove(diff, "www.example. A 192.0.2.9\n").ok());
  EXPECT_EQ(diff.size(), 0u);
}

// Same owner and rdata, another type: different records.
TEST(ZoneDiffCompose, TypeIsPartOfTheRecord) {
  Name apex(kApex);
  ZoneDiff diff(apex);
  ASSERT_TRUE(add(diff, "t TXT \"a\"\n").ok());
  ASSERT_TRUE(add(diff, "t SPF \"a\"\n").ok());
  EXPECT_EQ(diff.size(), 2u);
}

class ApplyDiffTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    auto pub = test::publish_records(*env_, kApex, rrs(kZone5));
    ASSERT_TRUE(pub.ok()) << pub.error();
    base_ = *pub;
  }
  Result<Published> apply(const ZoneDiff &diff) {
    SourceInfo src;
    src.kind = SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    return apply_diff(*env_, diff, src);
  }
  // Applies one sequence 5 -> 6 and expects success.
  Published apply_ok(const std::string &removed, const std::string &added) {
    ZoneDiff diff(apex_);
    diff.set_serials(5, 6);
    sequence(diff, 5, 6, removed, added);
    auto pub = apply(diff);
    EXPECT_TRUE(pub.ok()) << pub.error();
    return pub.ok() ? *pub : Published{};
  }
  // The current snapshot equals `text` published on its own: node flags, RRsets, TTLs, rdata.
  // (The in-place path computes flags itself; the full publish is the reference.)
  void expect_zone(const std::string &text) {
    auto zone = read_zone(*env_, apex_);
    ASSERT_TRUE(zone.has_value());
    test::TempDir scratch;
    auto ref_env = test::open_env(scratch.path());
    ASSERT_NE(ref_env, nullptr);
    auto ref = test::publish_records(*ref_env, kApex, rrs(text));
    ASSERT_TRUE(ref.ok()) << ref.error();
    EXPECT_EQ(test::dump_snapshot(*env_, zone->record.current, kApex),
              test::dump_snapshot(*ref_env, ref->snapshot, kApex));
    EXPECT_EQ(zone->record.records, ref->records) << "record count in the zone record";
  }
  // Nothing was published: the zone still serves the base snapshot, unmodified.
  void expect_unchanged() {
    auto zone = read_zone(*env_, apex_);
    ASSERT_TRUE(zone.has_value());
    EXPECT_EQ(zone->record.current, base_.snapshot);
    EXPECT_EQ(zone->record.serial, 5u);
    expect_zone(kZone5);
  }
  bool in_place(const Published &pub) const { return pub.snapshot == base_.snapshot; }
  // Applies `diff` and expects it refused with the error a full publish of `zone` (the version
  // the diff would make) gives, and the zone left at `serial` in the same snapshot.
  void expect_refused_like_publish(const ZoneDiff &diff, const std::string &zone, uint32_t serial) {
    auto before = read_zone(*env_, apex_);
    ASSERT_TRUE(before.has_value());
    auto pub = apply(diff);
    ASSERT_FALSE(pub.ok()) << "applied in place: " << zone;
    test::TempDir scratch;
    auto ref_env = test::open_env(scratch.path());
    ASSERT_NE(ref_env, nullptr);
    auto ref = test::publish_records(*ref_env, kApex, rrs(zone));
    ASSERT_FALSE(ref.ok()) << "the reference publish accepts: " << zone;
    EXPECT_EQ(pub.error(), ref.error());
    auto after = read_zone(*env_, apex_);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->record.serial, serial);
    EXPECT_EQ(after->record.current, before->record.current);
    EXPECT_EQ(test::dump_snapshot(*env_, after->record.current, kApex),
              test::dump_snapshot(*env_, before->record.current, kApex));
  }

  test::TempDir dir_;
  std::unique_ptr<Env> env_;
  Name apex_{kApex};
  Published base_;
};

// diff.h: records changing at existing names are patched into the current snapshot.
TEST_F(ApplyDiffTest, Rfc1995ChangeAtExistingNamesIsAppliedInPlace) {
  Published pub = apply_ok("www A 192.0.2.81\n", "mail MX 20 ns1\n");
  EXPECT_TRUE(in_place(pub));
  EXPECT_EQ(pub.serial, 6u);
  auto zone = read_zone(*env_, apex_);
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->record.serial, 6u);
  EXPECT_EQ(zone->source, "192.0.2.1@53");
  EXPECT_EQ(pub.records, zone->record.records);
  expect_zone(soa(6) + edit(edit(kBody, "www     A    192.0.2.81\n", ""), "mail    MX   10 www\n",
                            "mail MX 10 www\nmail MX 20 ns1\n"));
}

TEST_F(ApplyDiffTest, Rfc1995NewLeafNameIsAppliedInPlace) {
  Published pub = apply_ok("", "ftp A 192.0.2.21\nftp AAAA 2001:db8::21\n");
  EXPECT_TRUE(in_place(pub));
  expect_zone(soa(6) + kBody + "ftp A 192.0.2.21\nftp AAAA 2001:db8::21\n");
}

// RFC 2181 11: IXFR adds and removes names with zero and 0x01 octets like any other (the diff's
// ids carry escaped keys longer than a byte can count).
TEST_F(ApplyDiffTest, Rfc2181NamesWithZeroOctetsComeAndGoByIxfr) {
  std::string names = "www\\000x A 192.0.2.30\n\\001\\000 TXT x\nx.www\\000 A 192.0.2.31\n";
  Published pub = apply_ok("", names);
  expect_zone(soa(6) + kBody + names);
  ZoneDiff diff(apex_);
  diff.set_serials(6, 7);
  sequence(diff, 6, 7, "www\\000x A 192.0.2.30\n", "www\\000x A 192.0.2.32\n");
  ASSERT_TRUE(apply(diff).ok());
  expect_zone(soa(7) + kBody +
              "www\\000x A 192.0.2.32\n\\001\\000 TXT x\nx.www\\000 A 192.0.2.31\n");
  EXPECT_FALSE(in_place(pub)) << "x.www\\000 needs its empty non-terminal: the copy path";
}

// RFC 1034 4.2.1: a name below a zone cut is glue (not authoritative); the flag must be the
// one a full publish computes.
TEST_F(ApplyDiffTest, Rfc1034NewGlueBelowACutIsNotAuthoritative) {
  Published pub = apply_ok("", "ns2.sub A 192.0.2.54\n");
  expect_zone(soa(6) + kBody + "ns2.sub A 192.0.2.54\n");
  EXPECT_TRUE(in_place(pub));
}

TEST_F(ApplyDiffTest, Rfc1995RemovingTheLastRecordOfALeafRemovesTheName) {
  Published pub = apply_ok("mail MX 10 www\n", "");
  EXPECT_TRUE(in_place(pub));
  auto dump = test::dump_snapshot(*env_, read_zone(*env_, apex_)->record.current, kApex);
  EXPECT_EQ(dump.count("mail.example."), 0u);
  EXPECT_EQ(dump.count("www.example."), 1u);
  expect_zone(soa(6) + edit(kBody, "mail    MX   10 www\n", ""));
}

// RFC 4592 2.2.2: a name whose records all go but that has descendants stays as an empty
// non-terminal.
TEST_F(ApplyDiffTest, Rfc4592NameWithDescendantsStaysAsAnEmptyNonTerminal) {
  apply_ok("", "deep.www A 192.0.2.9\n");
  ZoneDiff diff(apex_);
  diff.set_serials(6, 7);
  sequence(diff, 6, 7, "www A 192.0.2.80\nwww A 192.0.2.81\n", "");
  auto pub = apply(diff);
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(soa(7) + edit(kBody, "www     A    192.0.2.80\nwww     A    192.0.2.81\n", "") +
              "deep.www A 192.0.2.9\n");
  auto dump = test::dump_snapshot(*env_, read_zone(*env_, apex_)->record.current, kApex);
  EXPECT_EQ(dump.count("www.example."), 1u) << "the empty non-terminal is a node";
}

// Changes that reach other names' derived state are published by copy (diff.h).
TEST_F(ApplyDiffTest, Rfc1034NewDelegationIsPublishedAsANewSnapshot) {
  Published pub = apply_ok("", "new NS ns.new\nns.new A 192.0.2.60\n");
  EXPECT_FALSE(in_place(pub));
  auto zone = read_zone(*env_, apex_);
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->record.current, pub.snapshot);
  EXPECT_EQ(zone->record.previous, base_.snapshot) << "the old version is kept for rollback";
  EXPECT_EQ(zone->record.serial, 6u);
  expect_zone(soa(6) + kBody + "new NS ns.new\nns.new A 192.0.2.60\n");
}

TEST_F(ApplyDiffTest, Rfc1034RemovedDelegationMakesItsGlueAuthoritative) {
  Published pub = apply_ok("sub NS ns.sub\n", "");
  EXPECT_FALSE(in_place(pub));
  expect_zone(soa(6) + edit(kBody, "sub     NS   ns.sub\n", ""));
}

// RFC 4592: a new wildcard changes its parent's flags.
TEST_F(ApplyDiffTest, Rfc4592NewWildcardIsPublishedWithItsParentFlagged) {
  apply_ok("", "*.www TXT \"wild\"\n");
  expect_zone(soa(6) + kBody + "*.www TXT \"wild\"\n");
}

// A new name two labels below an existing one needs an empty non-terminal between them.
TEST_F(ApplyDiffTest, Rfc4592NewNameBelowAMissingParentGetsItsEmptyNonTerminal) {
  apply_ok("", "x.y.www A 192.0.2.10\n");
  expect_zone(soa(6) + kBody + "x.y.www A 192.0.2.10\n");
  auto dump = test::dump_snapshot(*env_, read_zone(*env_, apex_)->record.current, kApex);
  EXPECT_EQ(dump.count("y.www.example."), 1u);
}

// Removing the only name below an empty non-terminal removes the empty non-terminal too.
TEST_F(ApplyDiffTest, Rfc4592EmptyNonTerminalGoesWithItsLastDescendant) {
  apply_ok("a.b A 192.0.2.3\n", "");
  expect_zone(soa(6) + edit(kBody, "a.b     A    192.0.2.3\n", ""));
  auto dump = test::dump_snapshot(*env_, read_zone(*env_, apex_)->record.current, kApex);
  EXPECT_EQ(dump.count("b.example."), 0u);
}

TEST_F(ApplyDiffTest, Rfc1034NewCnameIsPublishedWithItsFlag) {
  apply_ok("", "alias CNAME www\n");
  expect_zone(soa(6) + kBody + "alias CNAME www\n");
}

TEST_F(ApplyDiffTest, Rfc1995SequencesComposeIntoOneSnapshot) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 8);
  sequence(diff, 5, 6, "www A 192.0.2.80\n", "tmp A 192.0.2.6\nnew NS ns.new\n");
  sequence(diff, 6, 7, "tmp A 192.0.2.6\n", "www A 192.0.2.80\n");
  sequence(diff, 7, 8, "mail MX 10 www\n", "mail MX 20 ns1\n");
  auto pub = apply(diff);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 8u);
  expect_zone(soa(8) + edit(kBody, "mail    MX   10 www\n", "mail MX 20 ns1\n") +
              "new NS ns.new\n");
  // One new snapshot: the intermediate versions never existed.
  EXPECT_EQ(read_zone(*env_, apex_)->record.previous, base_.snapshot);
}

TEST_F(ApplyDiffTest, Rfc1995SequencesComposeInPlace) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 7);
  sequence(diff, 5, 6, "www A 192.0.2.80\n", "tmp A 192.0.2.6\n");
  sequence(diff, 6, 7, "tmp A 192.0.2.6\n", "www A 192.0.2.80\nwww A 192.0.2.82\n");
  auto pub = apply(diff);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_TRUE(in_place(*pub));
  EXPECT_EQ(pub->serial, 7u);
  expect_zone(soa(7) + kBody + "www A 192.0.2.82\n");
}

// RFC 2181 5.2: all records of an RRset share one TTL; a TTL change removes and re-adds them.
TEST_F(ApplyDiffTest, Rfc2181TtlChangeReplacesTheRrsetTtl) {
  apply_ok("www A 192.0.2.80\nwww A 192.0.2.81\n", "www 60 A 192.0.2.80\nwww 60 A 192.0.2.81\n");
  expect_zone(soa(6) + edit(kBody, "www     A    192.0.2.80\nwww     A    192.0.2.81\n",
                            "www 60 A 192.0.2.80\nwww 60 A 192.0.2.81\n"));
}

TEST_F(ApplyDiffTest, Rfc2181TtlChangeWithANewRecordInTheRrset) {
  apply_ok("www A 192.0.2.80\nwww A 192.0.2.81\n", "www 300 A 192.0.2.81\nwww 300 A 192.0.2.82\n");
  expect_zone(soa(6) + edit(kBody, "www     A    192.0.2.80\nwww     A    192.0.2.81\n",
                            "www 300 A 192.0.2.81\nwww 300 A 192.0.2.82\n"));
}

// RFC 2181 5.2: an RRset whose records are all replaced by new ones takes the new TTL (as the
// copy path and a fresh load give it): "www 3600 A .80/.81" becomes "www 60 A .90".
TEST_F(ApplyDiffTest, Rfc2181RrsetReplacedByNewDataTakesTheNewTtl) {
  apply_ok("www A 192.0.2.80\nwww A 192.0.2.81\n", "www 60 A 192.0.2.90\n");
  expect_zone(soa(6) + edit(kBody, "www     A    192.0.2.80\nwww     A    192.0.2.81\n",
                            "www 60 A 192.0.2.90\n"));
}

// The copy path gets the same replacement right; both paths must agree.
TEST_F(ApplyDiffTest, Rfc2181RrsetReplacedByNewDataTakesTheNewTtlOnTheCopyPath) {
  Published pub =
      apply_ok("www A 192.0.2.80\nwww A 192.0.2.81\n", "www 60 A 192.0.2.90\nnew NS ns.new\n");
  EXPECT_FALSE(in_place(pub));
  expect_zone(
      soa(6) +
      edit(kBody, "www     A    192.0.2.80\nwww     A    192.0.2.81\n", "www 60 A 192.0.2.90\n") +
      "new NS ns.new\n");
}

// A name that was an empty non-terminal gets records.
TEST_F(ApplyDiffTest, Rfc4592EmptyNonTerminalGainsRecords) {
  Published pub = apply_ok("", "b TXT \"now with data\"\n");
  EXPECT_TRUE(in_place(pub));
  expect_zone(soa(6) + kBody + "b TXT \"now with data\"\n");
}

// RFC 6672 2.3: names below a DNAME are occluded; a new one must carry the flag.
TEST_F(ApplyDiffTest, Rfc6672NewNameBelowADnameIsOccluded) {
  apply_ok("", "dn DNAME example.net.\n");
  ZoneDiff diff(apex_);
  diff.set_serials(6, 7);
  sequence(diff, 6, 7, "", "x.dn A 192.0.2.7\n");
  auto pub = apply(diff);
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(soa(7) + kBody + "dn DNAME example.net.\nx.dn A 192.0.2.7\n");
}

// A DS at an existing delegation (RFC 4035 2.4) keeps the cut's flags.
TEST_F(ApplyDiffTest, Rfc4035DsAtADelegationKeepsTheCut) {
  apply_ok("", "sub DS 12345 13 2 " + std::string(64, 'a') + "\n");
  expect_zone(soa(6) + kBody + "sub DS 12345 13 2 " + std::string(64, 'a') + "\n");
}

TEST_F(ApplyDiffTest, Rfc1995RemovalOfAMissingRecordFailsAndPublishesNothing) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "www A 192.0.2.99\n", "ftp A 192.0.2.21\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("the zone does not have"), std::string::npos) << pub.error();
  expect_unchanged();
}

// The same, when the difference also needs the copy path.
TEST_F(ApplyDiffTest, Rfc1995RemovalOfAMissingRecordFailsOnTheCopyPathToo) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "zzz A 192.0.2.99\n", "new NS ns.new\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("does not have"), std::string::npos) << pub.error();
  expect_unchanged();
}

// A TTL "change" of a record the zone does not have is a removal of a missing record too.
TEST_F(ApplyDiffTest, ReplacingAMissingRecordFails) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "nope A 192.0.2.1\n", "nope 60 A 192.0.2.1\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("does not have"), std::string::npos) << pub.error();
  expect_unchanged();
}

TEST_F(ApplyDiffTest, Rfc1995AddingARecordTheZoneHasFailsAndPublishesNothing) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "", "www A 192.0.2.81\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("already has"), std::string::npos) << pub.error();
  EXPECT_NE(pub.error().find("www.example. A"), std::string::npos) << pub.error();
  expect_unchanged();
}

TEST_F(ApplyDiffTest, Rfc1995AddingARecordTheZoneHasFailsOnTheCopyPathToo) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "", "new NS ns.new\nwww A 192.0.2.81\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("already has"), std::string::npos) << pub.error();
  expect_unchanged();
}

// Earlier owners patched in the write transaction are rolled back when a later one fails.
TEST_F(ApplyDiffTest, FailureAfterSomeNamesWerePatchedLeavesTheZoneUntouched) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  // "ftp" sorts before "www": it is patched first, then www fails.
  sequence(diff, 5, 6, "www A 192.0.2.99\n", "ftp A 192.0.2.21\n");
  ASSERT_FALSE(apply(diff).ok());
  auto dump = test::dump_snapshot(*env_, base_.snapshot, kApex);
  EXPECT_EQ(dump.count("ftp.example."), 0u);
  expect_unchanged();
}

TEST_F(ApplyDiffTest, Rfc1995DifferenceFromAnotherSerialFails) {
  ZoneDiff diff(apex_);
  diff.set_serials(4, 6);
  sequence(diff, 4, 6, "", "ftp A 192.0.2.21\n");
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("starts at serial 4"), std::string::npos) << pub.error();
  EXPECT_NE(pub.error().find("serial 5 is stored"), std::string::npos) << pub.error();
  expect_unchanged();
}

TEST_F(ApplyDiffTest, ZoneWithoutASnapshotFails) {
  Name other("example.org.");
  ZoneDiff diff(other);
  diff.set_serials(5, 6);
  auto pub = apply(diff);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("no snapshot"), std::string::npos) << pub.error();
}

TEST_F(ApplyDiffTest, Rfc4343OwnerInAnotherCaseMatchesTheStoredRecord) {
  Published pub = apply_ok("WWW.Example. A 192.0.2.80\n", "");
  EXPECT_EQ(pub.serial, 6u);
  expect_zone(soa(6) + edit(kBody, "www     A    192.0.2.80\n", ""));
}

// The in-place path runs the publish pass's node checks (store/node_check.h): an increment is
// refused exactly as a full transfer of the version it makes (the caller falls back to AXFR,
// and the old snapshot stays). Each case also goes by copy (a new delegation sorting before
// the bad name takes the copy path), with the same error.
TEST_F(ApplyDiffTest, Rfc1034OtherDataBesideACnameIsRefusedInPlaceAsByCopy) {
  apply_ok("", "x CNAME www\n");
  std::string zone7 = soa(7) + kBody + "x CNAME www\n";
  for (std::string extra : {"", "new NS ns.new\n"}) {
    ZoneDiff diff(apex_);
    diff.set_serials(6, 7);
    sequence(diff, 6, 7, "", extra + "x A 192.0.2.7\n");
    expect_refused_like_publish(diff, zone7 + extra + "x A 192.0.2.7\n", 6);
  }
}

TEST_F(ApplyDiffTest, Rfc1034CnameAddedBesideOtherDataIsRefused) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "", "www CNAME ns1\n");
  expect_refused_like_publish(diff, soa(6) + kBody + "www CNAME ns1\n", 5);
}

TEST_F(ApplyDiffTest, Rfc1035SecondSoaAtTheApexIsRefusedInPlace) {
  ZoneDiff diff(apex_);
  diff.set_serials(5, 6);
  sequence(diff, 5, 6, "", soa(6, "ns2"));
  expect_refused_like_publish(diff, soa(6) + soa(6, "ns2") + kBody, 5);
}

TEST_F(ApplyDiffTest, Rfc1035SoaBelowTheApexIsRefusedInPlaceAsByCopy) {
  const std::string bad = "www SOA ns1 hostmaster 1 7200 3600 1209600 300\n";
  for (std::string extra : {"", "new NS ns.new\n"}) {
    ZoneDiff diff(apex_);
    diff.set_serials(5, 6);
    sequence(diff, 5, 6, "", extra + bad);
    expect_refused_like_publish(diff, soa(6) + kBody + extra + bad, 5);
  }
}

// Each difference goes onto what the previous one published, whichever path it took.
TEST_F(ApplyDiffTest, Rfc1995SuccessiveDifferencesBuildOnEachOther) {
  apply_ok("", "ftp A 192.0.2.21\n"); // in place
  {
    ZoneDiff diff(apex_);
    diff.set_serials(6, 7);
    sequence(diff, 6, 7, "", "new NS ns.new\n"); // by copy
    auto pub = apply(diff);
    ASSERT_TRUE(pub.ok()) << pub.error();
  }
  ZoneDiff diff(apex_);
  diff.set_serials(7, 8);
  sequence(diff, 7, 8, "ftp A 192.0.2.21\n", "ftp AAAA 2001:db8::21\n");
  auto pub = apply(diff);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 8u);
  expect_zone(soa(8) + kBody + "new NS ns.new\nftp AAAA 2001:db8::21\n");
}

} // namespace
} // namespace holdfast::store
