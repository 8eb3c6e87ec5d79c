// SPDX-License-Identifier: MIT
// Owner-name keys: lowercase, label-reversed, relative to the zone apex ("lookup format").
//
// Sorting keys bytewise gives DNSSEC canonical order (RFC 4034 6.1), and every name's
// ancestors sort before it, so one cursor seek finds a name or its predecessor.
//   apex example.com.,  www.Example.COM.   ->  "www\0"
//   apex example.com.,  a.b.example.com.   ->  "b\0a\0"
//   the apex itself                        ->  ""   (empty)
// A label may hold any octet, zero included (RFC 2181 11), so inside a label two octets are
// escaped and zero only ever ends a label:
//   0x00 -> 0x01 0x01      0x01 -> 0x01 0x02      0x02..0xff as they are (after lowercasing)
// The escapes keep the octets' order (0x00 < 0x01 < 0x02..), and an escaped label holds no
// zero, so a label that is a prefix of another still sorts first (its ending 0x00 meets an
// octet of at least 0x01). Escaping doubles a label at most: a 255-octet name under the root
// gives at most kMaxKeyLen octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/knot.h"

namespace holdfast {

// 250 label octets, each escaped to two, and 4 label ends: the longest key of a legal name.
inline constexpr size_t kMaxKeyLen = 2 * (KNOT_DNAME_MAXLEN - 5) + 4;

struct NameKey {
  uint16_t len = 0;             // bytes used in data
  uint8_t labels = 0;           // number of labels below the apex
  uint8_t data[kMaxKeyLen + 2]; // + "*\0" appended for a wildcard lookup

  NameKey() = default;
  // Copies only the bytes in use: keys are copied on the answer path and are mostly short.
  NameKey(const NameKey &o) : len(o.len), labels(o.labels) { std::memcpy(data, o.data, len); }
  NameKey &operator=(const NameKey &o) {
    len = o.len;
    labels = o.labels;
    std::memmove(data, o.data, len);
    return *this;
  }

  std::string_view view() const { return {reinterpret_cast<const char *>(data), len}; }
  bool operator==(const NameKey &o) const { return view() == o.view(); }

  // Keep the first n labels (the ancestor n levels below the apex).
  NameKey ancestor(unsigned n) const;
  // True when the last label is "*" (an escape never ends in '*', and never holds a zero).
  bool is_wildcard() const {
    return len >= 2 && data[len - 2] == '*' && (len == 2 || data[len - 3] == 0);
  }
};

// How many labels `name` has below `apex` (any case), or -1 when it is not at or below it.
int labels_below(const knot_dname_t *name, const knot_dname_t *apex);

// Builds the key of `name` (any case) below `apex`, in one pass over the name (queries are
// looked up with it too). Returns false when the name is not at or below the apex.
bool make_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out);

// Parses a stored key back into a key (used for keys read from the map, which may be padded).
NameKey key_from_stored(const uint8_t *bytes, size_t len);

// Writes the wire-format name for `key` under `apex` into out (KNOT_DNAME_MAXLEN bytes).
// Returns the name's length.
size_t key_to_name(const NameKey &key, const knot_dname_t *apex, uint8_t *out);

// Octets the name of `key` takes on the wire below the apex (its labels with their lengths).
size_t key_name_size(const NameKey &key);

// Number of leading labels two keys share (their common ancestor's depth below the apex).
unsigned common_labels(const NameKey &a, const NameKey &b);

// Wire-format name -> "example.com." text (for logs and errors).
std::string name_to_string(const knot_dname_t *name);

} // namespace holdfast
