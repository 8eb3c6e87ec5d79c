// SPDX-License-Identifier: MIT
// The bounded NSEC chain walk (store/reader.h nsec_previous): a zone with a signed apex but no
// usable chain answers with bounded work; a well-formed zone finds its predecessor in a few
// steps even past many glue names.
#include <string>

#include <gtest/gtest.h>

#include "store/reader.h"
#include "store/writer.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::key_of;
using test::Name;

const std::string kApex = "example.";
const std::string kSoa = "@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                         "@ RRSIG SOA 8 1 3600 20300101000000 20200101000000 12345 example. AAAA\n"
                         "@ NS ns1\n";

class NsecWalkTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path(), size_t{256} << 20);
    ASSERT_NE(env_, nullptr);
  }
  void publish(const std::string &text) {
    auto pub = test::publish_records(*env_, kApex, test::parse_records(kApex, text));
    ASSERT_TRUE(pub.ok()) << pub.error();
    EXPECT_EQ(pub->dnssec, DnssecMode::kNsec) << "a signed apex without a usable NSEC3PARAM";
  }
  // nsec_previous() for `name`: the owner found ("" for none) and the steps it took.
  std::pair<std::string, unsigned> previous(const std::string &name) {
    ReadTxn txn(*env_);
    EXPECT_TRUE(txn.begin());
    Reader reader(txn);
    Name apex(kApex);
    ZoneHandle zone;
    EXPECT_TRUE(reader.find_zone(apex, zone));
    NameKey out;
    NodeView node;
    std::string owner;
    if (reader.nsec_previous(zone, key_of(name, kApex), out, node)) {
      uint8_t wire[KNOT_DNAME_MAXLEN];
      key_to_name(out, zone.apex, wire);
      owner = name_to_string(wire);
    }
    unsigned steps = reader.nsec_walk_steps();
    txn.end();
    return {owner, steps};
  }

  test::TempDir dir_;
  std::unique_ptr<Env> env_;
};

// Issue 10, defect 7: RFC 5155 4.1.2 has an NSEC3PARAM with non-zero Flags ignored, so this
// zone looks NSEC-signed but owns no NSEC at all. Every DNSSEC negative answer looked for the
// covering NSEC through all 100,000 names; now the search gives up within its bound.
TEST_F(NsecWalkTest, Rfc5155SignedApexWithoutAChainIsWalkedWithBoundedWork) {
  std::string text = kSoa + "@ NSEC3PARAM 1 1 0 -\n";
  text.reserve(text.size() + 100000 * 24);
  for (int i = 0; i < 100000; ++i) {
    text += "h" + std::to_string(i) + " A 192.0.2.1\n";
  }
  publish(text);
  for (const char *name : {"zzz.example.", "h99999a.example.", "h5.example.", "a.example."}) {
    auto [owner, steps] = previous(name);
    EXPECT_EQ(owner, "") << name;
    // Far below the 100,000 names (the walk used to visit each), and within the bound.
    EXPECT_LE(steps, Reader::kNsecWalkLimit) << name;
    EXPECT_LT(steps, 1000u) << name;
    EXPECT_GE(steps, 1u) << name;
  }
}

// Glue below a cut sorts right after the cut: the walk jumps to the cut (one lookup per label)
// instead of visiting each glue name.
TEST_F(NsecWalkTest, Rfc4035ManyGlueNamesAreSkippedInOneJump) {
  std::string text = kSoa + "@ NSEC a.example. NS SOA RRSIG NSEC\n" +
                     "a A 192.0.2.1\na NSEC sub.example. A RRSIG NSEC\n" +
                     "sub NS ns.sub\nsub NSEC zz.example. NS RRSIG NSEC\n" +
                     "zz A 192.0.2.2\nzz NSEC example. A RRSIG NSEC\n";
  for (int i = 0; i < 5000; ++i) {
    text += "g" + std::to_string(i) + ".ns.sub A 192.0.2.3\n";
  }
  publish(text);
  auto [owner, steps] = previous("sub0.example.");
  EXPECT_EQ(owner, "sub.example.");
  EXPECT_LE(steps, 8u) << "a step, a lookup per label up to the cut, the cut";
  std::tie(owner, steps) = previous("y.g1.ns.sub.example.");
  EXPECT_EQ(owner, "sub.example.");
  EXPECT_EQ(previous("zzz.example.").first, "zz.example.");
  EXPECT_EQ(previous("b.example.").first, "a.example.");
}

// A DNAME occludes the names below it (RFC 6672 2.3) the same way.
TEST_F(NsecWalkTest, Rfc6672NamesBelowADnameAreSkippedInOneJump) {
  std::string text = kSoa + "@ NSEC dn.example. NS SOA RRSIG NSEC\n" +
                     "dn DNAME target.test.\ndn NSEC example. DNAME RRSIG NSEC\n";
  for (int i = 0; i < 5000; ++i) {
    text += "x" + std::to_string(i) + ".dn A 192.0.2.3\n";
  }
  publish(text);
  auto [owner, steps] = previous("e.example.");
  EXPECT_EQ(owner, "dn.example.");
  EXPECT_LE(steps, 8u);
}

} // namespace
} // namespace holdfast::store
