// SPDX-License-Identifier: MIT
// Kept zones (schema.h kZoneFlagKept): a zone that leaves the config stops being served but
// keeps its snapshots, so that a config slip never costs a zone's data; purge deletes them.
#include <cstddef>
#include <cstring>
#include <set>

#include "common/clock.h"
#include "store/writer.h"

namespace holdfast::store {
namespace {

// "meta" key of a kept zone's drop time: "kept" ++ apex.
std::vector<uint8_t> kept_key(const std::vector<uint8_t> &apex) {
  size_t prefix = std::strlen(kMetaKeptPrefix);
  std::vector<uint8_t> key(prefix + apex.size());
  std::memcpy(key.data(), kMetaKeptPrefix, prefix);
  std::memcpy(key.data() + prefix, apex.data(), apex.size());
  return key;
}

int64_t dropped_at(Env &env, MDB_txn *txn, const std::vector<uint8_t> &apex) {
  auto key = kept_key(apex);
  MDB_val k{key.size(), key.data()}, v;
  int64_t ns = 0;
  if (mdb_get(txn, env.meta(), &k, &v) == MDB_SUCCESS && v.mv_size == sizeof(ns)) {
    std::memcpy(&ns, v.mv_data, sizeof(ns));
  }
  return ns;
}

// Rewrites the zone's value with its flags changed (the rest, source string included, as is).
int put_flags(Env &env, MDB_txn *txn, const std::vector<uint8_t> &apex, bool kept) {
  MDB_val k{apex.size(), const_cast<uint8_t *>(apex.data())}, v;
  int rc = mdb_get(txn, env.zones(), &k, &v);
  if (rc != MDB_SUCCESS) {
    return rc;
  }
  std::vector<uint8_t> value(static_cast<uint8_t *>(v.mv_data),
                             static_cast<uint8_t *>(v.mv_data) + v.mv_size);
  uint8_t &flags = value[offsetof(ZoneRecord, flags)];
  flags = kept ? (flags | kZoneFlagKept) : (flags & ~kZoneFlagKept);
  v = {value.size(), value.data()};
  rc = mdb_put(txn, env.zones(), &k, &v, 0);
  auto key = kept_key(apex);
  MDB_val mk{key.size(), key.data()};
  if (rc == MDB_SUCCESS && kept) {
    int64_t now = unix_now_ns();
    MDB_val mv{sizeof(now), &now};
    rc = mdb_put(txn, env.meta(), &mk, &mv, 0);
  } else if (rc == MDB_SUCCESS) {
    rc = mdb_del(txn, env.meta(), &mk, nullptr);
    rc = rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
  }
  return rc;
}

} // namespace

std::vector<KeptZone> list_kept(Env &env, MDB_txn *txn) {
  std::vector<KeptZone> out;
  for (auto &z : list_zones(env, txn)) {
    if ((z.record.flags & kZoneFlagKept) != 0) {
      int64_t ns = dropped_at(env, txn, z.apex);
      out.push_back({std::move(z), ns});
    }
  }
  return out;
}

size_t count_kept(Env &env, MDB_txn *txn) {
  size_t n = 0;
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn, env.zones(), &cur) != MDB_SUCCESS) {
    return 0;
  }
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    n += v.mv_size >= sizeof(ZoneRecord) && zone_value_kept(v.mv_data);
  }
  mdb_cursor_close(cur);
  return n;
}

Result<KeptChanges> sync_kept(Env &env, const std::vector<std::vector<uint8_t>> &configured) {
  std::set<std::vector<uint8_t>> wanted(configured.begin(), configured.end());
  auto txn = env.begin_write();
  if (!txn) {
    return fail(txn.error());
  }
  KeptChanges out;
  for (const auto &z : list_zones(env, txn->get())) {
    bool kept = (z.record.flags & kZoneFlagKept) != 0;
    bool want_kept = wanted.count(z.apex) == 0;
    if (kept == want_kept) {
      continue;
    }
    if (int rc = put_flags(env, txn->get(), z.apex, want_kept); rc != MDB_SUCCESS) {
      return fail("cannot mark zones kept or served: " + lmdb_error(rc));
    }
    (want_kept ? out.kept : out.restored).push_back(z);
  }
  if (out.kept.empty() && out.restored.empty()) {
    return out; // nothing written: the transaction aborts
  }
  if (int rc = txn->commit(); rc != MDB_SUCCESS) {
    return fail("cannot mark zones kept or served: " + lmdb_error(rc));
  }
  return out;
}

Result<PurgeOutcome> purge_zone(Env &env, const knot_dname_t *apex) {
  auto txn = env.begin_write();
  if (!txn) {
    return fail(txn.error());
  }
  // Checked in the write transaction: a reload that adds the zone back cannot slip in between.
  auto info = read_zone(env, apex, txn->get());
  if (!info) {
    return PurgeOutcome::kAbsent;
  }
  if ((info->record.flags & kZoneFlagKept) == 0) {
    return PurgeOutcome::kNotKept;
  }
  MDB_val k{info->apex.size(), info->apex.data()};
  auto key = kept_key(info->apex);
  MDB_val mk{key.size(), key.data()};
  int rc = mdb_del(txn->get(), env.zones(), &k, nullptr);
  if (rc == MDB_SUCCESS) {
    rc = mdb_del(txn->get(), env.meta(), &mk, nullptr);
    rc = rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
  }
  if (rc == MDB_SUCCESS) {
    rc = txn->commit();
  }
  if (rc != MDB_SUCCESS) {
    return fail("cannot purge the zone: " + lmdb_error(rc));
  }
  // Unreferenced now; a crash before the end leaves them to the next garbage collection.
  for (uint64_t id : {info->record.current, info->record.previous}) {
    if (id != 0) {
      if (auto st = delete_snapshot(env, id); !st) {
        return fail(st.error());
      }
    }
  }
  return PurgeOutcome::kPurged;
}

} // namespace holdfast::store
