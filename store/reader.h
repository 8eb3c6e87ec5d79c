// SPDX-License-Identifier: MIT
// Read side of the store: find a query's zone, then nodes of that zone's current snapshot.
// Nodes point into the LMDB map and are valid until the ReadTxn ends; a ZoneHandle's apex
// points into the name given to find_zone().
#pragma once

#include <cstdint>

#include "common/knot.h"

#include "common/dname.h"
#include "store/env.h"
#include "store/node.h"
#include "store/schema.h"

namespace holdfast::store {

struct ZoneHandle {
  const knot_dname_t *apex = nullptr; // lowercase wire name: the suffix of the name looked up
  uint64_t snapshot = 0;
  ZoneRecord record{};
  DnssecMode dnssec() const { return record.dnssec; }
};

// Result of looking a name up in a zone.
struct Lookup {
  bool exact = false;
  NodeView node;    // the node when exact
  NameKey encloser; // closest encloser (the name itself when exact)
  NodeView encloser_node;
  NameKey predecessor; // canonical-order predecessor when not exact (RFC 4034 6.1)
};

class Reader {
public:
  explicit Reader(ReadTxn &txn) : txn_(txn) {}
  ~Reader();
  Reader(const Reader &) = delete;
  Reader &operator=(const Reader &) = delete;

  // The zone with the longest apex that is `qname` or one of its ancestors. `qname` must be
  // lowercase. One exact lookup per label, longest first: cost grows with the name's depth,
  // not with the number of zones (B-tree lookups are logarithmic).
  bool find_zone(const knot_dname_t *qname, ZoneHandle &out);
  // Exact node lookup.
  bool get(const ZoneHandle &zone, const NameKey &key, NodeView &out);
  // Exact match, or closest encloser and predecessor (one cursor seek).
  bool lookup(const ZoneHandle &zone, const NameKey &key, Lookup &out);

  // NSEC3 chain (schema.h): the NSEC3 node whose hash is `hash`.
  bool nsec3_match(const ZoneHandle &zone, const uint8_t *hash, NodeView &out);
  // The NSEC3 node covering `hash` (RFC 5155 7.2.1): the last one before it in hash order, or
  // the last of the chain when `hash` sorts first (the chain wraps). Writes its hash.
  bool nsec3_cover(const ZoneHandle &zone, const uint8_t *hash, uint8_t *cover_hash, NodeView &out);
  // The last node before `key` in canonical order that is in the NSEC chain: authoritative,
  // not an empty non-terminal, and owning an NSEC (RFC 4035 2.3). In an NSEC-signed zone the
  // apex always is, so this ends there. The walk is bounded (kNsecWalkLimit): false when the
  // chain is not found within it, and the answer goes without that proof.
  bool nsec_previous(const ZoneHandle &zone, const NameKey &key, NameKey &out_key, NodeView &out);
  // Cursor moves and lookups the last nsec_previous() made (for tests of the bound).
  unsigned nsec_walk_steps() const { return nsec_steps_; }

  // A zone whose apex is signed but that has no NSEC chain (no NSEC at all, say, with an
  // NSEC3PARAM that RFC 5155 4.1.2 has us ignore) would make every DNSSEC negative answer walk
  // the whole zone. Knot DNS serves such a zone (DNSSEC semantic checks only log) and answers
  // without the proof it cannot find; holdfast does the same instead of refusing the zone (which
  // would keep it at its old version for good), and bounds the search. In a well-formed zone the
  // walk passes at most a chain of empty non-terminals (one per label) and jumps over glue and
  // DNAME-occluded names in one lookup per label, so the bound is never reached there.
  static constexpr unsigned kNsecWalkLimit = 2 * KNOT_DNAME_MAXLABELS + 2;

private:
  MDB_cursor *cursor();
  // Positions `cur` (and k, v) at the cut or DNAME owner that occludes the node `key`.
  bool occluder(const ZoneHandle &zone, const NameKey &key, MDB_cursor *cur, MDB_val &k,
                MDB_val &v);

  ReadTxn &txn_;
  MDB_cursor *cursor_ = nullptr;
  uint64_t cursor_generation_ = 0;
  unsigned nsec_steps_ = 0;
};

} // namespace holdfast::store
