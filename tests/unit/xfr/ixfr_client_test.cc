// SPDX-License-Identifier: MIT
// IXFR consumer (xfr/ixfr_client.h, RFC 1995 4): up-to-date, incremental and AXFR-style replies
// told apart; difference sequences chained and composed, then applied onto a stored snapshot.
#include "xfr/ixfr_client.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/diff.h"
#include "tests/unit/xfr/xfr_fixture.h"

namespace holdfast::xfr {
namespace {

using namespace testing; // NOLINT: xfr test helpers

// The zone we hold at serial 5.
const std::string kBody5 = R"(
@     NS   ns1
ns1   A    192.0.2.1
www   A    192.0.2.80
mail  MX   10 www
)";

std::unique_ptr<Parsed> message(const std::string &text, bool first = true) {
  Reply r;
  r.qtype = KNOT_RRTYPE_IXFR;
  r.question = first;
  r.answer = rrs(text);
  return parsed(r);
}

ZoneSpec spec_of(const std::string &apex) {
  ZoneSpec spec;
  spec.name = apex;
  Name n(apex);
  spec.apex.assign(n.get(), n.get() + n.size());
  return spec;
}

class IxfrClientTest : public ::testing::Test {
protected:
  // A client that holds serial `ours`; an AXFR-style reply goes to full_sink_.
  IxfrClient &client(uint32_t ours) {
    client_ = std::make_unique<IxfrClient>(apex_, ours, vanity_, [this]() -> Result<RecordSink *> {
      ++opened_full_;
      return &full_sink_;
    });
    return *client_;
  }
  Status feed(const std::string &text, bool first = true) {
    auto m = message(text, first);
    return client_->consume(m->get()); // the message is freed right after, as on the wire
  }

  Name apex_{kApex};
  ZoneSpec spec_ = spec_of(kApex);
  Vanity vanity_{spec_};
  CollectSink full_sink_;
  int opened_full_ = 0;
  std::unique_ptr<IxfrClient> client_;
};

// RFC 1995 4: "If the SOA serial of the reply is equal to or older than the client's, the
// reply is a single SOA": the client is up to date.
TEST_F(IxfrClientTest, Rfc1995SingleSoaReplyMeansUpToDate) {
  client(5);
  auto st = feed(soa(5));
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kUpToDate);
  EXPECT_EQ(client_->serial(), 5u);
  EXPECT_EQ(opened_full_, 0);
}

TEST_F(IxfrClientTest, Rfc1995SingleOlderSoaAlsoMeansUpToDate) {
  client(5);
  ASSERT_TRUE(feed(soa(4)).ok());
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kUpToDate);
}

TEST_F(IxfrClientTest, Rfc1982UpToDateAcrossTheSerialWrap) {
  client(2); // 0xffffffff is behind 2 in serial arithmetic
  ASSERT_TRUE(feed(soa(0xffffffffu)).ok());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kUpToDate);
}

// RFC 1995 2: a newer SOA alone (the reply did not fit) is not an answer: wait for more or
// retry over TCP.
TEST_F(IxfrClientTest, Rfc1995SingleNewerSoaIsNotAnAnswerYet) {
  client(5);
  ASSERT_TRUE(feed(soa(6)).ok());
  EXPECT_FALSE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kPending);
}

TEST_F(IxfrClientTest, Rfc1995IncrementalReplyWithOneSequence) {
  client(5);
  auto st = feed(soa(7) +                        // the master's SOA
                 soa(5) + "www A 192.0.2.80\n" + // removed from 5
                 soa(7) + "www A 192.0.2.90\n" + // added in 7
                 soa(7));                        // the end
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kIncremental);
  EXPECT_EQ(client_->serial(), 7u);
  EXPECT_EQ(client_->diff().from(), 5u);
  EXPECT_EQ(client_->diff().to(), 7u);
  // SOA 5 and www .80 removed, SOA 7 and www .90 added.
  EXPECT_EQ(client_->diff().size(), 4u);
  EXPECT_EQ(opened_full_, 0);
}

TEST_F(IxfrClientTest, Rfc1995SequencesMayBeEmpty) {
  client(5);
  ASSERT_TRUE(feed(soa(7) + soa(5) + soa(6) + soa(6) + soa(7) + soa(7)).ok());
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kIncremental);
  // SOA 5 removed, SOA 6 added then removed, SOA 7 added.
  EXPECT_EQ(client_->diff().size(), 2u);
}

TEST_F(IxfrClientTest, Rfc1995IncrementalReplySpreadOverMessages) {
  client(5);
  ASSERT_TRUE(feed(soa(7), true).ok()); // the opening SOA alone in the first message
  EXPECT_FALSE(client_->done());
  ASSERT_TRUE(feed(soa(5) + "www A 192.0.2.80\n", false).ok());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kIncremental);
  EXPECT_FALSE(client_->done());
  ASSERT_TRUE(feed(soa(7) + "www A 192.0.2.90\n", false).ok());
  EXPECT_FALSE(client_->done());
  ASSERT_TRUE(feed(soa(7), false).ok());
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->diff().size(), 4u);
}

TEST_F(IxfrClientTest, Rfc1995SequencesMustChain) {
  client(5);
  auto st = feed(soa(8) + soa(5) + soa(6) + "a A 192.0.2.6\n" + // 5 -> 6
                 soa(7) + soa(8) + "b A 192.0.2.8\n" +          // 7 -> 8: where is 6 -> 7?
                 soa(8));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("do not chain"), std::string::npos) << st.error();
  EXPECT_FALSE(client_->done());
}

TEST_F(IxfrClientTest, Rfc1995LastSequenceMustEndAtTheMastersSerial) {
  client(5);
  // The only sequence goes 5 -> 6, then the master's SOA (8) appears as if it closed the reply.
  auto st = feed(soa(8) + soa(5) + soa(6) + "a A 192.0.2.6\n" + soa(8));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("do not chain"), std::string::npos) << st.error();
}

TEST_F(IxfrClientTest, Rfc1995RecordsAfterTheClosingSoaAreAnError) {
  client(5);
  auto st = feed(soa(6) + soa(5) + soa(6) + "a A 192.0.2.6\n" + soa(6) + "late A 192.0.2.7\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("after the closing SOA"), std::string::npos) << st.error();
}

TEST_F(IxfrClientTest, Rfc1995ReplyMustStartWithTheSoa) {
  client(5);
  auto st = feed("www A 192.0.2.80\n" + soa(6));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("does not start with the zone's SOA"), std::string::npos) << st.error();
}

TEST_F(IxfrClientTest, SoaOfAnotherOwnerIsRejected) {
  client(5);
  auto st = feed(soa(6) + soa(5) + "$ORIGIN sub.example.\n" + soa(6));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("SOA other than the zone's"), std::string::npos) << st.error();
}

TEST_F(IxfrClientTest, RecordOfAnotherClassIsRejected) {
  client(5);
  auto records = rrs(soa(6) + soa(5) + "t TXT \"x\"\n");
  records[2].rclass = KNOT_CLASS_CH;
  Reply r;
  r.qtype = KNOT_RRTYPE_IXFR;
  r.answer = records;
  auto m = parsed(r);
  auto st = client_->consume(m->get());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("class"), std::string::npos) << st.error();
}

TEST_F(IxfrClientTest, RecordOutsideTheZoneIsRejected) {
  client(5);
  auto st = feed(soa(6) + soa(5) + soa(6) + "www.example.org. A 192.0.2.1\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("outside the zone"), std::string::npos) << st.error();
}

// RFC 1995 4: a reply whose second record is not our SOA is a full zone (AXFR-style).
TEST_F(IxfrClientTest, Rfc1995AxfrStyleReplyGoesToTheFullSink) {
  client(5);
  auto st = feed(soa(7) + kBody5 + soa(7));
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kFull);
  EXPECT_EQ(opened_full_, 1);
  ASSERT_NE(client_->full(), nullptr);
  EXPECT_TRUE(client_->full()->done());
  EXPECT_EQ(client_->full()->serial(), 7u);
  ASSERT_EQ(full_sink_.lines.size(), 5u) << "SOA + 4 records";
  EXPECT_NE(full_sink_.lines[0].find("SOA"), std::string::npos) << full_sink_.lines[0];
  EXPECT_NE(full_sink_.lines[0].find(" 7 7200 3600 1209600 300"), std::string::npos)
      << "the opening SOA, kept from the first record, reaches the sink intact: "
      << full_sink_.lines[0];
  EXPECT_EQ(client_->diff().size(), 0u);
}

// The opening SOA arrives in a message freed before the rest is seen: the client must have
// copied it.
TEST_F(IxfrClientTest, Rfc1995AxfrStyleReplyWhoseFirstMessageHoldsOnlyTheSoa) {
  client(5);
  ASSERT_TRUE(feed(soa(7), true).ok());
  EXPECT_FALSE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kPending);
  ASSERT_TRUE(feed(kBody5, false).ok());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kFull);
  EXPECT_FALSE(client_->done());
  ASSERT_TRUE(feed(soa(7), false).ok());
  EXPECT_TRUE(client_->done());
  ASSERT_EQ(full_sink_.lines.size(), 5u);
  EXPECT_NE(full_sink_.lines[0].find("example."), std::string::npos) << full_sink_.lines[0];
  EXPECT_NE(full_sink_.lines[0].find("ns1.example. hostmaster.example. 7 7200"), std::string::npos)
      << full_sink_.lines[0];
}

// A zone holding only its SOA, sent AXFR-style: the master's SOA twice.
TEST_F(IxfrClientTest, Rfc1995AxfrStyleReplyOfAnSoaOnlyZone) {
  client(5);
  ASSERT_TRUE(feed(soa(7) + soa(7)).ok());
  EXPECT_TRUE(client_->done());
  EXPECT_EQ(client_->kind(), IxfrClient::Kind::kFull);
  EXPECT_EQ(full_sink_.lines.size(), 1u);
}

TEST_F(IxfrClientTest, Rfc1995AxfrStyleReplyIsCheckedLikeAnAxfr) {
  client(5);
  auto st = feed(soa(7) + kBody5 + soa(7, "ns2"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("closing SOA differs"), std::string::npos) << st.error();
  EXPECT_FALSE(client_->done());
}

TEST_F(IxfrClientTest, FailingToOpenTheFullSinkFailsTheTransfer) {
  client_ = std::make_unique<IxfrClient>(apex_, 5, vanity_, []() -> Result<RecordSink *> {
    return fail("no room for a new snapshot");
  });
  auto st = feed(soa(7) + kBody5 + soa(7));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "no room for a new snapshot");
}

// Vanity nameservers (sink.h): the master's apex NS and the set's addresses are not ours to
// change, so an IXFR's changes to them are left out of the difference.
// The zone's spec with a vanity set of one name, ns.example. at 192.0.2.53.
ZoneSpec spec_with_vanity() {
  ZoneSpec spec = spec_of(kApex);
  NameServer ns;
  Name nsname("ns.example.");
  ns.name.assign(nsname.get(), nsname.get() + nsname.size());
  auto addr = parse_endpoint("192.0.2.53");
  EXPECT_TRUE(addr.ok()) << addr.error();
  if (addr.ok()) {
    ns.addresses.push_back(*addr);
  }
  spec.vanity.push_back(ns);
  return spec;
}

TEST(IxfrClientVanity, ChangesToTheVanitySetAreDropped) {
  ZoneSpec spec = spec_with_vanity();
  Vanity vanity(spec);
  Name apex(kApex);
  IxfrClient client(apex, 5, vanity, []() -> Result<RecordSink *> { return fail("unused"); });
  auto m = message(soa(6) + soa(5) + "@ NS ns1\nns.example. A 192.0.2.1\nwww A 192.0.2.80\n" +
                   soa(6) + "@ NS ns2\nns.example. A 192.0.2.2\nwww A 192.0.2.81\n" + soa(6));
  auto st = client.consume(m->get());
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(client.kind(), IxfrClient::Kind::kIncremental);
  EXPECT_EQ(client.diff().size(), 4u) << "only the SOAs and www change";
}

// The stored zone carries the vanity set; once signed (RRSIG over the SOA) or digested (ZONEMD)
// it must keep the master's records, which only a full transfer brings back.
TEST(IxfrClientVanity, SigningOrDigestingTheZoneNeedsAFullTransfer) {
  ZoneSpec spec = spec_with_vanity();
  Name apex(kApex);
  for (const std::string &added :
       {std::string("@ RRSIG SOA 13 1 3600 20300101000000 20200101000000 1 example. AAAA\n"),
        "@ ZONEMD 6 1 1 " + std::string(96, '0') + "\n"}) {
    SCOPED_TRACE(added);
    Vanity vanity(spec);
    IxfrClient client(apex, 5, vanity, []() -> Result<RecordSink *> { return fail("unused"); });
    auto m = message(soa(6) + soa(5) + soa(6) + added + soa(6));
    auto st = client.consume(m->get());
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("full transfer"), std::string::npos) << st.error();
    Vanity off(spec);
    off.disable(); // a sealed stored zone: increments apply as sent
    IxfrClient sealed(apex, 5, off, []() -> Result<RecordSink *> { return fail("unused"); });
    EXPECT_TRUE(sealed.consume(m->get()).ok());
  }
}

// End to end: the composed difference applied onto the stored snapshot at serial 5.
class IxfrIntoStoreTest : public IxfrClientTest {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    auto pub = test::publish_records(*env_, kApex, rrs(soa(5) + kBody5));
    ASSERT_TRUE(pub.ok()) << pub.error();
  }
  Result<store::Published> apply() {
    store::SourceInfo src;
    src.kind = store::SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    return store::apply_diff(*env_, client_->diff(), src);
  }
  test::TempDir dir_;
  std::unique_ptr<store::Env> env_;
};

TEST_F(IxfrIntoStoreTest, Rfc1995OneSequenceIsPublished) {
  client(5);
  ASSERT_TRUE(feed(soa(7) + soa(5) + "www A 192.0.2.80\n" + soa(7) +
                   "www A 192.0.2.90\nnew TXT \"hello\"\n" + soa(7))
                  .ok());
  ASSERT_TRUE(client_->done());
  auto pub = apply();
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 7u);
  auto zone = store::read_zone(*env_, apex_);
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->record.serial, 7u);
  expect_zone(*env_, kApex, soa(7) + R"(
@     NS   ns1
ns1   A    192.0.2.1
www   A    192.0.2.90
mail  MX   10 www
new   TXT  "hello"
)");
}

// RFC 1995 4: several sequences in one reply; a record added by one and removed by a later one
// never appears, and the result is the zone at the master's serial.
TEST_F(IxfrIntoStoreTest, Rfc1995SequencesAreComposedInOrder) {
  client(5);
  ASSERT_TRUE(feed(soa(8) +
                   // 5 -> 6: www moves to .81, a temporary record appears
                   soa(5) + "www A 192.0.2.80\n" + soa(6) + "www A 192.0.2.81\ntmp A 192.0.2.6\n" +
                   // 6 -> 7: the temporary record goes, mail gets a second MX
                   soa(6) + "tmp A 192.0.2.6\n" + soa(7) + "mail MX 20 ns1\n" +
                   // 7 -> 8: www moves again, back to .80
                   soa(7) + "www A 192.0.2.81\n" + soa(8) + "www A 192.0.2.80\n" + soa(8))
                  .ok());
  ASSERT_TRUE(client_->done());
  EXPECT_EQ(client_->diff().from(), 5u);
  EXPECT_EQ(client_->diff().to(), 8u);
  auto pub = apply();
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 8u);
  expect_zone(*env_, kApex, soa(8) + R"(
@     NS   ns1
ns1   A    192.0.2.1
www   A    192.0.2.80
mail  MX   10 www
mail  MX   20 ns1
)");
}

// RFC 1995 4 / RFC 2181 5.2: a TTL change is a removal and an addition of the same data.
TEST_F(IxfrIntoStoreTest, Rfc1995TtlChangeReplacesTheTtl) {
  client(5);
  ASSERT_TRUE(
      feed(soa(6) + soa(5) + "www A 192.0.2.80\n" + soa(6) + "www 60 A 192.0.2.80\n" + soa(6))
          .ok());
  auto pub = apply();
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(*env_, kApex, soa(6) + R"(
@     NS   ns1
ns1   A    192.0.2.1
www   60   A    192.0.2.80
mail  MX   10 www
)");
}

TEST_F(IxfrIntoStoreTest, Rfc1995DifferenceFromAnotherSerialIsNotApplied) {
  client(4); // we asked from 4, but the store holds 5
  ASSERT_TRUE(feed(soa(6) + soa(4) + soa(6) + "x A 192.0.2.1\n" + soa(6)).ok());
  ASSERT_TRUE(client_->done());
  auto pub = apply();
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("serial 5"), std::string::npos) << pub.error();
  EXPECT_EQ(store::read_zone(*env_, apex_)->record.serial, 5u);
}

} // namespace
} // namespace holdfast::xfr
