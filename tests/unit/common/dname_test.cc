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

// RFC 2181 11: a label may hold any octet. Zero ends a key label, so zero and 0x01 inside a
// label are escaped (dname.h): "a\000b.example." is not "b.a.example.".
TEST(DnameKey, ZeroAndOneOctetsAreEscapedInsideLabels) {
  EXPECT_EQ(key_bytes(key_of("a\\000b.example.", "example.")), std::string("a\1\1b\0", 5));
  EXPECT_EQ(key_bytes(key_of("a\\001b.example.", "example.")), std::string("a\1\2b\0", 5));
  EXPECT_EQ(key_bytes(key_of("x.\\000.example.", "example.")), std::string("\1\1\0x\0", 5));
  EXPECT_EQ(key_bytes(key_of("\\002\\255.example.", "example.")), std::string("\2\377\0", 3));
  EXPECT_EQ(key_of("a\\000b.example.", "example.").labels, 1);
  EXPECT_FALSE(key_of("a\\000b.example.", "example.") == key_of("b.a.example.", "example."));
}

// Reference comparator, RFC 4034 6.1 as written: labels from the most significant one, each
// compared as lowercased octet strings where a prefix sorts first; fewer labels sort first.
bool canonical_less(const std::vector<std::string> &a, const std::vector<std::string> &b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    std::string x = a[a.size() - 1 - i], y = b[b.size() - 1 - i];
    for (auto *l : {&x, &y}) {
      for (char &c : *l) {
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      }
    }
    if (x != y) {
      return std::lexicographical_compare(
          x.begin(), x.end(), y.begin(), y.end(),
          [](char p, char q) { return static_cast<uint8_t>(p) < static_cast<uint8_t>(q); });
    }
  }
  return a.size() < b.size();
}

std::vector<uint8_t> to_wire(const std::vector<std::string> &labels, const knot_dname_t *apex) {
  std::vector<uint8_t> w;
  for (const auto &l : labels) {
    w.push_back(static_cast<uint8_t>(l.size()));
    w.insert(w.end(), l.begin(), l.end());
  }
  w.insert(w.end(), apex, apex + knot_dname_size(apex));
  return w;
}

TEST(Rfc4034CanonicalOrder, NamesWithAnyOctetSortLikeTheReferenceComparator) {
  // Labels drawn from the octets that matter to the escape, and prefixes of each other.
  const char alphabet[] = {
      0, 1, 2, 'a', 'B', '*', static_cast<char>(0xff), static_cast<char>(0x7f)};
  std::mt19937 rng(2181);
  Name apex("example.");
  std::vector<std::vector<std::string>> names;
  for (int n = 0; n < 3000; ++n) {
    std::vector<std::string> labels(1 + rng() % 3);
    for (auto &l : labels) {
      l.resize(1 + rng() % 4);
      for (char &c : l) {
        c = alphabet[rng() % sizeof(alphabet)];
      }
    }
    names.push_back(labels);
  }
  std::vector<std::pair<std::string, size_t>> keyed;
  for (size_t i = 0; i < names.size(); ++i) {
    auto wire = to_wire(names[i], apex);
    NameKey k;
    ASSERT_TRUE(make_key(wire.data(), apex, k));
    keyed.emplace_back(key_bytes(k), i);
    // Round trip: the key gives back the lowercased name.
    uint8_t out[KNOT_DNAME_MAXLEN];
    size_t len = key_to_name(k, apex, out);
    knot_dname_to_lower(wire.data());
    ASSERT_EQ(std::vector<uint8_t>(out, out + len), wire) << i;
    EXPECT_EQ(key_name_size(k) + apex.size(), wire.size());
  }
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 1; i < keyed.size(); ++i) {
    const auto &a = names[keyed[i - 1].second], &b = names[keyed[i].second];
    bool equal_keys = keyed[i - 1].first == keyed[i].first;
    // Equal keys exactly for names equal but for case; otherwise bytewise order is canonical.
    EXPECT_EQ(equal_keys, !canonical_less(a, b) && !canonical_less(b, a)) << i;
    EXPECT_FALSE(canonical_less(b, a)) << "keys out of canonical order at " << i;
  }
}

TEST(Rfc4034CanonicalOrder, AShorterLabelSortsBeforeALongerOneItPrefixes) {
  // "\000" < "\000\000" < "\000\001" < "\001" < "\001\000" < "\002" (RFC 4034 6.1).
  const char *order[] = {"\\000.example.",      "\\000\\000.example.", "x.\\000\\000.example.",
                         "\\000\\001.example.", "\\001.example.",      "\\001\\000.example.",
                         "\\001\\001.example.", "\\002.example.",      "a.example."};
  std::vector<std::string> keys;
  for (const char *n : order) {
    keys.push_back(key_bytes(key_of(n, "example.")));
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
}

TEST(DnameKey, LongestNameUnderTheRootFitsTheKeyBuffer) {
  // 255 octets of zero octets: 3 labels of 63 and one of 61 (dname.h: kMaxKeyLen).
  std::string l63, l61;
  for (int i = 0; i < 63; ++i) {
    l63 += "\\000";
  }
  for (int i = 0; i < 61; ++i) {
    l61 += "\\001";
  }
  Name name(l63 + "." + l63 + "." + l63 + "." + l61 + ".");
  ASSERT_EQ(name.size(), 255u);
  NameKey k;
  ASSERT_TRUE(make_key(name, Name("."), k));
  EXPECT_EQ(k.len, kMaxKeyLen);
  EXPECT_EQ(k.labels, 4);
  uint8_t out[KNOT_DNAME_MAXLEN];
  ASSERT_EQ(key_to_name(k, Name("."), out), 255u);
  EXPECT_TRUE(knot_dname_is_equal(out, name));
  EXPECT_EQ(key_name_size(k), 254u);
}

TEST(DnameKey, WildcardIsRecognisedOnlyAsTheWholeLeftmostLabel) {
  EXPECT_TRUE(key_of("*.example.", "example.").is_wildcard());
  EXPECT_TRUE(key_of("*.a.b.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("a.*.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("x*.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("example.", "example.").is_wildcard());
  EXPECT_TRUE(key_of("*.\\000.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("\\001*.example.", "example.").is_wildcard());
  EXPECT_FALSE(key_of("\\000*.example.", "example.").is_wildcard());
}

TEST(DnameKeyAncestor, EscapedOctetsAreNotLabelEnds) {
  NameKey k = key_of("a\\000.\\000b.c\\001.example.", "example.");
  ASSERT_EQ(k.labels, 3);
  EXPECT_TRUE(k.ancestor(1) == key_of("c\\001.example.", "example."));
  EXPECT_TRUE(k.ancestor(2) == key_of("\\000b.c\\001.example.", "example."));
  EXPECT_EQ(common_labels(k, key_of("x.\\000b.c\\001.example.", "example.")), 2u);
  EXPECT_EQ(common_labels(k, key_of("x.\\000.c\\001.example.", "example.")), 1u);
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
  const char *names[] = {"example.",
                         "www.example.",
                         "a.b.c.d.example.",
                         "*.wild.example.",
                         "\\001.z.example.",
                         "WwW.Sub.example.",
                         "\\200\\255.x.example.",
                         "a\\000B\\001.\\000.example."};
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
