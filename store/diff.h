// SPDX-License-Identifier: MIT
// Incremental changes to a zone (an IXFR's difference sequences, RFC 1995) and applying them
// onto the zone's current snapshot to publish a new one.
//
// Sequences are composed as they arrive: removing a record an earlier sequence added cancels
// it, re-adding a removed record keeps it (with the new TTL). A removal of a record the zone
// does not have, or an addition of one it already has, means the difference does not apply:
// nothing is published.
//
// Applying takes one of two paths:
// - in place (the common case: records change at existing names, or leaf names come and go):
//   only the touched nodes of the current snapshot are rewritten, and the zone record's serial,
//   in one write transaction. Readers see the old or the new version (MVCC); the cost follows
//   the size of the change, not of the zone. The snapshot id stays, so no rollback version is
//   made for it (the previous full snapshot stays as it was). In an NSEC3 zone, chain records
//   change in the NSEC3 space and new names get their hashes (schema.h).
// - by copy, when a change reaches other names' derived state (NS below the apex, DNAME, a
//   wildcard, an empty non-terminal appearing or going away), changes how the zone is signed
//   (apex RRSIG over the SOA, NSEC3PARAM), or the zone's ZONEMD must be checked: the current
//   snapshot minus the removals plus the additions is written as a new snapshot and published
//   like any other (flags, hashes, checks, atomic flip).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/knot.h"

#include "common/result.h"
#include "store/env.h"
#include "store/node.h"
#include "store/writer.h"

namespace holdfast::store {

class ZoneDiff {
public:
  explicit ZoneDiff(const knot_dname_t *apex);
  // The serials the whole difference goes from and to (first and last sequence).
  void set_serials(uint32_t from, uint32_t to) {
    from_ = from;
    to_ = to;
  }
  uint32_t from() const { return from_; }
  const std::vector<uint8_t> &apex() const { return apex_; } // lowercase wire name
  uint32_t to() const { return to_; }

  Status remove(const knot_dname_t *owner, uint16_t type, const uint8_t *rdata, uint16_t len);
  Status add(const knot_dname_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
             uint16_t len);
  size_t size() const { return entries_.size(); }
  size_t changes() const { return changes_; }

private:
  friend Result<Published> apply_diff(Env &, const ZoneDiff &, SourceInfo);
  friend class InPlacePatch;
  friend Status copy_node(const NodeView &, const uint8_t *, const ZoneDiff &, SnapshotWriter &,
                          size_t &);
  friend Result<std::optional<Published>> patch_in_place(Env &, const ZoneDiff &,
                                                         const SourceInfo &);
  enum class Op : uint8_t { kRemove, kAdd, kReplace };
  struct Entry {
    Op op;
    uint32_t ttl;
  };
  // [u16 keylen][owner key][u16 type][rdata]: stored order groups a node's records together.
  // (The key length is in host order: it only needs to group equal keys.)
  static uint16_t id_keylen(const std::string &id) {
    uint16_t n;
    std::memcpy(&n, id.data(), 2);
    return n;
  }
  bool make_id(const knot_dname_t *owner, uint16_t type, const uint8_t *rdata, uint16_t len,
               std::string &out) const;

  using Map = std::map<std::string, Entry, std::less<>>;
  using Iter = Map::const_iterator;
  std::vector<uint8_t> apex_;
  Map entries_;
  uint32_t from_ = 0, to_ = 0;
  size_t changes_ = 0;
};

// Publishes the zone's current snapshot with `diff` applied. Fails without publishing when the
// zone has no snapshot, its serial is not diff.from(), or the difference does not apply.
Result<Published> apply_diff(Env &env, const ZoneDiff &diff, SourceInfo source);

} // namespace holdfast::store
