// SPDX-License-Identifier: MIT
// State shared by the answer algorithm (answer.cc) and DNSSEC denial (denial.cc) while one
// question is answered: where names sit in the response, what the search found, which RRsets
// still need their RRSIGs. Internal to serve/.
#pragma once

#include <cstdint>

#include "common/dname.h"
#include "common/knot.h"
#include "serve/answer.h"
#include "store/reader.h"

namespace holdfast::serve::detail {

// CNAME/DNAME hops followed inside the zone before the answer stops (loops included); the
// resolver follows the rest (RFC 1034 5.3.3). Knot DNS uses the same bound.
constexpr int kMaxChain = 5;

// A name being answered for: where its bytes are and where they sit in the response, if they
// are part of the question (then owners are written as compression pointers, preserving the
// client's 0x20 case).
struct Name {
  const uint8_t *ptr;
  uint16_t pos; // offset of ptr in the response, 0 when not in it

  Name suffix(unsigned skip) const {
    Name n = *this;
    for (unsigned i = 0; i < skip; ++i) {
      unsigned step = *n.ptr + 1;
      n.ptr += step;
      if (n.pos != 0) {
        n.pos = static_cast<uint16_t>(n.pos + step);
      }
    }
    return n;
  }
};

// How the search for the last name of the chain ended: decides the denial proofs (RFC 4035
// 3.1.3, RFC 5155 7.2).
enum class Outcome : uint8_t { kHit, kNodata, kNxdomain, kReferral };

struct SearchEnd {
  Outcome outcome = Outcome::kHit;
  NameKey key;                   // the name searched for (make_key)
  const uint8_t *name = nullptr; // the same, wire format, uncompressed
  NameKey node_key;              // the node that answered: exact, wildcard, or the zone cut
  store::NodeView node;          // (NODATA and referrals)
  NameKey encloser;              // closest encloser of `key` (key itself when it exists)
};

// A wildcard that synthesized an answer (RFC 4035 3.1.3.3: prove the name itself is absent).
struct WildcardHit {
  NameKey sname;       // the name it answered for
  const uint8_t *name; // the same, wire format, uncompressed
  NameKey encloser;    // its closest encloser, the wildcard's parent
};

// An RRSIG owed to an RRset of the plan, written after its section's RRsets (as Knot DNS).
struct PendingSig {
  uint8_t section;
  uint8_t index; // the covered RRset's plan index
  uint32_t ttl;  // the covered RRset's TTL as served
  knot_rdataset_t rrs;
};

struct Ctx {
  Ctx(store::Reader &r, const store::ZoneHandle &z, const Question &question, Plan &p,
      knot_mm_t *arena, unsigned labels, bool sign)
      : reader(r), zone(z), q(question), plan(p), mm(arena), apex_labels(labels), dnssec(sign) {}

  store::Reader &reader;
  const store::ZoneHandle &zone;
  const Question &q;
  Plan &plan;
  knot_mm_t *mm;
  unsigned apex_labels;
  bool dnssec; // DO and a signed zone
  bool sealed = false; // the zone is signed or has a ZONEMD: no managed names (store/overlay.h)
  int hops = 0;
  SearchEnd end;
  WildcardHit wildcards[kMaxChain + 1];
  uint8_t wildcard_count = 0;
  PendingSig sigs[3 * Plan::kMax]; // not zeroed: only [0, sig_count) is read
  uint16_t sig_count = 0;
  store::NodeView apex_node; // read once per answer (apex())
  bool apex_read = false;
};

// The zone's apex node (SOA, NSEC3PARAM), looked up at most once per answer.
const store::NodeView *apex(Ctx &c);

PlanRR make_rr(const Name &owner, const store::RRsetView &v, uint16_t flags = KNOT_PF_NULL);
// Adds `rr` to the plan; with DNSSEC, its RRSIGs from `src` are owed too.
bool put(Ctx &c, Section s, const PlanRR &rr, const store::NodeView *src);
// The owner name of a stored key, in the per-query arena.
const knot_dname_t *key_name(Ctx &c, const NameKey &key);

// denial.cc: the authority-section proofs for the search's end and every wildcard used.
void add_denial(Ctx &c);
// denial.cc: the owed RRSIGs, at the end of each section.
void add_signatures(Ctx &c);

} // namespace holdfast::serve::detail
