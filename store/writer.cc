// SPDX-License-Identifier: MIT
// Snapshot writer: staging, sorted flushes, publish (see writer.h).
#include "store/writer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/knot.h"

#include "common/arena.h"
#include "common/clock.h"
#include "common/dname.h"
#include "store/keys.h"
#include "store/node.h"

namespace holdfast::store {
namespace {

MDB_val str_val(const char *s) {
  return MDB_val{std::strlen(s), const_cast<char *>(s)};
}

// A staged record, decoded from the staging buffer.
struct Staged {
  const uint8_t *key;
  uint16_t key_len;
  uint16_t type;
  uint32_t ttl;
  uint16_t rdlen;
  const uint8_t *rdata;
};

Staged decode_staged(const uint8_t *p) {
  Staged s;
  std::memcpy(&s.key_len, p, 2);
  s.key = p + 2;
  p += 2 + s.key_len;
  std::memcpy(&s.type, p, 2);
  std::memcpy(&s.ttl, p + 2, 4);
  std::memcpy(&s.rdlen, p + 6, 2);
  s.rdata = p + 8;
  return s;
}

int compare_keys(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  int c = std::memcmp(a, b, std::min(alen, blen));
  if (c != 0) {
    return c;
  }
  return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

// The error that refuses an RRset of more than kMaxRRsetRecords records (node.h).
std::string too_big(const knot_dname_t *apex, const Staged &owner, uint16_t type, size_t count) {
  uint8_t name[KNOT_DNAME_MAXLEN];
  key_to_name(key_from_stored(owner.key, owner.key_len), apex, name);
  char tname[32];
  knot_rrtype_to_string(type, tname, sizeof(tname));
  return "the " + std::string(tname) + " RRset of " + name_to_string(name) + " has " +
         std::to_string(count) + " records, more than the " + std::to_string(kMaxRRsetRecords) +
         " an RRset can hold";
}

} // namespace

SnapshotWriter::SnapshotWriter(Env &env, const knot_dname_t *apex, SourceInfo source,
                               MDB_txn *shared)
    : env_(env), shared_(shared), apex_(apex, apex + knot_dname_size(apex)),
      source_(std::move(source)) {
  knot_dname_to_lower(apex_.data());
}

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::begin(Env &env, const knot_dname_t *apex,
                                                              SourceInfo source, MDB_txn *shared) {
  return std::unique_ptr<SnapshotWriter>(new SnapshotWriter(env, apex, std::move(source), shared));
}

Status SnapshotWriter::register_id(MDB_txn *txn) {
  if (id_ != 0) {
    return Ok{};
  }
  MDB_val key = str_val(kMetaNextSnapshot);
  MDB_val val;
  uint64_t id = 1;
  int rc = mdb_get(txn, env_.meta(), &key, &val);
  if (rc == MDB_SUCCESS && val.mv_size == sizeof(id)) {
    std::memcpy(&id, val.mv_data, sizeof(id));
  }
  uint64_t next = id + 1;
  val = {sizeof(next), &next};
  rc = mdb_put(txn, env_.meta(), &key, &val, 0);
  // Registered as "building" so that a crash before publish leaves something GC can find.
  uint8_t idkey[8];
  put_be64(idkey, id);
  std::vector<uint8_t> rec(sizeof(SnapshotRecord) + apex_.size());
  SnapshotRecord sr{};
  sr.state = SnapshotState::kBuilding;
  sr.created_ns = unix_now_ns();
  std::memcpy(rec.data(), &sr, sizeof(sr));
  std::memcpy(rec.data() + sizeof(sr), apex_.data(), apex_.size());
  MDB_val k{8, idkey}, v{rec.size(), rec.data()};
  if (rc == MDB_SUCCESS) {
    rc = mdb_put(txn, env_.snapshots(), &k, &v, 0);
  }
  if (rc != MDB_SUCCESS) {
    return fail("cannot start a snapshot: " + lmdb_error(rc));
  }
  id_ = id;
  return Ok{};
}

SnapshotWriter::~SnapshotWriter() {
  if (done_) {
    return;
  }
  if (shared_ == nullptr && !env_.may_write()) {
    abandon();
    return;
  }
  abort();
}

Status SnapshotWriter::add(const knot_dname_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                           const uint8_t *rdata, uint16_t rdlen) {
  if (rclass != KNOT_CLASS_IN) {
    return fail("record of " + name_to_string(owner) + " has class " + std::to_string(rclass) +
                ", only IN is served");
  }
  NameKey key;
  if (!make_key(owner, apex_.data(), key)) {
    return fail("record " + name_to_string(owner) + " is outside the zone " +
                name_to_string(apex_.data()));
  }
  if (std::string e = oversized_key(db_key_size(key), env_.max_key_size(), owner); !e.empty()) {
    return fail(e);
  }
  size_t at = staged_.size();
  staged_.resize(at + 2 + key.len + 8 + rdlen);
  uint8_t *p = staged_.data() + at;
  std::memcpy(p, &key.len, 2);
  std::memcpy(p + 2, key.data, key.len);
  p += 2 + key.len;
  std::memcpy(p, &type, 2);
  std::memcpy(p + 2, &ttl, 4);
  std::memcpy(p + 6, &rdlen, 2);
  if (rdlen > 0) {
    std::memcpy(p + 8, rdata, rdlen);
  }
  offsets_.push_back(static_cast<uint32_t>(at));
  ++total_records_;
  if (auto_flush_ && flush_due()) {
    return flush();
  }
  return Ok{};
}

Status SnapshotWriter::add(const knot_rrset_t &rrset) {
  knot_rdata_t *rd = rrset.rrs.rdata;
  for (uint16_t i = 0; i < rrset.rrs.count; ++i) {
    auto st = add(rrset.owner, rrset.type, rrset.rclass, rrset.ttl, rd->data, rd->len);
    if (!st) {
      return st;
    }
    rd = knot_rdataset_next(rd);
  }
  return Ok{};
}

void SnapshotWriter::clear_staged() {
  staged_.clear();
  offsets_.clear();
}

Status SnapshotWriter::flush() {
  if (offsets_.empty()) {
    return Ok{};
  }
  if (shared_ != nullptr) {
    bool map_full = false;
    auto st = write_staged(shared_, map_full);
    if (st) {
      clear_staged();
      flushed_any_ = true;
    }
    return st;
  }
  auto st = flush_batch(staged_, offsets_);
  if (st) {
    clear_staged();
  }
  return st;
}

StagedBatch SnapshotWriter::take_staged() {
  StagedBatch out{std::move(staged_), std::move(offsets_)};
  clear_staged();
  return out;
}

Status SnapshotWriter::flush(StagedBatch &batch) {
  if (!failed_.empty()) {
    return fail(failed_); // an earlier batch is missing: the snapshot cannot be completed
  }
  auto st = batch.offsets.empty() ? Status(Ok{}) : flush_batch(batch.bytes, batch.offsets);
  if (!st) {
    failed_ = st.error();
  }
  batch = {};
  return st;
}

Status SnapshotWriter::flush_batch(const std::vector<uint8_t> &bytes,
                                   std::vector<uint32_t> &offsets) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto room = env_.ensure_room(bytes.size() * 2 + (size_t{4} << 20));
    if (!room) {
      return room;
    }
    auto txn = env_.begin_write();
    if (!txn) {
      return fail(txn.error());
    }
    uint64_t id_before = id_;
    bool map_full = false;
    auto st = write_batch(txn->get(), bytes, offsets, map_full);
    int rc = st ? txn->commit() : MDB_SUCCESS;
    map_full = map_full || rc == MDB_MAP_FULL;
    if (!map_full) {
      if (!st) {
        return st;
      }
      if (rc != MDB_SUCCESS) {
        return fail("cannot write snapshot: " + lmdb_error(rc));
      }
      flushed_any_ = true;
      return Ok{};
    }
    id_ = id_before; // the aborted transaction took the id allocation with it
    if (auto g = env_.grow(); !g) {
      return g;
    }
  }
  return fail("storage map keeps filling up while writing a snapshot");
}

Status SnapshotWriter::write_staged(MDB_txn *txn, bool &map_full) {
  return write_batch(txn, staged_, offsets_, map_full);
}

Status SnapshotWriter::write_batch(MDB_txn *txn, const std::vector<uint8_t> &bytes,
                                   std::vector<uint32_t> &offsets, bool &map_full) {
  if (auto st = register_id(txn); !st) {
    return st;
  }
  if (offsets.empty()) {
    return Ok{};
  }
  // Stable: for equal (owner, type) the first TTL seen wins, as when Knot DNS loads a file.
  std::stable_sort(offsets.begin(), offsets.end(), [&bytes](uint32_t a, uint32_t b) {
    Staged x = decode_staged(bytes.data() + a), y = decode_staged(bytes.data() + b);
    int c = compare_keys(x.key, x.key_len, y.key, y.key_len);
    return c != 0 ? c < 0 : x.type < y.type;
  });
  Arena arena(1 << 20);
  std::vector<NodeRRset> rrsets;
  std::vector<uint8_t> value;
  DbKey dbkey;
  // Keys of a fresh snapshot sort above every existing key (ids only grow), and staged keys
  // are sorted, so the first flush can append; later flushes may meet written nodes and merge.
  unsigned put_flags = 0;
  if (!flushed_any_) {
    MDB_cursor *cur = nullptr;
    MDB_val lk, lv;
    if (mdb_cursor_open(txn, env_.nodes(), &cur) == MDB_SUCCESS) {
      int rc = mdb_cursor_get(cur, &lk, &lv, MDB_LAST);
      if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && key_snapshot(lk) < id_)) {
        put_flags = MDB_APPEND;
      }
      mdb_cursor_close(cur);
    }
  }
  std::vector<RdataRef> rds;
  size_t i = 0;
  while (i < offsets.size()) {
    Staged first = decode_staged(bytes.data() + offsets[i]);
    rrsets.clear();
    arena.reset();
    make_db_key(id_, first.key, first.key_len, dbkey);
    MDB_val k = dbkey.val(), v;
    NodeView old;
    if (put_flags == 0 && mdb_get(txn, env_.nodes(), &k, &v) == MDB_SUCCESS) {
      old = NodeView(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    }
    while (i < offsets.size()) {
      Staged s = decode_staged(bytes.data() + offsets[i]);
      if (compare_keys(s.key, s.key_len, first.key, first.key_len) != 0) {
        break;
      }
      // All staged records of this (owner, type), plus what an earlier flush stored.
      uint32_t ttl = s.ttl;
      rds.clear();
      RRsetView prev;
      if (old.valid() && old.find(s.type, prev)) {
        ttl = prev.ttl;
        knot_rdata_t *rd = prev.rrs.rdata;
        for (uint16_t r = 0; r < prev.rrs.count; ++r, rd = knot_rdataset_next(rd)) {
          rds.push_back({rd->data, rd->len});
        }
      }
      for (; i < offsets.size(); ++i) {
        Staged t = decode_staged(bytes.data() + offsets[i]);
        if (t.type != s.type || compare_keys(t.key, t.key_len, first.key, first.key_len) != 0) {
          break;
        }
        rds.push_back({t.rdata, t.rdlen});
      }
      NodeRRset rrset{s.type, ttl, {}};
      if (!build_rdataset(rds, arena.mm(), rrset.rrs)) {
        return fail(too_big(apex_.data(), first, s.type, rds.size()));
      }
      rrsets.push_back(rrset);
    }
    if (old.valid()) {
      for (uint16_t r = 0; r < old.count(); ++r) {
        RRsetView rv = old.at(r);
        bool merged = std::any_of(rrsets.begin(), rrsets.end(),
                                  [&](const NodeRRset &n) { return n.type == rv.type; });
        if (!merged) {
          rrsets.push_back(NodeRRset{rv.type, rv.ttl, rv.rrs});
        }
      }
    }
    encode_node(own_flags(rrsets, first.key_len == 0), rrsets, value);
    v = {value.size(), value.data()};
    int rc = mdb_put(txn, env_.nodes(), &k, &v, put_flags);
    if (rc == MDB_MAP_FULL) {
      map_full = true;
      return fail(lmdb_error(rc));
    }
    if (rc != MDB_SUCCESS) {
      return fail("cannot write snapshot: " + lmdb_error(rc));
    }
  }
  return Ok{};
}

void SnapshotWriter::abort() {
  done_ = true;
  clear_staged();
  if (id_ == 0) {
    return; // nothing was written
  }
  if (shared_ != nullptr) {
    (void)delete_snapshot_in(shared_, env_, id_, SIZE_MAX);
  } else {
    (void)delete_snapshot(env_, id_);
  }
}

} // namespace holdfast::store
