// SPDX-License-Identifier: MIT
// Building and splitting "nodes" keys: u64 BE snapshot id ++ owner key (+ pad), see schema.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include <lmdb.h>

#include "common/dname.h"
#include "store/schema.h"

namespace holdfast::store {

struct DbKey {
  uint8_t buf[8 + kMaxKeyLen + 3]; // id, key (+ "*\0" of a wildcard lookup), pad
  size_t len = 0;
  MDB_val val() { return MDB_val{len, buf}; }
};

inline void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

inline uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

inline void make_db_key(uint64_t snapshot, const uint8_t *key, size_t key_len, DbKey &out) {
  put_be64(out.buf, snapshot);
  if (key_len > 0) { // memcpy from a null pointer is undefined even for 0 bytes
    std::memcpy(out.buf + 8, key, key_len);
  }
  out.len = 8 + key_len;
  if (key_len % 2 != 0) {
    out.buf[out.len++] = 0; // pad: values must start on an even address
  }
}

inline void make_db_key(uint64_t snapshot, const NameKey &key, DbKey &out) {
  make_db_key(snapshot, key.data, key.len, out);
}

// Key of an NSEC3 node of a snapshot (schema.h): the raw hash in the NSEC3 space.
inline void make_nsec3_key(uint64_t snapshot, const uint8_t *hash, size_t hash_len, DbKey &out) {
  make_db_key(snapshot | kNsec3Space, hash, hash_len, out);
}

// Snapshot id of a stored key, or 0 when the key is not a node key.
inline uint64_t key_snapshot(const MDB_val &k) {
  return k.mv_size >= 8 ? get_be64(static_cast<const uint8_t *>(k.mv_data)) : 0;
}

inline NameKey key_owner(const MDB_val &k) {
  return key_from_stored(static_cast<const uint8_t *>(k.mv_data) + 8, k.mv_size - 8);
}

// Octets of the node key of `key` (make_db_key).
inline size_t db_key_size(const NameKey &key) {
  return 8 + key.len + key.len % 2;
}

// "" when the node key of `owner`, `size` octets, fits in an LMDB key of at most `max` octets
// (mdb_env_get_maxkeysize, 511 by default), else the error that refuses the name. Only names
// near the root with many escaped octets (dname.h) can outgrow it. Queries may still look such
// a key up: LMDB limits the keys it stores, not the keys it compares.
inline std::string oversized_key(size_t size, int max, const knot_dname_t *owner) {
  if (size <= static_cast<size_t>(max)) {
    return "";
  }
  return "owner " + name_to_string(owner) + " cannot be stored: its key takes " +
         std::to_string(size) + " octets, the storage holds keys of at most " + std::to_string(max);
}

} // namespace holdfast::store
