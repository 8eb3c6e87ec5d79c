// SPDX-License-Identifier: MIT
// The "zones" table and the life of snapshots (see writer.h): reading zone records, deleting
// snapshots, garbage collection, removing a zone.
#include "store/writer.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "store/keys.h"
#include "store/schema.h"

namespace holdfast::store {

std::optional<ZoneInfo> parse_zone(const MDB_val &k, const MDB_val &v) {
  if (v.mv_size < sizeof(ZoneRecord)) {
    return std::nullopt;
  }
  ZoneInfo info;
  info.apex.assign(static_cast<uint8_t *>(k.mv_data),
                   static_cast<uint8_t *>(k.mv_data) + k.mv_size);
  std::memcpy(&info.record, v.mv_data, sizeof(ZoneRecord));
  info.source.assign(static_cast<const char *>(v.mv_data) + sizeof(ZoneRecord),
                     std::min<size_t>(info.record.source_len, v.mv_size - sizeof(ZoneRecord)));
  return info;
}

Result<bool> delete_snapshot_in(MDB_txn *txn, Env &env, uint64_t id, size_t max) {
  MDB_cursor *cur = nullptr;
  if (int rc = mdb_cursor_open(txn, env.nodes(), &cur); rc != MDB_SUCCESS) {
    return fail(lmdb_error(rc));
  }
  size_t n = 0;
  // The snapshot's names, then its NSEC3 nodes (schema.h).
  for (uint64_t range : {id, id | kNsec3Space}) {
    DbKey start;
    make_db_key(range, nullptr, 0, start);
    MDB_val k = start.val(), v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && key_snapshot(k) == range && n < max) {
      rc = mdb_cursor_del(cur, 0);
      ++n;
      if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
      }
    }
  }
  mdb_cursor_close(cur);
  if (n == max) {
    return false;
  }
  uint8_t idkey[8];
  put_be64(idkey, id);
  MDB_val sk{8, idkey};
  (void)mdb_del(txn, env.snapshots(), &sk, nullptr);
  return true;
}

Status delete_snapshot(Env &env, uint64_t id) {
  constexpr size_t kBatch = 100000; // bounded transactions: readers keep old pages meanwhile
  for (;;) {
    auto txn = env.begin_write();
    if (!txn) {
      return fail(txn.error());
    }
    auto done = delete_snapshot_in(txn->get(), env, id, kBatch);
    if (!done) {
      return fail(done.error());
    }
    if (int rc = txn->commit(); rc != MDB_SUCCESS) {
      return fail("cannot delete snapshot: " + lmdb_error(rc));
    }
    if (*done) {
      return Ok{};
    }
  }
}

std::optional<ZoneInfo> read_zone(Env &env, const knot_dname_t *apex, MDB_txn *txn) {
  MDB_txn *own = nullptr;
  if (txn == nullptr) {
    if (mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &own) != MDB_SUCCESS) {
      return std::nullopt;
    }
    txn = own;
  }
  std::vector<uint8_t> key(apex, apex + knot_dname_size(apex));
  knot_dname_to_lower(key.data());
  MDB_val k{key.size(), key.data()}, v;
  std::optional<ZoneInfo> out;
  if (mdb_get(txn, env.zones(), &k, &v) == MDB_SUCCESS) {
    out = parse_zone(k, v);
  }
  if (own != nullptr) {
    mdb_txn_abort(own);
  }
  return out;
}

std::vector<ZoneInfo> list_zones(Env &env) {
  MDB_txn *txn = nullptr;
  if (mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) {
    return {};
  }
  auto out = list_zones(env, txn);
  mdb_txn_abort(txn);
  return out;
}

std::vector<ZoneInfo> list_zones(Env &env, MDB_txn *txn) {
  std::vector<ZoneInfo> out;
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn, env.zones(), &cur) == MDB_SUCCESS) {
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (auto info = parse_zone(k, v)) {
        out.push_back(std::move(*info));
      }
    }
    mdb_cursor_close(cur);
  }
  return out;
}

Status collect_garbage(Env &env, size_t *deleted) {
  std::unordered_set<uint64_t> live;
  for (const auto &z : list_zones(env)) {
    live.insert(z.record.current);
    live.insert(z.record.previous);
  }
  std::vector<uint64_t> dead;
  MDB_txn *txn = nullptr;
  if (int rc = mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn); rc != MDB_SUCCESS) {
    return fail(lmdb_error(rc));
  }
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn, env.snapshots(), &cur) == MDB_SUCCESS) {
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      uint64_t id = key_snapshot(k);
      if (live.count(id) == 0) {
        dead.push_back(id);
      }
    }
    mdb_cursor_close(cur);
  }
  // Node ranges whose snapshot record is already gone (a crash between the two deletes).
  if (mdb_cursor_open(txn, env.nodes(), &cur) == MDB_SUCCESS) {
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
      uint64_t range = key_snapshot(k);
      uint64_t id = range & ~kNsec3Space;
      if (live.count(id) == 0 && std::find(dead.begin(), dead.end(), id) == dead.end()) {
        dead.push_back(id);
      }
      DbKey next;
      make_db_key(range + 1, nullptr, 0, next);
      k = next.val();
      rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
  }
  mdb_txn_abort(txn);
  for (uint64_t id : dead) {
    if (auto st = delete_snapshot(env, id); !st) {
      return st;
    }
  }
  if (deleted != nullptr) {
    *deleted = dead.size();
  }
  return Ok{};
}

Status remove_zone(Env &env, const knot_dname_t *apex) {
  auto info = read_zone(env, apex);
  if (!info) {
    return Ok{};
  }
  auto txn = env.begin_write();
  if (!txn) {
    return fail(txn.error());
  }
  MDB_val k{info->apex.size(), info->apex.data()};
  int rc = mdb_del(txn->get(), env.zones(), &k, nullptr);
  if (rc == MDB_SUCCESS) {
    rc = txn->commit();
  }
  if (rc != MDB_SUCCESS) {
    return fail(lmdb_error(rc));
  }
  for (uint64_t id : {info->record.current, info->record.previous}) {
    if (id != 0) {
      if (auto st = delete_snapshot(env, id); !st) {
        return st;
      }
    }
  }
  return Ok{};
}

} // namespace holdfast::store
