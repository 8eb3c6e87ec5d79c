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

bool make_key(const knot_dname_t *name, const knot_dname_t *apex, NameKey &out) {
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
  size_t len = 0;
  out.labels = static_cast<uint8_t>(depth);
  for (int i = depth - 1; i >= 0; --i) {
    uint8_t n = *labels[i];
    for (uint8_t j = 0; j < n; ++j) {
      uint8_t c = labels[i][1 + j];
      if (c <= 1) { // dname.h: 0x00 -> 0x01 0x01, 0x01 -> 0x01 0x02
        out.data[len++] = 1;
        out.data[len++] = static_cast<uint8_t>(c + 1);
        continue;
      }
      out.data[len++] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
    }
    out.data[len++] = 0;
  }
  out.len = static_cast<uint16_t>(len);
  return true;
}

NameKey key_from_stored(const uint8_t *bytes, size_t len) {
  NameKey k;
  // Stored keys are padded to even length with one extra zero byte (store/schema.h).
  if (len >= 2 && bytes[len - 1] == 0 && bytes[len - 2] == 0) {
    --len;
  }
  if (len > kMaxKeyLen) {
    len = kMaxKeyLen; // not a key holdfast wrote
  }
  std::memcpy(k.data, bytes, len);
  k.len = static_cast<uint16_t>(len);
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
  k.len = static_cast<uint16_t>(i);
  return k;
}

size_t key_to_name(const NameKey &key, const knot_dname_t *apex, uint8_t *out) {
  // Labels in the key are rightmost first; write them leftmost first. Zero only ends labels
  // (dname.h), and a key has at most KNOT_DNAME_MAXLABELS of them.
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
    size_t at = pos++; // the label's length octet
    for (size_t i = starts[l]; key.data[i] != 0; ++i) {
      // An escape is 0x01 and the octet plus one; a key cut short ends it at the label end.
      bool escape = key.data[i] == 1 && key.data[i + 1] != 0;
      out[pos++] = escape ? static_cast<uint8_t>(key.data[++i] - 1) : key.data[i];
    }
    out[at] = static_cast<uint8_t>(pos - at - 1);
  }
  size_t apex_size = knot_dname_size(apex);
  std::memcpy(out + pos, apex, apex_size);
  return pos + apex_size;
}

size_t key_name_size(const NameKey &key) {
  size_t size = 0;
  for (size_t i = 0; i < key.len; ++i) {
    // A label end stands for the label's length octet; an escape is one octet of the name.
    i += key.data[i] == 1 ? 1 : 0;
    ++size;
  }
  return size;
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
