// SPDX-License-Identifier: MIT
// QueryProcessor and TSIG-signed queries (RFC 8945 5.2): a known key gets a signed answer, an
// unknown key BADKEY, a bad MAC BADSIG; the TSIG RR always fits (TC rather than no TSIG).
#include "serve/query.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"
#include "common/tsig.h"
#include "serve/tsig_query.h"

#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

constexpr const char *kSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
constexpr const char *kOther = "b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVy";

std::shared_ptr<const TsigKey> make_key(const std::string &name, const char *secret = kSecret) {
  auto k = TsigKey::make(name, "hmac-sha256", secret);
  EXPECT_TRUE(k.ok());
  return *k;
}

class QueryTsigTest : public QueryTest {
protected:
  void SetUp() override {
    QueryTest::SetUp();
    ring_ = std::make_unique<TsigKeyring>(TsigKeys{make_key("query-key."), make_key("other.")});
    ServeOptions opts;
    opts.udp_max_payload = 1400;
    opts.keys = ring_.get();
    qp_ = std::make_unique<QueryProcessor>(*env_, opts);
  }
  // A query signed by `client` (its MAC kept to verify the answer).
  std::vector<uint8_t> signed_query(TsigClient &client, const std::string &qname, uint16_t qtype,
                                    QueryOptions o = {}) {
    auto q = make_query(qname, qtype, o);
    size_t len = q.size();
    q.resize(len + 512);
    auto st = client.sign(q.data(), len, q.size());
    EXPECT_TRUE(st.ok()) << st.error();
    q.resize(len);
    return q;
  }
  std::unique_ptr<TsigKeyring> ring_;
};

TEST_F(QueryTsigTest, Rfc8945SignedQueryWithAKnownKeyGetsASignedAnswer) {
  TsigClient client(make_key("Query-Key.")); // key names compare case-insensitively
  Response r(run(signed_query(client, "www.example.", KNOT_RRTYPE_A)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(r.rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r.aa());
  EXPECT_EQ(r.answer(), Lines{"www.example. 3600 A 192.0.2.80"});
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.pkt()->tsig_rr), 0);
  auto v = client.verify(r.pkt());
  EXPECT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(client.finish().ok());
}

TEST_F(QueryTsigTest, Rfc8945SignedQueryWithEdnsKeepsOptBeforeTsig) {
  TsigClient client(make_key("query-key."));
  QueryOptions o;
  o.edns = true;
  Response r(run(signed_query(client, "www.example.", KNOT_RRTYPE_A, o)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(r.rcode(), KNOT_RCODE_NOERROR);
  ASSERT_NE(r.opt(), nullptr);
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_TRUE(client.verify(r.pkt()).ok());
}

TEST_F(QueryTsigTest, Rfc8945UnknownKeyIsNotauthBadkeyUnsigned) {
  TsigClient client(make_key("stranger."));
  QueryOptions o;
  o.edns = true;
  Response r(run(signed_query(client, "www.example.", KNOT_RRTYPE_A, o)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(knot_wire_get_rcode(r.wire()), KNOT_RCODE_NOTAUTH);
  EXPECT_EQ(r.answer(), Lines{});
  EXPECT_EQ(r.qname_text(), "www.example.");
  EXPECT_NE(r.opt(), nullptr); // RFC 6891 7, as Knot DNS answers
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.pkt()->tsig_rr), KNOT_RCODE_BADKEY);
  EXPECT_EQ(knot_tsig_rdata_mac_length(r.pkt()->tsig_rr), 0u); // RFC 8945 5.3.2
}

TEST_F(QueryTsigTest, Rfc8945WrongSecretIsNotauthBadsig) {
  TsigClient client(make_key("query-key.", kOther));
  Response r(run(signed_query(client, "www.example.", KNOT_RRTYPE_A)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(knot_wire_get_rcode(r.wire()), KNOT_RCODE_NOTAUTH);
  EXPECT_EQ(r.answer(), Lines{});
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.pkt()->tsig_rr), KNOT_RCODE_BADSIG);
  EXPECT_EQ(knot_tsig_rdata_mac_length(r.pkt()->tsig_rr), 0u);
}

TEST_F(QueryTsigTest, Rfc8945CorruptedMacIsNotauthBadsig) {
  TsigClient client(make_key("query-key."));
  auto q = signed_query(client, "www.example.", KNOT_RRTYPE_A);
  // The MAC sits before original ID, error and other length (6 bytes) at the end.
  q[q.size() - 6 - 5] ^= 0xff;
  Response r(run(q));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(knot_wire_get_rcode(r.wire()), KNOT_RCODE_NOTAUTH);
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.pkt()->tsig_rr), KNOT_RCODE_BADSIG);
}

TEST_F(QueryTsigTest, Rfc8945WithoutKeysEverySignedQueryIsBadkey) {
  ServeOptions opts; // no keyring at all
  qp_ = std::make_unique<QueryProcessor>(*env_, opts);
  TsigClient client(make_key("query-key."));
  Response r(run(signed_query(client, "www.example.", KNOT_RRTYPE_A)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(knot_wire_get_rcode(r.wire()), KNOT_RCODE_NOTAUTH);
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.pkt()->tsig_rr), KNOT_RCODE_BADKEY);
}

// RFC 8945 5.3: the TSIG RR must fit; an answer too large for it is truncated (TC) and still
// signed, as Knot DNS does.
TEST_F(QueryTsigTest, Rfc8945AnswerTooLargeForTheTsigIsTruncatedAndSigned) {
  TsigClient client(make_key("query-key."));
  Response r(run(signed_query(client, "big.example.", KNOT_RRTYPE_TXT)));
  ASSERT_TRUE(r.parsed());
  EXPECT_TRUE(r.tc());
  EXPECT_LE(r.size(), size_t{KNOT_WIRE_MIN_PKTSIZE});
  ASSERT_NE(r.pkt()->tsig_rr, nullptr);
  auto v = client.verify(r.pkt());
  EXPECT_TRUE(v.ok()) << v.error();
  // Over TCP the same kind of answer is whole and signed.
  TsigClient c2(make_key("query-key."));
  Response m(run(signed_query(c2, "medium.example.", KNOT_RRTYPE_TXT), /*tcp=*/true));
  ASSERT_TRUE(m.parsed());
  EXPECT_FALSE(m.tc());
  EXPECT_EQ(m.answer().size(), 18u);
  EXPECT_TRUE(c2.verify(m.pkt()).ok());
}

} // namespace
} // namespace holdfast::serve::testing
