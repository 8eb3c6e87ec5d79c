// SPDX-License-Identifier: MIT
// Managed-name placeholders in snapshots written from zone files (store/overlay.h).
#include "store/overlay.h"

#include <gtest/gtest.h>

#include "store/zonefile.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;
using test::TempDir;

const char *kZone = "$ORIGIN example.\n$TTL 3600\n"
                    "@    SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                    "@    NS  ns1\n"
                    "ns1  A   192.0.2.1\n"
                    "www  A   192.0.2.80\n"
                    "www  TXT \"kept\"\n"
                    "old  CNAME www\n";

std::vector<uint8_t> wire(const std::string &name) {
  Name n(name);
  return {n.get(), n.get() + n.size()};
}

OverlayRRset set(const std::string &owner, uint16_t type, std::vector<std::vector<uint8_t>> rd) {
  OverlayRRset s;
  s.owner = wire(owner);
  s.type = type;
  s.ttl = 60;
  s.rdata = std::move(rd);
  return s;
}

class OverlayTest : public ::testing::Test {
protected:
  std::map<std::string, std::string> load(const std::string &text, const Overlay &ov) {
    auto env = test::open_env(dir_.file("store"));
    EXPECT_NE(env, nullptr);
    auto r = load_zone_file(*env, Name("example."), dir_.write("z", text), false, nullptr,
                            nullptr, &ov);
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r) {
      return {};
    }
    return test::dump_snapshot(*env, r->published.snapshot, "example.");
  }
  TempDir dir_;
};

TEST_F(OverlayTest, ManagedTypeIsReplacedOtherTypesStay) {
  Overlay ov({set("www.example.", KNOT_RRTYPE_A, {{192, 0, 2, 1}, {192, 0, 2, 2}})});
  auto nodes = load(kZone, ov);
  EXPECT_EQ(nodes["www.example."], "flags=0x0000 A/60[c0000201,c0000202] TXT/3600[046b657074]");
  EXPECT_EQ(nodes["ns1.example."], "flags=0x0000 A/3600[c0000201]");
}

TEST_F(OverlayTest, AManagedNameAbsentFromTheZoneExistsWithItsParents) {
  Overlay ov({set("lb.deep.example.", KNOT_RRTYPE_A, {{192, 0, 2, 7}})});
  auto nodes = load(kZone, ov);
  EXPECT_EQ(nodes["lb.deep.example."], "flags=0x0000 A/60[c0000207]");
  EXPECT_EQ(nodes.count("deep.example."), 1u); // an empty non-terminal
}

TEST_F(OverlayTest, AManagedCnameReplacesEveryTypeAndAManagedAddressTheZonesCname) {
  Overlay ov({set("www.example.", KNOT_RRTYPE_CNAME, {wire("edge.cdn.example.")}),
              set("old.example.", KNOT_RRTYPE_A, {{192, 0, 2, 9}})});
  auto nodes = load(kZone, ov);
  EXPECT_EQ(nodes["www.example."].rfind("flags=0x0010 CNAME/60[", 0), 0u) << nodes["www.example."];
  EXPECT_EQ(nodes["old.example."], "flags=0x0000 A/60[c0000209]");
}

TEST_F(OverlayTest, ASignedZoneKeepsItsOwnRecords) {
  std::string signed_zone = std::string(kZone) +
                            "@ RRSIG SOA 13 1 3600 20300101000000 20200101000000 1 example. "
                            "AAAA\n";
  Overlay ov({set("www.example.", KNOT_RRTYPE_A, {{192, 0, 2, 1}})});
  auto nodes = load(signed_zone, ov);
  EXPECT_EQ(nodes["www.example."], "flags=0x0000 A/3600[c0000250] TXT/3600[046b657074]");
}

TEST(OverlayReplaces, OnlyManagedPairsAndConflictingAliases) {
  Overlay ov({set("www.example.", KNOT_RRTYPE_A, {{192, 0, 2, 1}})});
  EXPECT_TRUE(ov.replaces(Name("www.example."), KNOT_RRTYPE_A));
  EXPECT_TRUE(ov.replaces(Name("WWW.example."), KNOT_RRTYPE_A));
  EXPECT_TRUE(ov.replaces(Name("www.example."), KNOT_RRTYPE_CNAME));
  EXPECT_FALSE(ov.replaces(Name("www.example."), KNOT_RRTYPE_AAAA));
  EXPECT_FALSE(ov.replaces(Name("www.example."), KNOT_RRTYPE_RRSIG));
  EXPECT_FALSE(ov.replaces(Name("ftp.example."), KNOT_RRTYPE_A));
  EXPECT_NE(ov.fingerprint(), Overlay().fingerprint());
}

} // namespace
} // namespace holdfast::store
