// SPDX-License-Identifier: MIT
// Applying a ZoneDiff in place, when it touches no other name's derived state (see diff.h).
#include "store/patch.h"

#include <algorithm>
#include <cstring>

#include "common/arena.h"
#include "common/clock.h"
#include "common/dname.h"
#include "common/nsec3.h"
#include "store/dnssec.h"
#include "store/keys.h"
#include "store/node.h"
#include "store/node_check.h"

namespace holdfast::store {
namespace {

constexpr uint16_t kInherited = kFlagNonAuth | kFlagBelowDname | kFlagWildcardChild;

struct TypeSet {
  uint16_t type;
  uint32_t ttl;
  std::vector<RdataRef> rds;
};

bool same(const RdataRef &a, const uint8_t *data, uint16_t len) {
  return a.len == len && std::memcmp(a.data, data, len) == 0;
}

} // namespace

// Rewrites the touched nodes inside one write transaction. Returns false (and writes nothing
// that is committed) when the diff needs the copy path.
class InPlacePatch {
public:
  // `signing`: the zone's NSEC3 parameters when it is NSEC3-signed (nodes carry hashes, chain
  // records live in the NSEC3 space), else null.
  InPlacePatch(Env &env, const ZoneDiff &diff, MDB_txn *txn, uint64_t snapshot,
               const ZoneSigning *signing)
      : env_(env), diff_(diff), txn_(txn), snapshot_(snapshot), signing_(signing) {}

  // kApplied, kNeedsCopy, or an error (the diff does not apply).
  Result<bool> run(int64_t &record_delta);

private:
  // Where an owner's node is kept (schema.h); kCopy when that is for the publish pass to decide.
  enum class Place : uint8_t { kName, kNsec3, kCopy };
  Place place(const NameKey &key, ZoneDiff::Iter begin, ZoneDiff::Iter end, uint16_t keylen,
              uint8_t *hash);
  bool exists(const DbKey &dk);
  Result<bool> owner(ZoneDiff::Iter begin, ZoneDiff::Iter end, int64_t &record_delta);
  Result<bool> write_nsec3(MDB_val &k, bool existed, const std::vector<NodeRRset> &rrsets);
  // Applies one diff entry to the node's RRsets.
  Result<bool> change(std::vector<TypeSet> &sets, ZoneDiff::Iter it, uint16_t keylen, bool apex,
                      int64_t &record_delta);
  Result<bool> remove_leaf(const NameKey &key, MDB_val &k, bool existed);
  // The owner's RRsets after its diff entries: removals first, then additions.
  Result<bool> apply_entries(std::vector<TypeSet> &sets, ZoneDiff::Iter begin, ZoneDiff::Iter end,
                             uint16_t keylen, bool apex, int64_t &record_delta);
  // Writes (or removes) the node of a name of the zone: flags, RRsets, NSEC3 hashes.
  Result<bool> write_name(const NameKey &key, MDB_val &k, bool existed, const NodeView &old,
                          const std::vector<TypeSet> &sets, const std::vector<NodeRRset> &rrsets);
  // "www.example.com. A" for a diff entry id.
  std::string describe(const std::string &id, uint16_t keylen, uint16_t type) const;
  bool has_children(const NameKey &key);
  std::optional<uint16_t> node_flags(const NameKey &key);

  Env &env_;
  const ZoneDiff &diff_;
  MDB_txn *txn_;
  uint64_t snapshot_;
  const ZoneSigning *signing_;
  Arena arena_{1 << 16};
};

bool InPlacePatch::exists(const DbKey &dk) {
  MDB_val k{dk.len, const_cast<uint8_t *>(dk.buf)}, v;
  return mdb_get(txn_, env_.nodes(), &k, &v) == MDB_SUCCESS;
}

// NSEC3 and its RRSIGs at a hash-label owner belong to the NSEC3 space; anything else there, or
// a hash label that also names a node of the zone, is left to the copy path.
InPlacePatch::Place InPlacePatch::place(const NameKey &key, ZoneDiff::Iter begin,
                                        ZoneDiff::Iter end, uint16_t keylen, uint8_t *hash) {
  if (signing_ == nullptr || key.labels != 1 || key.len != kNsec3LabelLen + 1 ||
      !base32hex_decode(key.data, kNsec3LabelLen, hash)) {
    return Place::kName;
  }
  bool chain = std::all_of(begin, end, [keylen](const auto &e) {
    const auto *p = reinterpret_cast<const uint8_t *>(e.first.data()) + 2 + keylen;
    uint16_t type = static_cast<uint16_t>(p[0] << 8 | p[1]);
    bool sig3 = type == KNOT_RRTYPE_RRSIG && e.first.size() >= 2u + keylen + 4 &&
                (p[2] << 8 | p[3]) == KNOT_RRTYPE_NSEC3;
    return type == KNOT_RRTYPE_NSEC3 || sig3;
  });
  DbKey name, n3;
  make_db_key(snapshot_, key, name);
  make_nsec3_key(snapshot_, hash, kNsec3HashLen, n3);
  if (exists(name)) {
    return Place::kCopy;
  }
  return chain ? Place::kNsec3 : (exists(n3) ? Place::kCopy : Place::kName);
}

Result<bool> InPlacePatch::write_nsec3(MDB_val &k, bool existed,
                                       const std::vector<NodeRRset> &rrsets) {
  int rc = MDB_SUCCESS;
  if (rrsets.empty()) {
    rc = existed ? mdb_del(txn_, env_.nodes(), &k, nullptr) : MDB_SUCCESS;
  } else {
    std::vector<uint8_t> value;
    encode_node(0, rrsets, value);
    MDB_val v{value.size(), value.data()};
    rc = mdb_put(txn_, env_.nodes(), &k, &v, 0);
  }
  return rc == MDB_SUCCESS ? Result<bool>(true)
                           : Result<bool>(fail("cannot patch: " + lmdb_error(rc)));
}

std::optional<uint16_t> InPlacePatch::node_flags(const NameKey &key) {
  DbKey dk;
  make_db_key(snapshot_, key, dk);
  MDB_val k = dk.val(), v;
  if (mdb_get(txn_, env_.nodes(), &k, &v) != MDB_SUCCESS) {
    return std::nullopt;
  }
  return NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size).flags();
}

bool InPlacePatch::has_children(const NameKey &key) {
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn_, env_.nodes(), &cur) != MDB_SUCCESS) {
    return true; // be conservative: the copy path decides
  }
  DbKey dk;
  make_db_key(snapshot_, key, dk);
  MDB_val k = dk.val(), v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (rc == MDB_SUCCESS && key_snapshot(k) == snapshot_ && key_owner(k) == key) {
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  bool child = false;
  if (rc == MDB_SUCCESS && key_snapshot(k) == snapshot_) {
    NameKey next = key_owner(k);
    // Descendants sort right after a name and share its key as a prefix (dname.h).
    child = next.len > key.len && std::memcmp(next.data, key.data, key.len) == 0;
  }
  mdb_cursor_close(cur);
  return child;
}

Result<bool> InPlacePatch::run(int64_t &record_delta) {
  auto it = diff_.entries_.begin();
  while (it != diff_.entries_.end()) {
    // Entries of one owner are adjacent: the id starts with [keylen][key].
    size_t prefix = 2 + ZoneDiff::id_keylen(it->first);
    auto end = it;
    while (end != diff_.entries_.end() &&
           end->first.compare(0, prefix, it->first, 0, prefix) == 0) {
      ++end;
    }
    auto r = owner(it, end, record_delta);
    if (!r || !*r) {
      return r;
    }
    it = end;
  }
  return true;
}

// The name goes away: fine unless that leaves an empty parent or a wildcard's parent behind.
Result<bool> InPlacePatch::remove_leaf(const NameKey &key, MDB_val &k, bool existed) {
  if (key.is_wildcard() || key.labels == 0) {
    return false; // (the apex: the copy path reports the missing SOA)
  }
  NameKey parent = key.ancestor(key.labels - 1);
  DbKey pk;
  make_db_key(snapshot_, parent, pk);
  MDB_val pkv = pk.val(), pv;
  if (mdb_get(txn_, env_.nodes(), &pkv, &pv) != MDB_SUCCESS ||
      NodeView(static_cast<const uint8_t *>(pv.mv_data), pv.mv_size).empty()) {
    return false;
  }
  int rc = existed ? mdb_del(txn_, env_.nodes(), &k, nullptr) : MDB_SUCCESS;
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return fail("cannot patch: " + lmdb_error(rc));
  }
  return true;
}

std::string InPlacePatch::describe(const std::string &id, uint16_t keylen, uint16_t type) const {
  NameKey key = key_from_stored(reinterpret_cast<const uint8_t *>(id.data()) + 2, keylen);
  uint8_t owner[KNOT_DNAME_MAXLEN];
  key_to_name(key, diff_.apex_.data(), owner);
  char tname[32];
  knot_rrtype_to_string(type, tname, sizeof(tname));
  return name_to_string(owner) + " " + tname;
}

Result<bool> InPlacePatch::change(std::vector<TypeSet> &sets, ZoneDiff::Iter it, uint16_t keylen,
                                  bool apex, int64_t &record_delta) {
  const auto *p = reinterpret_cast<const uint8_t *>(it->first.data()) + 2 + keylen;
  uint16_t type = static_cast<uint16_t>((p[0] << 8) | p[1]);
  auto rdlen = static_cast<uint16_t>(it->first.size() - 2 - keylen - 2);
  const uint8_t *rdata = p + 2;
  // A cut, a DNAME or CNAME change reaches other names (or needs the full checks).
  if ((type == KNOT_RRTYPE_NS && !apex) || type == KNOT_RRTYPE_DNAME || type == KNOT_RRTYPE_CNAME) {
    return false;
  }
  auto ts =
      std::find_if(sets.begin(), sets.end(), [&](const TypeSet &t) { return t.type == type; });
  std::vector<RdataRef>::iterator rd;
  bool present = false;
  if (ts != sets.end()) {
    rd = std::find_if(ts->rds.begin(), ts->rds.end(),
                      [&](const RdataRef &r) { return same(r, rdata, rdlen); });
    present = rd != ts->rds.end();
  }
  switch (it->second.op) {
  case ZoneDiff::Op::kRemove:
  case ZoneDiff::Op::kReplace:
    if (!present) {
      return fail("IXFR removes " + describe(it->first, keylen, type) +
                  " record(s) the zone does not have");
    }
    if (it->second.op == ZoneDiff::Op::kReplace) {
      ts->ttl = it->second.ttl; // the TTL is per RRset in the store
    } else {
      ts->rds.erase(rd);
      --record_delta;
    }
    return true;
  case ZoneDiff::Op::kAdd:
    if (present) {
      return fail("IXFR adds " + describe(it->first, keylen, type) +
                  ", which the zone already has");
    }
    if (ts == sets.end()) {
      sets.push_back(TypeSet{type, it->second.ttl, {}});
      ts = sets.end() - 1;
    } else if (ts->rds.empty()) {
      ts->ttl = it->second.ttl; // every old record was removed: a new RRset
    }
    ts->rds.push_back({rdata, rdlen});
    ++record_delta;
    return true;
  }
  return true;
}

Result<bool> InPlacePatch::owner(ZoneDiff::Iter begin, ZoneDiff::Iter end, int64_t &record_delta) {
  arena_.reset();
  const std::string &first = begin->first;
  uint16_t keylen = ZoneDiff::id_keylen(first);
  NameKey key = key_from_stored(reinterpret_cast<const uint8_t *>(first.data()) + 2, keylen);
  bool apex = key.len == 0;
  uint8_t hash[kNsec3HashLen];
  Place where = place(key, begin, end, keylen, hash);
  if (where == Place::kCopy) {
    return false;
  }
  DbKey dk;
  if (where == Place::kNsec3) {
    make_nsec3_key(snapshot_, hash, kNsec3HashLen, dk);
  } else {
    make_db_key(snapshot_, key, dk);
  }
  if (dk.len > static_cast<size_t>(env_.max_key_size())) {
    return false; // the copy path refuses the name, with the reason (keys.h)
  }
  MDB_val k = dk.val(), v;
  bool existed = mdb_get(txn_, env_.nodes(), &k, &v) == MDB_SUCCESS;
  NodeView old;
  std::vector<TypeSet> sets;
  if (existed) {
    old = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    for (uint16_t i = 0; i < old.count(); ++i) {
      RRsetView rs = old.at(i);
      TypeSet ts{rs.type, rs.ttl, {}};
      knot_rdata_t *rd = rs.rrs.rdata;
      for (uint16_t j = 0; j < rs.rrs.count; ++j, rd = knot_rdataset_next(rd)) {
        ts.rds.push_back({rd->data, rd->len});
      }
      sets.push_back(std::move(ts));
    }
  }
  if (auto r = apply_entries(sets, begin, end, keylen, apex, record_delta); !r || !*r) {
    return r;
  }
  sets.erase(
      std::remove_if(sets.begin(), sets.end(), [](const TypeSet &t) { return t.rds.empty(); }),
      sets.end());
  std::sort(sets.begin(), sets.end(),
            [](const TypeSet &a, const TypeSet &b) { return a.type < b.type; });
  std::vector<NodeRRset> rrsets;
  for (auto &t : sets) {
    NodeRRset rrset{t.type, t.ttl, {}};
    if (!build_rdataset(t.rds, arena_.mm(), rrset.rrs)) {
      return fail("IXFR gives the RRset " + describe(first, keylen, t.type) + " " +
                  std::to_string(t.rds.size()) + " records, more than the " +
                  std::to_string(kMaxRRsetRecords) + " an RRset can hold");
    }
    rrsets.push_back(rrset);
  }
  if (where == Place::kNsec3) {
    return write_nsec3(k, existed, rrsets);
  }
  return write_name(key, k, existed, old, sets, rrsets);
}

Result<bool> InPlacePatch::apply_entries(std::vector<TypeSet> &sets, ZoneDiff::Iter begin,
                                         ZoneDiff::Iter end, uint16_t keylen, bool apex,
                                         int64_t &record_delta) {
  // Removals first: entries are sorted by rdata, and an RRset whose old records all go takes
  // the TTL of its new ones (RFC 2181 5.2), as the copy path and a fresh load give it.
  for (bool adds : {false, true}) {
    for (auto it = begin; it != end; ++it) {
      if ((it->second.op == ZoneDiff::Op::kAdd) != adds) {
        continue;
      }
      auto r = change(sets, it, keylen, apex, record_delta);
      if (!r || !*r) {
        return r;
      }
    }
  }
  return true;
}

Result<bool> InPlacePatch::write_name(const NameKey &key, MDB_val &k, bool existed,
                                      const NodeView &old, const std::vector<TypeSet> &sets,
                                      const std::vector<NodeRRset> &rrsets) {
  bool apex = key.len == 0;
  uint16_t inherited = existed ? (old.flags() & kInherited) : 0;
  if (!existed) {
    // A new leaf: its parent must exist (no empty non-terminal to create), and it must not be
    // a wildcard (its parent's flag would change).
    if (key.is_wildcard() || key.labels == 0) {
      return false;
    }
    auto parent = node_flags(key.ancestor(key.labels - 1));
    if (!parent) {
      return false;
    }
    if (*parent & (kFlagDelegation | kFlagNonAuth)) {
      inherited |= kFlagNonAuth;
    }
    if (*parent & (kFlagDname | kFlagBelowDname)) {
      inherited |= kFlagBelowDname;
    }
  }
  if (sets.empty() && !has_children(key)) {
    return remove_leaf(key, k, existed); // an empty node with children stays (non-terminal)
  }
  if (apex && std::none_of(sets.begin(), sets.end(),
                           [](const TypeSet &t) { return t.type == KNOT_RRTYPE_SOA; })) {
    return false;
  }
  std::vector<uint8_t> value;
  uint16_t flags = own_flags(rrsets, apex) | inherited | (signing_ ? kFlagNsec3Hashes : 0);
  encode_node(flags, rrsets, value);
  // The publish pass's node checks (node_check.h): an increment may not make here what a full
  // transfer of the same version would be refused for.
  if (std::string error = check_node(NodeView(value.data(), value.size()), key, diff_.apex_.data());
      !error.empty()) {
    return fail(error);
  }
  if (signing_ != nullptr) {
    // The node's NSEC3 hashes (node.h): kept from the old value, computed for a new name.
    uint8_t hashes[kNsec3TrailerLen];
    if (existed && old.owner_hash() != nullptr) {
      std::memcpy(hashes, old.owner_hash(), kNsec3TrailerLen);
    } else {
      node_hashes(key, diff_.apex_.data(), signing_->nsec3, hashes);
    }
    value.insert(value.end(), hashes, hashes + kNsec3TrailerLen);
  }
  MDB_val v{value.size(), value.data()};
  if (int rc = mdb_put(txn_, env_.nodes(), &k, &v, 0); rc != MDB_SUCCESS) {
    return fail("cannot patch: " + lmdb_error(rc));
  }
  return true;
}

namespace {

// The apex node of a snapshot, inside `txn` (valid until the txn writes or ends).
std::optional<NodeView> apex_node(Env &env, MDB_txn *txn, uint64_t snapshot) {
  DbKey ak;
  make_db_key(snapshot, nullptr, 0, ak);
  MDB_val akv = ak.val(), av;
  if (mdb_get(txn, env.nodes(), &akv, &av) != MDB_SUCCESS) {
    return std::nullopt;
  }
  return NodeView(static_cast<const uint8_t *>(av.mv_data), av.mv_size);
}

// Points the zone record at serial `to` with `records` changed by `delta`, and commits.
Status commit_record(WriteTxn &txn, Env &env, const ZoneDiff &diff, const SourceInfo &source,
                     ZoneRecord &rec, int64_t delta, bool has_zonemd) {
  rec.serial = diff.to();
  rec.flags = (has_zonemd ? kZoneFlagZonemd : 0) | (rec.flags & kZoneFlagKept);
  rec.records = static_cast<uint32_t>(static_cast<int64_t>(rec.records) + delta);
  rec.published_ns = unix_now_ns();
  rec.source_kind = source.kind;
  rec.source_len = static_cast<uint16_t>(source.source.size());
  std::vector<uint8_t> value(sizeof(rec) + source.source.size());
  std::memcpy(value.data(), &rec, sizeof(rec));
  std::memcpy(value.data() + sizeof(rec), source.source.data(), source.source.size());
  const std::vector<uint8_t> &apex = diff.apex();
  MDB_val zk{apex.size(), const_cast<uint8_t *>(apex.data())}, zv{value.size(), value.data()};
  int rc = mdb_put(txn.get(), env.zones(), &zk, &zv, 0);
  if (rc == MDB_SUCCESS) {
    rc = txn.commit();
  }
  if (rc != MDB_SUCCESS) {
    return fail("cannot publish the IXFR: " + lmdb_error(rc));
  }
  return Ok{};
}

} // namespace

Result<std::optional<Published>> patch_in_place(Env &env, const ZoneDiff &diff,
                                                const SourceInfo &source) {
  const knot_dname_t *apex = diff.apex_.data();
  if (auto room = env.ensure_room((size_t{16} << 20) + diff.size() * 1024); !room) {
    return fail(room.error());
  }
  auto txn = env.begin_write();
  if (!txn) {
    return fail(txn.error());
  }
  auto zone = read_zone(env, apex, txn->get());
  if (!zone || zone->record.serial != diff.from()) {
    return std::optional<Published>{}; // the copy path reports it
  }
  auto old_apex = apex_node(env, txn->get(), zone->record.current);
  if (!old_apex) {
    return std::optional<Published>{};
  }
  ZoneSigning before = zone_signing(*old_apex);
  if (before.mode != zone->record.dnssec) {
    return std::optional<Published>{}; // a snapshot of format 1: the publish pass indexes it
  }
  int64_t delta = 0;
  InPlacePatch patch(env, diff, txn->get(), zone->record.current,
                     before.mode == DnssecMode::kNsec3 ? &before : nullptr);
  auto r = patch.run(delta);
  if (!r) {
    return fail(r.error());
  }
  if (!*r) {
    return std::optional<Published>{};
  }
  // A change of how the zone is signed (apex RRSIG over SOA, NSEC3PARAM) is for the publish pass.
  auto new_apex = apex_node(env, txn->get(), zone->record.current);
  if (!new_apex) {
    return std::optional<Published>{};
  }
  ZoneSigning after = zone_signing(*new_apex);
  bool has_zonemd = new_apex->has_type(KNOT_RRTYPE_ZONEMD); // new_apex dies with the commit
  bool resigned = after.mode != before.mode ||
                  (after.mode == DnssecMode::kNsec3 && !after.nsec3.same_hash(before.nsec3));
  // A ZONEMD digest covers the whole zone: it is checked on the copy path's publish.
  bool zonemd = source.zonemd == ZonemdPolicy::kRequire ||
                (source.zonemd == ZonemdPolicy::kVerify && has_zonemd);
  if (zonemd || resigned) {
    return std::optional<Published>{};
  }
  ZoneRecord rec = zone->record;
  if (auto st = commit_record(*txn, env, diff, source, rec, delta, has_zonemd); !st) {
    return fail(st.error());
  }
  Published out;
  out.snapshot = rec.current;
  out.serial = rec.serial;
  out.records = rec.records;
  out.dnssec = rec.dnssec; // unchanged: a change of signing mode took the copy path above
  out.zonemd = has_zonemd;
  return std::optional<Published>{out};
}

} // namespace holdfast::store
