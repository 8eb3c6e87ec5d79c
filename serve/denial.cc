// SPDX-License-Identifier: MIT
// Authenticated denial of existence: the NSEC (RFC 4035 3.1.3) and NSEC3 (RFC 5155 7.2) proofs
// of an answer, and the RRSIGs owed to its RRsets (RFC 4035 3.1.1). The proofs follow what
// Knot DNS puts in the same cases, so that both answer alike.
#include <algorithm>
#include <cstring>

#include "common/nsec3.h"
#include "serve/answer_ctx.h"
#include "store/dnssec.h"

namespace holdfast::serve::detail {
namespace {

using store::NodeView;
using store::RRsetView;

// Adds the NSEC or NSEC3 RRset of `node`, with its RRSIGs, unless the answer has it already.
void put_proof(Ctx &c, const knot_dname_t *owner, const NodeView &node, uint16_t type) {
  RRsetView v;
  if (!node.find(type, v) || c.plan.contains(Section::kAuthority, owner, type)) {
    return;
  }
  put(c, Section::kAuthority, make_rr(Name{owner, 0}, v), &node);
}

// ---- NSEC (RFC 4035 3.1.3) ----

void nsec_at(Ctx &c, const NameKey &key, const NodeView &node) {
  put_proof(c, key_name(c, key), node, KNOT_RRTYPE_NSEC);
}

// The NSEC that covers `key`: the one of the last chain node before it.
void nsec_covering(Ctx &c, const NameKey &key) {
  NameKey prev;
  NodeView node;
  if (c.reader.nsec_previous(c.zone, key, prev, node)) {
    nsec_at(c, prev, node);
  }
}

// "*.<encloser>", when it fits in a name.
bool wildcard_of(Ctx &c, const NameKey &encloser, NameKey &out) {
  if (2 + key_name_size(encloser) + knot_dname_size(c.zone.apex) > KNOT_DNAME_MAXLEN) {
    return false;
  }
  out = encloser;
  out.data[out.len++] = '*';
  out.data[out.len++] = 0;
  ++out.labels;
  return true;
}

// RFC 4035 3.1.3.2: no name, and no wildcard that could have matched it. The second NSEC is
// the one before "*.<encloser>" in the chain, as Knot DNS picks it (when the wildcard exists,
// as below an empty non-terminal, that is the NSEC covering the name again).
void nsec_nxdomain(Ctx &c, const NameKey &key, const NameKey &encloser) {
  nsec_covering(c, key);
  NameKey wild;
  if (wildcard_of(c, encloser, wild)) {
    nsec_covering(c, wild);
  }
}

// RFC 4035 3.1.3.1: the NSEC of the name shows the type is absent; an empty non-terminal has
// none, so it is proved like a name that does not exist (3.1.3.2).
void nsec_nodata(Ctx &c, const SearchEnd &end) {
  if (end.node.empty()) {
    nsec_nxdomain(c, end.node_key, end.node_key);
  } else {
    nsec_at(c, end.node_key, end.node);
  }
}

// ---- NSEC3 (RFC 5155 7.2) ----

const knot_dname_t *nsec3_owner(Ctx &c, const uint8_t *hash) {
  size_t apex = knot_dname_size(c.zone.apex);
  auto *out = static_cast<uint8_t *>(c.mm->alloc(c.mm->ctx, 1 + kNsec3LabelLen + apex));
  out[0] = kNsec3LabelLen;
  base32hex_encode(hash, out + 1);
  std::memcpy(out + 1 + kNsec3LabelLen, c.zone.apex, apex);
  return out;
}

bool nsec3_matching(Ctx &c, const NodeView &node, NodeView &out) {
  const uint8_t *hash = node.owner_hash();
  return hash != nullptr && c.reader.nsec3_match(c.zone, hash, out);
}

void nsec3_cover(Ctx &c, const uint8_t *hash) {
  uint8_t cover[kNsec3HashLen];
  NodeView n3;
  if (hash != nullptr && c.reader.nsec3_cover(c.zone, hash, cover, n3)) {
    put_proof(c, nsec3_owner(c, cover), n3, KNOT_RRTYPE_NSEC3);
  }
}

// The closest provable encloser (RFC 5155 1.3): `key` or its nearest ancestor that has an NSEC3
// of its own (`n3`). Opt-out (RFC 5155 6) leaves insecure delegations, and empty non-terminals
// that only lead to them, without one.
bool nsec3_encloser(Ctx &c, const NameKey &key, NameKey &out, NodeView &node, NodeView &n3) {
  for (int d = key.labels; d >= 0; --d) {
    out = key.ancestor(static_cast<unsigned>(d));
    if (d == 0) {
      const NodeView *top = apex(c);
      if (top == nullptr) {
        return false;
      }
      node = *top;
    } else if (!c.reader.get(c.zone, out, node)) {
      continue;
    }
    if (!node.has(store::kFlagNonAuth) && nsec3_matching(c, node, n3)) {
      return true;
    }
  }
  return false;
}

// The NSEC3 covering the next closer name of `name` (key and wire form) below `cpe` (RFC 5155
// 7.2.1), hashed here: that name does not exist, so nothing could have precomputed its hash.
// The name is taken from the wire: hashing it needs no key_to_name.
void next_closer_cover(Ctx &c, const NameKey &name, const uint8_t *wire, const NameKey &cpe) {
  if (name.labels <= cpe.labels) {
    return;
  }
  const uint8_t *next_closer = wire;
  for (unsigned skip = name.labels - cpe.labels - 1; skip > 0; --skip) {
    next_closer += *next_closer + 1;
  }
  RRsetView param;
  const NodeView *top = apex(c);
  Nsec3Params params;
  uint8_t hash[kNsec3HashLen];
  if (top != nullptr && top->find(KNOT_RRTYPE_NSEC3PARAM, param) &&
      parse_nsec3_params(param.rrs.rdata->data, param.rrs.rdata->len, params) &&
      nsec3_hash(next_closer, params, hash)) {
    nsec3_cover(c, hash);
  }
}

// RFC 5155 7.2.1: the NSEC3 of the closest provable encloser, and the next closer's cover.
void closest_encloser_proof(Ctx &c, const NameKey &name, const uint8_t *wire, const NameKey &cpe,
                            const NodeView &cpe_node, const NodeView &cpe_n3) {
  put_proof(c, nsec3_owner(c, cpe_node.owner_hash()), cpe_n3, KNOT_RRTYPE_NSEC3);
  next_closer_cover(c, name, wire, cpe);
}

// RFC 5155 7.2.2: closest encloser proof, and the wildcard at the encloser is absent.
void nsec3_nxdomain(Ctx &c, const SearchEnd &end) {
  NameKey cpe;
  NodeView node, n3;
  if (nsec3_encloser(c, end.encloser, cpe, node, n3)) {
    closest_encloser_proof(c, end.key, end.name, cpe, node, n3);
    nsec3_cover(c, node.wildcard_hash());
  }
}

// RFC 5155 7.2.3-7.2.5: the NSEC3 matching the name; for a wildcard, or a name opt-out left
// without an NSEC3 (7.2.4), the closest encloser proof as well.
void nsec3_nodata(Ctx &c, const SearchEnd &end) {
  NodeView own;
  bool matched = nsec3_matching(c, end.node, own);
  if (matched) {
    put_proof(c, nsec3_owner(c, end.node.owner_hash()), own, KNOT_RRTYPE_NSEC3);
  }
  bool expanded = end.node_key.is_wildcard() && !end.key.is_wildcard();
  if (expanded || !matched) {
    NameKey cpe;
    NodeView node, n3;
    if (nsec3_encloser(c, end.encloser, cpe, node, n3)) {
      closest_encloser_proof(c, end.key, end.name, cpe, node, n3);
    }
  }
}

// ---- per outcome ----

bool nsec3(const Ctx &c) {
  return c.zone.dnssec() == store::DnssecMode::kNsec3;
}

void nodata(Ctx &c, const SearchEnd &end) {
  if (nsec3(c)) {
    nsec3_nodata(c, end);
  } else {
    nsec_nodata(c, end);
  }
}

// RFC 4035 3.1.4: a referral carries the DS RRset, or the proof that there is none.
void referral_security(Ctx &c, const SearchEnd &end) {
  RRsetView ds;
  if (end.node.find(KNOT_RRTYPE_DS, ds)) {
    put(c, Section::kAuthority, make_rr(Name{key_name(c, end.node_key), 0}, ds), &end.node);
    return;
  }
  nodata(c, end);
}

// RFC 4035 3.1.3.3 / RFC 5155 7.2.6: the name a wildcard answered for does not exist.
void wildcard_proof(Ctx &c, const WildcardHit &hit) {
  if (!nsec3(c)) {
    nsec_covering(c, hit.sname);
    return;
  }
  NameKey cpe;
  NodeView node, n3;
  if (nsec3_encloser(c, hit.encloser, cpe, node, n3)) {
    next_closer_cover(c, hit.sname, hit.name, cpe); // the encloser's own NSEC3 is not needed
  }
}

} // namespace

void add_denial(Ctx &c) {
  switch (c.end.outcome) {
  case Outcome::kHit:
    break;
  case Outcome::kNodata:
    nodata(c, c.end);
    break;
  case Outcome::kNxdomain:
    if (nsec3(c)) {
      nsec3_nxdomain(c, c.end);
    } else {
      nsec_nxdomain(c, c.end.key, c.end.encloser);
    }
    break;
  case Outcome::kReferral:
    referral_security(c, c.end);
    return; // no wildcard proofs for data that is not ours (as Knot DNS)
  }
  for (uint8_t i = 0; i < c.wildcard_count; ++i) {
    wildcard_proof(c, c.wildcards[i]);
  }
}

void add_signatures(Ctx &c) {
  for (uint16_t i = 0; i < c.sig_count; ++i) {
    const PendingSig &sig = c.sigs[i];
    auto s = static_cast<Section>(sig.section);
    const PlanRR &covered = c.plan.rrs[sig.section][sig.index];
    PlanRR rr{};
    knot_rrset_init(&rr.rr, covered.rr.owner, KNOT_RRTYPE_RRSIG, KNOT_CLASS_IN, sig.ttl);
    rr.rr.rrs = sig.rrs;
    rr.hint = covered.hint;
    rr.ref_section = sig.section;
    rr.ref_index = sig.index;
    rr.ref_rdata = PlanRR::kRefOwner;
    // RFC 4035 3.1.1: signatures in answer and authority are required (TC when they do not
    // fit); in additional they may be left out.
    rr.flags = s == Section::kAdditional ? KNOT_PF_NOTRUNC : KNOT_PF_NULL;
    c.plan.add(s, rr);
  }
}

} // namespace holdfast::serve::detail
