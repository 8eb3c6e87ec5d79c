// SPDX-License-Identifier: MIT
// TSIG keys and sessions over libknot's tsig-op (see tsig.h).
#include "common/tsig.h"

#include <cstring>

namespace holdfast {
namespace {

// RFC 8945 5.3.1: at most 99 unsigned messages between two signed ones.
constexpr unsigned kMaxUnsigned = 99;
constexpr size_t kMaxDigest = 64; // SHA-512

} // namespace

Result<std::shared_ptr<const TsigKey>>
TsigKey::make(const std::string &name, const std::string &algorithm, const std::string &secret) {
  std::shared_ptr<TsigKey> key(new TsigKey());
  int ret = knot_tsig_key_init(&key->key_, algorithm.c_str(), name.c_str(), secret.c_str());
  if (ret != KNOT_EOK) {
    return fail("TSIG key " + name + ": " + knot_strerror(ret));
  }
  key->name_ = name;
  return std::shared_ptr<const TsigKey>(std::move(key));
}

TsigKey::~TsigKey() {
  knot_tsig_key_deinit(&key_);
}

std::string tsig_error_text(int code) {
  switch (code) {
  case KNOT_RCODE_BADSIG:
    return "BADSIG";
  case KNOT_RCODE_BADKEY:
    return "BADKEY";
  case KNOT_RCODE_BADTIME:
    return "BADTIME";
  case KNOT_RCODE_BADTRUNC:
    return "BADTRUNC";
  default:
    return code < 0 ? knot_strerror(code) : "TSIG error " + std::to_string(code);
  }
}

Status TsigClient::sign(uint8_t *wire, size_t &len, size_t max) {
  if (!key_) {
    return Ok{};
  }
  uint8_t digest[kMaxDigest];
  size_t digest_len = sizeof(digest);
  int ret = knot_tsig_sign(wire, &len, max, nullptr, 0, digest, &digest_len, key_->raw(), 0, 0);
  if (ret != KNOT_EOK) {
    return fail(std::string("TSIG signing failed: ") + knot_strerror(ret));
  }
  mac_.assign(digest, digest + digest_len);
  first_ = true;
  unsigned_.clear();
  unsigned_count_ = 0;
  return Ok{};
}

Status TsigClient::verify(const knot_pkt_t *pkt) {
  if (!key_) {
    return Ok{};
  }
  const knot_rrset_t *tsig = pkt->tsig_rr;
  if (tsig == nullptr) {
    // RFC 8945 5.3.1: the first message must be signed; later ones may skip up to 99.
    if (first_ || ++unsigned_count_ > kMaxUnsigned) {
      return fail("TSIG missing in the response from the master");
    }
    unsigned_.insert(unsigned_.end(), pkt->wire, pkt->wire + pkt->size);
    return Ok{};
  }
  if (uint16_t err = knot_tsig_rdata_error(tsig); err != 0) {
    return fail("master reports TSIG " + tsig_error_text(err));
  }
  int ret;
  if (first_) {
    ret = knot_tsig_client_check(tsig, pkt->wire, pkt->size, mac_.data(), mac_.size(), key_->raw(),
                                 0);
  } else {
    unsigned_.insert(unsigned_.end(), pkt->wire, pkt->wire + pkt->size);
    ret = knot_tsig_client_check_next(tsig, unsigned_.data(), unsigned_.size(), mac_.data(),
                                      mac_.size(), key_->raw(), prev_time_);
  }
  if (ret != KNOT_EOK) {
    return fail("TSIG verification failed: " + tsig_error_text(ret));
  }
  const uint8_t *mac = knot_tsig_rdata_mac(tsig);
  mac_.assign(mac, mac + knot_tsig_rdata_mac_length(tsig));
  prev_time_ = knot_tsig_rdata_time_signed(tsig);
  unsigned_.clear();
  unsigned_count_ = 0;
  first_ = false;
  return Ok{};
}

Status TsigClient::finish() const {
  if (key_ && (first_ || unsigned_count_ > 0)) {
    return fail("TSIG missing on the last message from the master");
  }
  return Ok{};
}

Status tsig_server_check(const knot_pkt_t *query, const TsigKey &key, uint16_t &tsig_rcode) {
  tsig_rcode = 0;
  const knot_rrset_t *tsig = query->tsig_rr;
  if (tsig == nullptr) {
    return fail("TSIG required, none given");
  }
  if (!knot_dname_is_case_equal(tsig->owner, key.raw()->name)) {
    tsig_rcode = KNOT_RCODE_BADKEY;
    return fail("TSIG key name does not match");
  }
  int ret = knot_tsig_server_check(tsig, query->wire, query->size, key.raw());
  switch (ret) {
  case KNOT_EOK:
    return Ok{};
  case KNOT_TSIG_EBADKEY:
    tsig_rcode = KNOT_RCODE_BADKEY;
    break;
  case KNOT_TSIG_EBADTIME:
    tsig_rcode = KNOT_RCODE_BADTIME;
    break;
  case KNOT_TSIG_EBADTRUNC:
    tsig_rcode = KNOT_RCODE_BADTRUNC;
    break;
  default:
    tsig_rcode = KNOT_RCODE_BADSIG;
    break;
  }
  return fail("TSIG verification failed: " + tsig_error_text(tsig_rcode));
}

Status tsig_server_sign(uint8_t *wire, size_t &len, size_t max, const knot_pkt_t *query,
                        const TsigKey &key, uint16_t tsig_rcode) {
  const knot_rrset_t *tsig = query->tsig_rr;
  if (tsig == nullptr) {
    return Ok{}; // nothing to echo: RFC 8945 5.2 answers an unsigned request unsigned
  }
  int ret;
  if (!knot_tsig_can_sign(tsig_rcode)) {
    ret = knot_tsig_add(wire, &len, max, tsig_rcode, tsig);
  } else {
    // RFC 8945 5.2.3: BADTIME is signed too (the MAC was good), with our time as other data.
    uint8_t digest[kMaxDigest];
    size_t digest_len = sizeof(digest);
    ret = knot_tsig_sign(wire, &len, max, knot_tsig_rdata_mac(tsig),
                         knot_tsig_rdata_mac_length(tsig), digest, &digest_len, key.raw(),
                         tsig_rcode, knot_tsig_rdata_time_signed(tsig));
  }
  if (ret != KNOT_EOK) {
    return fail(std::string("TSIG signing failed: ") + knot_strerror(ret));
  }
  return Ok{};
}

} // namespace holdfast
