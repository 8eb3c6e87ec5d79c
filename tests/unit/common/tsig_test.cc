// SPDX-License-Identifier: MIT
// TSIG (common/tsig.h, RFC 8945): keys, the client's multi-message session against responses
// signed by libknot as a master signs them, and the server side used for NOTIFY.
#include "common/tsig.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/common/message.h"

namespace holdfast {
namespace {

using test::MasterSigner;
using test::Parsed;
using test::Reply;

// A transfer request as the client sends it, signed by `client`.
std::vector<uint8_t> signed_request(TsigClient &client, uint16_t id = 0x1234) {
  Reply q;
  q.id = id;
  q.qr = false;
  q.qtype = KNOT_RRTYPE_AXFR;
  std::vector<uint8_t> wire = test::build(q);
  size_t len = wire.size();
  wire.resize(512);
  auto st = client.sign(wire.data(), len, wire.size());
  EXPECT_TRUE(st.ok()) << st.error();
  wire.resize(len);
  return wire;
}

// Message n of an AXFR stream: the question only on the first (RFC 5936 2.2.1).
std::vector<uint8_t> stream_message(int n, uint16_t id = 0x1234) {
  Reply r;
  r.id = id;
  r.question = n == 0;
  r.answer = test::rrs("m" + std::to_string(n) + " A 192.0.2." + std::to_string(n + 1) + "\n");
  return test::build(r);
}

class TsigSessionTest : public ::testing::Test {
protected:
  void SetUp() override {
    key_ = test::key();
    ASSERT_NE(key_, nullptr);
    request_ = std::make_unique<Parsed>(signed_request(client_));
    master_ = std::make_unique<MasterSigner>(*key_, request_->get());
  }
  Status verify(const std::vector<uint8_t> &wire) {
    Parsed p(wire);
    return client_.verify(p.get());
  }

  std::shared_ptr<const TsigKey> key_;
  TsigClient client_{test::key()};
  std::unique_ptr<Parsed> request_;
  std::unique_ptr<MasterSigner> master_;
};

TEST(TsigKey, UnknownAlgorithmIsAnErrorNamingTheKey) {
  auto k = TsigKey::make("xfr-key.", "hmac-nonsense", "c2VjcmV0");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().find("xfr-key."), std::string::npos) << k.error();
}

TEST(TsigKey, SecretThatIsNotBase64IsAnError) {
  auto k = TsigKey::make("xfr-key.", "hmac-sha256", "not base64 !!!");
  EXPECT_FALSE(k.ok());
}

TEST(TsigKey, KeepsItsName) {
  auto k = test::key("Transfer.Key.");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->name(), "Transfer.Key.");
  EXPECT_NE(k->raw()->name, nullptr);
}

TEST(TsigErrorText, NamesTheRfc8945ErrorCodes) {
  EXPECT_EQ(tsig_error_text(KNOT_RCODE_BADSIG), "BADSIG");
  EXPECT_EQ(tsig_error_text(KNOT_RCODE_BADKEY), "BADKEY");
  EXPECT_EQ(tsig_error_text(KNOT_RCODE_BADTIME), "BADTIME");
  EXPECT_EQ(tsig_error_text(KNOT_RCODE_BADTRUNC), "BADTRUNC");
  EXPECT_EQ(tsig_error_text(KNOT_TSIG_EBADSIG), knot_strerror(KNOT_TSIG_EBADSIG));
}

TEST(TsigWithoutKey, NothingIsSignedOrRequired) {
  TsigClient client(nullptr);
  std::vector<uint8_t> before = test::build(Reply{});
  std::vector<uint8_t> wire = before;
  size_t len = wire.size();
  wire.resize(512);
  ASSERT_TRUE(client.sign(wire.data(), len, wire.size()).ok());
  EXPECT_EQ(len, before.size()) << "a request without a key must not grow";
  Parsed reply(stream_message(0));
  EXPECT_TRUE(client.verify(reply.get()).ok());
  EXPECT_TRUE(client.finish().ok());
}

// RFC 8945 5.3.1: the first response is signed over the request MAC.
TEST_F(TsigSessionTest, Rfc8945SingleSignedResponseVerifies) {
  auto st = verify(master_->sign(stream_message(0)));
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_.finish().ok());
}

TEST_F(TsigSessionTest, Rfc8945EveryMessageSignedStreamVerifies) {
  for (int i = 0; i < 4; ++i) {
    auto st = verify(master_->sign(stream_message(i)));
    ASSERT_TRUE(st.ok()) << "message " << i << ": " << st.error();
  }
  EXPECT_TRUE(client_.finish().ok());
}

// RFC 8945 5.3.1: messages between signed ones may be unsigned; the next signed message's MAC
// covers them.
TEST_F(TsigSessionTest, Rfc8945UnsignedIntermediateMessagesAreCoveredByTheNextSignature) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  EXPECT_TRUE(verify(master_->skip(stream_message(1))).ok());
  EXPECT_TRUE(verify(master_->skip(stream_message(2))).ok());
  EXPECT_FALSE(client_.finish().ok()) << "stream is not finished while messages are unsigned";
  auto st = verify(master_->sign(stream_message(3)));
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(verify(master_->skip(stream_message(4))).ok());
  st = verify(master_->sign(stream_message(5)));
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_.finish().ok());
}

TEST_F(TsigSessionTest, Rfc8945TamperedUnsignedMessageFailsTheNextSignature) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  std::vector<uint8_t> middle = master_->skip(stream_message(1));
  middle.back() ^= 1; // last rdata byte: 192.0.2.2 -> 192.0.2.3, as an attacker on path would
  EXPECT_TRUE(verify(middle).ok()) << "unsigned messages are only judged by the next signature";
  auto st = verify(master_->sign(stream_message(2)));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, Rfc8945FirstResponseMustBeSigned) {
  auto st = verify(stream_message(0));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG missing"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, Rfc8945LastMessageMustBeSigned) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  ASSERT_TRUE(verify(master_->skip(stream_message(1))).ok());
  auto st = client_.finish();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("last message"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, FinishWithoutAnySignedResponseFails) {
  EXPECT_FALSE(client_.finish().ok());
}

// RFC 8945 5.3.1: at most 99 unsigned messages in a row.
TEST_F(TsigSessionTest, Rfc8945NinetyNineUnsignedMessagesInARowAreAllowed) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  for (int i = 1; i <= 99; ++i) {
    ASSERT_TRUE(verify(master_->skip(stream_message(i))).ok()) << "unsigned message " << i;
  }
  auto st = verify(master_->sign(stream_message(100)));
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(client_.finish().ok());
}

TEST_F(TsigSessionTest, Rfc8945HundredthUnsignedMessageInARowFails) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  for (int i = 1; i <= 99; ++i) {
    ASSERT_TRUE(verify(master_->skip(stream_message(i))).ok()) << "unsigned message " << i;
  }
  auto st = verify(master_->skip(stream_message(100)));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG missing"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, ResponseSignedWithAnotherSecretFails) {
  auto other = test::key("xfr-key.", test::kOtherSecret);
  MasterSigner impostor(*other, request_->get());
  auto st = verify(impostor.sign(stream_message(0)));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG verification failed"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, ResponseSignedWithAnotherKeyNameFails) {
  auto other = test::key("other-key.");
  MasterSigner impostor(*other, request_->get());
  auto st = verify(impostor.sign(stream_message(0)));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("TSIG"), std::string::npos) << st.error();
}

TEST_F(TsigSessionTest, LaterMessageSignedWithAnotherSecretFails) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  // A second signer that shares the chain so far but not the secret.
  auto other = test::key("xfr-key.", test::kOtherSecret);
  MasterSigner impostor(*other, request_->get());
  (void)impostor.sign(stream_message(0));
  auto st = verify(impostor.sign(stream_message(1)));
  EXPECT_FALSE(st.ok());
}

// A response signed for another request (a replay) does not chain to our request MAC.
TEST_F(TsigSessionTest, ResponseToAnotherRequestFails) {
  TsigClient other_client(key_);
  Parsed other_request(signed_request(other_client, 0x4321));
  MasterSigner replay(*key_, other_request.get());
  EXPECT_FALSE(verify(replay.sign(stream_message(0))).ok());
}

TEST_F(TsigSessionTest, ModifiedSignedResponseFails) {
  std::vector<uint8_t> wire = master_->sign(stream_message(0));
  wire[2] ^= 0x04; // flip AA in the header
  EXPECT_FALSE(verify(wire).ok());
}

// RFC 8945 5.3.2: a master that cannot verify our request answers with an unsigned TSIG that
// carries the error; the client must report it.
TEST_F(TsigSessionTest, Rfc8945MasterReportedTsigErrorIsNamed) {
  std::vector<uint8_t> wire = stream_message(0);
  size_t len = wire.size();
  wire.resize(len + 512);
  ASSERT_EQ(
      knot_tsig_add(wire.data(), &len, wire.size(), KNOT_RCODE_BADSIG, request_->get()->tsig_rr),
      KNOT_EOK);
  wire.resize(len);
  auto st = verify(wire);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("BADSIG"), std::string::npos) << st.error();
}

// A new request restarts the session: the first response is checked against the new MAC.
TEST_F(TsigSessionTest, SigningAgainStartsANewExchange) {
  ASSERT_TRUE(verify(master_->sign(stream_message(0))).ok());
  Parsed second(signed_request(client_, 0x5555));
  MasterSigner master2(*key_, second.get());
  auto st = verify(master2.sign(stream_message(0, 0x5555)));
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_FALSE(verify(master_->sign(stream_message(1))).ok()) << "the old exchange's chain is gone";
}

// Server side (NOTIFY): the request's TSIG is checked against the configured key.
class TsigServerTest : public ::testing::Test {
protected:
  void SetUp() override { key_ = test::key(); }
  std::shared_ptr<const TsigKey> key_;
};

TEST_F(TsigServerTest, Rfc8945SignedRequestIsAccepted) {
  TsigClient client(key_);
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0xffff;
  auto st = tsig_server_check(q.get(), *key_, tsig_rcode);
  EXPECT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(tsig_rcode, 0);
}

TEST_F(TsigServerTest, UnsignedRequestFailsWithoutATsigError) {
  Parsed q(test::build(Reply{}));
  uint16_t tsig_rcode = 0xffff;
  auto st = tsig_server_check(q.get(), *key_, tsig_rcode);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("required"), std::string::npos) << st.error();
  EXPECT_EQ(tsig_rcode, 0) << "RFC 8945 5.2: an unsigned request gets no TSIG error";
}

TEST_F(TsigServerTest, Rfc8945WrongSecretIsBadsig) {
  TsigClient client(test::key("xfr-key.", test::kOtherSecret));
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0;
  auto st = tsig_server_check(q.get(), *key_, tsig_rcode);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(tsig_rcode, KNOT_RCODE_BADSIG);
  EXPECT_NE(st.error().find("BADSIG"), std::string::npos) << st.error();
}

TEST_F(TsigServerTest, Rfc8945UnknownKeyNameIsBadkey) {
  TsigClient client(test::key("someone-else."));
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0;
  auto st = tsig_server_check(q.get(), *key_, tsig_rcode);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(tsig_rcode, KNOT_RCODE_BADKEY);
}

TEST_F(TsigServerTest, Rfc8945KeyNameComparesCaseInsensitively) {
  TsigClient client(test::key("XFR-Key."));
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0;
  auto st = tsig_server_check(q.get(), *key_, tsig_rcode);
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST_F(TsigServerTest, Rfc8945TamperedRequestIsBadsig) {
  TsigClient client(key_);
  std::vector<uint8_t> wire = signed_request(client);
  wire[3] ^= 0x01; // flip a header bit covered by the MAC
  Parsed q(wire);
  uint16_t tsig_rcode = 0;
  EXPECT_FALSE(tsig_server_check(q.get(), *key_, tsig_rcode).ok());
  EXPECT_EQ(tsig_rcode, KNOT_RCODE_BADSIG);
}

// The signed response verifies on the client that sent the request.
TEST_F(TsigServerTest, Rfc8945SignedResponseVerifiesOnTheClient) {
  TsigClient client(key_);
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0;
  ASSERT_TRUE(tsig_server_check(q.get(), *key_, tsig_rcode).ok());
  std::vector<uint8_t> resp = stream_message(0);
  size_t len = resp.size();
  resp.resize(len + 512);
  auto st = tsig_server_sign(resp.data(), len, resp.size(), q.get(), *key_, 0);
  ASSERT_TRUE(st.ok()) << st.error();
  resp.resize(len);
  Parsed r(resp);
  ASSERT_NE(r.get()->tsig_rr, nullptr);
  auto v = client.verify(r.get());
  EXPECT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(client.finish().ok());
}

// RFC 8945 5.3.2: after BADSIG/BADKEY the response carries a TSIG with the error and no MAC.
TEST_F(TsigServerTest, Rfc8945ErrorResponseCarriesAnUnsignedTsigWithTheError) {
  TsigClient client(test::key("xfr-key.", test::kOtherSecret));
  Parsed q(signed_request(client));
  uint16_t tsig_rcode = 0;
  ASSERT_FALSE(tsig_server_check(q.get(), *key_, tsig_rcode).ok());
  std::vector<uint8_t> resp = stream_message(0);
  size_t len = resp.size();
  resp.resize(len + 512);
  ASSERT_TRUE(tsig_server_sign(resp.data(), len, resp.size(), q.get(), *key_, tsig_rcode).ok());
  resp.resize(len);
  Parsed r(resp);
  ASSERT_NE(r.get()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r.get()->tsig_rr), KNOT_RCODE_BADSIG);
  EXPECT_EQ(knot_tsig_rdata_mac_length(r.get()->tsig_rr), 0u);
}

TEST_F(TsigServerTest, ErrorResponseToAnUnsignedRequestStaysUnsigned) {
  Parsed q(test::build(Reply{}));
  std::vector<uint8_t> resp = stream_message(0);
  size_t len = resp.size();
  size_t before = len;
  resp.resize(len + 512);
  ASSERT_TRUE(
      tsig_server_sign(resp.data(), len, resp.size(), q.get(), *key_, KNOT_RCODE_BADKEY).ok());
  EXPECT_EQ(len, before);
}

} // namespace
} // namespace holdfast
