// SPDX-License-Identifier: MIT
// Bringing a store of an older format version up to kFormatVersion when it is opened (schema.h).
#pragma once

#include <cstdint>

#include <lmdb.h>

namespace holdfast::store {

// Upgrades a store of format `version` (kFormatVersionOldest .. kFormatVersion - 1) inside
// `txn`, the write transaction that opens it, and records kFormatVersion in `meta`. Returns an
// LMDB code: the caller commits, or reports the failure and leaves the store as it was.
//   1 -> 2: nothing to rewrite (zones are indexed for DNSSEC when next published).
//   2 -> 3: owner keys holding 0x01 octets are escaped (common/dname.h).
int upgrade_format(MDB_txn *txn, MDB_dbi meta, MDB_dbi nodes, uint32_t version);

} // namespace holdfast::store
