// SPDX-License-Identifier: MIT
// QueryProcessor::process() answers on wire bytes: RFC 1034 4.3.2 (exact, CNAME, referral),
// RFC 2308 negative answers, RFC 4592 wildcards, RFC 6672 DNAME, RFC 8482 ANY, 0x20 case.
#include "serve/query.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "store/zonefile.h"
#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

TEST_F(QueryTest, Rfc1034ExactAnswerIsAuthoritative) {
  auto r = ask("www.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_FALSE(r->tc());
  EXPECT_TRUE(r->rd()); // RFC 1035 4.1.1: RD is copied into the response
  EXPECT_EQ(r->qdcount(), 1);
  EXPECT_EQ(r->qname_text(), "www.example.");
  EXPECT_EQ(knot_pkt_qtype(r->pkt()), KNOT_RRTYPE_A);
  EXPECT_EQ(r->answer(), Lines{"www.example. 3600 A 192.0.2.80"});
  EXPECT_EQ(r->authority(), Lines{});
  EXPECT_EQ(r->additional(), Lines{});
}

TEST_F(QueryTest, Rfc1034ApexAnswerAddsAdditionalAddresses) {
  auto r = ask("example.", KNOT_RRTYPE_MX);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{"example. 3600 MX 10 mail.example."});
  EXPECT_EQ(r->additional(), Lines{"mail.example. 3600 A 192.0.2.25"});
}

TEST_F(QueryTest, Rfc2308NxdomainCarriesSoaWithMinimumTtl) {
  auto r = ask("nope.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  // RFC 2308 3: TTL = min(SOA TTL 7200, MINIMUM 300).
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

// "target\000www.example." must not read as "www.target.example." (zero ends a key label, so
// the zero octet inside the label is escaped, common/dname.h): it does not exist.
TEST_F(QueryTest, NameWithAZeroOctetInALabelDoesNotExist) {
  auto r = ask("target\\000www.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

// RFC 2181 11: any octet in a label. Such names are stored, found, and wildcards under them work.
TEST_F(QueryTest, Rfc2181NamesWithZeroAndOneOctetsAreAnswered) {
  load("bin.", "$ORIGIN bin.\n@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\n"
               "a\\000b A 192.0.2.1\nb.a A 192.0.2.2\n\\001 A 192.0.2.3\n"
               "*.\\000 TXT wild\n");
  auto exact = ask("A\\000B.bin.", KNOT_RRTYPE_A);
  EXPECT_EQ(exact->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(exact->answer(), Lines{"A\\000B.bin. 3600 A 192.0.2.1"});
  EXPECT_EQ(ask("b.a.bin.", KNOT_RRTYPE_A)->answer(), Lines{"b.a.bin. 3600 A 192.0.2.2"});
  EXPECT_EQ(ask("\\001.bin.", KNOT_RRTYPE_A)->answer(), Lines{"\\001.bin. 3600 A 192.0.2.3"});
  EXPECT_EQ(ask("a\\000.bin.", KNOT_RRTYPE_A)->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_EQ(ask("a\\001b.bin.", KNOT_RRTYPE_A)->rcode(), KNOT_RCODE_NXDOMAIN);
  auto wild = ask("x\\000.\\000.bin.", KNOT_RRTYPE_TXT);
  EXPECT_EQ(wild->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(wild->answer(), Lines{"x\\000.\\000.bin. 3600 TXT \"wild\""});
  EXPECT_EQ(ask("\\000.bin.", KNOT_RRTYPE_TXT)->rcode(), KNOT_RCODE_NOERROR) << "an ENT";
}

TEST_F(QueryTest, Rfc2308NegativeTtlIsTheSoaTtlWhenItIsSmaller) {
  auto r = ask("nope.short.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NXDOMAIN);
  // RFC 2308 3: min(SOA TTL 60, MINIMUM 3600) = 60.
  EXPECT_EQ(r->authority(),
            Lines{"short. 60 SOA ns.short. hostmaster.short. 5 7200 3600 1209600 3600"});
}

TEST_F(QueryTest, Rfc2308NodataIsNoerrorWithSoa) {
  auto r = ask("www.example.", KNOT_RRTYPE_MX);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, Rfc1034CnameChainIsFollowedInsideTheZone) {
  auto r = ask("alias.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(),
            (Lines{"alias.example. 3600 CNAME chain.example.",
                   "chain.example. 3600 CNAME www.example.", "www.example. 3600 A 192.0.2.80"}));
  EXPECT_EQ(r->authority(), Lines{});
}

TEST_F(QueryTest, Rfc1034CnameQueryReturnsTheCnameItself) {
  auto r = ask("alias.example.", KNOT_RRTYPE_CNAME);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"alias.example. 3600 CNAME chain.example."});
}

TEST_F(QueryTest, Rfc6604DanglingCnameGivesNxdomainForTheTarget) {
  auto r = ask("dangling.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{"dangling.example. 3600 CNAME nowhere.example."});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, Rfc1034CnameOutOfTheZoneIsNotFollowed) {
  auto r = ask("out.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"out.example. 3600 CNAME www.example.org."});
  EXPECT_EQ(r->authority(), Lines{});
}

TEST_F(QueryTest, Rfc4343CnameTargetSpeltInUpperCaseIsFollowed) {
  // "upper CNAME WWW.EXAMPLE.": names compare case-insensitively (RFC 4343 3), so the target
  // is the in-zone name www.example. and the chain continues there.
  auto r = ask("upper.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  Lines answer = r->answer();
  ASSERT_EQ(answer.size(), 2u) << "the chain stopped at the CNAME";
  EXPECT_EQ(answer[0], "upper.example. 3600 CNAME WWW.EXAMPLE.");
  // The owner's case is not the point here.
  std::string a = answer[1];
  std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_EQ(a, "www.example. 3600 a 192.0.2.80");
}

TEST_F(QueryTest, Rfc1034CnameLoopTerminates) {
  auto r = ask("loop1.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), (Lines{"loop1.example. 3600 CNAME loop2.example.",
                                "loop2.example. 3600 CNAME loop1.example."}));
}

TEST_F(QueryTest, Rfc4592WildcardSynthesisesTheQueryName) {
  auto r = ask("foo.wild.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{"foo.wild.example. 3600 A 192.0.2.99"});

  auto deeper = ask("a.b.wild.example.", KNOT_RRTYPE_TXT);
  EXPECT_EQ(deeper->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(deeper->answer(), Lines{"a.b.wild.example. 3600 TXT \"wild\""});
}

TEST_F(QueryTest, Rfc4592WildcardNodata) {
  auto r = ask("foo.wild.example.", KNOT_RRTYPE_MX);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, Rfc4592EmptyNonTerminalBlocksWildcard) {
  // deep.wild exists (it has a descendant), so *.wild does not match it (RFC 4592 2.2.2) ...
  auto ent = ask("deep.wild.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(ent->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(ent->answer(), Lines{});
  EXPECT_EQ(ent->authority(), Lines{kNegSoa});
  // ... and below it the closest encloser is deep.wild, which has no "*" child: NXDOMAIN.
  auto below = ask("x.deep.wild.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(below->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_EQ(below->answer(), Lines{});
}

TEST_F(QueryTest, Rfc4592EmptyWildcardMatchesWithNodata) {
  // "*.ew" exists only as an empty non-terminal (its child x.*.ew has data). It still matches
  // foo.ew (RFC 4592 2.2.2, 3.3.1) and owns nothing: NOERROR/NODATA, not NXDOMAIN.
  auto r = ask("foo.ew.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, Rfc4592AsteriskQueriedLiterally) {
  auto r = ask("*.wild.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"*.wild.example. 3600 A 192.0.2.99"});
}

TEST_F(QueryTest, Rfc1034ReferralBelowAZoneCut) {
  auto r = ask("host.sub.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_FALSE(r->aa()) << "a referral is not authoritative";
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(),
            (Lines{"sub.example. 3600 NS ns.sub.example.", "sub.example. 3600 NS ns.other.test."}));
  EXPECT_EQ(r->additional(), Lines{"ns.sub.example. 3600 A 192.0.2.53"});
}

TEST_F(QueryTest, Rfc1034ReferralAtTheCutAndForGlue) {
  auto at = ask("sub.example.", KNOT_RRTYPE_NS);
  EXPECT_FALSE(at->aa());
  EXPECT_EQ(at->answer(), Lines{});
  EXPECT_EQ(at->authority().size(), 2u);
  // Glue is not authoritative data: a query for it is referred too.
  auto glue = ask("ns.sub.example.", KNOT_RRTYPE_A);
  EXPECT_FALSE(glue->aa());
  EXPECT_EQ(glue->answer(), Lines{});
  EXPECT_EQ(glue->authority().size(), 2u);
}

TEST_F(QueryTest, Rfc4035DsIsAnsweredByTheParentSideOfTheCut) {
  // No DS in the zone: an authoritative NODATA from the parent, not a referral.
  auto r = ask("sub.example.", KNOT_RRTYPE_DS);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{});
  EXPECT_EQ(r->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, Rfc6672DnameSynthesisesACname) {
  auto r = ask("x.dn.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  // RFC 6672 3.3: the DNAME, then a CNAME from the query name with the DNAME's TTL.
  EXPECT_EQ(r->answer(), (Lines{"dn.example. 3600 DNAME example.net.",
                                "x.dn.example. 3600 CNAME x.example.net."}));
}

TEST_F(QueryTest, Rfc6672DnameTargetInsideTheZoneIsFollowed) {
  auto r = ask("www.dn2.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), (Lines{"dn2.example. 3600 DNAME target.example.",
                                "www.dn2.example. 3600 CNAME www.target.example.",
                                "www.target.example. 3600 A 192.0.2.7"}));
}

TEST_F(QueryTest, Rfc6672DnameOwnerItselfIsNotRedirected) {
  auto r = ask("dn.example.", KNOT_RRTYPE_DNAME);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"dn.example. 3600 DNAME example.net."});
  auto a = ask("dn.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(a->answer(), Lines{});
  EXPECT_EQ(a->authority(), Lines{kNegSoa});
}

TEST_F(QueryTest, CaseOfLabelsBelowTheApexIsPreserved) {
  auto r = ask("WwW.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(r->qname_text(), "WwW.example.");
  EXPECT_EQ(r->answer(), Lines{"WwW.example. 3600 A 192.0.2.80"});
}

TEST_F(QueryTest, Rfc5452CaseOfTheWholeQueryNameIsPreserved) {
  // 0x20 case randomisation (draft-vixie-dnsext-dns0x20, RFC 5452 9.1): resolvers compare
  // the question and answer owner case-sensitively.
  auto r = ask("WwW.ExAmPlE.", KNOT_RRTYPE_A);
  EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->qname_text(), "WwW.ExAmPlE.");
  EXPECT_EQ(r->answer(), Lines{"WwW.ExAmPlE. 3600 A 192.0.2.80"});

  auto nx = ask("NoPe.ExAmPlE.", KNOT_RRTYPE_A);
  EXPECT_EQ(nx->rcode(), KNOT_RCODE_NXDOMAIN);
  EXPECT_EQ(nx->authority().size(), 1u);
}

TEST_F(QueryTest, Rfc8482AnyQueryReturnsOneRRset) {
  // RFC 8482 4.1: one RRset is a complete answer; the code picks the lowest type, as Knot DNS.
  for (bool tcp : {false, true}) {
    SCOPED_TRACE(tcp ? "tcp" : "udp");
    auto r = ask("www.example.", KNOT_RRTYPE_ANY, {}, tcp);
    EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
    EXPECT_TRUE(r->aa());
    EXPECT_EQ(r->answer(), Lines{"www.example. 3600 A 192.0.2.80"});
  }
  auto apex = ask("example.", KNOT_RRTYPE_ANY);
  EXPECT_EQ(apex->answer().size(), 2u); // the two NS records (type 2 < SOA 6 < MX 15)
  EXPECT_EQ(apex->answer()[0], "example. 3600 NS ns1.example.");
  // ANY on an empty non-terminal is NODATA.
  auto ent = ask("deep.wild.example.", KNOT_RRTYPE_ANY);
  EXPECT_EQ(ent->rcode(), KNOT_RCODE_NOERROR);
  EXPECT_EQ(ent->answer(), Lines{});
  EXPECT_EQ(ent->authority(), Lines{kNegSoa});
}

// At a signed name whose data types sort above RRSIG (46) and NSEC (47), such as TLSA (52),
// the one RRset of an ANY answer is the data, not a signature or the NSEC.
TEST_F(QueryTest, Rfc8482AnyAtASignedNameAnswersDataNotDnssecRecords) {
  load("sig.", "$ORIGIN sig.\n$TTL 300\n@ SOA ns hm 1 7200 3600 1209600 300\n@ NS ns\n"
               "ns A 192.0.2.1\n_25._tcp TLSA 3 1 1 0123456789abcdef\n"
               "_25._tcp RRSIG TLSA 13 3 300 20300101000000 20200101000000 1 sig. AAAA\n"
               "_25._tcp NSEC ns.sig. TLSA RRSIG NSEC\n"
               "_25._tcp RRSIG NSEC 13 3 300 20300101000000 20200101000000 1 sig. AAAA\n"
               "@ RRSIG SOA 13 1 300 20300101000000 20200101000000 1 sig. AAAA\n");
  for (bool dnssec_ok : {false, true}) {
    SCOPED_TRACE(dnssec_ok ? "DO" : "no DO");
    QueryOptions o;
    o.edns = true;
    o.dnssec_ok = dnssec_ok;
    auto r = ask("_25._tcp.sig.", KNOT_RRTYPE_ANY, o);
    EXPECT_EQ(r->rcode(), KNOT_RCODE_NOERROR);
    ASSERT_FALSE(r->answer().empty());
    EXPECT_EQ(r->answer()[0], "_25._tcp.sig. 300 TLSA 3 1 1 0123456789ABCDEF");
    EXPECT_EQ(r->answer().size(), dnssec_ok ? 2u : 1u) << "the TLSA and, with DO, its RRSIG";
  }
}

TEST_F(QueryTest, BatchSeesAZoneReloadedBetweenBatches) {
  auto before = ask("www.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(before->answer(), Lines{"www.example. 3600 A 192.0.2.80"});
  std::string path = dir_.write("example.zone2", R"(
$ORIGIN example.
@ SOA ns1 hostmaster 2 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.180
)");
  auto r = store::load_zone_file(*env_, Name("example."), path);
  ASSERT_TRUE(r.ok()) << r.error();
  auto after = ask("www.example.", KNOT_RRTYPE_A);
  EXPECT_EQ(after->answer(), Lines{"www.example. 3600 A 192.0.2.180"});
}

} // namespace
} // namespace holdfast::serve::testing
