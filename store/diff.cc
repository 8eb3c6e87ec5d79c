// SPDX-License-Identifier: MIT
// Composing IXFR difference sequences and applying them to a snapshot (see diff.h).
#include "store/diff.h"

#include <cstring>

#include "common/dname.h"
#include "common/nsec3.h"
#include "store/dnssec.h"
#include "store/keys.h"
#include "store/node.h"
#include "store/patch.h"

namespace holdfast::store {
namespace {

std::string describe(const knot_dname_t *owner, uint16_t type) {
  char tname[32];
  knot_rrtype_to_string(type, tname, sizeof(tname));
  return name_to_string(owner) + " " + tname;
}

} // namespace

ZoneDiff::ZoneDiff(const knot_dname_t *apex) : apex_(apex, apex + knot_dname_size(apex)) {
  knot_dname_to_lower(apex_.data());
}

bool ZoneDiff::make_id(const knot_dname_t *owner, uint16_t type, const uint8_t *rdata, uint16_t len,
                       std::string &out) const {
  NameKey key;
  if (!make_key(owner, apex_.data(), key)) {
    return false;
  }
  out.clear();
  out.append(reinterpret_cast<const char *>(&key.len), 2);
  out.append(reinterpret_cast<const char *>(key.data), key.len);
  out.push_back(static_cast<char>(type >> 8));
  out.push_back(static_cast<char>(type & 0xff));
  out.append(reinterpret_cast<const char *>(rdata), len);
  return true;
}

Status ZoneDiff::remove(const knot_dname_t *owner, uint16_t type, const uint8_t *rdata,
                        uint16_t len) {
  std::string id;
  if (!make_id(owner, type, rdata, len, id)) {
    return fail("IXFR removes " + describe(owner, type) + ", which is outside the zone");
  }
  ++changes_;
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    entries_.emplace(std::move(id), Entry{Op::kRemove, 0});
    return Ok{};
  }
  switch (it->second.op) {
  case Op::kAdd: // added by an earlier sequence, removed again: as if never added
    entries_.erase(it);
    return Ok{};
  case Op::kReplace: // original record, re-added, now removed again
    it->second.op = Op::kRemove;
    return Ok{};
  case Op::kRemove:
    break;
  }
  return fail("IXFR removes " + describe(owner, type) + " twice");
}

Status ZoneDiff::add(const knot_dname_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                     uint16_t len) {
  std::string id;
  if (!make_id(owner, type, rdata, len, id)) {
    return fail("IXFR adds " + describe(owner, type) + ", which is outside the zone");
  }
  ++changes_;
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    entries_.emplace(std::move(id), Entry{Op::kAdd, ttl});
    return Ok{};
  }
  if (it->second.op == Op::kRemove) { // removed, then added back (a TTL change, say)
    it->second = Entry{Op::kReplace, ttl};
    return Ok{};
  }
  return fail("IXFR adds " + describe(owner, type) + " twice");
}

namespace {

// The owner name of a stored node key: a name of the zone, or an NSEC3 node's hash.
void stored_owner(const MDB_val &k, bool nsec3, const knot_dname_t *apex, uint8_t *owner) {
  NameKey nk = nsec3 && k.mv_size == 8 + kNsec3HashLen
                   ? nsec3_owner_key(static_cast<const uint8_t *>(k.mv_data) + 8)
                   : key_owner(k);
  key_to_name(nk, apex, owner);
}

} // namespace

// Copies one stored node into `writer`, minus what the diff removes (counted in `matched`).
Status copy_node(const NodeView &node, const uint8_t *owner, const ZoneDiff &diff,
                 SnapshotWriter &writer, size_t &matched) {
  std::string id;
  for (uint16_t r = 0; r < node.count(); ++r) {
    RRsetView rs = node.at(r);
    knot_rdata_t *rd = rs.rrs.rdata;
    for (uint16_t i = 0; i < rs.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
      uint32_t ttl = rs.ttl;
      (void)diff.make_id(owner, rs.type, rd->data, rd->len, id);
      auto it = diff.entries_.find(id);
      if (it != diff.entries_.end()) {
        if (it->second.op == ZoneDiff::Op::kAdd) {
          return fail("IXFR adds " + describe(owner, rs.type) + ", which the zone already has");
        }
        ++matched;
        if (it->second.op == ZoneDiff::Op::kRemove) {
          continue;
        }
        ttl = it->second.ttl;
      }
      if (auto st = writer.add(owner, rs.type, KNOT_CLASS_IN, ttl, rd->data, rd->len); !st) {
        return st;
      }
    }
  }
  return Ok{};
}

Result<Published> apply_diff(Env &env, const ZoneDiff &diff, SourceInfo source) {
  const knot_dname_t *apex = diff.apex_.data();
  auto zone = read_zone(env, apex);
  if (!zone) {
    return fail("the zone has no snapshot to apply an IXFR to");
  }
  if (zone->record.serial != diff.from()) {
    return fail("IXFR starts at serial " + std::to_string(diff.from()) + " but serial " +
                std::to_string(zone->record.serial) + " is stored");
  }
  if (auto patched = patch_in_place(env, diff, source); !patched) {
    return fail(patched.error());
  } else if (*patched) {
    return **patched;
  }
  auto writer = SnapshotWriter::begin(env, apex, std::move(source));
  if (!writer) {
    return fail(writer.error());
  }
  (*writer)->set_flush_bytes(SIZE_MAX); // nothing is written until publish()
  size_t matched = 0;
  std::string id;
  uint8_t owner[KNOT_DNAME_MAXLEN];
  {
    // Read in one gated read transaction, ended before publish() may need to grow the map.
    ReadTxn rt(env);
    if (!rt.begin()) {
      return fail("cannot read the current snapshot");
    }
    MDB_cursor *cur = nullptr;
    if (int rc = mdb_cursor_open(rt.get(), env.nodes(), &cur); rc != MDB_SUCCESS) {
      return fail(lmdb_error(rc));
    }
    Status st = Ok{};
    // The zone's names, then its NSEC3 nodes, whose owners are rebuilt from the hash (schema.h).
    for (uint64_t range : {zone->record.current, zone->record.current | kNsec3Space}) {
      DbKey start;
      make_db_key(range, nullptr, 0, start);
      MDB_val k = start.val(), v;
      for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
           st && rc == MDB_SUCCESS && key_snapshot(k) == range;
           rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        stored_owner(k, range != zone->record.current, apex, owner);
        NodeView node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
        st = copy_node(node, owner, diff, **writer, matched);
      }
    }
    mdb_cursor_close(cur);
    rt.end();
    if (!st) {
      return fail(st.error());
    }
  }
  size_t expected = 0;
  for (const auto &[key, e] : diff.entries_) {
    if (e.op != ZoneDiff::Op::kAdd) {
      ++expected;
      continue;
    }
    // Decode the id back: [keylen][key][type][rdata].
    uint16_t keylen = ZoneDiff::id_keylen(key);
    NameKey nk = key_from_stored(reinterpret_cast<const uint8_t *>(key.data()) + 2, keylen);
    key_to_name(nk, apex, owner);
    const auto *p = reinterpret_cast<const uint8_t *>(key.data()) + 2 + keylen;
    uint16_t type = static_cast<uint16_t>((p[0] << 8) | p[1]);
    auto rdlen = static_cast<uint16_t>(key.size() - 2 - keylen - 2);
    if (auto st = (*writer)->add(owner, type, KNOT_CLASS_IN, e.ttl, p + 2, rdlen); !st) {
      return fail(st.error());
    }
  }
  if (matched != expected) {
    return fail("IXFR removes " + std::to_string(expected - matched) +
                " record(s) the zone does not have");
  }
  return (*writer)->publish();
}

} // namespace holdfast::store
