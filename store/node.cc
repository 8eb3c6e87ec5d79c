// SPDX-License-Identifier: MIT
// Node value encoding and in-place decoding (layout in node.h).
#include "store/node.h"

#include <algorithm>

#include "common/knot.h"

namespace holdfast::store {

size_t NodeView::rdata_offset(uint16_t i) const {
  size_t off = 4 + 12 * size_t{count()};
  for (uint16_t j = 0; j < i; ++j) {
    off += read32(4 + 12 * size_t{j} + 8);
  }
  return off;
}

RRsetView NodeView::at(uint16_t i) const {
  RRsetView v;
  size_t e = 4 + 12 * size_t{i};
  v.type = read16(e);
  v.rrs.count = read16(e + 2);
  v.ttl = read32(e + 4);
  v.rrs.size = read32(e + 8);
  v.rrs.rdata =
      const_cast<knot_rdata_t *>(reinterpret_cast<const knot_rdata_t *>(data_ + rdata_offset(i)));
  return v;
}

bool NodeView::find(uint16_t type, RRsetView &out) const {
  uint16_t n = count();
  size_t off = 4 + 12 * size_t{n};
  for (uint16_t i = 0; i < n; ++i) {
    size_t e = 4 + 12 * size_t{i};
    uint32_t size = read32(e + 8);
    if (read16(e) == type) {
      out.type = type;
      out.rrs.count = read16(e + 2);
      out.ttl = read32(e + 4);
      out.rrs.size = size;
      out.rrs.rdata =
          const_cast<knot_rdata_t *>(reinterpret_cast<const knot_rdata_t *>(data_ + off));
      return true;
    }
    off += size;
  }
  return false;
}

bool NodeView::has_type(uint16_t type) const {
  uint16_t n = count();
  for (uint16_t i = 0; i < n; ++i) {
    if (read16(4 + 12 * size_t{i}) == type) {
      return true;
    }
  }
  return false;
}

static void put16(std::vector<uint8_t> &out, uint16_t v) {
  const auto *p = reinterpret_cast<const uint8_t *>(&v);
  out.insert(out.end(), p, p + 2);
}
static void put32(std::vector<uint8_t> &out, uint32_t v) {
  const auto *p = reinterpret_cast<const uint8_t *>(&v);
  out.insert(out.end(), p, p + 4);
}

void encode_node(uint16_t flags, const std::vector<NodeRRset> &rrsets, std::vector<uint8_t> &out) {
  out.clear();
  put16(out, flags);
  put16(out, static_cast<uint16_t>(rrsets.size()));
  for (const auto &rr : rrsets) {
    put16(out, rr.type);
    put16(out, rr.rrs.count);
    put32(out, rr.ttl);
    put32(out, rr.rrs.size);
  }
  for (const auto &rr : rrsets) {
    const auto *p = reinterpret_cast<const uint8_t *>(rr.rrs.rdata);
    out.insert(out.end(), p, p + rr.rrs.size);
  }
}

uint16_t own_flags(const std::vector<NodeRRset> &rrsets, bool apex) {
  uint16_t flags = 0;
  for (const auto &rr : rrsets) {
    if (rr.type == KNOT_RRTYPE_CNAME) {
      flags |= kFlagCname;
    } else if (rr.type == KNOT_RRTYPE_DNAME) {
      flags |= kFlagDname;
    } else if (rr.type == KNOT_RRTYPE_NS && !apex) {
      flags |= kFlagDelegation;
    }
  }
  return flags;
}

bool build_rdataset(std::vector<RdataRef> &rds, knot_mm_t *mm, knot_rdataset_t &out) {
  std::sort(rds.begin(), rds.end(), [](const RdataRef &a, const RdataRef &b) {
    int c = std::memcmp(a.data, b.data, std::min(a.len, b.len));
    return c != 0 ? c < 0 : a.len < b.len;
  });
  auto last = std::unique(rds.begin(), rds.end(), [](const RdataRef &a, const RdataRef &b) {
    return a.len == b.len && std::memcmp(a.data, b.data, a.len) == 0;
  });
  rds.erase(last, rds.end());
  if (rds.size() > kMaxRRsetRecords) {
    return false;
  }
  size_t size = 0;
  for (const auto &r : rds) {
    size += knot_rdata_size(r.len);
  }
  out = knot_rdataset_t{};
  out.count = static_cast<uint16_t>(rds.size());
  out.size = static_cast<uint32_t>(size);
  out.rdata = static_cast<knot_rdata_t *>(mm->alloc(mm->ctx, size > 0 ? size : 2));
  knot_rdata_t *rd = out.rdata;
  for (const auto &r : rds) {
    knot_rdata_init(rd, r.len, r.data);
    rd = knot_rdataset_next(rd);
  }
  return true;
}

} // namespace holdfast::store
