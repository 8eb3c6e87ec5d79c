// SPDX-License-Identifier: MIT
// NSEC3 hashing (RFC 5155 5) and the base32hex owner labels (RFC 4648 7), without allocation:
// the query path hashes next-closer names with it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/knot.h"

namespace holdfast {

// RFC 5155 5: SHA-1 is the only hash algorithm defined; its digest is 20 octets.
inline constexpr uint8_t kNsec3AlgSha1 = 1;
inline constexpr size_t kNsec3HashLen = 20;
inline constexpr size_t kNsec3LabelLen = 32; // base32hex of 20 octets

// RFC 5155 10.3: no key size allows more iterations (RFC 9276 3.1 asks for 0). A zone with more
// is refused: every NXDOMAIN would cost that many hashes per query.
inline constexpr uint16_t kNsec3MaxIterations = 2500;

struct Nsec3Params {
  uint8_t algorithm = 0; // 0: none
  uint8_t flags = 0;
  uint16_t iterations = 0;
  uint8_t salt_len = 0;
  uint8_t salt[255] = {};

  bool valid() const { return algorithm == kNsec3AlgSha1; }
  bool same_hash(const Nsec3Params &o) const;
};

// Parses the leading hash parameters of NSEC3PARAM or NSEC3 rdata (RFC 5155 3.2, 4.2).
bool parse_nsec3_params(const uint8_t *rdata, size_t len, Nsec3Params &out);
// H(name) with the zone's iterations and salt (RFC 5155 5). `name` is lowercased first (the
// hash is over the canonical form). Returns false for unsupported algorithms.
bool nsec3_hash(const knot_dname_t *name, const Nsec3Params &params, uint8_t out[kNsec3HashLen]);
// Base32hex without padding, lowercase (as Knot DNS writes NSEC3 owners). `out` gets
// kNsec3LabelLen bytes.
void base32hex_encode(const uint8_t hash[kNsec3HashLen], uint8_t *out);
// Decodes a 32-character base32hex label (any case) into 20 octets.
bool base32hex_decode(const uint8_t *label, size_t len, uint8_t out[kNsec3HashLen]);

} // namespace holdfast
