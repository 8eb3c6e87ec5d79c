// SPDX-License-Identifier: MIT
// Canonical-order snapshot walk and the publish-time ZONEMD check (see zone_walk.h).
#include "store/zone_walk.h"

#include "common/dname.h"
#include "common/nsec3.h"
#include "store/dnssec.h"
#include "store/keys.h"

namespace holdfast::store {
namespace {

// One of the two key ranges of a snapshot (schema.h), read with its own cursor.
class Range {
public:
  Range(MDB_txn *txn, MDB_dbi dbi, uint64_t range, bool nsec3) : range_(range), nsec3_(nsec3) {
    if (mdb_cursor_open(txn, dbi, &cur_) != MDB_SUCCESS) {
      cur_ = nullptr;
      return;
    }
    DbKey start;
    make_db_key(range, nullptr, 0, start);
    k_ = start.val();
    step(MDB_SET_RANGE);
  }
  ~Range() {
    if (cur_ != nullptr) {
      mdb_cursor_close(cur_);
    }
  }
  Range(const Range &) = delete;
  Range &operator=(const Range &) = delete;

  bool ok() const { return cur_ != nullptr; }
  bool done() const { return done_; }
  const NameKey &key() const { return key_; }
  NodeView node() const { return NodeView(static_cast<const uint8_t *>(v_.mv_data), v_.mv_size); }
  void next() { step(MDB_NEXT); }

private:
  void step(MDB_cursor_op op) {
    done_ = mdb_cursor_get(cur_, &k_, &v_, op) != MDB_SUCCESS || key_snapshot(k_) != range_;
    if (done_) {
      return;
    }
    if (!nsec3_) {
      key_ = key_owner(k_);
      return;
    }
    key_ = nsec3_owner_key(static_cast<const uint8_t *>(k_.mv_data) + 8);
  }

  MDB_cursor *cur_ = nullptr;
  uint64_t range_;
  bool nsec3_;
  bool done_ = true;
  MDB_val k_{}, v_{};
  NameKey key_;
};

} // namespace

Status walk_snapshot(MDB_txn *txn, Env &env, uint64_t snapshot, const knot_dname_t *apex,
                     const NodeVisitor &visit) {
  Range names(txn, env.nodes(), snapshot, false);
  Range nsec3(txn, env.nodes(), snapshot | kNsec3Space, true);
  if (!names.ok() || !nsec3.ok()) {
    return fail("cannot read the snapshot");
  }
  uint8_t owner[KNOT_DNAME_MAXLEN];
  while (!names.done() || !nsec3.done()) {
    // Keys sort in canonical order (dname.h), so the smaller key comes first.
    bool take_names = nsec3.done() || (!names.done() && names.key().view() < nsec3.key().view());
    Range &from = take_names ? names : nsec3;
    key_to_name(from.key(), apex, owner);
    if (auto st = visit(owner, from.node()); !st) {
      return st;
    }
    from.next();
  }
  return Ok{};
}

Result<ZonemdOutcome> check_zonemd(MDB_txn *txn, Env &env, uint64_t snapshot,
                                   const knot_dname_t *apex, ZonemdPolicy policy) {
  if (policy == ZonemdPolicy::kOff) {
    return ZonemdOutcome::kAbsent;
  }
  DbKey ak;
  make_db_key(snapshot, nullptr, 0, ak);
  MDB_val k = ak.val(), v;
  if (mdb_get(txn, env.nodes(), &k, &v) != MDB_SUCCESS) {
    return fail("ZONEMD check: no zone apex");
  }
  NodeView apex_node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
  RRsetView zonemd, soa;
  if (!apex_node.find(KNOT_RRTYPE_ZONEMD, zonemd)) {
    if (policy == ZonemdPolicy::kRequire) {
      return fail("ZONEMD required (zonemd: require), but the zone has no ZONEMD record");
    }
    return ZonemdOutcome::kAbsent;
  }
  if (!apex_node.find(KNOT_RRTYPE_SOA, soa)) {
    return fail("ZONEMD check: no SOA record at the zone apex");
  }
  ZonemdDigester digest(apex);
  digest.expect(zonemd.rrs);
  auto st = walk_snapshot(txn, env, snapshot, apex,
                          [&](const knot_dname_t *owner, const NodeView &node) -> Status {
                            for (uint16_t i = 0; i < node.count(); ++i) {
                              RRsetView rs = node.at(i);
                              digest.add(owner, rs.type, rs.ttl, rs.rrs);
                            }
                            return Ok{};
                          });
  if (!st) {
    return fail("ZONEMD check: " + st.error());
  }
  ZonemdResult r = digest.finish(knot_soa_serial(soa.rrs.rdata));
  switch (r.outcome) {
  case ZonemdOutcome::kVerified:
  case ZonemdOutcome::kAbsent:
    return r.outcome;
  case ZonemdOutcome::kUnsupported:
    // RFC 8976 4: no record this verifier can compute; only `require` refuses the zone.
    if (policy == ZonemdPolicy::kRequire) {
      return fail(r.message + " (zonemd: require)");
    }
    return r.outcome;
  case ZonemdOutcome::kMismatch:
  case ZonemdOutcome::kSerialMismatch:
  case ZonemdOutcome::kMalformed:
    break;
  }
  return fail(r.message);
}

} // namespace holdfast::store
