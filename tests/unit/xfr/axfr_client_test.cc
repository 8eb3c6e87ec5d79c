// SPDX-License-Identifier: MIT
// AXFR consumer (xfr/axfr_client.h, RFC 5936 2.2): SOA first and last, no other SOA, nothing
// after the end, class IN only; records stream into a sink, and into a published snapshot.
#include "xfr/axfr_client.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/reader.h"
#include "tests/unit/xfr/xfr_fixture.h"

namespace holdfast::xfr {
namespace {

using namespace testing; // NOLINT: xfr test helpers

const std::string kBody = R"(
@    NS   ns1
ns1  A    192.0.2.1
www  A    192.0.2.80
www  A    192.0.2.81
mail MX   10 www
)";

// One AXFR reply message with `text` in its answer section.
std::unique_ptr<Parsed> message(const std::vector<Record> &records, bool first = true) {
  Reply r;
  r.question = first;
  r.answer = records;
  return parsed(r);
}
std::unique_ptr<Parsed> message(const std::string &text, bool first = true) {
  return message(rrs(text), first);
}

// Records of `text`, the one at `index` in class CH (zone text cannot say it for most types).
std::vector<Record> with_chaos(const std::string &text, size_t index) {
  auto records = rrs(text);
  records.at(index).rclass = KNOT_CLASS_CH;
  return records;
}

class AxfrClientTest : public ::testing::Test {
protected:
  Status feed(const std::vector<Record> &records, bool first = true) {
    auto m = message(records, first);
    return client_.consume(m->get());
  }
  Status feed(const std::string &text, bool first = true) { return feed(rrs(text), first); }
  Name apex_{kApex};
  CollectSink sink_;
  AxfrClient client_{apex_, sink_};
};

TEST_F(AxfrClientTest, Rfc5936WholeZoneInOneMessage) {
  auto st = feed(soa(7) + kBody + soa(7));
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_.done());
  EXPECT_EQ(client_.serial(), 7u);
  EXPECT_EQ(client_.records(), 6u) << "opening SOA + 5 records; the closing SOA is not data";
  ASSERT_EQ(sink_.lines.size(), 6u);
  EXPECT_NE(sink_.lines[0].find("SOA"), std::string::npos) << sink_.lines[0];
  EXPECT_NE(sink_.lines[0].find(" 7 7200 "), std::string::npos) << sink_.lines[0];
  EXPECT_NE(sink_.lines[5].find("MX"), std::string::npos) << sink_.lines[5];
}

TEST_F(AxfrClientTest, Rfc5936ZoneSpreadOverSeveralMessages) {
  ASSERT_TRUE(feed(soa(7) + "@ NS ns1\n", true).ok());
  EXPECT_FALSE(client_.done());
  ASSERT_TRUE(feed("ns1 A 192.0.2.1\nwww A 192.0.2.80\n", false).ok());
  EXPECT_FALSE(client_.done());
  ASSERT_TRUE(feed("www A 192.0.2.81\n" + soa(7), false).ok());
  EXPECT_TRUE(client_.done());
  EXPECT_EQ(client_.records(), 5u);
  EXPECT_EQ(sink_.lines.size(), 5u);
}

// RFC 5936 2.2: the closing SOA may arrive in a message of its own.
TEST_F(AxfrClientTest, Rfc5936ClosingSoaAloneInTheLastMessage) {
  ASSERT_TRUE(feed(soa(7) + kBody, true).ok());
  EXPECT_FALSE(client_.done());
  ASSERT_TRUE(feed(soa(7), false).ok());
  EXPECT_TRUE(client_.done());
}

// A zone holding only its SOA transfers as the SOA twice.
TEST_F(AxfrClientTest, Rfc5936SoaOnlyZone) {
  ASSERT_TRUE(feed(soa(3) + soa(3)).ok());
  EXPECT_TRUE(client_.done());
  EXPECT_EQ(client_.records(), 1u);
}

TEST_F(AxfrClientTest, Rfc5936EmptyMessageWaitsForMore) {
  ASSERT_TRUE(feed(soa(7) + kBody).ok());
  Reply empty;
  empty.question = false;
  auto m = parsed(empty);
  EXPECT_TRUE(client_.consume(m->get()).ok());
  EXPECT_FALSE(client_.done());
}

TEST_F(AxfrClientTest, Rfc5936TransferMustStartWithTheSoa) {
  auto st = feed("www A 192.0.2.80\n" + soa(7));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("does not start with the zone's SOA"), std::string::npos) << st.error();
  EXPECT_TRUE(sink_.lines.empty()) << "nothing reaches the sink before the SOA";
}

TEST_F(AxfrClientTest, Rfc5936OpeningSoaOfAnotherZoneIsRejected) {
  auto st = feed("$ORIGIN sub.example.\n" + soa(7));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("SOA"), std::string::npos) << st.error();
}

// RFC 4343: owner names compare case-insensitively.
TEST_F(AxfrClientTest, Rfc4343ApexInAnotherCaseIsTheApex) {
  auto st = feed("$ORIGIN EXAMPLE.\n" + soa(7) + "www A 192.0.2.80\n" + soa(7));
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_.done());
}

TEST_F(AxfrClientTest, Rfc5936SoaOfAnotherSerialInsideIsRejected) {
  auto st = feed(soa(7) + "www A 192.0.2.80\n" + soa(8) + "ftp A 192.0.2.2\n" + soa(7));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("SOA other than the zone's"), std::string::npos) << st.error();
  EXPECT_FALSE(client_.done());
}

TEST_F(AxfrClientTest, Rfc5936SoaAtAnotherOwnerInsideIsRejected) {
  auto st = feed(soa(7) + "$ORIGIN sub.example.\n" + soa(7));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("SOA other than the zone's"), std::string::npos) << st.error();
}

TEST_F(AxfrClientTest, Rfc5936ClosingSoaMustEqualTheOpeningOne) {
  auto st = feed(soa(7) + "www A 192.0.2.80\n" + soa(7, "ns2"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("closing SOA differs"), std::string::npos) << st.error();
  EXPECT_FALSE(client_.done());
}

TEST_F(AxfrClientTest, Rfc5936RecordsAfterTheClosingSoaAreAnError) {
  auto st = feed(soa(7) + "www A 192.0.2.80\n" + soa(7) + "late A 192.0.2.99\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("after the closing SOA"), std::string::npos) << st.error();
}

TEST_F(AxfrClientTest, Rfc5936MessageAfterTheClosingSoaIsAnError) {
  ASSERT_TRUE(feed(soa(7) + soa(7)).ok());
  auto st = feed("late A 192.0.2.99\n", false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("after the closing SOA"), std::string::npos) << st.error();
}

TEST_F(AxfrClientTest, RecordOfAnotherClassIsRejected) {
  auto st = feed(with_chaos(soa(7) + "txt TXT \"chaos\"\n" + soa(7), 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("class"), std::string::npos) << st.error();
}

TEST_F(AxfrClientTest, OpeningSoaOfAnotherClassIsRejected) {
  auto st = feed(with_chaos(soa(7), 0));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("class"), std::string::npos) << st.error();
}

// A sink error (say, a record outside the zone for the snapshot writer) stops the transfer.
TEST(AxfrClientSink, SinkErrorsStopTheTransfer) {
  struct Refusing final : RecordSink {
    Status add(const knot_rrset_t &rr) override {
      if (rr.type == KNOT_RRTYPE_TXT) {
        return fail("sink says no");
      }
      return Ok{};
    }
  } sink;
  Name apex(kApex);
  AxfrClient client(apex, sink);
  auto m = message(soa(7) + "t TXT \"x\"\n" + soa(7));
  auto st = client.consume(m->get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "sink says no");
  EXPECT_FALSE(client.done());
}

// End to end with the real sink: messages -> SnapshotSink -> published snapshot.
class AxfrIntoStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    spec_.name = kApex;
    Name apex(kApex);
    spec_.apex.assign(apex.get(), apex.get() + apex.size());
  }
  std::unique_ptr<SnapshotSink> open_sink() {
    store::SourceInfo src;
    src.kind = store::SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    auto w = store::SnapshotWriter::begin(*env_, Name(kApex), src);
    EXPECT_TRUE(w.ok()) << w.error();
    return std::make_unique<SnapshotSink>(std::move(*w), vanity_);
  }
  test::TempDir dir_;
  std::unique_ptr<store::Env> env_;
  ZoneSpec spec_;
  Vanity vanity_{spec_};
};

TEST_F(AxfrIntoStoreTest, Rfc5936TransferredZoneIsPublishedWithItsSerial) {
  auto sink = open_sink();
  Name apex(kApex);
  AxfrClient client(apex, *sink);
  auto m1 = message(soa(2024010101) + "@ NS ns1\nns1 A 192.0.2.1\n");
  auto m2 = message("www A 192.0.2.80\nwww AAAA 2001:db8::80\n" + soa(2024010101), false);
  ASSERT_TRUE(client.consume(m1->get()).ok());
  m1.reset(); // messages are freed as they are consumed: nothing may point into them
  ASSERT_TRUE(client.consume(m2->get()).ok());
  m2.reset();
  ASSERT_TRUE(client.done());
  auto pub = sink->publish();
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 2024010101u);
  EXPECT_EQ(pub->records, 5u);
  auto zone = store::read_zone(*env_, Name(kApex));
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->record.serial, 2024010101u);
  EXPECT_EQ(zone->record.source_kind, store::SourceKind::kTransfer);
  EXPECT_EQ(zone->source, "192.0.2.1@53");
  expect_zone(*env_, kApex,
              soa(2024010101) + "@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n"
                                "www AAAA 2001:db8::80\n");

  // Served through the reader like any other zone.
  store::ReadTxn rt(*env_);
  ASSERT_TRUE(rt.begin());
  store::Reader reader(rt);
  store::ZoneHandle h;
  ASSERT_TRUE(reader.find_zone(Name("www.example."), h));
  store::NodeView node;
  ASSERT_TRUE(reader.get(h, test::key_of("www.example.", kApex), node));
  store::RRsetView a;
  EXPECT_TRUE(node.find(KNOT_RRTYPE_A, a));
  EXPECT_TRUE(node.find(KNOT_RRTYPE_AAAA, a));
}

TEST_F(AxfrIntoStoreTest, RecordOutsideTheZoneFailsTheTransfer) {
  auto sink = open_sink();
  Name apex(kApex);
  AxfrClient client(apex, *sink);
  auto m = message(soa(5) + "www.example.org. A 192.0.2.80\n" + soa(5));
  auto st = client.consume(m->get());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("outside the zone"), std::string::npos) << st.error();
}

} // namespace
} // namespace holdfast::xfr
