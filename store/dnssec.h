// SPDX-License-Identifier: MIT
// DNSSEC facts about stored data: how a snapshot is signed, which nodes are NSEC3 chain records,
// and the RRSIGs covering one type (RFC 4034 3, RFC 5155 3).
#pragma once

#include <cstdint>

#include "common/dname.h"
#include "common/knot.h"
#include "common/nsec3.h"
#include "store/node.h"
#include "store/schema.h"

namespace holdfast::store {

struct ZoneSigning {
  DnssecMode mode = DnssecMode::kUnsigned;
  Nsec3Params nsec3; // valid() when mode is kNsec3
};

// Decided from the apex node: an RRSIG over the SOA means signed (as Knot DNS decides); an
// NSEC3PARAM with a supported hash (RFC 5155 4) selects NSEC3.
ZoneSigning zone_signing(const NodeView &apex);

// When the node at `key` is an NSEC3 chain record: one label below the apex, a base32hex label
// of a SHA-1 hash, and nothing but NSEC3 and RRSIG RRsets. Writes the decoded hash.
bool nsec3_node_hash(const NameKey &key, const NodeView &node, uint8_t hash[kNsec3HashLen]);

// The key of an NSEC3 chain record's owner: `hash` in base32hex, one label below the apex
// (RFC 5155 3).
NameKey nsec3_owner_key(const uint8_t hash[kNsec3HashLen]);

// H(owner) and H(*.owner) of the name at `key` (the node hash trailer, node.h).
void node_hashes(const NameKey &key, const knot_dname_t *apex, const Nsec3Params &params,
                 uint8_t out[kNsec3TrailerLen]);

// The RRSIGs at `node` covering `type`, pointing into the stored RRSIG rdataset: it is kept in
// canonical order, which sorts by the covered type first, so they are one run of records.
bool rrsigs_covering(const NodeView &node, uint16_t type, knot_rdataset_t &out);

// The RRSIGs of the lowest covered type at `node` (an RRSIG query is answered with one
// covered type, as Knot DNS answers it), with that type in `covered`.
bool first_rrsigs(const NodeView &node, knot_rdataset_t &out, uint16_t &covered);

} // namespace holdfast::store
