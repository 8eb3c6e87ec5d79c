// SPDX-License-Identifier: MIT
// Owner-name keys (common/dname.h): canonical order, case folding, ancestors, round trips.
#include "common/dname.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/keys.h"
#include "tests/unit/testutil.h"

namespace holdfast {
namespace {

using test::key_of;
using test::Name;

std::string key_bytes(const NameKey &k) {
  return std::string(k.view());
}

// RFC 4034 6.1: the example names, listed in canonical order.
const std::vector<std::string> kCanonicalExample = {
    "example.",   "a.example.",       "yljkjljk.a.example.", "Z.a.example.",     "zABC.a.EXAMPLE.",
    "z.example.", "\\001.z.example.", "*.z.example.",        "\\200.z.example.",
};

TEST(Rfc4034CanonicalOrder, KeysSortBytewiseInSection61Order) {
  std::vector<std::pair<std::string, std::string>> keyed; // key bytes, name
  for (const auto &n : kCanonicalExample) {
    NameKey k;
    // Under the root every label is part of the key.
    ASSERT_TRUE(make_key(Name(n), Name("."), k)) << n;
    keyed.emplace_back(key_bytes(k), n);
  }
  std::mt19937 rng(4034);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(keyed.begin(), keyed.end(), rng);
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::string> order;
    for (const auto &[k, n] : keyed) {
      order.push_back(n);
    }
    EXPECT_EQ(order, kCanonicalExample);
  }
}

TEST(Rfc4034CanonicalOrder, KeysBelowAnApexSortInSection61Order) {
  // The same names relative to "example.": the apex is the empty key and sorts first. The
  // apex labels are lowercased here; their case is NameInAnyCaseMatchesALowercaseApex's topic.
  std::vector<std::string> keys;
  for (std::string n : kCanonicalExample) {
    if (n.ends_with("EXAMPLE.")) {
      n.replace(n.size() - 8, 8, "example.");
    }
    NameKey k;
    ASSERT_TRUE(make_key(Name(n), Name("example."), k)) << n;
    keys.push_back(key_bytes(k));
  }
  EXPECT_EQ(keys.front(), "");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end()) << "keys must be distinct";
}

TEST(Rfc4034CanonicalOrder, AncestorSortsBeforeDescendantsAndSiblingsAfterThem) {
  // a.example < x.a.example < zz.a.example < b.example: a subtree is contiguous in key order.
  std::string a = key_bytes(key_of("a.example.", "example."));
  std::string xa = key_bytes(key_of("x.a.example.", "example."));
  std::string zza = key_bytes(key_of("zz.a.example.", "example."));
  std::string b = key_bytes(key_of("b.example.", "example."));
  std::string aa = key_bytes(key_of("aa.example.", "example."));
  EXPECT_LT(a, xa);
  EXPECT_LT(xa, zza);
  EXPECT_LT(zza, aa); // "a" < "aa": a shorter label sorts first (RFC 4034 6.1)
  EXPECT_LT(aa, b);
}

TEST(DnameKey, LayoutIsLabelReversedLowercaseZeroSeparated) {
  NameKey k = key_of("a.b.example.com.", "example.com.");
  EXPECT_EQ(key_bytes(k), std::string("b\0a\0", 4));
  EXPECT_EQ(k.labels, 2);
  EXPECT_EQ(k.len, 4);

  NameKey w = key_of("www.example.com.", "example.com.");
  EXPECT_EQ(key_bytes(w), std::string("www\0", 4));
  EXPECT_EQ(w.labels, 1);
}

TEST(DnameKey, ApexIsTheEmptyKey) {
  NameKey k = key_of("example.com.", "example.com.");
  EXPECT_EQ(k.len, 0);
  EXPECT_EQ(k.labels, 0);
}

TEST(DnameKey, LabelsBelowTheApexAreCaseFolded) {
  NameKey upper = key_of("WwW.MiXeD.example.com.", "example.com.");
  NameKey lower = key_of("www.mixed.example.com.", "example.com.");
  EXPECT_EQ(key_bytes(upper), key_bytes(lower));
  EXPECT_TRUE(upper == lower);
}

TEST(DnameKey, NameInAnyCaseMatchesALowercaseApex) {
  // dname.h: make_key takes `name` "(any case)"; the apex comes from the store, lowercase.
  // A query "WWW.Example.COM." (RFC 5452 4.1 / 0x20 case randomisation) must map to the same
  // key as "www.example.com.".
  NameKey upper;
  bool ok = make_key(Name("WWW.Example.COM."), Name("example.com."), upper);
  ASSERT_TRUE(ok) << "a mixed-case name was treated as outside its zone";
  EXPECT_EQ(key_bytes(upper), std::string("www\0", 4));

  NameKey apex;
  ASSERT_TRUE(make_key(Name("EXAMPLE.COM."), Name("example.com."), apex));
  EXPECT_EQ(apex.len, 0);
}

TEST(DnameKey, NamesOutsideTheApexAreRejected) {
  NameKey k;
  EXPECT_FALSE(make_key(Name("www.example.org."), Name("example.com."), k));
  EXPECT_FALSE(make_key(Name("notexample.com."), Name("example.com."), k));
  EXPECT_FALSE(make_key(Name("com."), Name("example.com."), k));
  EXPECT_FALSE(make_key(Name("."), Name("example.com."), k));
}

// "a\000b.example." would get the key of "b.a.example." (zero separates key labels).
TEST(DnameKey, LabelWithAZeroOctetHasNoKey) {
  NameKey k;
  EXPECT_TRUE(has_zero_octet_label(Name("a\\000b.example.")));
  EXPECT_TRUE(has_zero_octet_label(Name("\\000.example.")));
  EXPECT_FALSE(has_zero_octet_label(Name("a.b.example.")));
  EXPECT_FALSE(make_key(Name("a\\000b.example."), Name("example."), k));
  EXPECT_FALSE(make_key(Name("x.\\000.example."), Name("example."), k));
  EXPECT_TRUE(make_key(Name("a.b.example."), Name("example."), k));
}

TEST(DnameKey, WildcardIsRecognisedOnlyAsTheWholeLeftmostLabel) {
  EXPECT_TRUE(key_of("*.example.", "example.").is_wildcard());
  EXPECT_TRUE(key_of("*.a.b.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("a.*.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("x*.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("example.", "example.").is_wildcard());
}

TEST(DnameKeyAncestor, KeepsTheFirstNLabelsBelowTheApex) {
  NameKey k = key_of("a.b.c.example.", "example.");
  ASSERT_EQ(k.labels, 3);
  NameKey a0 = k.ancestor(0);
  EXPECT_EQ(a0.len, 0);
  EXPECT_EQ(a0.labels, 0);
  EXPECT_TRUE(k.ancestor(1) == key_of("c.example.", "example."));
  EXPECT_EQ(k.ancestor(1).labels, 1);
  EXPECT_TRUE(k.ancestor(2) == key_of("b.c.example.", "example."));
  EXPECT_EQ(k.ancestor(2).labels, 2);
  EXPECT_TRUE(k.ancestor(3) == k);
  EXPECT_EQ(k.ancestor(3).labels, 3);
  // Asking for more labels than the name has gives the name itself.
  EXPECT_TRUE(k.ancestor(7) == k);
  EXPECT_EQ(k.ancestor(7).labels, 3);
}

TEST(DnameKeyCommonLabels, CountsWholeSharedLabelsOnly) {
  auto k = [](const char *n) { return key_of(n, "example."); };
  EXPECT_EQ(common_labels(k("a.b.c.example."), k("x.b.c.example.")), 2u);
  EXPECT_EQ(common_labels(k("a.b.c.example."), k("b.c.example.")), 2u);
  EXPECT_EQ(common_labels(k("b.c.example."), k("a.b.c.example.")), 2u);
  EXPECT_EQ(common_labels(k("a.b.c.example."), k("a.b.c.example.")), 3u);
  EXPECT_EQ(common_labels(k("a.example."), k("b.example.")), 0u);
  EXPECT_EQ(common_labels(k("example."), k("a.example.")), 0u);
  // "b" is a prefix of the label "bc" but not the same label.
  EXPECT_EQ(common_labels(k("x.b.example."), k("x.bc.example.")), 0u);
  EXPECT_EQ(common_labels(k("b.x.example."), k("bc.x.example.")), 1u);
}

TEST(DnameKeyToName, RoundTripsToTheLowercaseName) {
  const char *names[] = {
      "example.",         "www.example.",     "a.b.c.d.example.",     "*.wild.example.",
      "\\001.z.example.", "WwW.Sub.example.", "\\200\\255.x.example."};
  Name apex("example.");
  for (const char *n : names) {
    SCOPED_TRACE(n);
    Name name(n);
    NameKey k;
    ASSERT_TRUE(make_key(name, apex, k));
    uint8_t out[KNOT_DNAME_MAXLEN];
    size_t len = key_to_name(k, apex, out);
    std::vector<uint8_t> expect(name.get(), name.get() + name.size());
    knot_dname_to_lower(expect.data());
    ASSERT_EQ(len, expect.size());
    EXPECT_EQ(std::vector<uint8_t>(out, out + len), expect);
  }
}

TEST(DnameKeyToName, MaximumLengthNameRoundTrips) {
  // 255 octets on the wire: 3 labels of 63, one of 61, the root.
  std::string l63(63, 'a'), l61(61, 'b');
  std::string text = l63 + "." + l63 + "." + l63 + "." + l61 + ".";
  Name name(text);
  ASSERT_EQ(name.size(), 255u);
  Name apex(l61 + ".");
  NameKey k;
  ASSERT_TRUE(make_key(name, apex, k));
  EXPECT_EQ(k.labels, 3);
  uint8_t out[KNOT_DNAME_MAXLEN];
  ASSERT_EQ(key_to_name(k, apex, out), 255u);
  EXPECT_TRUE(knot_dname_is_equal(out, name));
}

TEST(DnameKeyFromStored, StripsTheAlignmentPadOfOddKeys) {
  // schema.h: stored owner keys are padded with one zero byte to an even length.
  for (const char *n :
       {"ab.example.", "www.example.", "a.b.example.", "abc.de.example.", "example."}) {
    SCOPED_TRACE(n);
    NameKey k = key_of(n, "example.");
    store::DbKey dk;
    store::make_db_key(7, k, dk);
    EXPECT_EQ(dk.len % 2, 0u);
    EXPECT_EQ(dk.len, 8 + k.len + (k.len % 2));
    EXPECT_EQ(store::key_snapshot(dk.val()), 7u);
    NameKey back = key_from_stored(dk.buf + 8, dk.len - 8);
    EXPECT_EQ(key_bytes(back), key_bytes(k));
    EXPECT_EQ(back.labels, k.labels);
  }
}

TEST(DnameKeyFromStored, PaddedKeyOfOneLabel) {
  const uint8_t padded[] = {'a', 'b', 0, 0};
  NameKey k = key_from_stored(padded, sizeof(padded));
  EXPECT_EQ(k.len, 3);
  EXPECT_EQ(k.labels, 1);
  EXPECT_EQ(key_bytes(k), std::string("ab\0", 3));

  const uint8_t even[] = {'w', 'w', 'w', 0};
  NameKey e = key_from_stored(even, sizeof(even));
  EXPECT_EQ(e.len, 4);
  EXPECT_EQ(e.labels, 1);

  NameKey apex = key_from_stored(even, 0);
  EXPECT_EQ(apex.len, 0);
  EXPECT_EQ(apex.labels, 0);
}

TEST(DnameText, NameToStringGivesPresentationFormat) {
  EXPECT_EQ(name_to_string(Name("www.Example.com.")), "www.Example.com.");
  EXPECT_EQ(name_to_string(Name(".")), ".");
}

} // namespace
} // namespace holdfast
