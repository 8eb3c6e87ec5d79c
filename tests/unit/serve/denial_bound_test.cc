// SPDX-License-Identifier: MIT
// DNSSEC negative answers of a zone whose apex is signed but that has no usable NSEC or NSEC3
// chain (issue 10, defect 7): answered, without the proof that cannot be found, as Knot DNS
// answers them (the bounded walk itself is tested in tests/unit/store/nsec_walk_test.cc).
#include <string>

#include <gtest/gtest.h>

#include "common/knot.h"
#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

bool has_type(const Lines &lines, const std::string &type) {
  for (const auto &l : lines) {
    if (l.find(" " + type + " ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

// RFC 5155 4.1.2: the NSEC3PARAM with Flags 1 is ignored, so the zone is NSEC-signed by its
// apex RRSIG, and owns no NSEC at all.
TEST_F(QueryTest, Rfc4035SignedApexWithoutAChainAnswersNegativesWithoutAProof) {
  std::string text = "nochain. 3600 SOA ns1.nochain. hostmaster.nochain. 1 7200 3600 1209600 300\n"
                     "nochain. 3600 RRSIG SOA 8 1 3600 20300101000000 20200101000000 12345 "
                     "nochain. AAAA\n"
                     "nochain. 3600 NS ns1.nochain.\n"
                     "nochain. 0 NSEC3PARAM 1 1 0 -\n";
  for (int i = 0; i < 100000; ++i) {
    text += "h" + std::to_string(i) + ".nochain. 3600 A 192.0.2.1\n";
  }
  load("nochain.", text);
  QueryOptions o;
  o.edns = true;
  o.dnssec_ok = true;
  for (const char *qname : {"zzz.nochain.", "h5x.nochain.", "a.nochain."}) {
    auto r = ask(qname, KNOT_RRTYPE_A, o);
    EXPECT_EQ(r->rcode(), KNOT_RCODE_NXDOMAIN) << qname;
    EXPECT_TRUE(has_type(r->authority(), "SOA")) << qname;
    EXPECT_FALSE(has_type(r->authority(), "NSEC")) << qname;
  }
  auto nodata = ask("h7.nochain.", KNOT_RRTYPE_TXT, o);
  EXPECT_EQ(nodata->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(nodata->answer().empty());
  EXPECT_FALSE(has_type(nodata->authority(), "NSEC"));
}

} // namespace
} // namespace holdfast::serve::testing
