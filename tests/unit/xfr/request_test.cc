// SPDX-License-Identifier: MIT
// Requests to masters and reply checks (xfr/request.h): the wire of SOA/AXFR/IXFR queries, and
// every reply message's id, QR, opcode, question, RCODE and TSIG checks.
#include "xfr/request.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/xfr/xfr_fixture.h"

namespace holdfast::xfr {
namespace {

using namespace testing; // NOLINT: xfr test helpers

constexpr uint16_t kId = 0x1234;

std::vector<uint8_t> request(uint16_t qtype, uint32_t serial, TsigClient &tsig,
                             const std::string &apex = kApex) {
  std::vector<uint8_t> buf(kRequestMax);
  auto len = make_request(buf.data(), Name(apex), qtype, kId, serial, tsig);
  EXPECT_TRUE(len.ok()) << len.error();
  buf.resize(len.ok() ? *len : 0);
  return buf;
}

TEST(XfrRequest, SoaQueryAsksForTheApexSoa) {
  TsigClient none(nullptr);
  Parsed q(request(KNOT_RRTYPE_SOA, 0, none));
  EXPECT_EQ(knot_wire_get_id(q.get()->wire), kId);
  EXPECT_FALSE(knot_wire_get_qr(q.get()->wire));
  EXPECT_EQ(knot_wire_get_opcode(q.get()->wire), KNOT_OPCODE_QUERY);
  EXPECT_EQ(knot_pkt_qtype(q.get()), KNOT_RRTYPE_SOA);
  EXPECT_EQ(knot_pkt_qclass(q.get()), KNOT_CLASS_IN);
  EXPECT_TRUE(knot_dname_is_equal(knot_pkt_qname(q.get()), Name(kApex)));
  EXPECT_EQ(knot_wire_get_ancount(q.get()->wire), 0);
  EXPECT_EQ(knot_wire_get_nscount(q.get()->wire), 0);
  EXPECT_EQ(q.get()->tsig_rr, nullptr);
}

TEST(XfrRequest, AxfrQueryHasOnlyTheQuestion) {
  TsigClient none(nullptr);
  Parsed q(request(KNOT_RRTYPE_AXFR, 77, none));
  EXPECT_EQ(knot_pkt_qtype(q.get()), KNOT_RRTYPE_AXFR);
  EXPECT_EQ(knot_wire_get_nscount(q.get()->wire), 0) << "only IXFR carries our SOA";
}

// RFC 1995 3: the IXFR query carries the client's SOA (its serial) in the authority section.
TEST(Rfc1995IxfrRequest, AuthoritySectionCarriesOurSerial) {
  TsigClient none(nullptr);
  Parsed q(request(KNOT_RRTYPE_IXFR, 2024010101, none));
  EXPECT_EQ(knot_pkt_qtype(q.get()), KNOT_RRTYPE_IXFR);
  const knot_pktsection_t *ns = knot_pkt_section(q.get(), KNOT_AUTHORITY);
  ASSERT_EQ(ns->count, 1);
  const knot_rrset_t *soa = knot_pkt_rr(ns, 0);
  EXPECT_EQ(soa->type, KNOT_RRTYPE_SOA);
  EXPECT_TRUE(knot_dname_is_equal(soa->owner, Name(kApex)));
  EXPECT_EQ(soa_serial(*soa), 2024010101u);
}

TEST(Rfc8945XfrRequest, RequestIsSignedWhenTheMasterHasAKey) {
  auto k = key();
  TsigClient tsig(k);
  Parsed q(request(KNOT_RRTYPE_AXFR, 0, tsig));
  ASSERT_NE(q.get()->tsig_rr, nullptr);
  uint16_t tsig_rcode = 0;
  auto st = tsig_server_check(q.get(), *k, tsig_rcode);
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST(XfrRequest, RcodeNamesAreReadable) {
  EXPECT_EQ(rcode_name(KNOT_RCODE_NOERROR), "NOERROR");
  EXPECT_EQ(rcode_name(KNOT_RCODE_REFUSED), "REFUSED");
  EXPECT_EQ(rcode_name(KNOT_RCODE_NOTAUTH), "NOTAUTH");
  EXPECT_EQ(rcode_name(4000), "RCODE4000");
}

TEST(XfrParseReply, GarbageIsMalformed) {
  std::vector<uint8_t> wire = {0x12, 0x34, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00,
                               0x00, 0x00, 0x00, 0x00, 0x07, 'e',  'x'}; // question name cut short
  knot_pkt_t *pkt = knot_pkt_new(wire.data(), static_cast<uint16_t>(wire.size()), nullptr);
  ASSERT_NE(pkt, nullptr);
  auto st = parse_reply(pkt);
  knot_pkt_free(pkt);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("malformed"), std::string::npos) << st.error();
}

TEST(XfrParseReply, WellFormedReplyParses) {
  Reply r;
  r.answer = rrs(soa(1));
  std::vector<uint8_t> wire = build(r);
  knot_pkt_t *pkt = knot_pkt_new(wire.data(), static_cast<uint16_t>(wire.size()), nullptr);
  ASSERT_NE(pkt, nullptr);
  EXPECT_TRUE(parse_reply(pkt).ok());
  EXPECT_EQ(knot_pkt_section(pkt, KNOT_ANSWER)->count, 1);
  knot_pkt_free(pkt);
}

struct CheckCase {
  const char *why;
  Reply reply;
  bool first;
  const char *error; // nullptr: accepted; else a word the error must contain
};

Reply with(void (*edit)(Reply &)) {
  Reply r;
  r.qtype = KNOT_RRTYPE_AXFR;
  r.answer = rrs(soa(1));
  edit(r);
  return r;
}

TEST(XfrCheckReply, EachMessageIsCheckedBeforeItsRecords) {
  const CheckCase cases[] = {
      {"matching first reply", with([](Reply &) {}), true, nullptr},
      {"wrong id", with([](Reply &r) { r.id = kId + 1; }), true, "message id"},
      {"not a response (QR clear)", with([](Reply &r) { r.qr = false; }), true, "not a response"},
      {"opcode NOTIFY", with([](Reply &r) { r.opcode = KNOT_OPCODE_NOTIFY; }), true, "opcode"},
      {"question for another zone", with([](Reply &r) { r.qname = "example.org."; }), true,
       "question"},
      {"question for another type", with([](Reply &r) { r.qtype = KNOT_RRTYPE_IXFR; }), true,
       "question"},
      {"first message without a question", with([](Reply &r) { r.question = false; }), true,
       "question"},
      // RFC 5936 2.2.1: later messages may omit the question, but one that is present must match.
      {"later message without a question", with([](Reply &r) { r.question = false; }), false,
       nullptr},
      {"later message with a wrong question", with([](Reply &r) { r.qname = "example.org."; }),
       false, "question"},
      {"question name in another case (RFC 4343)", with([](Reply &r) { r.qname = "EXAMPLE."; }),
       true, nullptr},
      {"REFUSED", with([](Reply &r) { r.rcode = KNOT_RCODE_REFUSED; }), true, "REFUSED"},
      {"NOTAUTH", with([](Reply &r) { r.rcode = KNOT_RCODE_NOTAUTH; }), true, "NOTAUTH"},
      {"SERVFAIL", with([](Reply &r) { r.rcode = KNOT_RCODE_SERVFAIL; }), true, "SERVFAIL"},
  };
  for (const auto &c : cases) {
    TsigClient none(nullptr);
    Parsed p(build(c.reply));
    auto st = check_reply(p.get(), kId, Name(kApex), KNOT_RRTYPE_AXFR, c.first, none);
    if (c.error == nullptr) {
      EXPECT_TRUE(st.ok()) << c.why << ": " << st.error();
    } else {
      ASSERT_FALSE(st.ok()) << c.why;
      EXPECT_NE(st.error().find(c.error), std::string::npos) << c.why << ": " << st.error();
    }
  }
}

class XfrCheckReplyTsig : public ::testing::Test {
protected:
  void SetUp() override {
    key_ = key();
    client_ = std::make_unique<TsigClient>(key_);
    request_ = std::make_unique<Parsed>(request(KNOT_RRTYPE_AXFR, 0, *client_));
    master_ = std::make_unique<MasterSigner>(*key_, request_.get()->get());
  }
  Status check(const std::vector<uint8_t> &wire, bool first) {
    Parsed p(wire);
    return check_reply(p.get(), kId, Name(kApex), KNOT_RRTYPE_AXFR, first, *client_);
  }
  std::shared_ptr<const TsigKey> key_;
  std::unique_ptr<TsigClient> client_;
  std::unique_ptr<Parsed> request_;
  std::unique_ptr<MasterSigner> master_;
};

TEST_F(XfrCheckReplyTsig, SignedStreamPasses) {
  Reply first;
  first.answer = rrs(soa(1) + "www A 192.0.2.1\n");
  Reply later;
  later.question = false;
  later.answer = rrs("ftp A 192.0.2.2\n" + soa(1));
  auto st = check(master_->sign(build(first)), true);
  ASSERT_TRUE(st.ok()) << st.error();
  st = check(master_->sign(build(later)), false);
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_->finish().ok());
}

TEST_F(XfrCheckReplyTsig, Rfc8945UnsignedReplyFailsWhenAKeyIsConfigured) {
  Reply r;
  r.answer = rrs(soa(1));
  auto st = check(build(r), true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG"), std::string::npos) << st.error();
}

TEST_F(XfrCheckReplyTsig, ReplySignedWithAnotherSecretFails) {
  auto other = key("xfr-key.", kOtherSecret);
  MasterSigner impostor(*other, request_->get());
  Reply r;
  r.answer = rrs(soa(1));
  auto st = check(impostor.sign(build(r)), true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG"), std::string::npos) << st.error();
}

// RFC 8945 5.3.2: the master's NOTAUTH comes with an unsigned TSIG naming the problem; the
// error names both.
TEST_F(XfrCheckReplyTsig, Rfc8945MasterTsigErrorIsNamedWithTheRcode) {
  Reply r;
  r.rcode = KNOT_RCODE_NOTAUTH;
  std::vector<uint8_t> wire = build(r);
  size_t len = wire.size();
  wire.resize(len + 512);
  ASSERT_EQ(
      knot_tsig_add(wire.data(), &len, wire.size(), KNOT_RCODE_BADKEY, request_->get()->tsig_rr),
      KNOT_EOK);
  wire.resize(len);
  auto st = check(wire, true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("NOTAUTH"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find("BADKEY"), std::string::npos) << st.error();
}

} // namespace
} // namespace holdfast::xfr
