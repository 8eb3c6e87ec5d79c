// SPDX-License-Identifier: MIT
// LMDB environment: open, format version check, write/read transactions, map growth.
#include "store/env.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/schema.h"
#include "store/upgrade.h"

namespace holdfast::store {

std::string lmdb_error(int rc) {
  return std::string("lmdb: ") + mdb_strerror(rc);
}

WriteTxn &WriteTxn::operator=(WriteTxn &&o) noexcept {
  if (this != &o) {
    abort();
    txn_ = o.txn_;
    env_ = o.env_;
    o.txn_ = nullptr;
  }
  return *this;
}

int WriteTxn::commit() {
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr; // LMDB frees the handle whether the commit succeeded or not.
  if (rc == MDB_SUCCESS && env_ != nullptr) {
    env_->refresh_usage();
  }
  return rc;
}

void WriteTxn::abort() {
  if (txn_ != nullptr) {
    mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
}

namespace {
// Gated reads the calling thread holds: the writer must not wait for its own reader.
thread_local int tls_reads = 0;
} // namespace

ReadTxn::ReadTxn(Env &env) : env_(env) {}

ReadTxn::~ReadTxn() {
  end();
  if (txn_ != nullptr) {
    mdb_txn_abort(txn_); // frees its slot in LMDB's reader table
  }
}

bool ReadTxn::begin() {
  if (active_) {
    return true;
  }
  env_.enter();
  int rc =
      txn_ == nullptr ? mdb_txn_begin(env_.raw(), nullptr, MDB_RDONLY, &txn_) : mdb_txn_renew(txn_);
  if (rc != MDB_SUCCESS) {
    env_.leave();
    return false;
  }
  active_ = true;
  ++generation_;
  return true;
}

void ReadTxn::end() {
  if (active_) {
    mdb_txn_reset(txn_);
    env_.leave();
    active_ = false;
  }
}

void Env::enter() {
  for (;;) {
    readers_.fetch_add(1, std::memory_order_seq_cst);
    if (!resizing_.load(std::memory_order_seq_cst)) {
      ++tls_reads;
      return;
    }
    readers_.fetch_sub(1, std::memory_order_seq_cst);
    while (resizing_.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
  }
}

void Env::leave() {
  --tls_reads;
  readers_.fetch_sub(1, std::memory_order_release);
}

void Env::set_writer_thread() {
  writer_.store(std::this_thread::get_id());
}

void Env::clear_writer_thread() {
  writer_.store(std::thread::id{});
}

bool Env::may_write() const {
  auto w = writer_.load();
  return w == std::thread::id{} || w == std::this_thread::get_id();
}

Result<std::unique_ptr<Env>> Env::open(const EnvOptions &opts) {
  std::error_code ec;
  if (!opts.read_only && !std::filesystem::is_directory(opts.path) &&
      !std::filesystem::create_directories(opts.path, ec)) {
    return fail("cannot create storage directory " + opts.path + ": " + ec.message());
  }
  // LMDB opens (and creates) these itself, following symlinks: one planted here could make a
  // server started as root write through it, so a symlink is refused, not followed.
  for (const char *name : {"data.mdb", "lock.mdb"}) {
    std::string file = opts.path + "/" + name;
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return fail("storage file " + file +
                  " is a symbolic link: refusing to open it (move the real file into " + opts.path +
                  ")");
    }
  }
  std::unique_ptr<Env> env(new Env());
  env->path_ = opts.path;
  int rc = mdb_env_create(&env->env_);
  if (rc == MDB_SUCCESS) {
    rc = mdb_env_set_maxdbs(env->env_, 8);
  }
  if (rc == MDB_SUCCESS) {
    rc = mdb_env_set_maxreaders(env->env_, 1024);
  }
  if (rc == MDB_SUCCESS) {
    rc = mdb_env_set_mapsize(env->env_, opts.initial_map_size);
  }
  // MDB_NOTLS: read transactions are tied to a worker's slot, not to a thread-local.
  // MDB_NORDAHEAD: lookups are random; read-ahead would only inflate the page cache.
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (opts.read_only ? MDB_RDONLY : 0);
  if (rc == MDB_SUCCESS) {
    rc = mdb_env_open(env->env_, opts.path.c_str(), flags, 0640);
  }
  if (rc != MDB_SUCCESS) {
    return fail("cannot open storage " + opts.path + ": " + lmdb_error(rc));
  }

  MDB_txn *raw = nullptr;
  rc = mdb_txn_begin(env->env_, nullptr, opts.read_only ? MDB_RDONLY : 0, &raw);
  if (rc != MDB_SUCCESS) {
    return fail("cannot open storage " + opts.path + ": " + lmdb_error(rc));
  }
  WriteTxn txn(raw);
  unsigned create = opts.read_only ? 0 : MDB_CREATE;
  struct {
    const char *name;
    MDB_dbi *dbi;
  } dbs[] = {{kDbMeta, &env->meta_},
             {kDbZones, &env->zones_},
             {kDbSnapshots, &env->snapshots_},
             {kDbNodes, &env->nodes_}};
  for (auto &db : dbs) {
    rc = mdb_dbi_open(raw, db.name, create, db.dbi);
    if (rc != MDB_SUCCESS) {
      return fail("storage " + opts.path + ": cannot open table " + db.name + ": " +
                  lmdb_error(rc));
    }
  }
  // Added after format 3 without a version bump: a writable open creates it in an older store;
  // a read-only one goes without it (load_member_states() then finds nothing).
  rc = mdb_dbi_open(raw, kDbLbState, create, &env->lb_state_);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return fail("storage " + opts.path + ": cannot open table " + kDbLbState + ": " +
                lmdb_error(rc));
  }
  env->has_lb_state_ = rc == MDB_SUCCESS;

  MDB_val key{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)};
  MDB_val val;
  rc = mdb_get(raw, env->meta_, &key, &val);
  if (rc == MDB_NOTFOUND && !opts.read_only) {
    uint32_t version = kFormatVersion;
    val = {sizeof(version), &version};
    rc = mdb_put(raw, env->meta_, &key, &val, 0);
  } else if (rc == MDB_SUCCESS) {
    uint32_t version = 0;
    if (val.mv_size == sizeof(version)) {
      std::memcpy(&version, val.mv_data, sizeof(version));
    }
    if (version >= kFormatVersionOldest && version < kFormatVersion) {
      if (!opts.read_only) {
        rc = upgrade_format(raw, env->meta_, env->nodes_, version); // in place: see schema.h
      }
    } else if (version != kFormatVersion) {
      return fail("storage " + opts.path + " has format version " + std::to_string(version) +
                  ", this holdfast reads version " + std::to_string(kFormatVersion));
    }
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return fail("storage " + opts.path + ": " + lmdb_error(rc));
  }
  rc = txn.commit();
  if (rc != MDB_SUCCESS) {
    return fail("storage " + opts.path + ": " + lmdb_error(rc));
  }
  env->refresh_usage();
  return env;
}

Env::~Env() {
  if (env_ != nullptr) {
    mdb_env_close(env_);
  }
}

Result<WriteTxn> Env::begin_write() {
  if (!may_write()) {
    return fail("lmdb: write transaction outside the writer thread");
  }
  MDB_txn *raw = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &raw);
  if (rc != MDB_SUCCESS) {
    return fail(lmdb_error(rc));
  }
  return WriteTxn(raw, this);
}

// Writer thread only (or before there is one): mdb_env_info() must not race a resize.
void Env::refresh_usage() {
  MDB_envinfo info;
  MDB_stat st;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &st);
  map_size_.store(info.me_mapsize, std::memory_order_relaxed);
  used_bytes_.store((info.me_last_pgno + 1) * size_t{st.ms_psize}, std::memory_order_relaxed);
}

Status Env::set_map_size(size_t size) {
  if (!may_write()) {
    return fail("cannot grow the storage map outside the writer thread");
  }
  if (tls_reads > 0) {
    // Waiting for the readers would wait for this thread's own read: a programming error.
    return fail("cannot grow the storage map while this thread holds a read transaction");
  }
  resizing_.store(true, std::memory_order_seq_cst);
  while (readers_.load(std::memory_order_seq_cst) != 0) {
    std::this_thread::yield();
  }
  int rc = mdb_env_set_mapsize(env_, size);
  resizing_.store(false, std::memory_order_seq_cst);
  if (rc != MDB_SUCCESS) {
    return fail("cannot grow storage map to " + std::to_string(size >> 20) +
                " MiB: " + lmdb_error(rc));
  }
  resizes_.fetch_add(1, std::memory_order_relaxed);
  refresh_usage();
  return Ok{};
}

Status Env::ensure_room(size_t bytes) {
  if (!may_write()) {
    return fail("cannot grow the storage map outside the writer thread");
  }
  refresh_usage();
  size_t size = map_size();
  size_t need = used_bytes() + bytes;
  if (need <= size - size / 8) {
    return Ok{};
  }
  while (size - size / 8 < need) {
    size *= 2;
  }
  return set_map_size(size);
}

Status Env::grow() {
  return set_map_size(map_size() * 2);
}

} // namespace holdfast::store
