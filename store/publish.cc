// SPDX-License-Identifier: MIT
// Publishing a snapshot: the finalize pass (checks, flags, NSEC3 hashes, ZONEMD) and the atomic
// flip.
#include <algorithm>
#include <cstring>

#include "common/knot.h"

#include "common/clock.h"
#include "common/dname.h"
#include "common/nsec3.h"
#include "store/dnssec.h"
#include "store/keys.h"
#include "store/node.h"
#include "store/node_check.h"
#include "store/writer.h"
#include "store/zone_walk.h"

namespace holdfast::store {
namespace {

// A node on the path from the apex to the node being visited.
struct PathEntry {
  NameKey key;
  uint16_t flags; // own + inherited
  int ent = -1;   // index into the pending empty non-terminals, -1 for a stored node
};

struct PendingEnt {
  NameKey key;
  uint16_t flags;
};

// Flags a node inherits from its parent on the path (RFC 1034 4.2.1 zone cuts, RFC 6672 2.3).
uint16_t inherited(const PathEntry &parent) {
  uint16_t f = parent.flags & (kFlagNonAuth | kFlagBelowDname);
  if (parent.flags & kFlagDelegation) {
    f |= kFlagNonAuth;
  }
  if (parent.flags & kFlagDname) {
    f |= kFlagBelowDname;
  }
  return f;
}

Status set_flags(MDB_txn *txn, MDB_dbi dbi, uint64_t id, const NameKey &key, uint16_t add) {
  DbKey dk;
  make_db_key(id, key, dk);
  MDB_val k = dk.val(), v;
  if (mdb_get(txn, dbi, &k, &v) != MDB_SUCCESS) {
    return fail("node vanished while publishing");
  }
  std::vector<uint8_t> copy(static_cast<uint8_t *>(v.mv_data),
                            static_cast<uint8_t *>(v.mv_data) + v.mv_size);
  uint16_t flags;
  std::memcpy(&flags, copy.data(), 2);
  flags |= add;
  std::memcpy(copy.data(), &flags, 2);
  v = {copy.size(), copy.data()};
  int rc = mdb_put(txn, dbi, &k, &v, 0);
  return rc == MDB_SUCCESS ? Status(Ok{}) : Status(fail(lmdb_error(rc)));
}

} // namespace

namespace {

// A failed publishing step: the message for the operator, and LMDB's code (MDB_MAP_FULL means
// "grow the map and try again").
struct StepError {
  std::string message;
  int rc = MDB_SUCCESS;
};

StepError lmdb_step(const char *what, int rc) {
  return {std::string(what) + ": " + lmdb_error(rc), rc};
}

// The finalize pass: visits the snapshot's nodes in canonical order (ancestors first), checks
// each, writes inherited flags in place, and collects what must be added after the walk.
class NodeWalk {
public:
  explicit NodeWalk(const std::vector<uint8_t> &apex) : apex_(apex) {}

  // Visits the node under the cursor; returns an error message or "".
  StepError visit(MDB_cursor *cur, MDB_val &k, MDB_val &v, Published &out) {
    NameKey key = key_owner(k);
    NodeView node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    if (key.len == 0) {
      saw_apex_ = true;
      RRsetView soa;
      if (!node.find(KNOT_RRTYPE_SOA, soa)) {
        return {"no SOA record at the zone apex"};
      }
      out.serial = knot_soa_serial(soa.rrs.rdata);
      signing_ = zone_signing(node);
      out.dnssec = signing_.mode;
      if (signing_.mode == DnssecMode::kNsec3 && signing_.nsec3.iterations > kNsec3MaxIterations) {
        return {"NSEC3PARAM has " + std::to_string(signing_.nsec3.iterations) +
                " iterations, more than RFC 5155 10.3 allows (" +
                std::to_string(kNsec3MaxIterations) + "; RFC 9276 asks for 0)"};
      }
      out.zonemd = node.has_type(KNOT_RRTYPE_ZONEMD);
    } else if (!saw_apex_) {
      return {"no SOA record at the zone apex"};
    }
    if (signing_.mode == DnssecMode::kNsec3) {
      uint8_t hash[kNsec3HashLen];
      if (nsec3_node_hash(key, node, hash)) {
        // Moved to the NSEC3 space after the walk (schema.h); not a name of the zone.
        nsec3_nodes_.insert(nsec3_nodes_.end(), hash, hash + kNsec3HashLen);
        count_records(node, out);
        return {};
      }
    }
    if (std::string error = check_node(node, key, apex_.data()); !error.empty()) {
      return {error};
    }
    add_ancestors(key);
    uint16_t flags = node.flags() | (path_.empty() ? 0 : inherited(path_.back()));
    if (key.is_wildcard()) {
      mark_wildcard_parent();
    }
    count_records(node, out); // before a rewrite moves the value: `node` points into it
    bool hashes = signing_.mode == DnssecMode::kNsec3;
    if (flags != node.flags() || hashes) {
      std::vector<uint8_t> copy(static_cast<uint8_t *>(v.mv_data),
                                static_cast<uint8_t *>(v.mv_data) + v.mv_size);
      if (hashes) {
        flags |= kFlagNsec3Hashes;
        append_hashes(key, copy);
      }
      std::memcpy(copy.data(), &flags, 2);
      MDB_val nv{copy.size(), copy.data()};
      // A value of another size is deleted and inserted again: `k` points into the page that
      // moves, so the key is given from a copy.
      DbKey own;
      std::memcpy(own.buf, k.mv_data, k.mv_size);
      own.len = k.mv_size;
      MDB_val ok = own.val();
      if (int rc = mdb_cursor_put(cur, &ok, &nv, MDB_CURRENT); rc != MDB_SUCCESS) {
        return lmdb_step("cannot publish", rc);
      }
    }
    path_.push_back({key, flags, -1});
    return {};
  }

  bool saw_apex() const { return saw_apex_; }

  // Empty non-terminals and the wildcard flags of already visited parents.
  StepError write_derived(MDB_txn *txn, MDB_dbi nodes, uint64_t id, Published &out) const {
    std::vector<uint8_t> value;
    for (const auto &ent : ents_) {
      bool hashes = signing_.mode == DnssecMode::kNsec3;
      encode_node(ent.flags | (hashes ? kFlagNsec3Hashes : 0), {}, value);
      if (hashes) {
        append_hashes(ent.key, value);
      }
      DbKey dk;
      make_db_key(id, ent.key, dk);
      MDB_val ek = dk.val(), ev{value.size(), value.data()};
      if (int rc = mdb_put(txn, nodes, &ek, &ev, 0); rc != MDB_SUCCESS) {
        return lmdb_step("cannot publish", rc);
      }
    }
    for (const auto &parent : wildcard_parents_) {
      if (auto st = set_flags(txn, nodes, id, parent, kFlagWildcardChild); !st) {
        return {st.error()};
      }
    }
    out.nodes += ents_.size();
    return move_nsec3_nodes(txn, nodes, id);
  }

private:
  static void count_records(const NodeView &node, Published &out) {
    for (uint16_t i = 0; i < node.count(); ++i) {
      out.records += node.at(i).rrs.count;
    }
    ++out.nodes;
  }

  // H(owner) and H(*.owner) at the end of a node value (node.h), so that denial answers need
  // no hashing of names that exist (RFC 5155 7.2.1, 7.2.2).
  void append_hashes(const NameKey &key, std::vector<uint8_t> &value) const {
    uint8_t hashes[kNsec3TrailerLen];
    node_hashes(key, apex_.data(), signing_.nsec3, hashes);
    value.insert(value.end(), hashes, hashes + kNsec3TrailerLen);
  }

  // NSEC3 chain nodes leave the names of the zone for the NSEC3 space (schema.h).
  StepError move_nsec3_nodes(MDB_txn *txn, MDB_dbi nodes, uint64_t id) const {
    for (size_t off = 0; off < nsec3_nodes_.size(); off += kNsec3HashLen) {
      const uint8_t *hash = nsec3_nodes_.data() + off;
      NameKey owner = nsec3_owner_key(hash);
      DbKey from, to;
      make_db_key(id, owner, from);
      make_nsec3_key(id, hash, kNsec3HashLen, to);
      MDB_val fk = from.val(), tk = to.val(), v;
      int rc = mdb_get(txn, nodes, &fk, &v);
      if (rc == MDB_SUCCESS) {
        std::vector<uint8_t> value(static_cast<uint8_t *>(v.mv_data),
                                   static_cast<uint8_t *>(v.mv_data) + v.mv_size);
        v = {value.size(), value.data()};
        rc = mdb_put(txn, nodes, &tk, &v, 0);
      }
      if (rc == MDB_SUCCESS) {
        rc = mdb_del(txn, nodes, &fk, nullptr);
      }
      if (rc != MDB_SUCCESS) {
        return lmdb_step("cannot publish", rc);
      }
    }
    return {};
  }

  // Keeps only the ancestors of `key` on the path, then adds every missing ancestor as an
  // empty non-terminal (RFC 4592 2.2.2: it exists).
  void add_ancestors(const NameKey &key) {
    while (!path_.empty() && (path_.back().key.labels >= key.labels ||
                              common_labels(path_.back().key, key) < path_.back().key.labels)) {
      path_.pop_back();
    }
    for (unsigned depth = path_.empty() ? 0 : path_.back().key.labels + 1; depth < key.labels;
         ++depth) {
      uint16_t f = path_.empty() ? 0 : inherited(path_.back());
      NameKey ent = key.ancestor(depth);
      if (ent.is_wildcard()) {
        mark_wildcard_parent(); // an empty "*" (only "x.*.name" exists) is a wildcard too
      }
      ents_.push_back({ent, f});
      path_.push_back({ents_.back().key, f, static_cast<int>(ents_.size() - 1)});
    }
  }

  // RFC 4592 2.2.2: the parent of "*" (the node on top of the path) is a wildcard's encloser.
  void mark_wildcard_parent() {
    if (path_.empty()) {
      return;
    }
    PathEntry &parent = path_.back();
    if (parent.ent >= 0) {
      ents_[parent.ent].flags |= kFlagWildcardChild;
    } else {
      wildcard_parents_.push_back(parent.key);
    }
    parent.flags |= kFlagWildcardChild;
  }

  const std::vector<uint8_t> &apex_;
  std::vector<PathEntry> path_;
  std::vector<PendingEnt> ents_;
  std::vector<NameKey> wildcard_parents_;
  std::vector<uint8_t> nsec3_nodes_; // hashes of the NSEC3 nodes seen, 20 octets each
  ZoneSigning signing_;
  bool saw_apex_ = false;
};

// The flip: the zone's record points at the new snapshot, the old one becomes `previous`, and
// the one before that is returned in `obsolete` for deletion after the commit.
StepError flip(MDB_txn *txn, Env &env, uint64_t id, const std::vector<uint8_t> &apex,
               const SourceInfo &source, const Published &out, uint64_t &obsolete) {
  std::optional<ZoneInfo> old;
  MDB_val zk{apex.size(), const_cast<uint8_t *>(apex.data())}, zv;
  if (mdb_get(txn, env.zones(), &zk, &zv) == MDB_SUCCESS) {
    old = parse_zone(zk, zv);
  }
  ZoneRecord rec{};
  rec.current = id;
  rec.previous = old ? old->record.current : 0;
  obsolete = old ? old->record.previous : 0;
  rec.serial = out.serial;
  rec.records = static_cast<uint32_t>(out.records);
  rec.published_ns = unix_now_ns();
  rec.source_mtime_ns = source.mtime_ns;
  rec.source_size = source.size;
  rec.source_inode = source.inode;
  rec.source_kind = source.kind;
  rec.dnssec = out.dnssec;
  rec.flags = (out.zonemd ? kZoneFlagZonemd : 0) | (old ? old->record.flags & kZoneFlagKept : 0);
  rec.source_len = static_cast<uint16_t>(source.source.size());
  std::vector<uint8_t> value(sizeof(rec) + source.source.size());
  std::memcpy(value.data(), &rec, sizeof(rec));
  std::memcpy(value.data() + sizeof(rec), source.source.data(), source.source.size());
  zv = {value.size(), value.data()};
  uint8_t idkey[8];
  put_be64(idkey, id);
  MDB_val sk{8, idkey}, sv;
  int rc = mdb_put(txn, env.zones(), &zk, &zv, 0);
  if (rc == MDB_SUCCESS) {
    rc = mdb_get(txn, env.snapshots(), &sk, &sv);
  }
  if (rc == MDB_SUCCESS) {
    std::vector<uint8_t> srec(static_cast<uint8_t *>(sv.mv_data),
                              static_cast<uint8_t *>(sv.mv_data) + sv.mv_size);
    srec[0] = static_cast<uint8_t>(SnapshotState::kPublished);
    sv = {srec.size(), srec.data()};
    rc = mdb_put(txn, env.snapshots(), &sk, &sv, 0);
  }
  return rc == MDB_SUCCESS ? StepError{} : lmdb_step("cannot publish", rc);
}

} // namespace

Status SnapshotWriter::finalize(MDB_txn *txn, Published &out, uint64_t &obsolete, bool &map_full) {
  out = Published{};
  out.snapshot = id_;
  obsolete = 0;
  MDB_cursor *cur = nullptr;
  if (int rc = mdb_cursor_open(txn, env_.nodes(), &cur); rc != MDB_SUCCESS) {
    return fail(lmdb_error(rc));
  }
  NodeWalk walk(apex_);
  StepError error;
  DbKey start;
  make_db_key(id_, nullptr, 0, start);
  MDB_val k = start.val(), v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS && key_snapshot(k) == id_; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (error = walk.visit(cur, k, v, out); !error.message.empty()) {
      break;
    }
  }
  mdb_cursor_close(cur);
  if (error.message.empty() && !walk.saw_apex()) {
    error = {"no SOA record at the zone apex"};
  }
  if (error.message.empty() && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    error = lmdb_step("cannot publish", rc);
  }
  if (error.message.empty()) {
    error = walk.write_derived(txn, env_.nodes(), id_, out);
  }
  if (error.message.empty() && source_.zonemd != ZonemdPolicy::kOff) {
    // RFC 8976 4: verified before the zone is used; a mismatch keeps the old one served.
    auto checked = check_zonemd(txn, env_, id_, apex_.data(), source_.zonemd);
    if (!checked) {
      error = {checked.error()};
    } else {
      out.zonemd_verified = *checked == ZonemdOutcome::kVerified;
    }
  }
  if (error.message.empty()) {
    error = flip(txn, env_, id_, apex_, source_, out, obsolete);
  }
  map_full = error.rc == MDB_MAP_FULL;
  if (!error.message.empty()) {
    return fail(error.message);
  }
  return Ok{};
}

Result<Published> SnapshotWriter::publish() {
  if (!failed_.empty()) {
    abort(); // a flushed batch is missing: this snapshot would lack records
    return fail(failed_);
  }
  Published out;
  uint64_t obsolete = 0;
  if (shared_ != nullptr) {
    bool map_full = false;
    auto st = write_staged(shared_, map_full);
    if (st) {
      clear_staged();
      st = finalize(shared_, out, obsolete, map_full);
    }
    if (st && obsolete != 0 && obsolete != id_) {
      auto del = delete_snapshot_in(shared_, env_, obsolete, SIZE_MAX);
      if (!del) {
        st = fail(del.error());
      }
    }
    if (!st) {
      abort();
      return fail(st.error());
    }
    done_ = true;
    return out;
  }
  // Own transactions: what is still staged, the finalize pass and the flip commit together.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto room = env_.ensure_room(staged_.size() * 2 + (size_t{16} << 20));
    if (!room) {
      abort();
      return fail(room.error());
    }
    auto txn = env_.begin_write();
    if (!txn) {
      abort();
      return fail(txn.error());
    }
    uint64_t id_before = id_;
    bool map_full = false;
    auto st = write_staged(txn->get(), map_full);
    if (st) {
      st = finalize(txn->get(), out, obsolete, map_full);
    }
    int rc = st ? txn->commit() : MDB_SUCCESS;
    map_full = map_full || rc == MDB_MAP_FULL;
    if (map_full) {
      txn->abort();
      id_ = id_before;
      if (auto g = env_.grow(); !g) {
        abort();
        return fail(g.error());
      }
      continue;
    }
    if (!st || rc != MDB_SUCCESS) {
      txn->abort();
      abort();
      return fail(st ? "cannot publish: " + lmdb_error(rc) : st.error());
    }
    clear_staged();
    done_ = true;
    if (obsolete != 0 && obsolete != id_) {
      (void)delete_snapshot(env_, obsolete);
    }
    return out;
  }
  abort();
  return fail("storage map keeps filling up while publishing a snapshot");
}

} // namespace holdfast::store
