// SPDX-License-Identifier: MIT
// DNS messages for protocol tests: replies built as a master builds them (libknot), parsed back
// with knot_pkt_parse as the transfer driver parses them, and TSIG-signed the way a master signs
// a multi-message stream (RFC 8945 5.3.1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "common/tsig.h"
#include "tests/unit/testutil.h"

namespace holdfast::test {

inline const std::string kApex = "example.";

// Records from zone text relative to `origin` (default TTL 3600), in the order written.
inline std::vector<Record> rrs(const std::string &text, const std::string &origin = kApex) {
  return test::parse_records(origin, text);
}

// The apex SOA with `serial` (other fields fixed, so two SOAs of one serial are identical).
inline std::string soa(uint32_t serial, const std::string &mname = "ns1") {
  return "@ 3600 SOA " + mname + " hostmaster " + std::to_string(serial) +
         " 7200 3600 1209600 300\n";
}

inline std::vector<Record> cat(std::vector<Record> a, const std::vector<Record> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// One message from a master: header, question (optional: RFC 5936 2.2.1 lets messages after
// the first leave it out) and answer records, each record its own RR as on the wire.
struct Reply {
  uint16_t id = 0x1234;
  std::string qname = kApex;
  uint16_t qtype = KNOT_RRTYPE_AXFR;
  bool question = true;
  bool qr = true;
  uint8_t opcode = KNOT_OPCODE_QUERY;
  uint8_t rcode = KNOT_RCODE_NOERROR;
  std::vector<Record> answer;
  std::vector<Record> authority;
};

inline std::vector<uint8_t> build(const Reply &r) {
  std::vector<uint8_t> buf(KNOT_WIRE_MAX_PKTSIZE);
  knot_pkt_t *pkt = knot_pkt_new(buf.data(), static_cast<uint16_t>(buf.size()), nullptr);
  if (pkt == nullptr) {
    ADD_FAILURE() << "knot_pkt_new";
    return {};
  }
  knot_pkt_clear(pkt); // a caller's buffer is taken as a message to parse: start empty
  knot_wire_set_id(pkt->wire, r.id);
  if (r.qr) {
    knot_wire_set_qr(pkt->wire);
  }
  knot_wire_set_aa(pkt->wire);
  knot_wire_set_opcode(pkt->wire, r.opcode);
  knot_wire_set_rcode(pkt->wire, r.rcode);
  if (r.question) {
    EXPECT_EQ(knot_pkt_put_question(pkt, Name(r.qname), KNOT_CLASS_IN, r.qtype), KNOT_EOK);
  }
  std::vector<knot_rrset_t> sets;
  sets.reserve(r.answer.size() + r.authority.size());
  auto put = [&](const std::vector<Record> &records) {
    for (const auto &rec : records) {
      knot_rrset_t &s = sets.emplace_back();
      knot_rrset_init(&s, const_cast<uint8_t *>(rec.owner.data()), rec.type, rec.rclass, rec.ttl);
      EXPECT_EQ(knot_rrset_add_rdata(&s, rec.rdata.data(), static_cast<uint16_t>(rec.rdata.size()),
                                     nullptr),
                KNOT_EOK);
      EXPECT_EQ(knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &s, 0), KNOT_EOK);
    }
  };
  EXPECT_EQ(knot_pkt_begin(pkt, KNOT_ANSWER), KNOT_EOK);
  put(r.answer);
  if (!r.authority.empty()) {
    EXPECT_EQ(knot_pkt_begin(pkt, KNOT_AUTHORITY), KNOT_EOK);
    put(r.authority);
  }
  size_t size = pkt->size;
  knot_pkt_free(pkt);
  for (auto &s : sets) {
    knot_rdataset_clear(&s.rrs, nullptr);
  }
  buf.resize(size);
  return buf;
}

// A message parsed the way the transfer driver parses it (knot_pkt_parse strips the TSIG).
class Parsed {
public:
  explicit Parsed(std::vector<uint8_t> wire) : wire_(std::move(wire)) {
    pkt_ = knot_pkt_new(wire_.data(), static_cast<uint16_t>(wire_.size()), nullptr);
    rc_ = pkt_ == nullptr ? KNOT_ENOMEM : knot_pkt_parse(pkt_, 0);
    EXPECT_EQ(rc_, KNOT_EOK) << "test message does not parse: " << knot_strerror(rc_);
  }
  ~Parsed() { knot_pkt_free(pkt_); }
  Parsed(const Parsed &) = delete;
  Parsed &operator=(const Parsed &) = delete;
  const knot_pkt_t *get() const { return pkt_; }
  knot_pkt_t *mut() { return pkt_; }

private:
  std::vector<uint8_t> wire_;
  knot_pkt_t *pkt_ = nullptr;
  int rc_ = KNOT_EOK;
};

inline std::unique_ptr<Parsed> parsed(const Reply &r) {
  return std::make_unique<Parsed>(build(r));
}

// A test key: hmac-sha256, the given base64 secret.
inline std::shared_ptr<const TsigKey>
key(const std::string &name = "xfr-key.",
    const std::string &secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==") {
  auto k = TsigKey::make(name, "hmac-sha256", secret);
  EXPECT_TRUE(k.ok()) << k.error();
  return k.ok() ? *k : nullptr;
}
inline const std::string kOtherSecret = "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXI=";

// The master's side of a signed stream (RFC 8945 5.3.1): the first response is signed over the
// request MAC, each later signed one over the previous MAC and every message since, unsigned
// ones included.
class MasterSigner {
public:
  // `request` is the client's signed request, parsed (its TSIG RR gives the request MAC).
  MasterSigner(const TsigKey &key, const knot_pkt_t *request) : key_(key) {
    if (request->tsig_rr == nullptr) {
      ADD_FAILURE() << "the request is not signed";
      return;
    }
    const uint8_t *mac = knot_tsig_rdata_mac(request->tsig_rr);
    mac_.assign(mac, mac + knot_tsig_rdata_mac_length(request->tsig_rr));
  }
  std::vector<uint8_t> sign(std::vector<uint8_t> msg) {
    size_t len = msg.size();
    msg.resize(len + 512);
    uint8_t digest[64];
    size_t digest_len = sizeof(digest);
    int ret;
    if (first_) {
      ret = knot_tsig_sign(msg.data(), &len, msg.size(), mac_.data(), mac_.size(), digest,
                           &digest_len, key_.raw(), 0, 0);
    } else {
      std::vector<uint8_t> to_sign = pending_;
      to_sign.insert(to_sign.end(), msg.begin(), msg.begin() + static_cast<long>(len));
      ret = knot_tsig_sign_next(msg.data(), &len, msg.size(), mac_.data(), mac_.size(), digest,
                                &digest_len, key_.raw(), to_sign.data(), to_sign.size());
    }
    EXPECT_EQ(ret, KNOT_EOK) << knot_strerror(ret);
    msg.resize(len);
    mac_.assign(digest, digest + digest_len);
    pending_.clear();
    first_ = false;
    return msg;
  }
  // Sends `msg` unsigned: the next signed message covers it.
  std::vector<uint8_t> skip(std::vector<uint8_t> msg) {
    pending_.insert(pending_.end(), msg.begin(), msg.end());
    return msg;
  }

private:
  const TsigKey &key_;
  std::vector<uint8_t> mac_;
  std::vector<uint8_t> pending_;
  bool first_ = true;
};

} // namespace holdfast::test
