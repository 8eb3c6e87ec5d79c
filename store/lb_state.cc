// SPDX-License-Identifier: MIT
// The "lb-state" table: key and value layout (see store/schema.h) and whole-table save/load.
#include "store/lb_state.h"

#include <cstring>
#include <string_view>

namespace holdfast::store {
namespace {

// Value layout, version 1 (host order, read by copying: LMDB does not align values):
//   u8 version | u8 admin | u8 flags (1 = health up, 2 = latched) | u8 reason |
//   i64 since_ms | u16 detail length | detail
constexpr uint8_t kValueVersion = 1;
constexpr uint8_t kFlagHealthUp = 1, kFlagLatched = 2;
constexpr size_t kHeader = 4 + sizeof(int64_t) + sizeof(uint16_t);
// A probe's detail is a short phrase ("HTTP 503"); a longer one is cut, not refused.
constexpr size_t kMaxDetail = 1024;

std::string key_of(const MemberStateRecord &r) {
  std::string key = r.pool;
  key += '\0'; // ids never hold a zero octet: the key splits back unambiguously
  key += r.member;
  return key;
}

std::string value_of(const MemberStateRecord &r) {
  std::string detail = r.detail.substr(0, kMaxDetail);
  std::string v(kHeader, '\0');
  v[0] = static_cast<char>(kValueVersion);
  v[1] = static_cast<char>(r.admin);
  v[2] = static_cast<char>((r.health_up ? kFlagHealthUp : 0) | (r.latched ? kFlagLatched : 0));
  v[3] = static_cast<char>(r.reason);
  std::memcpy(&v[4], &r.since_ms, sizeof(r.since_ms));
  auto len = static_cast<uint16_t>(detail.size());
  std::memcpy(&v[4 + sizeof(int64_t)], &len, sizeof(len));
  return v + detail;
}

// False for a value this version does not read (the record is skipped).
bool parse(const MDB_val &key, const MDB_val &val, MemberStateRecord &r) {
  std::string_view k(static_cast<const char *>(key.mv_data), key.mv_size);
  auto sep = k.find('\0');
  auto *v = static_cast<const uint8_t *>(val.mv_data);
  if (sep == std::string_view::npos || val.mv_size < kHeader || v[0] != kValueVersion) {
    return false;
  }
  uint16_t len = 0;
  std::memcpy(&len, v + 4 + sizeof(int64_t), sizeof(len));
  if (val.mv_size != kHeader + len) {
    return false;
  }
  r.pool = std::string(k.substr(0, sep));
  r.member = std::string(k.substr(sep + 1));
  r.admin = v[1];
  r.health_up = (v[2] & kFlagHealthUp) != 0;
  r.latched = (v[2] & kFlagLatched) != 0;
  r.reason = v[3];
  std::memcpy(&r.since_ms, v + 4, sizeof(r.since_ms));
  r.detail.assign(reinterpret_cast<const char *>(v + kHeader), len);
  return true;
}

Status write_all(Env &env, const std::vector<MemberStateRecord> &records) {
  auto txn = env.begin_write();
  if (!txn) {
    return fail("lb state: " + txn.error());
  }
  int rc = mdb_drop(txn->get(), env.lb_state(), 0); // empties the table, keeps the handle
  for (size_t i = 0; rc == MDB_SUCCESS && i < records.size(); ++i) {
    std::string k = key_of(records[i]), v = value_of(records[i]);
    MDB_val key{k.size(), k.data()}, val{v.size(), v.data()};
    rc = mdb_put(txn->get(), env.lb_state(), &key, &val, 0);
  }
  if (rc == MDB_SUCCESS) {
    rc = txn->commit();
  }
  if (rc != MDB_SUCCESS) {
    return fail("lb state: " + lmdb_error(rc));
  }
  return Ok{};
}

} // namespace

Status save_member_states(Env &env, const std::vector<MemberStateRecord> &records) {
  if (!env.has_lb_state()) {
    return fail("lb state: the store is open read-only and has no lb-state table");
  }
  size_t bytes = 0;
  for (const auto &r : records) {
    if (r.pool.size() + 1 + r.member.size() > static_cast<size_t>(env.max_key_size())) {
      return fail("lb state: pool " + r.pool + " member " + r.member +
                  ": ids too long for a storage key");
    }
    bytes += r.pool.size() + r.member.size() + kHeader + kMaxDetail + 64;
  }
  if (auto room = env.ensure_room(bytes * 2 + (size_t{1} << 20)); !room) {
    return fail("lb state: " + room.error());
  }
  return write_all(env, records);
}

Result<std::vector<MemberStateRecord>> load_member_states(Env &env) {
  std::vector<MemberStateRecord> out;
  if (!env.has_lb_state()) {
    return out; // a read-only open of a store written before the table existed
  }
  OneShotRead read(env);
  if (!read.ok()) {
    return fail("lb state: cannot begin a read transaction");
  }
  MDB_cursor *cur = nullptr;
  int rc = mdb_cursor_open(read.get(), env.lb_state(), &cur);
  if (rc != MDB_SUCCESS) {
    return fail("lb state: " + lmdb_error(rc));
  }
  MDB_val key, val;
  for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
    MemberStateRecord r;
    if (parse(key, val, r)) {
      out.push_back(std::move(r));
    }
  }
  mdb_cursor_close(cur);
  if (rc != MDB_NOTFOUND) {
    return fail("lb state: " + lmdb_error(rc));
  }
  return out;
}

} // namespace holdfast::store
