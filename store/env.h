// SPDX-License-Identifier: MIT
// The LMDB environment: open/format check, transactions, and growing the map while serving.
//
// The map grows instead of failing with MDB_MAP_FULL. mdb_env_set_mapsize() needs every read
// transaction of this process to be finished, so readers pass a gate: a reader counts itself in
// (`readers_`) before beginning or renewing its transaction and out when it ends it, and the
// writer that grows the map raises `resizing_` and waits until the count is zero. A counter, not
// per-reader flags: any number of readers (256 workers, HTTP threads, the control loop) is
// correct and nothing leaks when a ReadTxn is destroyed. Readers hold a transaction only for one
// batch of packets.
//
// One writer (DESIGN.md): every write transaction, publish, garbage collection and map resize
// runs on the thread registered with set_writer_thread() (store::WriterThread); the map size
// and the bytes used are cached in atomics by that thread, so other threads read them without
// touching LMDB's environment while it is being resized.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

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
  // With `env`, a successful commit refreshes the env's cached usage (Env::used_bytes()).
  explicit WriteTxn(MDB_txn *txn, Env *env = nullptr) : txn_(txn), env_(env) {}
  WriteTxn(WriteTxn &&o) noexcept : txn_(o.txn_), env_(o.env_) { o.txn_ = nullptr; }
  WriteTxn &operator=(WriteTxn &&o) noexcept;
  ~WriteTxn() { abort(); }
  MDB_txn *get() const { return txn_; }
  [[nodiscard]] int commit();
  void abort();

private:
  MDB_txn *txn_ = nullptr;
  Env *env_ = nullptr;
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
  // Traffic-management member state (store/lb_state.h). False only for a read-only open of a
  // store written before the table existed (a writable open creates it).
  bool has_lb_state() const { return has_lb_state_; }
  MDB_dbi lb_state() const { return lb_state_; }
  const std::string &path() const { return path_; }
  // The longest key LMDB stores (511 octets unless the library was built otherwise).
  int max_key_size() const { return mdb_env_get_maxkeysize(env_); }

  // Fails when called off the writer thread (once one is registered).
  Result<WriteTxn> begin_write();
  // Makes sure at least `bytes` more can be written; grows the map (pausing readers) if not.
  Status ensure_room(size_t bytes);
  // Grows the map after MDB_MAP_FULL.
  Status grow();
  // Cached by the writer: safe from any thread, also while the map grows.
  size_t map_size() const { return map_size_.load(std::memory_order_relaxed); }
  size_t used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }
  // How many times the map grew since open (tests, metrics).
  uint64_t resizes() const { return resizes_.load(std::memory_order_relaxed); }
  // Readers inside the gate now (tests).
  int active_readers() const { return readers_.load(); }

  // From now on only the calling thread may write (store::WriterThread); clear_writer_thread()
  // lifts the rule when that thread ends.
  void set_writer_thread();
  void clear_writer_thread();
  // True on the writer thread, or on any thread while no writer is registered.
  bool may_write() const;

private:
  friend class ReadTxn;
  friend class WriteTxn;

  Env() = default;
  Status set_map_size(size_t size);
  void refresh_usage();
  void enter();
  void leave();

  MDB_env *env_ = nullptr;
  MDB_dbi meta_ = 0, zones_ = 0, snapshots_ = 0, nodes_ = 0, lb_state_ = 0;
  bool has_lb_state_ = false;
  std::string path_;
  std::atomic<bool> resizing_{false};
  std::atomic<int> readers_{0};
  std::atomic<size_t> map_size_{0}, used_bytes_{0};
  std::atomic<uint64_t> resizes_{0};
  std::atomic<std::thread::id> writer_{};
};

// A one-shot gated read: begins a read transaction, or returns an error. For reads outside the
// serve loop (the control loop, HTTP threads, the writer before it writes).
class OneShotRead {
public:
  explicit OneShotRead(Env &env) : txn_(env) { ok_ = txn_.begin(); }
  bool ok() const { return ok_; }
  MDB_txn *get() const { return txn_.get(); }

private:
  ReadTxn txn_;
  bool ok_ = false;
};

// "lmdb: MDB_MAP_FULL: ..." style text for an LMDB return code.
std::string lmdb_error(int rc);

} // namespace holdfast::store
