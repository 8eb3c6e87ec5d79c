// SPDX-License-Identifier: MIT
// The storage schema: every LMDB table, key and value holdfast writes, in one place.
//
// One LMDB environment (directory `server.storage`), four named databases:
//
// | db          | key                                   | value                                  |
// |-------------|---------------------------------------|----------------------------------------|
// | "meta"      | "format"                              | u32 format version (kFormatVersion)    |
// |             | "next-snapshot"                       | u64 next snapshot id to hand out       |
// | "zones"     | zone apex, wire format, lowercase     | ZoneRecord (below) + source string     |
// | "snapshots" | u64 BE snapshot id                    | SnapshotRecord + zone apex wire name   |
// | "nodes"     | u64 BE snapshot id ++ owner key       | node value (store/node.h)              |
//
// Owner keys are common/dname.h's lookup format relative to the apex (apex = empty), padded
// with one zero byte to an even length so that LMDB places the value on a 2-byte boundary:
// values hold knot_rdata_t arrays that are read in place (uint16_t lengths).
//
// Snapshots: a zone's data is written under a fresh snapshot id (state kBuilding), possibly
// over several write transactions; publishing is one write transaction that points the zone's
// ZoneRecord at the new id and marks it kPublished. A kill at any instant leaves either the
// old or the new id current. Ids that no zone references (a crashed build, a version older
// than `previous`) are deleted by the garbage collector.
//
// Integers inside values are in host byte order (the map is read in place, never shipped to
// another machine: transfers use DNS). Keys are big-endian so they sort numerically.
#pragma once

#include <cstdint>

namespace holdfast::store {

inline constexpr uint32_t kFormatVersion = 1;

inline constexpr const char *kDbMeta = "meta";
inline constexpr const char *kDbZones = "zones";
inline constexpr const char *kDbSnapshots = "snapshots";
inline constexpr const char *kDbNodes = "nodes";

inline constexpr const char *kMetaFormat = "format";
inline constexpr const char *kMetaNextSnapshot = "next-snapshot";

// Where a snapshot came from.
enum class SourceKind : uint8_t { kZoneFile = 1, kTransfer = 2 };

// Value of "zones". Followed by `source_len` bytes: the file path or the master's address.
struct ZoneRecord {
  uint64_t current;        // snapshot id served
  uint64_t previous;       // snapshot id kept for rollback (0 = none)
  uint32_t serial;         // SOA serial of `current`
  uint32_t records;        // RR count of `current`
  int64_t published_ns;    // unix time of publishing `current`, nanoseconds
  int64_t source_mtime_ns; // zone file mtime when it was loaded (0 for transfers)
  uint64_t source_size;    // zone file size when it was loaded
  uint64_t source_inode;   // zone file inode when it was loaded
  SourceKind source_kind;
  uint8_t reserved;
  uint16_t source_len;
  uint32_t reserved2;
};
static_assert(sizeof(ZoneRecord) == 64);

enum class SnapshotState : uint8_t { kBuilding = 1, kPublished = 2 };

// Value of "snapshots". Followed by the zone apex in wire format.
struct SnapshotRecord {
  SnapshotState state;
  uint8_t reserved[7];
  int64_t created_ns;
};
static_assert(sizeof(SnapshotRecord) == 16);

} // namespace holdfast::store
