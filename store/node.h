// SPDX-License-Identifier: MIT
// One node (owner name) as stored in the "nodes" table: flags and all its RRsets.
//
// Value layout (host byte order, 2-byte aligned in the map, see schema.h):
//   u16 flags | u16 rrset_count
//   rrset_count x { u16 type | u16 rr_count | u32 ttl | u32 rdata_bytes }
//   rdata arrays, in the same order: libknot's knot_rdata_t layout (u16 len, data, pad to even),
//   so a knot_rdataset_t can point straight into the map (zero-copy into responses).
//   [kFlagNsec3Hashes: H(owner) and H(*.owner), 20 octets each, at the very end]
// An empty non-terminal is a node with no RRsets.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/knot.h"

namespace holdfast::store {

// Per-node flags, computed when a snapshot is published so queries need not look around.
enum NodeFlag : uint16_t {
  kFlagDelegation = 1 << 0,    // NS at a non-apex node: a zone cut (RFC 1034 4.2.1)
  kFlagNonAuth = 1 << 1,       // strictly below a zone cut: glue or occluded data
  kFlagWildcardChild = 1 << 2, // "*.<this node>" exists (RFC 4592)
  kFlagBelowDname = 1 << 3,    // strictly below a DNAME owner (RFC 6672 2.3: occluded)
  kFlagCname = 1 << 4,
  kFlagDname = 1 << 5,
  kFlagNsec3Hashes = 1 << 6, // the value ends with the node's NSEC3 hashes (schema.h)
};

inline constexpr size_t kNsec3TrailerLen = 40; // H(owner) ++ H(*.owner)

struct RRsetView {
  uint16_t type = 0;
  uint32_t ttl = 0;
  knot_rdataset_t rrs{}; // points into the map
};

class NodeView {
public:
  NodeView() = default;
  NodeView(const uint8_t *data, size_t len) : data_(data), len_(len) {}

  bool valid() const {
    return data_ != nullptr && len_ >= 4 &&
           len_ >= 4 + 12 * size_t{count()} + (has(kFlagNsec3Hashes) ? kNsec3TrailerLen : 0);
  }
  uint16_t flags() const { return read16(0); }
  bool has(uint16_t flag) const { return (flags() & flag) != 0; }
  uint16_t count() const { return read16(2); }
  bool empty() const { return count() == 0; }

  RRsetView at(uint16_t i) const;
  // The RRset of `type`, if present.
  bool find(uint16_t type, RRsetView &out) const;
  bool has_type(uint16_t type) const;
  // RFC 5155 hashes of the owner and of "*.owner" (nullptr when the snapshot has none).
  const uint8_t *owner_hash() const {
    return has(kFlagNsec3Hashes) ? data_ + len_ - kNsec3TrailerLen : nullptr;
  }
  const uint8_t *wildcard_hash() const {
    return has(kFlagNsec3Hashes) ? data_ + len_ - kNsec3TrailerLen / 2 : nullptr;
  }
  const uint8_t *data() const { return data_; }
  size_t size() const { return len_; }

private:
  uint16_t read16(size_t off) const {
    uint16_t v;
    std::memcpy(&v, data_ + off, sizeof(v));
    return v;
  }
  uint32_t read32(size_t off) const {
    uint32_t v;
    std::memcpy(&v, data_ + off, sizeof(v));
    return v;
  }
  size_t rdata_offset(uint16_t i) const;

  const uint8_t *data_ = nullptr;
  size_t len_ = 0;
};

// Serializes RRsets into a node value.
struct NodeRRset {
  uint16_t type;
  uint32_t ttl;
  knot_rdataset_t rrs;
};
// One rdata of an RRset being assembled.
struct RdataRef {
  const uint8_t *data;
  uint16_t len;
};
// An RRset holds at most this many records: the node layout and knot_rdataset_t count them in
// 16 bits. A zone with a bigger RRset is refused (as Knot DNS refuses it), not truncated.
inline constexpr size_t kMaxRRsetRecords = UINT16_MAX;
// Builds a canonically sorted, duplicate-free rdata array (RFC 4034 6.3 order, as libknot keeps
// it) in one allocation from `mm`; `rds` is sorted in place. Returns false, building nothing,
// when more than kMaxRRsetRecords distinct records remain.
bool build_rdataset(std::vector<RdataRef> &rds, knot_mm_t *mm, knot_rdataset_t &out);

void encode_node(uint16_t flags, const std::vector<NodeRRset> &rrsets, std::vector<uint8_t> &out);
// Flags implied by the node's own RRsets (CNAME, DNAME, delegation when not the apex).
uint16_t own_flags(const std::vector<NodeRRset> &rrsets, bool apex);

} // namespace holdfast::store
