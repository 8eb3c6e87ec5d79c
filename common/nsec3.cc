// SPDX-License-Identifier: MIT
// NSEC3 hashing and base32hex (see nsec3.h).
#include "common/nsec3.h"

#include <cstring>

#include <gnutls/crypto.h>

namespace holdfast {

bool Nsec3Params::same_hash(const Nsec3Params &o) const {
  return algorithm == o.algorithm && iterations == o.iterations && salt_len == o.salt_len &&
         std::memcmp(salt, o.salt, salt_len) == 0;
}

bool parse_nsec3_params(const uint8_t *rdata, size_t len, Nsec3Params &out) {
  if (len < 5 || len < size_t{5} + rdata[4]) {
    return false;
  }
  out.algorithm = rdata[0];
  out.flags = rdata[1];
  out.iterations = static_cast<uint16_t>(rdata[2] << 8 | rdata[3]);
  out.salt_len = rdata[4];
  std::memcpy(out.salt, rdata + 5, out.salt_len);
  return true;
}

bool nsec3_hash(const knot_dname_t *name, const Nsec3Params &params, uint8_t out[kNsec3HashLen]) {
  if (!params.valid()) {
    return false;
  }
  // IH(salt, x, 0) = H(x || salt); IH(salt, x, k) = H(IH(salt, x, k-1) || salt).
  uint8_t buf[KNOT_DNAME_MAXLEN + 255];
  size_t size = knot_dname_size(name);
  std::memcpy(buf, name, size);
  knot_dname_to_lower(buf);
  std::memcpy(buf + size, params.salt, params.salt_len);
  if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, size + params.salt_len, out) != 0) {
    return false;
  }
  for (uint16_t i = 0; i < params.iterations; ++i) {
    std::memcpy(buf, out, kNsec3HashLen);
    std::memcpy(buf + kNsec3HashLen, params.salt, params.salt_len);
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, kNsec3HashLen + params.salt_len, out) != 0) {
      return false;
    }
  }
  return true;
}

void base32hex_encode(const uint8_t hash[kNsec3HashLen], uint8_t *out) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuv";
  // 20 octets = 160 bits = 32 groups of 5 bits, no padding.
  for (size_t i = 0; i < kNsec3LabelLen; ++i) {
    size_t bit = i * 5;
    unsigned v = (hash[bit / 8] << 8 | (bit / 8 + 1 < kNsec3HashLen ? hash[bit / 8 + 1] : 0));
    out[i] = static_cast<uint8_t>(kAlphabet[(v >> (11 - bit % 8)) & 0x1f]);
  }
}

bool base32hex_decode(const uint8_t *label, size_t len, uint8_t out[kNsec3HashLen]) {
  if (len != kNsec3LabelLen) {
    return false;
  }
  std::memset(out, 0, kNsec3HashLen);
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = label[i];
    unsigned v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'v') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'V') {
      v = c - 'A' + 10;
    } else {
      return false;
    }
    size_t bit = i * 5;
    unsigned shifted = v << (11 - bit % 8); // 5 bits placed in a 16-bit window
    out[bit / 8] |= static_cast<uint8_t>(shifted >> 8);
    if (bit / 8 + 1 < kNsec3HashLen) {
      out[bit / 8 + 1] |= static_cast<uint8_t>(shifted);
    }
  }
  return true;
}

} // namespace holdfast
