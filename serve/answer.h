// SPDX-License-Identifier: MIT
// The answer function: RFC 1034 4.3.2 over a read-only zone view, filling a plan that
// encode() turns into wire format. No I/O, no allocation beyond the per-query arena.
#pragma once

#include <cstdint>

#include "common/knot.h"

#include "store/reader.h"

namespace holdfast::lb {
class View; // lb/view.h
} // namespace holdfast::lb

namespace holdfast::serve {

// One RRset to write, with the position of its owner name for compression.
struct PlanRR {
  knot_rrset_t rr;
  uint16_t hint;  // compression hint for the owner (KNOT_COMPR_HINT_*)
  uint16_t flags; // KNOT_PF_* for knot_pkt_put
  // Additional data: the owner is the name in rdata `ref_rdata` of RRset `ref_index` of section
  // `ref_section`; once that is written its position makes the owner a 2-byte pointer.
  // kRefOwner in ref_rdata: the owner is the covered RRset's owner (an RRSIG's).
  uint8_t ref_section = 0xff;
  uint8_t ref_index = 0;
  uint8_t ref_rdata = 0;
  static constexpr uint8_t kRefOwner = 0xff;
};

enum class Section : uint8_t { kAnswer = 0, kAuthority = 1, kAdditional = 2 };

struct Plan {
  static constexpr int kMax = 64; // RRsets per section, RRSIGs included
  uint8_t rcode = 0;              // KNOT_RCODE_*
  bool aa = false;
  bool wildcard = false;              // synthesized from a wildcard (RFC 4592)
  const knot_dname_t *apex = nullptr; // the zone that answered
  PlanRR rrs[3][kMax];
  uint8_t count[3] = {0, 0, 0};

  bool add(Section s, const PlanRR &rr);
  bool contains(Section s, const knot_dname_t *owner, uint16_t type) const;
};

struct Question {
  const knot_dname_t *qname;      // lowercase
  const knot_dname_t *wire_qname; // as sent (case preserved), inside the query packet
  uint16_t qtype;
  bool dnssec = false; // DO set (RFC 3225): RRSIGs and denial proofs when the zone is signed
  const lb::View *lb = nullptr; // managed names' answers (traffic layer); none: zone data only
  unsigned worker = 0;          // the answering worker (its selector state in `lb`)
};

// Fills `plan` for a question inside `zone`.
void answer(store::Reader &reader, const store::ZoneHandle &zone, const Question &q, Plan &plan,
            knot_mm_t *mm);

} // namespace holdfast::serve
