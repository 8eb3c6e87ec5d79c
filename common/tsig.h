// SPDX-License-Identifier: MIT
// TSIG (RFC 8945) with libknot: named keys, and the multi-message session of one exchange.
//
// A client session signs its request, then verifies every response message in order: the
// first against the request MAC, each later one against the previous MAC. RFC 8945 5.3.1 lets
// a server leave up to 99 messages between signed ones unsigned; they are kept and covered by
// the next signed message. The last message of an exchange must be signed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/knot.h"
#include "common/result.h"

namespace holdfast {

// One TSIG key, owned (knot_tsig_key_deinit on destruction).
class TsigKey {
public:
  // `algorithm` as knot names it ("hmac-sha256", ...), `name` a domain name, `secret` base64.
  static Result<std::shared_ptr<const TsigKey>>
  make(const std::string &name, const std::string &algorithm, const std::string &secret);
  ~TsigKey();
  TsigKey(const TsigKey &) = delete;
  TsigKey &operator=(const TsigKey &) = delete;
  const knot_tsig_key_t *raw() const { return &key_; }
  const std::string &name() const { return name_; }

private:
  TsigKey() = default;
  knot_tsig_key_t key_{};
  std::string name_;
};

// Client side of one exchange (SOA query, AXFR, IXFR). Without a key every call succeeds and
// nothing is signed or required.
class TsigClient {
public:
  explicit TsigClient(std::shared_ptr<const TsigKey> key) : key_(std::move(key)) {}
  // Appends a TSIG RR to the request in `wire` (len grows; `max` is the buffer size).
  Status sign(uint8_t *wire, size_t &len, size_t max);
  // Verifies one parsed response message (knot_pkt_parse stripped its TSIG RR).
  Status verify(const knot_pkt_t *pkt);
  // Called after the last message: fails when trailing messages were left unsigned.
  Status finish() const;

private:
  std::shared_ptr<const TsigKey> key_;
  std::vector<uint8_t> mac_;      // request MAC, then the last verified response MAC
  std::vector<uint8_t> unsigned_; // unsigned messages since the last signed one
  unsigned unsigned_count_ = 0;
  uint64_t prev_time_ = 0;
  bool first_ = true;
};

// Server side of a single-message exchange (NOTIFY): checks the request's TSIG against `key`
// and signs the response with it. A request without TSIG fails when a key is required.
// Returns the TSIG error to report (KNOT_RCODE_BADSIG, ...) in `tsig_rcode` on failure.
Status tsig_server_check(const knot_pkt_t *query, const TsigKey &key, uint16_t &tsig_rcode);
// Signs a response to a verified request (and a BADTIME one, RFC 8945 5.2.3); for the other
// errors adds the unsigned TSIG RR that RFC 8945 5.3.2 asks for.
Status tsig_server_sign(uint8_t *wire, size_t &len, size_t max, const knot_pkt_t *query,
                        const TsigKey &key, uint16_t tsig_rcode);

// "BADSIG", "BADKEY", ... for a TSIG error code, or libknot's text for a KNOT_E* code.
std::string tsig_error_text(int code);

} // namespace holdfast
