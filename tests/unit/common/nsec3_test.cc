// SPDX-License-Identifier: MIT
// NSEC3 hashing against RFC 5155 Appendix A (salt aabbccdd, 12 iterations).
#include <gtest/gtest.h>

#include <string>

#include "common/nsec3.h"

namespace holdfast {
namespace {

std::string hashed(const char *wire, const Nsec3Params &p) {
  uint8_t hash[kNsec3HashLen];
  EXPECT_TRUE(nsec3_hash(reinterpret_cast<const knot_dname_t *>(wire), p, hash));
  uint8_t label[kNsec3LabelLen];
  base32hex_encode(hash, label);
  uint8_t back[kNsec3HashLen];
  EXPECT_TRUE(base32hex_decode(label, sizeof(label), back));
  EXPECT_EQ(0, memcmp(back, hash, sizeof(hash)));
  return std::string(reinterpret_cast<char *>(label), sizeof(label));
}

Nsec3Params appendix_a() {
  const uint8_t rdata[] = {1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd};
  Nsec3Params p;
  EXPECT_TRUE(parse_nsec3_params(rdata, sizeof(rdata), p));
  return p;
}

TEST(Rfc5155Hash, AppendixAOwnerNames) {
  Nsec3Params p = appendix_a();
  EXPECT_EQ(p.iterations, 12);
  EXPECT_EQ(hashed("\x07"
                   "example",
                   p),
            "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(hashed("\x01"
                   "a\x07"
                   "example",
                   p),
            "35mthgpgcu1qg68fab165klnsnk3dpvl");
  EXPECT_EQ(hashed("\x02"
                   "ai\x07"
                   "example",
                   p),
            "gjeqe526plbf1g8mklp59enfd789njgi");
  EXPECT_EQ(hashed("\x01"
                   "*\x01"
                   "w\x07"
                   "example",
                   p),
            "r53bq7cc2uvmubfu5ocmm6pers9tk9en");
}

TEST(Rfc5155Hash, CaseDoesNotMatter) {
  Nsec3Params p = appendix_a();
  EXPECT_EQ(hashed("\x02"
                   "AI\x07"
                   "eXample",
                   p),
            "gjeqe526plbf1g8mklp59enfd789njgi");
}

TEST(Rfc4648Base32hex, RejectsBadLabels) {
  uint8_t out[kNsec3HashLen];
  const uint8_t bad[] = "0p9mhaveqvm6t7vbl5lop2u3t2rp3toz"; // 'z' is not base32hex
  EXPECT_FALSE(base32hex_decode(bad, 32, out));
  EXPECT_FALSE(base32hex_decode(bad, 31, out));
  const uint8_t upper[] = "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM";
  EXPECT_TRUE(base32hex_decode(upper, 32, out));
}

TEST(Rfc5155Hash, UnknownAlgorithmIsRefused) {
  Nsec3Params p;
  p.algorithm = 2;
  uint8_t out[kNsec3HashLen];
  EXPECT_FALSE(nsec3_hash(reinterpret_cast<const knot_dname_t *>("\x07"
                                                                 "example"),
                          p, out));
}

} // namespace
} // namespace holdfast
