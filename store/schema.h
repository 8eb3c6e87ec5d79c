// SPDX-License-Identifier: MIT
// The storage schema: every LMDB table, key and value holdfast writes, in one place.
//
// One LMDB environment (directory `server.storage`), five named databases:
//
// | db          | key                                   | value                                  |
// |-------------|---------------------------------------|----------------------------------------|
// | "meta"      | "format"                              | u32 format version (kFormatVersion)    |
// |             | "next-snapshot"                       | u64 next snapshot id to hand out       |
// |             | "kept" ++ zone apex (as in "zones")   | i64 unix time (ns) the zone left the   |
// |             |                                       |   config (present while it is kept)    |
// | "zones"     | zone apex, wire format, lowercase     | ZoneRecord (below) + source string     |
// | "snapshots" | u64 BE snapshot id                    | SnapshotRecord + zone apex wire name   |
// | "nodes"     | u64 BE snapshot id ++ owner key       | node value (store/node.h)              |
// |             | u64 BE (snapshot id | kNsec3Space)    | NSEC3 node: the NSEC3 RRset and its    |
// |             |   ++ raw NSEC3 hash (20 octets)       | RRSIGs, in the node value layout       |
// | "lb-state"  | pool id ++ 0x00 ++ member id          | traffic-management member state: u8    |
// |             |                                       |   layout version (1), u8 lb::Admin, u8 |
// |             |                                       |   flags (1 health up, 2 latched), u8   |
// |             |                                       |   lb::Reason, i64 since (unix ms), u16 |
// |             |                                       |   detail length, detail (lb_state.h)   |
//
// Owner keys are common/dname.h's lookup format relative to the apex (apex = empty): labels
// rightmost first, each ended by 0x00, with 0x00 and 0x01 inside a label escaped as 0x01 0x01
// and 0x01 0x02, so every legal name has a key (RFC 2181 11) and keys sort in canonical order
// (RFC 4034 6.1). They are padded with one zero byte to an even length so that LMDB places the
// value on a 2-byte boundary: values hold knot_rdata_t arrays that are read in place (uint16_t
// lengths). A whole node key must fit in an LMDB key (mdb_env_get_maxkeysize, 511 octets by
// default); only a name near the root with many escaped octets can exceed it, and a zone that
// holds one is refused with the name in the error (store/keys.h oversized_key).
//
// Snapshots: a zone's data is written under a fresh snapshot id (state kBuilding), possibly
// over several write transactions; publishing is one write transaction that points the zone's
// ZoneRecord at the new id and marks it kPublished. A kill at any instant leaves either the
// old or the new id current. Ids that no zone references (a crashed build, a version older
// than `previous`) are deleted by the garbage collector.
//
// NSEC3 records (RFC 5155) are not names of the zone: their owners are kept apart, keyed by the
// raw hash, so that a query for a name never meets them, the closest encloser and wildcard logic
// ignores them, and the NSEC3 covering a hash is one cursor step back from it. In a snapshot of
// an NSEC3-signed zone every node also carries H(owner) and H(*.owner) (node.h), computed when
// the snapshot is published; the query path only hashes next-closer names, which do not exist.
//
// "lb-state" is rewritten whole (one write transaction) whenever a member's state changes and
// read once at start; a store opened before it existed gets it created empty at the next
// writable open, with no format version change (nothing else reads it).
//
// Integers inside values are in host byte order (the map is read in place, never shipped to
// another machine: transfers use DNS). Keys are big-endian so they sort numerically.
#pragma once

#include <cstddef>
#include <cstdint>

namespace holdfast::store {

// Version 2 added the NSEC3 space, node hash trailers and ZoneRecord::dnssec. A version 1 store
// opens as is (its snapshots have dnssec = kUnsigned and are served without denial proofs, as
// before); zones are indexed again when next published.
// Version 3 escapes 0x00 and 0x01 inside owner key labels. Older keys held a 0x01 octet as it
// is (and no zero octet: such names were refused), so opening re-keys the nodes whose owner
// has one (store/upgrade.h); nothing else changes. A read-only open upgrades nothing.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kFormatVersionOldest = 1;
// Set in the snapshot id of NSEC3-node keys (ids never reach it).
inline constexpr uint64_t kNsec3Space = uint64_t{1} << 63;

inline constexpr const char *kDbMeta = "meta";
inline constexpr const char *kDbZones = "zones";
inline constexpr const char *kDbSnapshots = "snapshots";
inline constexpr const char *kDbNodes = "nodes";
inline constexpr const char *kDbLbState = "lb-state";

inline constexpr const char *kMetaFormat = "format";
inline constexpr const char *kMetaNextSnapshot = "next-snapshot";
inline constexpr const char *kMetaKeptPrefix = "kept"; // ++ apex: when the zone was dropped

// How a snapshot is signed, decided when it is published (Knot DNS decides the same way): an
// RRSIG over the apex SOA makes it signed; an NSEC3PARAM at the apex with a supported hash
// selects NSEC3 denial, otherwise NSEC.
enum class DnssecMode : uint8_t { kUnsigned = 0, kNsec = 1, kNsec3 = 2 };

// Where a snapshot came from.
enum class SourceKind : uint8_t { kZoneFile = 1, kTransfer = 2 };

// ZoneRecord::flags.
inline constexpr uint8_t kZoneFlagZonemd = 1; // the apex has a ZONEMD RRset (RFC 8976)
// The zone left the config: not served (find_zone skips it), its snapshots kept so that adding
// it back serves them at once; `holdfast zone purge` deletes them. Not a property of a
// snapshot: publishing keeps it as it was (a transfer finishing after a reload dropped the zone
// must not bring it back).
inline constexpr uint8_t kZoneFlagKept = 2;

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
  DnssecMode dnssec; // of `current`
  uint16_t source_len;
  uint8_t flags; // kZoneFlag* (0 in records written before flags existed)
  uint8_t reserved2[3];
};
static_assert(sizeof(ZoneRecord) == 64);

// The kept flag of a "zones" value in the map: LMDB does not align values, so the flags byte is
// read, not a member of a ZoneRecord cast over it.
inline bool zone_value_kept(const void *value) {
  return (static_cast<const uint8_t *>(value)[offsetof(ZoneRecord, flags)] & kZoneFlagKept) != 0;
}

enum class SnapshotState : uint8_t { kBuilding = 1, kPublished = 2 };

// Value of "snapshots". Followed by the zone apex in wire format.
struct SnapshotRecord {
  SnapshotState state;
  uint8_t reserved[7];
  int64_t created_ns;
};
static_assert(sizeof(SnapshotRecord) == 16);

} // namespace holdfast::store
