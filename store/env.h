// SPDX-License-Identifier: MIT
// The LMDB environment: open/format check, transactions, and growing the map while serving.
//
// The map grows instead of failing with MDB_MAP_FULL. mdb_env_set_mapsize() needs every read
// transaction of this process to be finished, so readers pass a gate: a reader marks its slot
// active before renewing its transaction, and the writer that grows the map raises `resizing_`
// and waits until no slot is active. Readers hold a transaction only for one batch of packets.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <lmdb.h>

#include "common/result.h"

namespace holdfast::store {

struct EnvOptions {
  std::string path;                          // directory, created if missing
  size_t initial_map_size = size_t{1} << 30; // grows by doubling as needed
  bool read_only = false;
};

class Env;

// A write transaction: aborts in its destructor unless committed (STYLE.md 7).
class WriteTxn {
public:
  WriteTxn() = default;
  explicit WriteTxn(MDB_txn *txn) : txn_(txn) {}
  WriteTxn(WriteTxn &&o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  WriteTxn &operator=(WriteTxn &&o) noexcept;
  ~WriteTxn() { abort(); }
  MDB_txn *get() const { return txn_; }
  [[nodiscard]] int commit();
  void abort();

private:
  MDB_txn *txn_ = nullptr;
};

// A reusable read transaction for one thread: begin() per batch, end() before waiting.
class ReadTxn {
public:
  explicit ReadTxn(Env &env);
  ~ReadTxn();
  ReadTxn(const ReadTxn &) = delete;
  ReadTxn &operator=(const ReadTxn &) = delete;
  [[nodiscard]] bool begin();
  void end();
  MDB_txn *get() const { return txn_; }
  Env &env() const { return env_; }
  // Changes on every begin(): cursors bound to an older generation must be renewed.
  uint64_t generation() const { return generation_; }

private:
  Env &env_;
  MDB_txn *txn_ = nullptr;
  uint64_t generation_ = 0;
  int slot_;
  bool active_ = false;
};

class Env {
public:
  static Result<std::unique_ptr<Env>> open(const EnvOptions &opts);
  ~Env();
  Env(const Env &) = delete;
  Env &operator=(const Env &) = delete;

  MDB_env *raw() const { return env_; }
  MDB_dbi meta() const { return meta_; }
  MDB_dbi zones() const { return zones_; }
  MDB_dbi snapshots() const { return snapshots_; }
  MDB_dbi nodes() const { return nodes_; }
  const std::string &path() const { return path_; }
  // The longest key LMDB stores (511 octets unless the library was built otherwise).
  int max_key_size() const { return mdb_env_get_maxkeysize(env_); }

  Result<WriteTxn> begin_write();
  // Makes sure at least `bytes` more can be written; grows the map (pausing readers) if not.
  Status ensure_room(size_t bytes);
  // Grows the map after MDB_MAP_FULL.
  Status grow();
  size_t map_size() const;
  size_t used_bytes() const;

private:
  friend class ReadTxn;
  static constexpr int kMaxReaderSlots = 256;
  struct alignas(64) Slot {
    std::atomic<bool> active{false};
  };

  Env() = default;
  Status set_map_size(size_t size);
  int acquire_slot();
  void enter(int slot);
  void leave(int slot);

  MDB_env *env_ = nullptr;
  MDB_dbi meta_ = 0, zones_ = 0, snapshots_ = 0, nodes_ = 0;
  std::string path_;
  std::atomic<bool> resizing_{false};
  std::atomic<int> slots_used_{0};
  Slot slots_[kMaxReaderSlots];
};

// "lmdb: MDB_MAP_FULL: ..." style text for an LMDB return code.
std::string lmdb_error(int rc);

} // namespace holdfast::store
