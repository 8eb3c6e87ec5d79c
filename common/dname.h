// SPDX-License-Identifier: MIT
// Owner-name keys: lowercase, label-reversed, relative to the zone apex ("lookup format").
//
// Sorting keys bytewise gives DNSSEC canonical order (RFC 4034 6.1), and every name's
// ancestors sort before it, so one cursor seek finds a name or its predecessor.
//   apex example.com.,  www.Example.COM.   ->  "www\0"
//   apex example.com.,  a.b.example.com.   ->  "b\0a\0"
//   the apex itself                        ->  ""   (empty)
// A label containing a zero byte can collide with the separator; Knot DNS accepts the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/knot.h"

namespace holdfast {

struct NameKey {
  uint8_t len = 0;    // bytes used in data
  uint8_t labels = 0; // number of labels below the apex
  uint8_t data[KNOT_DNAME_MAXLEN + 1];

  std::string_view view() const { return {reinterpret_cast<const char *>(data), len}; }
  bool operator==(const NameKey &o) const { return view() == o.view(); }

  // Keep the first n labels (the ancestor n levels below the apex).
  NameKey ancestor(unsigned n) const;
  // True when the last label is "*".
  bool is_wildcard() const {
    return len >= 2 && data[len - 2] == '*' && (len == 2 || data[len - 3] == 0);
  }
};

// How many labels `name` has below `apex` (any case), or -1 when it is not at or below it.
int labels_below(const knot_dname_t *name, const knot_dname_t *apex);

// True when a label of `name` holds a zero octet. Such a name has no key: zero separates the
// labels of a key, so "a\000b.zone." would read as "b.a.zone." (RFC 4343 allows any octet, but
// the store refuses these names and the query path answers that they do not exist).
bool has_zero_octet_label(const knot_dname_t *name);

// Builds the key of `name` (any case) below `apex`. Returns false when the name is not at or
// below the apex, or has a label with a zero octet.
bool make_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out);

// The key a query name is looked up with: make_key's, except that a label with a zero octet
// (which no stored name has) is written as its octets before the first zero, then 0x01. That
// sorts where the name sorts in canonical order (RFC 4034 6.1: after that prefix's label and
// its subtree, before any longer label with the prefix) and matches nothing that can be
// stored, short of a label holding 0x01 there; `cut` says whether a label was cut. Returns
// false only outside the apex.
bool make_lookup_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out, bool &cut);

// Parses a stored key back into a key (used for keys read from the map, which may be padded).
NameKey key_from_stored(const uint8_t *bytes, size_t len);

// Writes the wire-format name for `key` under `apex` into out (KNOT_DNAME_MAXLEN bytes).
// Returns the name's length.
size_t key_to_name(const NameKey &key, const knot_dname_t *apex, uint8_t *out);

// Number of leading labels two keys share (their common ancestor's depth below the apex).
unsigned common_labels(const NameKey &a, const NameKey &b);

// Wire-format name -> "example.com." text (for logs and errors).
std::string name_to_string(const knot_dname_t *name);

} // namespace holdfast
