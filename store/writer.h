// SPDX-License-Identifier: MIT
// Snapshot writer: build a new version of one zone, then publish it atomically or abort.
//
//   begin() ──► add()* ──► publish()  (one write txn: flags, empty non-terminals, checks, flip)
//                  └─────► abort() / destructor  (the partial snapshot is garbage-collected)
//
// Records may arrive in any order. They are staged in memory up to a bound, sorted, and
// flushed into the snapshot's key range in their own write transactions, so a zone of any
// size loads in bounded memory and the map can grow between flushes. Nothing is visible to
// readers until publish() commits. A zone that fits in the staging bound is written, checked
// and published in a single transaction.
//
// With a caller-owned transaction (`shared`), nothing is committed here: the caller publishes
// many small zones with one commit (one fsync) and must make room in the map beforehand.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/knot.h"

#include "common/result.h"
#include "store/env.h"
#include "store/schema.h"

namespace holdfast::store {

// What a publish checks of a zone's ZONEMD record (RFC 8976): nothing, the digest when the
// zone has one, or that it has one and it matches.
enum class ZonemdPolicy : uint8_t { kOff, kVerify, kRequire };

struct SourceInfo {
  SourceKind kind = SourceKind::kZoneFile;
  ZonemdPolicy zonemd = ZonemdPolicy::kOff;
  std::string source; // zone file path or master address
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  uint64_t inode = 0;
};

struct Published {
  uint64_t snapshot = 0;
  uint32_t serial = 0;
  size_t records = 0;
  size_t nodes = 0;
  DnssecMode dnssec = DnssecMode::kUnsigned;
  bool zonemd = false;          // the apex has a ZONEMD RRset (RFC 8976)
  bool zonemd_verified = false; // the zone's ZONEMD digest was checked and matched
};

// Records staged by add(), taken out to be written by another thread (SnapshotWriter::flush).
struct StagedBatch {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets;
  size_t size() const { return bytes.size(); }
};

class SnapshotWriter {
public:
  static Result<std::unique_ptr<SnapshotWriter>>
  begin(Env &env, const knot_dname_t *apex, SourceInfo source, MDB_txn *shared = nullptr);
  // Aborts an unfinished snapshot; off the writer thread (a transfer cancelled at shutdown) it
  // abandons it instead, for the next start's garbage collection.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter &) = delete;
  SnapshotWriter &operator=(const SnapshotWriter &) = delete;

  // Adds one record. The owner must be at or below the apex and the class IN.
  Status add(const knot_dname_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
             const uint8_t *rdata, uint16_t rdlen);
  // Adds every record of an RRset.
  Status add(const knot_rrset_t &rrset);
  size_t staged_records() const { return total_records_; }
  // Published, aborted or abandoned: nothing left to clean up.
  bool done() const { return done_; }

  [[nodiscard]] Result<Published> publish();
  // Discards the snapshot now (deleting what was written).
  void abort();
  // Stops without cleaning up: what was committed stays until the next collect_garbage().
  void abandon() {
    done_ = true;
    clear_staged();
  }

  // Staging bound before a flush; tests lower it to exercise the multi-flush path.
  void set_flush_bytes(size_t bytes) { flush_bytes_ = bytes; }
  // Off: add() only stages, and the caller calls flush() (on the writer thread) once
  // flush_due() says the bound is reached. A transfer stages on the control loop this way.
  void set_auto_flush(bool on) { auto_flush_ = on; }
  bool flush_due() const { return staged_.size() >= flush_bytes_; }
  // Writes what is staged into the snapshot (own write transactions, growing the map).
  Status flush();
  // Double buffering for a transfer: the control loop takes the staged records out and goes on
  // staging while the writer thread writes the batch with flush(batch). Batches are written in
  // the order taken; after a failed one every later flush and publish() fail with its error.
  StagedBatch take_staged();
  Status flush(StagedBatch &batch);

private:
  SnapshotWriter(Env &env, const knot_dname_t *apex, SourceInfo source, MDB_txn *shared);
  // Writes the staged records into `txn` (allocating the snapshot id on first use).
  Status write_staged(MDB_txn *txn, bool &map_full);
  Status write_batch(MDB_txn *txn, const std::vector<uint8_t> &bytes,
                     std::vector<uint32_t> &offsets, bool &map_full);
  // Own write transactions, growing the map and retrying on MDB_MAP_FULL.
  Status flush_batch(const std::vector<uint8_t> &bytes, std::vector<uint32_t> &offsets);
  Status register_id(MDB_txn *txn);
  // Flags, empty non-terminals, checks and the flip of the zone record, inside `txn`.
  Status finalize(MDB_txn *txn, Published &out, uint64_t &obsolete, bool &map_full);
  void clear_staged();

  Env &env_;
  MDB_txn *shared_;
  uint64_t id_ = 0; // 0 until the first write transaction allocates it
  std::vector<uint8_t> apex_;
  SourceInfo source_;
  std::vector<uint8_t> staged_; // [u16 keylen][key][u16 type][u32 ttl][u16 rdlen][rdata]
  std::vector<uint32_t> offsets_;
  size_t flush_bytes_ = size_t{256} << 20;
  size_t total_records_ = 0;
  bool flushed_any_ = false;
  bool auto_flush_ = true;
  std::string failed_; // a batch that could not be written (writer thread)
  bool done_ = false;
};

// Deletes a snapshot's nodes and its record, in bounded write transactions.
Status delete_snapshot(Env &env, uint64_t id);
// Deletes up to `max` nodes of a snapshot inside `txn`, and its record once no node is left.
// Returns true when the snapshot is gone.
Result<bool> delete_snapshot_in(MDB_txn *txn, Env &env, uint64_t id, size_t max);
// Deletes every snapshot no zone references (crashed builds, versions older than previous).
Status collect_garbage(Env &env, size_t *deleted = nullptr);
// Removes a zone from the store (it stops being served) and deletes its snapshots.
Status remove_zone(Env &env, const knot_dname_t *apex);

struct ZoneInfo {
  std::vector<uint8_t> apex;
  ZoneRecord record{};
  std::string source;
};
// Decodes a "zones" entry.
std::optional<ZoneInfo> parse_zone(const MDB_val &key, const MDB_val &value);
// The stored record of one zone, if any (read inside `txn` when given).
std::optional<ZoneInfo> read_zone(Env &env, const knot_dname_t *apex, MDB_txn *txn = nullptr);
std::vector<ZoneInfo> list_zones(Env &env);
// The same inside a caller's (read) transaction.
std::vector<ZoneInfo> list_zones(Env &env, MDB_txn *txn);

// Zones that left the config (schema.h kZoneFlagKept): not served, snapshots kept.
struct KeptZone {
  ZoneInfo info;
  int64_t dropped_ns = 0; // unix time the zone left the config (0 if unknown)
};
std::vector<KeptZone> list_kept(Env &env, MDB_txn *txn);
size_t count_kept(Env &env, MDB_txn *txn); // without copying the records
// What sync_kept() changed.
struct KeptChanges {
  std::vector<ZoneInfo> kept;     // stopped being served, data kept
  std::vector<ZoneInfo> restored; // kept before, served again from its snapshot
};
// Marks every stored zone that `configured` does not hold as kept, and clears the mark of every
// one it holds, in one write transaction (a reader sees the old or the new set).
Result<KeptChanges> sync_kept(Env &env, const std::vector<std::vector<uint8_t>> &configured);
enum class PurgeOutcome : uint8_t { kPurged, kNotKept, kAbsent };
// Deletes a kept zone and its snapshots. A zone that is not kept (it is configured, hence
// served) is left alone: kNotKept.
[[nodiscard]] Result<PurgeOutcome> purge_zone(Env &env, const knot_dname_t *apex);

} // namespace holdfast::store
