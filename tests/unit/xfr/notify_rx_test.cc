// SPDX-License-Identifier: MIT
// NOTIFY intake (xfr/notify_rx.h, RFC 1996): who may notify, TSIG (RFC 8945), the answer's
// RCODE and TSIG, and the event handed to the xfr loop.
#include "xfr/notify_rx.h"

#include <netinet/in.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/xfr/xfr_fixture.h"

namespace holdfast::xfr {
namespace {

using namespace testing; // NOLINT: xfr test helpers

constexpr uint16_t kId = 0x2a2a;

Endpoint endpoint(const std::string &text) {
  auto e = parse_endpoint(text);
  EXPECT_TRUE(e.ok()) << e.error();
  return e.ok() ? *e : Endpoint{};
}

std::shared_ptr<const Master> master(const std::string &id, const std::string &address,
                                     std::shared_ptr<const TsigKey> key = nullptr) {
  auto m = std::make_shared<Master>();
  m->id = id;
  m->addresses.push_back(endpoint(address));
  m->key = std::move(key);
  return m;
}

std::shared_ptr<const ZoneSpec> zone(const std::string &apex,
                                     std::vector<std::shared_ptr<const Master>> masters) {
  auto z = std::make_shared<ZoneSpec>();
  z->name = apex;
  Name n(apex);
  z->apex.assign(n.get(), n.get() + n.size());
  z->masters = std::move(masters);
  return z;
}

// A NOTIFY as a master sends it (RFC 1996 3.3-3.7): opcode NOTIFY, AA, QTYPE SOA, and
// optionally the new SOA in the answer section; signed when `tsig` has a key.
std::vector<uint8_t> notify(const std::string &qname, std::optional<uint32_t> serial,
                            TsigClient *tsig = nullptr, uint16_t qtype = KNOT_RRTYPE_SOA) {
  Reply r;
  r.id = kId;
  r.qr = false;
  r.opcode = KNOT_OPCODE_NOTIFY;
  r.qname = qname;
  r.qtype = qtype;
  if (serial) {
    r.answer = rrs(soa(*serial), qname);
  }
  std::vector<uint8_t> wire = build(r);
  if (tsig != nullptr) {
    size_t len = wire.size();
    wire.resize(len + 512);
    auto st = tsig->sign(wire.data(), len, wire.size());
    EXPECT_TRUE(st.ok()) << st.error();
    wire.resize(len);
  }
  return wire;
}

class NotifyRxTest : public ::testing::Test {
protected:
  void SetUp() override {
    key_ = key();
    zones_ = {
        zone("example.", {master("m1", "192.0.2.1@53"), master("m2", "2001:db8::2")}),
        zone("signed.example.", {master("k1", "192.0.2.10", key_)}),
    };
    rx_ = std::make_unique<NotifyRx>(zones_, queue_);
  }

  // Answers `query` from `from` the way the serve worker does: the response initialised from
  // the query (question copied), handed to the intake, then parsed back.
  std::unique_ptr<Parsed> answer(const std::vector<uint8_t> &query, const std::string &from) {
    Parsed q(query);
    Endpoint remote = endpoint(from);
    out_.assign(KNOT_WIRE_MAX_PKTSIZE, 0);
    knot_pkt_t *resp = knot_pkt_new(out_.data(), static_cast<uint16_t>(out_.size()), nullptr);
    EXPECT_EQ(knot_pkt_init_response(resp, q.get()), KNOT_EOK);
    size_t len = rx_->answer(q.get(), reinterpret_cast<const sockaddr *>(&remote.addr), resp);
    knot_pkt_free(resp);
    EXPECT_GT(len, 0u) << "a NOTIFY is always answered";
    return std::make_unique<Parsed>(std::vector<uint8_t>(out_.begin(), out_.begin() + len));
  }
  static unsigned rcode(const Parsed &p) { return knot_wire_get_rcode(p.get()->wire); }

  std::shared_ptr<const TsigKey> key_;
  std::vector<std::shared_ptr<const ZoneSpec>> zones_;
  EventQueue queue_;
  std::unique_ptr<NotifyRx> rx_;
  std::vector<uint8_t> out_;
};

TEST_F(NotifyRxTest, Rfc1996NotifyFromAMasterIsAcceptedAndQueued) {
  auto r = answer(notify("example.", 2024010102), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  // RFC 1996 4.7: the response echoes the query with QR set.
  EXPECT_TRUE(knot_wire_get_qr(r->get()->wire));
  EXPECT_TRUE(knot_wire_get_aa(r->get()->wire));
  EXPECT_EQ(knot_wire_get_opcode(r->get()->wire), KNOT_OPCODE_NOTIFY);
  EXPECT_EQ(knot_wire_get_id(r->get()->wire), kId);
  EXPECT_EQ(knot_pkt_qtype(r->get()), KNOT_RRTYPE_SOA);
  EXPECT_EQ(r->get()->tsig_rr, nullptr);

  auto events = queue_.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ZoneEvent::Kind::kNotify);
  EXPECT_EQ(events[0].apex, zones_[0]->apex);
  ASSERT_TRUE(events[0].serial.has_value());
  EXPECT_EQ(*events[0].serial, 2024010102u);
  EXPECT_EQ(rx_->counters().received.load(), 1u);
  EXPECT_EQ(rx_->counters().accepted.load(), 1u);
  EXPECT_EQ(rx_->counters().refused.load(), 0u);
  EXPECT_TRUE(queue_.drain().empty()) << "drain empties the queue";
}

// Masters are matched by address; the source port of a NOTIFY is arbitrary.
TEST_F(NotifyRxTest, Rfc1996MasterIsRecognisedFromAnySourcePort) {
  auto r = answer(notify("example.", 7), "192.0.2.1@40000");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  EXPECT_EQ(queue_.drain().size(), 1u);
}

TEST_F(NotifyRxTest, Rfc1996SecondMasterOverIpv6IsAccepted) {
  auto r = answer(notify("example.", 7), "2001:db8::2@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  EXPECT_EQ(queue_.drain().size(), 1u);
}

// RFC 1996 3.7: the SOA in the answer section is a hint; without one the event has no serial.
TEST_F(NotifyRxTest, Rfc1996NotifyWithoutAnSoaCarriesNoSerial) {
  auto r = answer(notify("example.", std::nullopt), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  auto events = queue_.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].serial.has_value());
}

// RFC 4343: the zone name in the question may come in any case; the event names the zone in
// its stored (lowercase) form.
TEST_F(NotifyRxTest, Rfc4343ZoneNameInAnotherCaseIsTheZone) {
  auto r = answer(notify("EXAMPLE.", 9), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  auto events = queue_.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].apex, zones_[0]->apex);
}

// RFC 1996 3.10: a NOTIFY from a host that is not a master of the zone is not acted upon.
TEST_F(NotifyRxTest, Rfc1996FromAHostThatIsNotAMasterIsRefused) {
  auto r = answer(notify("example.", 7), "198.51.100.7@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_REFUSED);
  EXPECT_TRUE(queue_.drain().empty());
  EXPECT_EQ(rx_->counters().refused.load(), 1u);
  EXPECT_EQ(rx_->counters().accepted.load(), 0u);
}

// A master of one zone is not a master of another.
TEST_F(NotifyRxTest, Rfc1996MasterOfAnotherZoneIsRefused) {
  auto r = answer(notify("signed.example.", 7), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_REFUSED);
  EXPECT_TRUE(queue_.drain().empty());
}

TEST_F(NotifyRxTest, Rfc1996UnknownZoneIsNotauth) {
  auto r = answer(notify("example.org.", 7), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOTAUTH);
  EXPECT_TRUE(queue_.drain().empty());
}

// A name below a secondary zone's apex is not the zone: NOTIFY names the zone itself.
TEST_F(NotifyRxTest, Rfc1996NameBelowTheApexIsNotAZone) {
  auto r = answer(notify("www.example.", std::nullopt), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOTAUTH);
  EXPECT_TRUE(queue_.drain().empty());
}

// RFC 1996 3.7: QTYPE is SOA.
TEST_F(NotifyRxTest, Rfc1996QtypeOtherThanSoaIsFormerr) {
  auto r = answer(notify("example.", std::nullopt, nullptr, KNOT_RRTYPE_A), "192.0.2.1@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_FORMERR);
  EXPECT_TRUE(queue_.drain().empty());
}

// RFC 8945 5.2: a master configured with a key must sign; an unsigned NOTIFY is not trusted.
TEST_F(NotifyRxTest, Rfc8945UnsignedNotifyFromAKeyedMasterIsNotauth) {
  auto r = answer(notify("signed.example.", 7), "192.0.2.10@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOTAUTH);
  EXPECT_EQ(r->get()->tsig_rr, nullptr) << "an unsigned request gets an unsigned answer";
  EXPECT_TRUE(queue_.drain().empty());
  EXPECT_EQ(rx_->counters().refused.load(), 1u);
}

TEST_F(NotifyRxTest, Rfc8945SignedNotifyIsAcceptedAndTheAnswerIsSigned) {
  TsigClient client(key_);
  auto r = answer(notify("signed.example.", 12, &client), "192.0.2.10@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOERROR);
  ASSERT_NE(r->get()->tsig_rr, nullptr) << "RFC 8945 5.3: the answer to a signed request is signed";
  auto st = client.verify(r->get());
  EXPECT_TRUE(st.ok()) << "the master must be able to verify our answer: " << st.error();
  EXPECT_TRUE(client.finish().ok());
  auto events = queue_.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].serial.value_or(0), 12u);
}

// RFC 8945 5.2.2 / 5.3.2: a bad MAC is answered NOTAUTH with an unsigned TSIG carrying BADSIG.
TEST_F(NotifyRxTest, Rfc8945NotifySignedWithAnotherSecretIsNotauthBadsig) {
  TsigClient client(key("xfr-key.", kOtherSecret));
  auto r = answer(notify("signed.example.", 12, &client), "192.0.2.10@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOTAUTH);
  ASSERT_NE(r->get()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r->get()->tsig_rr), KNOT_RCODE_BADSIG);
  EXPECT_EQ(knot_tsig_rdata_mac_length(r->get()->tsig_rr), 0u);
  EXPECT_TRUE(queue_.drain().empty());
  auto st = client.verify(r->get());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("BADSIG"), std::string::npos) << st.error();
}

// RFC 8945 5.2.1: an unknown key name is BADKEY.
TEST_F(NotifyRxTest, Rfc8945NotifySignedWithAnUnknownKeyIsNotauthBadkey) {
  TsigClient client(key("stranger."));
  auto r = answer(notify("signed.example.", 12, &client), "192.0.2.10@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_NOTAUTH);
  ASSERT_NE(r->get()->tsig_rr, nullptr);
  EXPECT_EQ(knot_tsig_rdata_error(r->get()->tsig_rr), KNOT_RCODE_BADKEY);
  EXPECT_TRUE(queue_.drain().empty());
}

// A valid signature does not make a stranger a master.
TEST_F(NotifyRxTest, Rfc1996SignedNotifyFromAnotherAddressIsRefused) {
  TsigClient client(key_);
  auto r = answer(notify("signed.example.", 12, &client), "198.51.100.7@53");
  EXPECT_EQ(rcode(*r), KNOT_RCODE_REFUSED);
  EXPECT_TRUE(queue_.drain().empty());
}

// Two masters at one address with different keys: the one whose key verifies is the sender.
TEST(NotifyRxKeys, MasterIsFoundByTheKeyThatVerifies) {
  auto key_a = key("key-a.");
  auto key_b = key("key-b.", kOtherSecret);
  std::vector<std::shared_ptr<const ZoneSpec>> zones = {
      zone("example.", {master("a", "192.0.2.1", key_a), master("b", "192.0.2.1", key_b)})};
  EventQueue queue;
  NotifyRx rx(zones, queue);
  TsigClient client(key_b);
  Parsed q(notify("example.", 3, &client));
  std::vector<uint8_t> out(KNOT_WIRE_MAX_PKTSIZE);
  knot_pkt_t *resp = knot_pkt_new(out.data(), static_cast<uint16_t>(out.size()), nullptr);
  ASSERT_EQ(knot_pkt_init_response(resp, q.get()), KNOT_EOK);
  Endpoint from = endpoint("192.0.2.1@53");
  size_t len = rx.answer(q.get(), reinterpret_cast<const sockaddr *>(&from.addr), resp);
  knot_pkt_free(resp);
  Parsed r(std::vector<uint8_t>(out.begin(), out.begin() + len));
  EXPECT_EQ(knot_wire_get_rcode(r.get()->wire), KNOT_RCODE_NOERROR);
  auto st = client.verify(r.get());
  EXPECT_TRUE(st.ok()) << "signed with key-b, the key that verified: " << st.error();
  EXPECT_EQ(queue.drain().size(), 1u);
}

// Producers on serve threads, one consumer: nothing is lost.
TEST(NotifyEventQueue, EventsFromManyThreadsAreAllDelivered) {
  EventQueue queue;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&queue, t] {
      for (uint32_t i = 0; i < 250; ++i) {
        queue.push(ZoneEvent{ZoneEvent::Kind::kNotify, {0}, t * 1000 + i});
      }
    });
  }
  size_t got = 0;
  for (int spins = 0; spins < 1000 && got < 1000; ++spins) {
    got += queue.drain().size(); // drained while producers still push
    std::this_thread::yield();
  }
  for (auto &th : threads) {
    th.join();
  }
  got += queue.drain().size();
  EXPECT_EQ(got, 1000u);
}

} // namespace
} // namespace holdfast::xfr
