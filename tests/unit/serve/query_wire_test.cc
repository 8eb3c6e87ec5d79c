// SPDX-License-Identifier: MIT
// QueryProcessor::process() on the message level: RCODEs for what is not answered (REFUSED,
// FORMERR, NOTIMP, NOTAUTH), EDNS (RFC 6891, 3225, 5001), truncation and sizes, dropped packets.
#include "serve/query.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

// The same store and helpers as query_test.cc; its own suite name.
class QueryWireTest : public QueryTest {};

TEST_F(QueryWireTest, RefusedOutsideServedZones) {
  auto r = ask("www.example.org.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_REFUSED);
  EXPECT_FALSE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{});
}

TEST_F(QueryWireTest, RefusedForUnknownClasses) {
  QueryOptions none;
  none.qclass = KNOT_CLASS_NONE;
  auto r = ask("www.example.", KNOT_RRTYPE_A, none);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_REFUSED);
  EXPECT_EQ(r->answer(), Lines{});
}

TEST_F(QueryWireTest, Rfc5936AxfrIsNotAuthorizedOverTcpAndNotImplementedOverUdp) {
  // Transfer-out does not exist yet: over TCP the client is "not authorized" (as Knot DNS
  // answers without an ACL); AXFR over UDP is not a thing (RFC 5936 4.2).
  auto tcp = ask("example.", KNOT_RRTYPE_AXFR, {}, /*tcp=*/true);
  EXPECT_EQ(tcp->rcode(), KNOT_RCODE_NOTAUTH);
  EXPECT_EQ(tcp->answer(), Lines{});
  auto udp = ask("example.", KNOT_RRTYPE_AXFR);
  EXPECT_EQ(udp->rcode(), KNOT_RCODE_NOTIMPL);
  // TYPE0 is reserved (RFC 6895 3.1).
  EXPECT_EQ(ask("example.", 0)->rcode(), KNOT_RCODE_NOTIMPL);
}

TEST_F(QueryWireTest, Rfc1035TwoQuestionsAreFormerr) {
  auto q = make_query("www.example.", KNOT_RRTYPE_A);
  // Append a copy of the question and claim QDCOUNT=2.
  std::vector<uint8_t> question(q.begin() + KNOT_WIRE_HEADER_SIZE, q.end());
  q.insert(q.end(), question.begin(), question.end());
  knot_wire_set_qdcount(q.data(), 2);
  Response r(run(q));
  ASSERT_TRUE(r.parsed());
  EXPECT_TRUE(r.qr());
  EXPECT_EQ(r.id(), 0xbeef);
  EXPECT_EQ(r.rcode(), KNOT_RCODE_FORMERR);
  EXPECT_EQ(r.answer(), Lines{});
}

TEST_F(QueryWireTest, Rfc1035NoQuestionIsFormerr) {
  auto q = make_query("www.example.", KNOT_RRTYPE_A);
  q.resize(KNOT_WIRE_HEADER_SIZE);
  knot_wire_set_qdcount(q.data(), 0);
  Response r(run(q));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(r.rcode(), KNOT_RCODE_FORMERR);
  EXPECT_EQ(r.size(), size_t{KNOT_WIRE_HEADER_SIZE});
}

TEST_F(QueryWireTest, TruncatedQuestionIsFormerr) {
  auto q = make_query("www.example.", KNOT_RRTYPE_A);
  q.resize(q.size() - 3); // cut into QTYPE/QCLASS
  Response r(run(q));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(r.rcode(), KNOT_RCODE_FORMERR);
}

TEST_F(QueryWireTest, Rfc1035UpdateOpcodeIsNotImplemented) {
  QueryOptions o;
  o.opcode = KNOT_OPCODE_UPDATE;
  auto r = ask("example.", KNOT_RRTYPE_SOA, o);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOTIMPL);
  EXPECT_EQ(knot_wire_get_opcode(r->wire()), KNOT_OPCODE_UPDATE);
  EXPECT_FALSE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
}

TEST_F(QueryWireTest, Rfc6891UnknownEdnsVersionIsBadvers) {
  QueryOptions o;
  o.edns = true;
  o.version = 1;
  auto r = ask("www.example.", KNOT_RRTYPE_A, o);
  // RFC 6891 6.1.3: BADVERS (16) needs the OPT's extended RCODE; the version we speak is 0.
  EXPECT_EQ(r->rcode(), KNOT_RCODE_BADVERS);
  EXPECT_EQ(knot_wire_get_rcode(r->wire()), KNOT_RCODE_BADVERS & 0x0f);
  ASSERT_NE(r->opt(), nullptr);
  EXPECT_EQ(knot_edns_get_ext_rcode(r->opt()), KNOT_RCODE_BADVERS >> 4);
  EXPECT_EQ(knot_edns_get_version(r->opt()), 0);
  EXPECT_EQ(r->answer(), Lines{});
}

TEST_F(QueryWireTest, Rfc6891ResponseOptCarriesOurPayloadAndVersionZero) {
  QueryOptions o;
  o.edns = true;
  o.payload = 4096;
  auto r = ask("www.example.", KNOT_RRTYPE_A, o);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  ASSERT_NE(r->opt(), nullptr);
  EXPECT_EQ(knot_edns_get_payload(r->opt()), 1400); // ServeOptions::udp_max_payload
  EXPECT_EQ(knot_edns_get_version(r->opt()), 0);
  EXPECT_EQ(knot_edns_get_ext_rcode(r->opt()), 0);
  EXPECT_FALSE(knot_edns_do(r->opt()));
  EXPECT_EQ(r->answer(), Lines{"www.example. 3600 A 192.0.2.80"});
}

TEST_F(QueryWireTest, Rfc6891NoOptWithoutEdnsInTheQuery) {
  auto r = ask("www.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->opt(), nullptr);
  EXPECT_EQ(knot_wire_get_arcount(r->wire()), 0);
}

TEST_F(QueryWireTest, Rfc3225DoBitIsEchoed) {
  QueryOptions o;
  o.edns = true;
  o.dnssec_ok = true;
  auto r = ask("www.example.", KNOT_RRTYPE_A, o);
  ASSERT_NE(r->opt(), nullptr);
  EXPECT_TRUE(knot_edns_do(r->opt()));
  // And on negative answers too.
  auto nx = ask("nope.example.", KNOT_RRTYPE_A, o);
  ASSERT_NE(nx->opt(), nullptr);
  EXPECT_TRUE(knot_edns_do(nx->opt()));
  EXPECT_EQ(nx->rcode(), KNOT_RCODE_NXDOMAIN);
}

TEST_F(QueryWireTest, Rfc1035BigAnswerOverUdpWithoutEdnsIsTruncated) {
  auto r = ask("big.example.", KNOT_RRTYPE_TXT);
  EXPECT_LE(r->size(), 512u);
  EXPECT_TRUE(r->tc());
  EXPECT_EQ(r->answer(), Lines{}); // an RRset is never split
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
}

TEST_F(QueryWireTest, Rfc7766BigAnswerOverTcpIsComplete) {
  auto r = ask("big.example.", KNOT_RRTYPE_TXT, {}, /*tcp=*/true);
  EXPECT_FALSE(r->tc());
  EXPECT_EQ(r->answer().size(), 40u);
  EXPECT_GT(r->size(), 1400u);
}

TEST_F(QueryWireTest, Rfc6891ClientPayloadBoundsTheUdpResponse) {
  // "medium" is about 800 bytes: it fits 1232 but not 512 (nor less: RFC 6891 6.2.5 floor).
  QueryOptions small;
  small.edns = true;
  small.payload = 512;
  auto r = ask("medium.example.", KNOT_RRTYPE_TXT, small);
  EXPECT_TRUE(r->tc());
  EXPECT_LE(r->size(), 512u);
  ASSERT_NE(r->opt(), nullptr) << "the OPT must survive truncation";

  QueryOptions tiny = small;
  tiny.payload = 100;
  auto t = ask("www.example.", KNOT_RRTYPE_A, tiny);
  EXPECT_FALSE(t->tc()) << "payloads below 512 are treated as 512";
  EXPECT_EQ(t->answer().size(), 1u);

  QueryOptions large = small;
  large.payload = 1232;
  auto l = ask("medium.example.", KNOT_RRTYPE_TXT, large);
  EXPECT_FALSE(l->tc());
  EXPECT_EQ(l->answer().size(), 18u);
  EXPECT_GT(l->size(), 512u);
  EXPECT_LE(l->size(), 1232u);

  // Our own limit (1400) caps a larger client payload.
  QueryOptions huge = small;
  huge.payload = 65000;
  auto h = ask("big.example.", KNOT_RRTYPE_TXT, huge);
  EXPECT_TRUE(h->tc());
  EXPECT_LE(h->size(), 1400u);
}

TEST_F(QueryWireTest, Rfc1035ResponsesAndRuntsAreDropped) {
  auto q = make_query("www.example.", KNOT_RRTYPE_A);
  auto resp = q;
  knot_wire_set_qr(resp.data());
  EXPECT_EQ(run(resp).size(), 0u) << "a response must never be answered";
  for (size_t n : {size_t{0}, size_t{1}, size_t{11}}) {
    std::vector<uint8_t> runt(q.begin(), q.begin() + n);
    EXPECT_EQ(run(runt).size(), 0u) << n << " bytes";
  }
  // A bare 12-byte header is answered (FORMERR), not dropped.
  std::vector<uint8_t> header(q.begin(), q.begin() + KNOT_WIRE_HEADER_SIZE);
  EXPECT_EQ(run(header).size(), size_t{KNOT_WIRE_HEADER_SIZE});
}

TEST_F(QueryWireTest, ChaosVersionBindWhenConfigured) {
  QueryOptions ch;
  ch.qclass = KNOT_CLASS_CH;
  auto v = ask("version.bind.", KNOT_RRTYPE_TXT, ch);
  EXPECT_EQ(v->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_FALSE(v->aa()) << "not authoritative data, as Knot DNS and BIND answer it";
  EXPECT_EQ(v->answer(), Lines{"version.bind. 0 TXT \"holdfast-unit\""});
  // identity is empty in these options: REFUSED.
  auto id = ask("id.server.", KNOT_RRTYPE_TXT, ch);
  EXPECT_EQ(id->rcode(), KNOT_RCODE_REFUSED);
}

TEST_F(QueryWireTest, Rfc5001NsidOnlyWhenAsked) {
  QueryOptions o;
  o.edns = true;
  auto plain = ask("www.example.", KNOT_RRTYPE_A, o);
  ASSERT_NE(plain->opt(), nullptr);
  EXPECT_EQ(knot_edns_get_option(plain->opt(), KNOT_EDNS_OPTION_NSID, nullptr), nullptr);

  o.nsid = true;
  auto asked = ask("www.example.", KNOT_RRTYPE_A, o);
  ASSERT_NE(asked->opt(), nullptr);
  uint8_t *opt = knot_edns_get_option(asked->opt(), KNOT_EDNS_OPTION_NSID, nullptr);
  ASSERT_NE(opt, nullptr);
  uint16_t len = knot_edns_opt_get_length(opt);
  std::string payload(reinterpret_cast<const char *>(knot_edns_opt_get_data(opt)), len);
  EXPECT_EQ(payload, "unit-ns");
  EXPECT_EQ(asked->answer(), Lines{"www.example. 3600 A 192.0.2.80"});
}

} // namespace
} // namespace holdfast::serve::testing
