// SPDX-License-Identifier: MIT
// Where transferred records go (xfr/sink.h): vanity nameserver substitution and the snapshot
// sink that publishes a full zone.
#include "xfr/sink.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/xfr/xfr_fixture.h"
#include "xfr/axfr_client.h"

namespace holdfast::xfr {
namespace {

using namespace testing; // NOLINT: xfr test helpers

NameServer nameserver(const std::string &name, const std::vector<std::string> &addresses) {
  NameServer ns;
  Name n(name);
  ns.name.assign(n.get(), n.get() + n.size());
  for (const auto &a : addresses) {
    auto e = parse_endpoint(a);
    EXPECT_TRUE(e.ok()) << e.error();
    if (e.ok()) {
      ns.addresses.push_back(*e);
    }
  }
  return ns;
}

ZoneSpec spec_with(std::vector<NameServer> vanity) {
  ZoneSpec spec;
  spec.name = kApex;
  Name n(kApex);
  spec.apex.assign(n.get(), n.get() + n.size());
  spec.vanity = std::move(vanity);
  return spec;
}

TEST(XfrVanity, WithoutASetNothingIsReplaced) {
  ZoneSpec spec = spec_with({});
  Vanity v(spec);
  EXPECT_FALSE(v.active());
  EXPECT_FALSE(v.replaces(Name(kApex), KNOT_RRTYPE_NS));
}

TEST(XfrVanity, ReplacesTheApexNsAndTheSetsInZoneAddressesOnly) {
  ZoneSpec spec = spec_with({nameserver("ns.example.", {"192.0.2.53", "2001:db8::53"}),
                             nameserver("ns.provider.test.", {"198.51.100.1"})});
  Vanity v(spec);
  EXPECT_TRUE(v.active());
  EXPECT_TRUE(v.replaces(Name("example."), KNOT_RRTYPE_NS));
  EXPECT_TRUE(v.replaces(Name("EXAMPLE."), KNOT_RRTYPE_NS)) << "RFC 4343";
  EXPECT_FALSE(v.replaces(Name("sub.example."), KNOT_RRTYPE_NS)) << "delegations are data";
  EXPECT_TRUE(v.replaces(Name("ns.example."), KNOT_RRTYPE_A));
  EXPECT_TRUE(v.replaces(Name("ns.example."), KNOT_RRTYPE_AAAA));
  EXPECT_FALSE(v.replaces(Name("ns.example."), KNOT_RRTYPE_TXT));
  EXPECT_FALSE(v.replaces(Name("www.example."), KNOT_RRTYPE_A));
  EXPECT_FALSE(v.replaces(Name("ns.provider.test."), KNOT_RRTYPE_A)) << "not in this zone";
  EXPECT_FALSE(v.replaces(Name("example."), KNOT_RRTYPE_SOA));
}

class SnapshotSinkTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
  }
  // Runs a whole AXFR of `text` (between two SOAs of serial 9) into a SnapshotSink.
  Result<store::Published> transfer(const Vanity &vanity, const std::string &text) {
    store::SourceInfo src;
    src.kind = store::SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    auto w = store::SnapshotWriter::begin(*env_, Name(kApex), src);
    if (!w) {
      return fail(w.error());
    }
    SnapshotSink sink(std::move(*w), vanity);
    Name apex(kApex);
    AxfrClient client(apex, sink);
    Reply r;
    r.answer = rrs(soa(9) + text + soa(9));
    auto m = parsed(r);
    if (auto st = client.consume(m->get()); !st) {
      return fail(st.error());
    }
    EXPECT_TRUE(client.done());
    return sink.publish();
  }
  test::TempDir dir_;
  std::unique_ptr<store::Env> env_;
};

TEST_F(SnapshotSinkTest, WithoutVanityTheMastersZoneIsPublishedAsIs) {
  ZoneSpec spec = spec_with({});
  Vanity v(spec);
  auto pub = transfer(v, "@ NS ns1\nns1 A 192.0.2.1\n");
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->serial, 9u);
  expect_zone(*env_, kApex, soa(9) + "@ NS ns1\nns1 A 192.0.2.1\n");
}

// The set replaces the master's apex NS, with the master's NS TTL; in-zone names of the set
// get the set's addresses, out-of-zone ones none; other records pass through.
TEST_F(SnapshotSinkTest, VanitySetReplacesTheMastersNameservers) {
  ZoneSpec spec = spec_with({nameserver("ns.example.", {"192.0.2.53", "2001:db8::53"}),
                             nameserver("ns.provider.test.", {"198.51.100.1"})});
  Vanity v(spec);
  auto pub = transfer(v, R"(
@      7200 NS ns1
@      7200 NS ns2.other.test.
ns1    A    192.0.2.1
ns     A    192.0.2.99
ns     TXT  "kept"
www    A    192.0.2.80
sub    NS   ns.sub
ns.sub A    192.0.2.54
)");
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(*env_, kApex, soa(9) + R"(
@      7200 NS ns.example.
@      7200 NS ns.provider.test.
ns     7200 A    192.0.2.53
ns     7200 AAAA 2001:db8::53
ns     TXT  "kept"
ns1    A    192.0.2.1
www    A    192.0.2.80
sub    NS   ns.sub
ns.sub A    192.0.2.54
)");
}

TEST_F(SnapshotSinkTest, VanitySetWithoutAMasterNsUsesTheDefaultTtl) {
  ZoneSpec spec = spec_with({nameserver("ns.example.", {"192.0.2.53"})});
  Vanity v(spec);
  auto pub = transfer(v, "www A 192.0.2.80\n");
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(*env_, kApex,
              soa(9) + "@ 3600 NS ns.example.\nns 3600 A 192.0.2.53\nwww A 192.0.2.80\n");
}

// A signed zone keeps the master's NS and addresses: their RRSIGs were made for them, and a
// substituted set would fail validation (holdfast holds no keys to sign it).
TEST_F(SnapshotSinkTest, Rfc4035SignedZoneKeepsTheMastersNameservers) {
  ZoneSpec spec = spec_with({nameserver("ns.example.", {"192.0.2.53"})});
  Vanity v(spec);
  const std::string zone = R"(
@      7200 NS ns1
@      RRSIG SOA 13 1 3600 20300101000000 20200101000000 1 example. AAAA
@      RRSIG NS 13 1 7200 20300101000000 20200101000000 1 example. AAAA
ns1    A    192.0.2.1
ns     A    192.0.2.99
)";
  auto pub = transfer(v, zone);
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_zone(*env_, kApex, soa(9) + zone);
}

// RFC 8976: a ZONEMD digest covers the master's apex NS and glue; substituting the set would
// make the zone fail its own check, so an unsigned zone with a ZONEMD keeps them too.
TEST_F(SnapshotSinkTest, Rfc8976ZoneWithAZonemdKeepsTheMastersNameservers) {
  ZoneSpec spec = spec_with({nameserver("ns.example.", {"192.0.2.53"})});
  Vanity v(spec);
  const std::string zone = R"(
@      7200 NS ns1
ns1    A    192.0.2.1
ns     A    192.0.2.99
@      ZONEMD 9 1 1 000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
)";
  auto pub = transfer(v, zone);
  ASSERT_TRUE(pub.ok()) << pub.error(); // the sink's writer has zonemd: off
  expect_zone(*env_, kApex, soa(9) + zone);
}

} // namespace
} // namespace holdfast::xfr
