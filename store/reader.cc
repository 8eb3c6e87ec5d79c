// SPDX-License-Identifier: MIT
// Read side of the store (see reader.h).
#include "store/reader.h"

#include <cstring>

#include "common/nsec3.h"
#include "store/keys.h"

namespace holdfast::store {

Reader::~Reader() {
  if (cursor_ != nullptr) {
    mdb_cursor_close(cursor_);
  }
}

MDB_cursor *Reader::cursor() {
  // A read-only cursor survives txn reset/renew; rebind it when the txn was renewed.
  if (cursor_ == nullptr) {
    if (mdb_cursor_open(txn_.get(), txn_.env().nodes(), &cursor_) != MDB_SUCCESS) {
      cursor_ = nullptr;
    }
  } else if (cursor_generation_ != txn_.generation()) {
    if (mdb_cursor_renew(txn_.get(), cursor_) != MDB_SUCCESS) {
      return nullptr;
    }
  }
  cursor_generation_ = txn_.generation();
  return cursor_;
}

bool Reader::find_zone(const knot_dname_t *qname, ZoneHandle &out) {
  const uint8_t *suffix = qname;
  size_t size = knot_dname_size(qname);
  for (;;) {
    MDB_val k{size, const_cast<uint8_t *>(suffix)}, v;
    // A kept zone (schema.h) is not ours to answer: go on to its parent, as if it were absent.
    if (mdb_get(txn_.get(), txn_.env().zones(), &k, &v) == MDB_SUCCESS &&
        v.mv_size >= sizeof(ZoneRecord) && !zone_value_kept(v.mv_data)) {
      out.apex = static_cast<const knot_dname_t *>(k.mv_data);
      std::memcpy(&out.record, v.mv_data, sizeof(ZoneRecord));
      out.snapshot = out.record.current;
      return true;
    }
    if (*suffix == 0) {
      return false;
    }
    size -= *suffix + 1;
    suffix += *suffix + 1;
  }
}

bool Reader::get(const ZoneHandle &zone, const NameKey &key, NodeView &out) {
  DbKey dk;
  make_db_key(zone.snapshot, key, dk);
  MDB_val k = dk.val(), v;
  if (mdb_get(txn_.get(), txn_.env().nodes(), &k, &v) != MDB_SUCCESS) {
    return false;
  }
  out = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
  return out.valid();
}

bool Reader::lookup(const ZoneHandle &zone, const NameKey &key, Lookup &out) {
  MDB_cursor *cur = cursor();
  if (cur == nullptr) {
    return false;
  }
  DbKey dk;
  make_db_key(zone.snapshot, key, dk);
  MDB_val k = dk.val(), v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (rc == MDB_SUCCESS && k.mv_size == dk.len && std::memcmp(k.mv_data, dk.buf, dk.len) == 0) {
    out.exact = true;
    out.node = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    out.encloser = key;
    out.encloser_node = out.node;
    return out.node.valid();
  }
  out.exact = false;
  rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  if (rc != MDB_SUCCESS || key_snapshot(k) != zone.snapshot) {
    return false; // no apex: not a published snapshot
  }
  out.predecessor = key_owner(k);
  // Every ancestor of a stored name is stored (empty non-terminals included), and all names
  // between an ancestor and `key` are its descendants, so the closest encloser is the
  // longest common ancestor of `key` and its predecessor.
  unsigned depth = common_labels(key, out.predecessor);
  out.encloser = key.ancestor(depth);
  if (out.encloser.len == out.predecessor.len) {
    out.encloser_node = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    return out.encloser_node.valid();
  }
  return get(zone, out.encloser, out.encloser_node);
}

bool Reader::nsec3_match(const ZoneHandle &zone, const uint8_t *hash, NodeView &out) {
  DbKey dk;
  make_nsec3_key(zone.snapshot, hash, kNsec3HashLen, dk);
  MDB_val k = dk.val(), v;
  if (mdb_get(txn_.get(), txn_.env().nodes(), &k, &v) != MDB_SUCCESS) {
    return false;
  }
  out = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
  return out.valid();
}

bool Reader::nsec3_cover(const ZoneHandle &zone, const uint8_t *hash, uint8_t *cover_hash,
                         NodeView &out) {
  MDB_cursor *cur = cursor();
  if (cur == nullptr) {
    return false;
  }
  const uint64_t space = zone.snapshot | kNsec3Space;
  DbKey dk;
  make_nsec3_key(zone.snapshot, hash, kNsec3HashLen, dk);
  MDB_val k = dk.val(), v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  if (rc != MDB_SUCCESS || key_snapshot(k) != space) {
    // Before the first hash: the last NSEC3 of the chain covers it (wrap-around).
    DbKey end;
    make_db_key(space + 1, nullptr, 0, end);
    k = end.val();
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    if (rc != MDB_SUCCESS || key_snapshot(k) != space) {
      return false;
    }
  }
  if (k.mv_size != 8 + kNsec3HashLen) {
    return false;
  }
  std::memcpy(cover_hash, static_cast<const uint8_t *>(k.mv_data) + 8, kNsec3HashLen);
  out = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
  return out.valid();
}

bool Reader::occluder(const ZoneHandle &zone, const NameKey &key, MDB_cursor *cur, MDB_val &k,
                      MDB_val &v) {
  // The closest ancestor not itself below a cut or DNAME is the cut or DNAME owner; the apex
  // never is below one.
  for (unsigned labels = key.labels; labels-- > 0 && nsec_steps_ < kNsecWalkLimit;) {
    DbKey dk;
    make_db_key(zone.snapshot, key.ancestor(labels), dk);
    k = dk.val();
    ++nsec_steps_;
    if (mdb_cursor_get(cur, &k, &v, MDB_SET_KEY) != MDB_SUCCESS) {
      continue;
    }
    NodeView n(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    if (n.valid() && !n.has(kFlagNonAuth | kFlagBelowDname)) {
      return true;
    }
  }
  return false;
}

bool Reader::nsec_previous(const ZoneHandle &zone, const NameKey &key, NameKey &out_key,
                           NodeView &out) {
  nsec_steps_ = 0;
  MDB_cursor *cur = cursor();
  if (cur == nullptr) {
    return false;
  }
  DbKey dk;
  make_db_key(zone.snapshot, key, dk);
  MDB_val k = dk.val(), v;
  int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  while (rc == MDB_SUCCESS && key_snapshot(k) == zone.snapshot && nsec_steps_ < kNsecWalkLimit) {
    ++nsec_steps_;
    NodeView n(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    if (n.valid() && n.has(kFlagNonAuth | kFlagBelowDname)) {
      // Glue and names occluded by a DNAME are not in the chain, and they all sort right after
      // the name that occludes them: go there at once instead of visiting each.
      if (!occluder(zone, key_owner(k), cur, k, v)) {
        return false;
      }
      continue;
    }
    // Only names in the NSEC chain own an NSEC: this also skips empty non-terminals and names
    // the master left out of the chain.
    if (n.valid() && n.has_type(KNOT_RRTYPE_NSEC)) {
      out_key = key_owner(k);
      out = n;
      return true;
    }
    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
  }
  return false;
}

} // namespace holdfast::store
