// SPDX-License-Identifier: MIT
// Helpers shared by the unit tests: temp dirs, names, zone text -> records, store dumps.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "common/dname.h"
#include "store/env.h"
#include "store/keys.h"
#include "store/node.h"
#include "store/reader.h"
#include "store/writer.h"

namespace holdfast::test {

// A fresh directory under /tmp, removed with everything in it when the test ends.
class TempDir {
public:
  TempDir() {
    char tmpl[] = "/tmp/holdfast-unit-XXXXXX";
    const char *p = ::mkdtemp(tmpl);
    if (p == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  // Writes `text` to `name` inside the directory and returns the full path.
  std::string write(const std::string &name, const std::string &text) const {
    std::string p = file(name);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
    return p;
  }

private:
  std::string path_;
};

// A wire-format domain name built from text ("www.example.").
class Name {
public:
  explicit Name(const std::string &text) {
    uint8_t buf[KNOT_DNAME_MAXLEN];
    if (knot_dname_from_str(buf, text.c_str(), sizeof(buf)) == nullptr) {
      ADD_FAILURE() << "bad name in test: " << text;
      buf[0] = 0;
    }
    wire_.assign(buf, buf + knot_dname_size(buf));
  }
  const knot_dname_t *get() const { return wire_.data(); }
  operator const knot_dname_t *() const { return wire_.data(); }
  size_t size() const { return wire_.size(); }

private:
  std::vector<uint8_t> wire_;
};

// The lookup key of `name` under `apex`; fails the test when the name is not below the apex.
inline NameKey key_of(const std::string &name, const std::string &apex) {
  NameKey k;
  EXPECT_TRUE(make_key(Name(name), Name(apex), k)) << name << " under " << apex;
  return k;
}

// One resource record as parsed from zone text.
struct Record {
  std::vector<uint8_t> owner;
  uint16_t type = 0;
  uint16_t rclass = KNOT_CLASS_IN;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

// Parses master-file text with libzscanner (origin `origin`, default TTL 3600).
inline std::vector<Record> parse_records(const std::string &origin, const std::string &text) {
  struct Sink {
    std::vector<Record> records;
    std::string error;
  } sink;
  auto scanner = std::make_unique<zs_scanner_t>(); // ~200 KiB: not on the stack
  zs_scanner_t &s = *scanner;
  if (zs_init(&s, origin.c_str(), KNOT_CLASS_IN, 3600) != 0) {
    ADD_FAILURE() << "zs_init failed";
    return {};
  }
  auto on_record = [](zs_scanner_t *sc) {
    auto *out = static_cast<Sink *>(sc->process.data);
    Record r;
    r.owner.assign(sc->r_owner, sc->r_owner + sc->r_owner_length);
    r.type = sc->r_type;
    r.rclass = sc->r_class;
    r.ttl = sc->r_ttl;
    r.rdata.assign(sc->r_data, sc->r_data + sc->r_data_length);
    out->records.push_back(std::move(r));
  };
  auto on_error = [](zs_scanner_t *sc) {
    auto *out = static_cast<Sink *>(sc->process.data);
    out->error = "line " + std::to_string(sc->line_counter) + ": " + zs_strerror(sc->error.code);
    sc->state = ZS_STATE_STOP;
  };
  EXPECT_EQ(zs_set_input_string(&s, text.data(), text.size()), 0);
  EXPECT_EQ(zs_set_processing(&s, on_record, on_error, &sink), 0);
  zs_parse_all(&s);
  zs_deinit(&s);
  EXPECT_EQ(sink.error, "") << "zone text does not parse";
  return sink.records;
}

inline std::unique_ptr<store::Env> open_env(const std::string &dir,
                                            size_t map_size = size_t{64} << 20) {
  store::EnvOptions opts;
  opts.path = dir;
  opts.initial_map_size = map_size;
  auto env = store::Env::open(opts);
  if (!env) {
    ADD_FAILURE() << env.error();
    return nullptr;
  }
  return std::move(*env);
}

// Writes `records` as a new snapshot of `apex` and publishes it.
inline Result<store::Published> publish_records(store::Env &env, const std::string &apex,
                                                const std::vector<Record> &records,
                                                size_t flush_bytes = 0) {
  store::SourceInfo src;
  src.kind = store::SourceKind::kTransfer;
  src.source = "unit-test";
  auto w = store::SnapshotWriter::begin(env, Name(apex), src);
  if (!w) {
    return fail(w.error());
  }
  if (flush_bytes != 0) {
    (*w)->set_flush_bytes(flush_bytes);
  }
  for (const auto &r : records) {
    auto st = (*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                        static_cast<uint16_t>(r.rdata.size()));
    if (!st) {
      return fail(st.error());
    }
  }
  return (*w)->publish();
}

inline std::string hex(const uint8_t *p, size_t n) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

// A node as text: "flags=0x0011 A/3600[c0000201,c0000202] TXT/60[...]", RRsets by type so
// the order in which they were written does not matter.
inline std::string dump_node(const store::NodeView &node) {
  std::vector<std::pair<uint16_t, std::string>> sets;
  for (uint16_t i = 0; i < node.count(); ++i) {
    store::RRsetView v = node.at(i);
    char type[32];
    knot_rrtype_to_string(v.type, type, sizeof(type));
    std::string s = std::string(type) + "/" + std::to_string(v.ttl) + "[";
    knot_rdata_t *rd = v.rrs.rdata;
    for (uint16_t r = 0; r < v.rrs.count; ++r, rd = knot_rdataset_next(rd)) {
      s += (r ? "," : "") + hex(rd->data, rd->len);
    }
    sets.emplace_back(v.type, s + "]");
  }
  std::sort(sets.begin(), sets.end());
  char flags[16];
  std::snprintf(flags, sizeof(flags), "flags=0x%04x", node.flags());
  std::string out = flags;
  for (const auto &s : sets) {
    out += " " + s.second;
  }
  return out;
}

// Every node of one snapshot, owner name text -> dump_node().
inline std::map<std::string, std::string> dump_snapshot(store::Env &env, uint64_t snapshot,
                                                        const std::string &apex) {
  std::map<std::string, std::string> out;
  MDB_txn *txn = nullptr;
  if (mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) {
    ADD_FAILURE() << "cannot begin a read transaction";
    return out;
  }
  MDB_cursor *cur = nullptr;
  EXPECT_EQ(mdb_cursor_open(txn, env.nodes(), &cur), MDB_SUCCESS);
  store::DbKey start;
  store::make_db_key(snapshot, NameKey{}, start); // the apex: first key of the range
  MDB_val k = start.val(), v;
  Name apex_name(apex);
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && store::key_snapshot(k) == snapshot;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    NameKey key = store::key_owner(k);
    uint8_t name[KNOT_DNAME_MAXLEN + 1];
    key_to_name(key, apex_name, name);
    store::NodeView node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    out[name_to_string(name)] = node.valid() ? dump_node(node) : "<invalid>";
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return out;
}

// Number of node keys stored under a snapshot id (0 once it is garbage-collected).
inline size_t count_nodes(store::Env &env, uint64_t snapshot) {
  size_t n = 0;
  MDB_txn *txn = nullptr;
  if (mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) {
    return 0;
  }
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn, env.nodes(), &cur) == MDB_SUCCESS) {
    store::DbKey start;
    store::make_db_key(snapshot, NameKey{}, start); // the apex: first key of the range
    MDB_val k = start.val(), v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == MDB_SUCCESS && store::key_snapshot(k) == snapshot;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      ++n;
    }
    mdb_cursor_close(cur);
  }
  mdb_txn_abort(txn);
  return n;
}

// True when the "snapshots" table has a record for `snapshot`.
inline bool snapshot_registered(store::Env &env, uint64_t snapshot) {
  MDB_txn *txn = nullptr;
  if (mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) {
    return false;
  }
  uint8_t id[8];
  store::put_be64(id, snapshot);
  MDB_val k{8, id}, v;
  bool found = mdb_get(txn, env.snapshots(), &k, &v) == MDB_SUCCESS;
  mdb_txn_abort(txn);
  return found;
}

} // namespace holdfast::test
