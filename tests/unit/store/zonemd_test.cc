// SPDX-License-Identifier: MIT
// ZONEMD (store/zonemd.h): the RFC 8976 Appendix A zones verify with their published digests,
// and every way a zone or its ZONEMD RRset can fail is reported as its own outcome.
#include "store/zonemd.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::Name;

std::string read_zone(const std::string &file) {
  std::ifstream in(std::string(HOLDFAST_TEST_DATA) + "/zonemd/" + file, std::ios::binary);
  EXPECT_TRUE(in.good()) << file;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with `from` (which must occur exactly once) replaced by `to`.
std::string edit(std::string text, const std::string &from, const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from << " occurs twice";
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Zone text parsed with libzscanner into one knot_rrset_t per record; owns what they point to.
class ParsedZone {
public:
  ParsedZone(const std::string &origin, const std::string &text)
      : records_(test::parse_records(origin, text)) {
    for (test::Record &r : records_) {
      std::vector<uint8_t> &buf = storage_.emplace_back(knot_rdata_size(r.rdata.size()));
      auto *rd = reinterpret_cast<knot_rdata_t *>(buf.data());
      knot_rdata_init(rd, static_cast<uint16_t>(r.rdata.size()), r.rdata.data());
      knot_rrset_t rrset;
      knot_rrset_init(&rrset, r.owner.data(), r.type, r.rclass, r.ttl);
      rrset.rrs = {1, static_cast<uint32_t>(buf.size()), rd};
      rrsets_.push_back(rrset);
    }
  }
  const std::vector<knot_rrset_t> &rrsets() const { return rrsets_; }

private:
  std::vector<test::Record> records_;
  std::vector<std::vector<uint8_t>> storage_;
  std::vector<knot_rrset_t> rrsets_;
};

ZonemdResult verify(const std::string &apex, const std::string &text) {
  ParsedZone zone(apex, text);
  return verify_zonemd(Name(apex), zone.rrsets());
}

// One RRset as a store walk hands it over: equal owner and type merged, RRSIGs all in one.
struct FeedRRset {
  std::vector<uint8_t> owner; // lowercased
  uint16_t type;
  uint32_t ttl;
  uint16_t count = 0;
  std::vector<uint8_t> rdata; // knot_rdata_t records back to back

  knot_rdataset_t rrs() {
    return {count, static_cast<uint32_t>(rdata.size()),
            reinterpret_cast<knot_rdata_t *>(rdata.data())};
  }
};

// The zone's RRsets in canonical order (RFC 4034 6.1 owners, then ascending type), out-of-zone
// records dropped; every RRSIG RRset gets `rrsig_ttl` (a store keeps one TTL per RRset).
std::vector<FeedRRset> canonical_feed(const std::string &apex, const ParsedZone &zone,
                                      uint32_t rrsig_ttl) {
  std::vector<FeedRRset> sets;
  for (const knot_rrset_t &rr : zone.rrsets()) {
    if (labels_below(rr.owner, Name(apex)) < 0) {
      continue;
    }
    FeedRRset s{{rr.owner, rr.owner + knot_dname_size(rr.owner)}, rr.type, rr.ttl, 1, {}};
    knot_dname_to_lower(s.owner.data());
    const auto *bytes = reinterpret_cast<const uint8_t *>(rr.rrs.rdata);
    s.rdata.assign(bytes, bytes + rr.rrs.size);
    sets.push_back(std::move(s));
  }
  std::stable_sort(sets.begin(), sets.end(), [](const FeedRRset &a, const FeedRRset &b) {
    int c = knot_dname_cmp(a.owner.data(), b.owner.data());
    return c != 0 ? c < 0 : a.type < b.type;
  });
  std::vector<FeedRRset> merged;
  for (FeedRRset &s : sets) {
    if (!merged.empty() && merged.back().owner == s.owner && merged.back().type == s.type) {
      merged.back().rdata.insert(merged.back().rdata.end(), s.rdata.begin(), s.rdata.end());
      ++merged.back().count;
      continue;
    }
    s.ttl = s.type == KNOT_RRTYPE_RRSIG ? rrsig_ttl : s.ttl;
    merged.push_back(std::move(s));
  }
  return merged;
}

// Gives the digester the apex ZONEMD RRset of `feed`, if there is one.
void expect_apex_zonemd(ZonemdDigester &digester, const std::string &apex,
                        std::vector<FeedRRset> &feed) {
  for (FeedRRset &s : feed) {
    if (s.type == KNOT_RRTYPE_ZONEMD && labels_below(s.owner.data(), Name(apex)) == 0) {
      digester.expect(s.rrs());
    }
  }
}

// Drives ZonemdDigester the way the store will: apex ZONEMD first, then every RRset in order.
ZonemdResult digest_in_order(const std::string &apex, const std::string &text, uint32_t serial,
                             uint32_t rrsig_ttl = 0) {
  ParsedZone zone(apex, text);
  std::vector<FeedRRset> feed = canonical_feed(apex, zone, rrsig_ttl);
  ZonemdDigester digester{Name(apex)};
  expect_apex_zonemd(digester, apex, feed);
  for (FeedRRset &s : feed) {
    digester.add(s.owner.data(), s.type, s.ttl, s.rrs());
  }
  return digester.finish(serial);
}

struct AppendixZone {
  const char *file;
  const char *apex;
  uint32_t serial;
};
const AppendixZone kAppendixA[] = {
    {"a1-simple.zone", "example.", 2018031900},
    {"a2-complex.zone", "example.", 2018031900},
    {"a3-multiple-digests.zone", "example.", 2018031900},
    {"a4-uri.arpa.zone", "uri.arpa.", 2018100702},
    {"a5-root-servers.net.zone", "root-servers.net.", 2018091100},
};

TEST(Rfc8976Zonemd, AppendixA1SimpleZoneVerifies) {
  ZonemdResult r = verify("example.", read_zone("a1-simple.zone"));
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
  EXPECT_EQ(r.message, "ZONEMD verified (scheme 1, SHA-384, serial 2018031900)");
}

// Duplicates, an occluded TXT, uppercase owners and MX targets, a wildcard, a five-record
// RRset, a non-apex ZONEMD and an out-of-zone TXT.
TEST(Rfc8976Zonemd, AppendixA2ComplexZoneVerifies) {
  ZonemdResult r = verify("example.", read_zone("a2-complex.zone"));
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
}

TEST(Rfc8976Zonemd, AppendixA3MultipleDigestsVerifyAndPrivateOnesAreReportedUnsupported) {
  ZonemdResult r = verify("example.", read_zone("a3-multiple-digests.zone"));
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
  EXPECT_NE(r.message.find("ZONEMD verified (scheme 1, SHA-384"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("ZONEMD verified (scheme 1, SHA-512"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("scheme 1 with hash algorithm 240 is not supported"), std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("scheme 241 with hash algorithm 1 is not supported"), std::string::npos)
      << r.message;
}

// RFC 8976 4: a match with any one supported record is enough.
TEST(Rfc8976Zonemd, AppendixA3VerifiesWithTheSha512RecordAlone) {
  std::string text = edit(read_zone("a3-multiple-digests.zone"), "2018031900 1 1 (\n",
                          "2018031900 1 1 (\nffffffffffffffff");
  text = edit(text, "080211f8480ee306 )", ")"); // keep the SHA-384 record 48 octets long
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
  EXPECT_EQ(r.message.rfind("ZONEMD verified (scheme 1, SHA-512", 0), 0u) << r.message;
  EXPECT_NE(r.message.find("ZONEMD digest mismatch (scheme 1, SHA-384"), std::string::npos)
      << r.message;
}

// Signed, with RRSIG TTLs per covered type, NSEC, NAPTR and an RRSIG over the apex ZONEMD.
TEST(Rfc8976Zonemd, AppendixA4UriArpaSignedZoneVerifies) {
  ZonemdResult r = verify("uri.arpa.", read_zone("a4-uri.arpa.zone"));
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
  EXPECT_EQ(r.message, "ZONEMD verified (scheme 1, SHA-384, serial 2018100702)");
}

TEST(Rfc8976Zonemd, AppendixA5RootServersNetVerifies) {
  ZonemdResult r = verify("root-servers.net.", read_zone("a5-root-servers.net.zone"));
  EXPECT_EQ(r.outcome, ZonemdOutcome::kVerified) << r.message;
}

TEST(Rfc8976Zonemd, DigesterFedInCanonicalOrderAgreesWithVerifyZonemd) {
  for (const AppendixZone &z : kAppendixA) {
    std::string text = read_zone(z.file);
    ZonemdResult whole = verify(z.apex, text);
    ZonemdResult streamed = digest_in_order(z.apex, text, z.serial);
    EXPECT_EQ(streamed.outcome, ZonemdOutcome::kVerified) << z.file << ": " << streamed.message;
    EXPECT_EQ(streamed.outcome, whole.outcome) << z.file;
    EXPECT_EQ(streamed.message, whole.message) << z.file;
    // The same zone with one record changed fails the same way through both paths.
    std::string tampered = text + "zzz." + z.apex + " 60 IN A 192.0.2.1\n";
    EXPECT_EQ(digest_in_order(z.apex, tampered, z.serial).outcome, ZonemdOutcome::kMismatch);
    EXPECT_EQ(verify(z.apex, tampered).outcome, ZonemdOutcome::kMismatch) << z.file;
  }
}

TEST(Rfc8976Zonemd, VerifyZonemdTakesTheRecordsInAnyOrder) {
  for (const AppendixZone &z : kAppendixA) {
    ParsedZone zone(z.apex, read_zone(z.file));
    std::vector<knot_rrset_t> reversed(zone.rrsets().rbegin(), zone.rrsets().rend());
    EXPECT_EQ(verify_zonemd(Name(z.apex), reversed).outcome, ZonemdOutcome::kVerified) << z.file;
  }
}

// RFC 4034 3: each RRSIG RR carries the TTL of the RRset it covers; a store keeping one TTL per
// RRSIG RRset still digests them right, from the Original TTL field.
TEST(Rfc8976Zonemd, RrsigsAreDigestedWithTheTtlOfTheRRsetTheyCover) {
  std::string text = read_zone("a4-uri.arpa.zone");
  EXPECT_EQ(digest_in_order("uri.arpa.", text, 2018100702, 0).outcome, ZonemdOutcome::kVerified);
  EXPECT_EQ(digest_in_order("uri.arpa.", text, 2018100702, 86400).outcome,
            ZonemdOutcome::kVerified);
}

TEST(Rfc8976Zonemd, TamperedRecordIsMismatch) {
  std::string text = edit(read_zone("a1-simple.zone"), "203.0.113.63", "203.0.113.64");
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMismatch) << r.message;
  EXPECT_EQ(r.message, "ZONEMD digest mismatch (scheme 1, SHA-384, serial 2018031900)");
}

TEST(Rfc8976Zonemd, ChangedTtlIsMismatch) {
  std::string text = edit(read_zone("a1-simple.zone"), "ns2           3600", "ns2           3601");
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kMismatch);
}

TEST(Rfc8976Zonemd, RemovedRecordIsMismatch) {
  std::string text =
      edit(read_zone("a2-complex.zone"), "sortme        3600   IN  AAAA    2001:db8::4:63\n", "");
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kMismatch);
}

// RFC 8976 3.3.1.1: duplicate RRs are digested once, so dropping the second copy changes nothing.
TEST(Rfc8976Zonemd, DuplicateRecordsAreDigestedOnce) {
  std::string dup = "duplicate     300    IN  TXT     \"I must be digested just once\"\n";
  std::string text = read_zone("a2-complex.zone");
  std::string once = text.replace(text.find(dup), dup.size(), "");
  EXPECT_EQ(verify("example.", once).outcome, ZonemdOutcome::kVerified);
  std::string thrice = read_zone("a2-complex.zone") +
                       "duplicate.example. 300 IN TXT \"I must be digested just once\"\n";
  EXPECT_EQ(verify("example.", thrice).outcome, ZonemdOutcome::kVerified);
}

// RFC 8976 3.3.1.1: occluded data is in the zone and digested; out-of-zone data is not.
TEST(Rfc8976Zonemd, OccludedDataIsDigestedAndOutOfZoneDataIsNot) {
  std::string text = read_zone("a2-complex.zone");
  EXPECT_EQ(verify("example.", edit(text, "I'm occluded", "I am occluded")).outcome,
            ZonemdOutcome::kMismatch);
  EXPECT_EQ(verify("example.", edit(text, "out-of-zone data", "other data")).outcome,
            ZonemdOutcome::kVerified);
  EXPECT_EQ(verify("example.", text + "example.com. 60 IN A 192.0.2.1\n").outcome,
            ZonemdOutcome::kVerified);
}

// RFC 4034 6.2: owner names and the names inside MX (and the other listed types) are lowercased.
TEST(Rfc8976Zonemd, OwnerAndRdataNameCaseDoNotChangeTheDigest) {
  std::string text = read_zone("a2-complex.zone");
  text = edit(text, "Mail2.Example.", "MAIL2.EXAMPLE.");
  text = edit(text, "UPPERCASE     3600", "uppercase     3600");
  text = edit(text, "sub           7200   IN  NS      ns1", "SuB           7200   IN  NS      NS1");
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kVerified);
}

// RFC 6840 5.1 took NSEC off the RFC 4034 6.2 list: its Next Domain Name keeps its case.
TEST(Rfc8976Zonemd, NsecNextNameCaseChangesTheDigest) {
  std::string text = read_zone("a4-uri.arpa.zone");
  EXPECT_EQ(
      verify("uri.arpa.", edit(text, "NSEC    http.uri.arpa.", "NSEC    HTTP.uri.arpa.")).outcome,
      ZonemdOutcome::kMismatch);
  EXPECT_EQ(verify("uri.arpa.",
                   edit(text, "MX      10 pechora.icann.org.", "MX      10 PECHORA.icann.ORG."))
                .outcome,
            ZonemdOutcome::kVerified);
}

// RFC 8976 3.3.1.1: the RRSIG over the apex ZONEMD is excluded (it is made after the digest).
TEST(Rfc8976Zonemd, RrsigOverTheApexZonemdIsExcluded) {
  std::string text = read_zone("a4-uri.arpa.zone");
  EXPECT_EQ(
      verify("uri.arpa.", edit(text, "QDo4XZcL3HMyn8aAHyCUsu", "QDo5XZcL3HMyn8aAHyCUsu")).outcome,
      ZonemdOutcome::kVerified);
  // Any other signature is digested.
  EXPECT_EQ(verify("uri.arpa.", edit(text, "GzQw+QzwLDJr13REPGVm", "GzQx+QzwLDJr13REPGVm")).outcome,
            ZonemdOutcome::kMismatch);
}

// RFC 8976 2.1: a ZONEMD below the apex is ordinary data, digested as is.
TEST(Rfc8976Zonemd, NonApexZonemdIsDigestedAsOrdinaryData) {
  std::string text = edit(read_zone("a2-complex.zone"), "2e20616c6c6f7765 )", "2e20616c6c6f7766 )");
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kMismatch);
}

// RFC 8976 4 step 5a.
TEST(Rfc8976Zonemd, ZonemdSerialOtherThanSoaSerialIsSerialMismatch) {
  std::string text = edit(read_zone("a1-simple.zone"), "ZONEMD  2018031900", "ZONEMD  2018031901");
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kSerialMismatch) << r.message;
  EXPECT_EQ(r.message,
            "ZONEMD serial 2018031901 differs from the SOA serial 2018031900 (scheme 1, SHA-384)");
}

TEST(Rfc8976Zonemd, ZoneWithoutZonemdIsAbsent) {
  std::string text = read_zone("a1-simple.zone");
  text = text.substr(0, text.find("              86400  IN  ZONEMD")) +
         text.substr(text.find("ns1           3600"));
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kAbsent) << r.message;
  // A non-apex ZONEMD does not count (RFC 8976 2.1).
  r = verify("example.",
             text + "sub.example. 60 IN ZONEMD 2018031900 1 1 " + std::string(96, 'a') + "\n");
  EXPECT_EQ(r.outcome, ZonemdOutcome::kAbsent) << r.message;
}

// RFC 8976 4 steps 5b and 5c: the zone cannot be verified, and the message says why.
TEST(Rfc8976Zonemd, OnlyUnsupportedSchemesAndAlgorithmsIsUnsupported) {
  std::string text = read_zone("a3-multiple-digests.zone");
  size_t from = text.find("example.      86400  IN  ZONEMD  2018031900 1 1");
  size_t to = text.find("example.      86400  IN  ZONEMD  2018031900 1 240");
  text.erase(from, to - from);
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kUnsupported) << r.message;
  EXPECT_EQ(r.message, "ZONEMD not verified: no record uses a supported scheme and hash algorithm "
                       "(SIMPLE with SHA-384 or SHA-512): scheme 1 with hash algorithm 240 is not "
                       "supported; scheme 241 with hash algorithm 1 is not supported");
}

// RFC 8976 4 step 5d.
TEST(Rfc8976Zonemd, DigestOfTheWrongLengthIsMalformed) {
  std::string text = edit(read_zone("a1-simple.zone"), "777f98b8e730044c )", ")");
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMalformed) << r.message;
  EXPECT_NE(r.message.find("digest of 40 octets, SHA-384 has 48"), std::string::npos) << r.message;
}

// RFC 8976 2.2.4: no digest is shorter than 12 octets, whatever its algorithm.
TEST(Rfc8976Zonemd, DigestShorterThanTwelveOctetsIsMalformed) {
  std::string text = read_zone("a1-simple.zone");
  text = text.substr(0, text.find("              86400  IN  ZONEMD")) +
         "              86400  IN  ZONEMD  2018031900 241 1 e1846540e33a9e41\n" +
         text.substr(text.find("ns1           3600"));
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMalformed) << r.message;
  EXPECT_NE(r.message.find("too short"), std::string::npos) << r.message;
}

// RFC 8976 4 step 4: two records with one Scheme and Hash Algorithm: neither may verify.
TEST(Rfc8976Zonemd, TwoRecordsWithOneSchemeAndHashAreMalformed) {
  std::string text = read_zone("a1-simple.zone") + "example. 86400 IN ZONEMD 2018031900 1 1 " +
                     std::string(96, 'a') + "\n";
  ZonemdResult r = verify("example.", text);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMalformed) << r.message;
  EXPECT_NE(r.message.find("RFC 8976 4 step 4"), std::string::npos) << r.message;
}

TEST(Rfc8976Zonemd, IdenticalApexZonemdRecordsCountOnce) {
  std::string text = read_zone("a1-simple.zone") +
                     "example. 86400 IN ZONEMD 2018031900 1 1 "
                     "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3"
                     "a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c\n";
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kVerified);
}

TEST(Rfc8976Zonemd, ZonemdWithoutSoaIsMalformed) {
  std::string text = read_zone("a1-simple.zone");
  text = text.substr(0, text.find("\nexample.") + 1) + "example. 86400 IN TXT \"no SOA\"\n" +
         text.substr(text.find("              86400  IN  NS      ns1"));
  EXPECT_EQ(verify("example.", text).outcome, ZonemdOutcome::kMalformed);
}

TEST(ZonemdDigester, WithoutExpectedRecordsIsAbsent) {
  std::string text = read_zone("a1-simple.zone");
  ParsedZone zone("example.", text);
  std::vector<FeedRRset> feed = canonical_feed("example.", zone, 0);
  ZonemdDigester digester{Name("example.")};
  for (FeedRRset &s : feed) {
    digester.add(s.owner.data(), s.type, s.ttl, s.rrs());
  }
  EXPECT_EQ(digester.finish(2018031900).outcome, ZonemdOutcome::kAbsent);
}

// A feed out of canonical order would make a good zone look tampered with: it is reported as
// the caller's fault instead.
TEST(ZonemdDigester, FeedOutOfCanonicalOrderIsReported) {
  ParsedZone zone("example.", read_zone("a2-complex.zone"));
  std::vector<FeedRRset> feed = canonical_feed("example.", zone, 0);
  ZonemdDigester digester{Name("example.")};
  expect_apex_zonemd(digester, "example.", feed);
  std::swap(feed[3], feed[4]);
  for (FeedRRset &s : feed) {
    digester.add(s.owner.data(), s.type, s.ttl, s.rrs());
  }
  ZonemdResult r = digester.finish(2018031900);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMalformed) << r.message;
  EXPECT_NE(r.message.find("not fed in canonical order"), std::string::npos) << r.message;
}

TEST(ZonemdDigester, ExpectAfterTheFirstRRsetIsReported) {
  ParsedZone zone("example.", read_zone("a1-simple.zone"));
  std::vector<FeedRRset> feed = canonical_feed("example.", zone, 0);
  ZonemdDigester digester{Name("example.")};
  digester.add(feed[0].owner.data(), feed[0].type, feed[0].ttl, feed[0].rrs());
  expect_apex_zonemd(digester, "example.", feed);
  ZonemdResult r = digester.finish(2018031900);
  EXPECT_EQ(r.outcome, ZonemdOutcome::kMalformed) << r.message;
}

TEST(ZonemdDigester, OutcomesHaveNames) {
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kVerified), "verified");
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kAbsent), "absent");
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kMismatch), "mismatch");
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kUnsupported), "unsupported");
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kSerialMismatch), "serial-mismatch");
  EXPECT_STREQ(zonemd_outcome_name(ZonemdOutcome::kMalformed), "malformed");
}

} // namespace
} // namespace holdfast::store
