// SPDX-License-Identifier: MIT
// Format upgrades on open (see upgrade.h).
#include "store/upgrade.h"

#include <cstring>
#include <string>
#include <vector>

#include "store/keys.h"
#include "store/schema.h"

namespace holdfast::store {
namespace {

// The format 3 node key for a format 1/2 one (id ++ owner key ++ pad), or "" when it is the
// same. Old keys held label octets as they are, and no zero octet inside a label (such names
// were refused), so only 0x01 needs its escape now.
std::string escaped_key(const MDB_val &k) {
  const auto *p = static_cast<const uint8_t *>(k.mv_data);
  size_t len = k.mv_size;
  if (len <= 8 || (get_be64(p) & kNsec3Space) != 0 || std::memchr(p + 8, 1, len - 8) == nullptr) {
    return ""; // the apex, an NSEC3 hash, or nothing to escape
  }
  if (len >= 10 && p[len - 1] == 0 && p[len - 2] == 0) {
    --len; // the even-length pad
  }
  std::string out(reinterpret_cast<const char *>(p), 8);
  for (size_t i = 8; i < len; ++i) {
    out.push_back(static_cast<char>(p[i]));
    if (p[i] == 1) {
      out.push_back(2); // 0x01 -> 0x01 0x02
    }
  }
  if ((out.size() - 8) % 2 != 0) {
    out.push_back(0);
  }
  return out;
}

// 2 -> 3: re-keys the nodes whose owner has a 0x01 octet. Escaping keeps the order of keys
// (dname.h), so snapshots stay in canonical order and their values need no change. Every old
// key goes before any new one is written: a new key may equal an old key still to be moved
// (old "\001\002" is new "\001").
int escape_owner_keys(MDB_txn *txn, MDB_dbi nodes) {
  struct Move {
    std::string from, to, value;
  };
  std::vector<Move> moves;
  MDB_cursor *cur = nullptr;
  int rc = mdb_cursor_open(txn, nodes, &cur);
  if (rc != MDB_SUCCESS) {
    return rc;
  }
  MDB_val k, v;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (std::string to = escaped_key(k); !to.empty()) {
      moves.push_back({std::string(static_cast<const char *>(k.mv_data), k.mv_size), std::move(to),
                       std::string(static_cast<const char *>(v.mv_data), v.mv_size)});
    }
  }
  mdb_cursor_close(cur);
  if (rc != MDB_NOTFOUND) {
    return rc;
  }
  for (auto &m : moves) {
    MDB_val from{m.from.size(), m.from.data()};
    if ((rc = mdb_del(txn, nodes, &from, nullptr)) != MDB_SUCCESS) {
      return rc;
    }
  }
  int max = mdb_env_get_maxkeysize(mdb_txn_env(txn));
  for (auto &m : moves) {
    if (m.to.size() > static_cast<size_t>(max)) {
      continue; // a name near the root that no longer fits: gone until the zone is published
    }
    MDB_val to{m.to.size(), m.to.data()}, value{m.value.size(), m.value.data()};
    if ((rc = mdb_put(txn, nodes, &to, &value, 0)) != MDB_SUCCESS) {
      return rc;
    }
  }
  return MDB_SUCCESS;
}

} // namespace

int upgrade_format(MDB_txn *txn, MDB_dbi meta, MDB_dbi nodes, uint32_t version) {
  int rc = MDB_SUCCESS;
  if (version < 3) {
    rc = escape_owner_keys(txn, nodes);
  }
  if (rc == MDB_SUCCESS) {
    uint32_t now = kFormatVersion;
    MDB_val key{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)};
    MDB_val val{sizeof(now), &now};
    rc = mdb_put(txn, meta, &key, &val, 0);
  }
  return rc;
}

} // namespace holdfast::store
