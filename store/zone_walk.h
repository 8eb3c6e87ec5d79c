// SPDX-License-Identifier: MIT
// Reading a whole stored snapshot back in canonical order (RFC 4034 6.1), NSEC3 nodes merged in
// at their owner names' places, and checking its ZONEMD (RFC 8976) before it is published.
#pragma once

#include <cstdint>
#include <functional>

#include "common/knot.h"
#include "common/result.h"
#include "store/env.h"
#include "store/node.h"
#include "store/writer.h"
#include "store/zonemd.h"

namespace holdfast::store {

using NodeVisitor = std::function<Status(const knot_dname_t *owner, const NodeView &node)>;

// Visits every node of `snapshot` (names of the zone and NSEC3 nodes) in canonical order.
Status walk_snapshot(MDB_txn *txn, Env &env, uint64_t snapshot, const knot_dname_t *apex,
                     const NodeVisitor &visit);

// The ZONEMD check a publish makes under `policy` (writer.h). An error names what failed, and
// the snapshot must not be published; otherwise the outcome (kAbsent when not checked).
Result<ZonemdOutcome> check_zonemd(MDB_txn *txn, Env &env, uint64_t snapshot,
                                   const knot_dname_t *apex, ZonemdPolicy policy);

} // namespace holdfast::store
