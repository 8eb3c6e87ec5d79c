// SPDX-License-Identifier: MIT
// Owner-name keys in lookup format (see dname.h).
#include "common/dname.h"

#include <cctype>
#include <cstring>

namespace holdfast {

int labels_below(const knot_dname_t *name, const knot_dname_t *apex) {
  // Case-insensitive (RFC 4343): zone data, origins and queries may be in any case.
  size_t nl = knot_dname_labels(name, nullptr), al = knot_dname_labels(apex, nullptr);
  if (nl < al) {
    return -1;
  }
  const uint8_t *suffix = name;
  for (size_t i = 0; i < nl - al; ++i) {
    suffix += *suffix + 1;
  }
  return knot_dname_is_case_equal(suffix, apex) ? static_cast<int>(nl - al) : -1;
}

bool has_zero_octet_label(const knot_dname_t *name) {
  for (const uint8_t *p = name; *p != 0; p += *p + 1) {
    if (std::memchr(p + 1, 0, *p) != nullptr) {
      return true;
    }
  }
  return false;
}

namespace {

// make_key's loop. A label with a zero octet fails it, or with `cut` (make_lookup_key) is cut
// there, ends in 0x01, and sets *cut.
bool build_key(const knot_dname_t *name, const knot_dname_t *apex, bool *cut, NameKey &out) {
  int depth = labels_below(name, apex);
  if (depth < 0) {
    return false;
  }
  // Collect the labels below the apex, leftmost first.
  const uint8_t *labels[KNOT_DNAME_MAXLABELS];
  const uint8_t *p = name;
  for (int i = 0; i < depth; ++i) {
    labels[i] = p;
    p += *p + 1;
  }
  out.len = 0;
  out.labels = static_cast<uint8_t>(depth);
  for (int i = depth - 1; i >= 0; --i) {
    uint8_t n = *labels[i];
    for (uint8_t j = 0; j < n; ++j) {
      uint8_t c = labels[i][1 + j];
      if (c == 0) {
        if (cut == nullptr) {
          return false;
        }
        *cut = true;
        out.data[out.len++] = 1;
        break;
      }
      out.data[out.len++] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
    }
    out.data[out.len++] = 0;
  }
  return true;
}

} // namespace

bool make_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out) {
  return build_key(name, apex, nullptr, out);
}

bool make_lookup_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out, bool &cut) {
  cut = false;
  return build_key(name, apex, &cut, out);
}

NameKey key_from_stored(const uint8_t *bytes, size_t len) {
  NameKey k;
  // Stored keys are padded to even length with one extra zero byte (store/schema.h).
  if (len >= 2 && bytes[len - 1] == 0 && bytes[len - 2] == 0) {
    --len;
  }
  std::memcpy(k.data, bytes, len);
  k.len = static_cast<uint8_t>(len);
  k.labels = 0;
  for (size_t i = 0; i < len; ++i) {
    k.labels += bytes[i] == 0;
  }
  return k;
}

NameKey NameKey::ancestor(unsigned n) const {
  NameKey k;
  k.labels = 0;
  size_t i = 0;
  while (k.labels < n && i < len) {
    if (data[i++] == 0) {
      ++k.labels;
    }
  }
  std::memcpy(k.data, data, i);
  k.len = static_cast<uint8_t>(i);
  return k;
}

size_t key_to_name(const NameKey &key, const knot_dname_t *apex, uint8_t *out) {
  // Labels in the key are rightmost first; write them leftmost first. A key has at most
  // KNOT_DNAME_MAXLABELS separators (make_key refuses names with zero octets in labels).
  size_t starts[KNOT_DNAME_MAXLABELS];
  size_t nlabels = 0, begin = 0;
  for (size_t i = 0; i < key.len && nlabels < KNOT_DNAME_MAXLABELS; ++i) {
    if (key.data[i] == 0) {
      starts[nlabels++] = begin;
      begin = i + 1;
    }
  }
  size_t pos = 0;
  for (size_t l = nlabels; l-- > 0;) {
    size_t start = starts[l];
    size_t end = start;
    while (key.data[end] != 0) {
      ++end;
    }
    out[pos++] = static_cast<uint8_t>(end - start);
    std::memcpy(out + pos, key.data + start, end - start);
    pos += end - start;
  }
  size_t apex_size = knot_dname_size(apex);
  std::memcpy(out + pos, apex, apex_size);
  return pos + apex_size;
}

unsigned common_labels(const NameKey &a, const NameKey &b) {
  unsigned labels = 0;
  size_t n = a.len < b.len ? a.len : b.len;
  for (size_t i = 0; i < n; ++i) {
    if (a.data[i] != b.data[i]) {
      break;
    }
    if (a.data[i] == 0) {
      ++labels;
    }
  }
  return labels;
}

std::string name_to_string(const knot_dname_t *name) {
  char buf[KNOT_DNAME_TXT_MAXLEN + 1];
  if (knot_dname_to_str(buf, name, sizeof(buf)) == nullptr) {
    return "<invalid name>";
  }
  return buf;
}

} // namespace holdfast
