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
  if (txn == nullptr) {
    OneShotRead read(env); // gated: never open while the map grows
    return read.ok() ? read_zone(env, apex, read.get()) : std::nullopt;
  }
  std::vector<uint8_t> key(apex, apex + knot_dname_size(apex));
  knot_dname_to_lower(key.data());
  MDB_val k{key.size(), key.data()}, v;
  std::optional<ZoneInfo> out;
  if (mdb_get(txn, env.zones(), &k, &v) == MDB_SUCCESS) {
    out = parse_zone(k, v);
  }
  return out;
}

std::vector<ZoneInfo> list_zones(Env &env) {
  OneShotRead read(env);
  return read.ok() ? list_zones(env, read.get()) : std::vector<ZoneInfo>{};
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

namespace {

// The snapshots no zone references, read in one gated read transaction (ended before the
// deletes, which may grow the map).
std::vector<uint64_t> find_garbage(Env &env, MDB_txn *txn) {
  std::unordered_set<uint64_t> live;
  for (const auto &z : list_zones(env, txn)) {
    live.insert(z.record.current);
    live.insert(z.record.previous);
  }
  std::vector<uint64_t> dead;
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
  return dead;
}

} // namespace

Status collect_garbage(Env &env, size_t *deleted) {
  std::vector<uint64_t> dead;
  {
    OneShotRead read(env);
    if (!read.ok()) {
      return fail("cannot read the store to collect garbage");
    }
    dead = find_garbage(env, read.get());
  }
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
