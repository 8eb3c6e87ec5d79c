// SPDX-License-Identifier: MIT
// query_fuzz's checks on the sections of a parsed reply: which types each section may hold
// (whatever the query), and what DNSSEC owes with the DO bit on a signed zone (RFC 4035 3.1).
// Each returns null when the reply is fine, else what is wrong; only what holds for every
// reply of this server is checked, so a report is a bug, not a matter of taste.
#pragma once

#include <cstdint>

#include "common/knot.h"

namespace holdfast::fuzz {

// How the zone that answers a question is signed (the fixture knows its zones).
enum class Signing : uint8_t { kUnsigned, kNsec, kNsec3 };

inline bool reply_do(const knot_pkt_t *pkt) {
  return pkt->opt_rr != nullptr && knot_edns_do(pkt->opt_rr);
}

// RFC 1034 4.3.2 and answer.cc: the answer holds the asked type, CNAME and DNAME (any type for
// ANY); the authority SOA and NS; the additional addresses and the OPT. With DO, RRSIGs in
// every section and DS/NSEC/NSEC3 in the authority (RFC 4035 3.1); without DO none of them
// unless asked for (RFC 4035 3.1, RFC 3225 3).
inline const char *check_section_types(const knot_pkt_t *pkt) {
  uint16_t qtype = knot_pkt_qtype(pkt);
  bool dnssec = reply_do(pkt);
  for (knot_section_t s : {KNOT_ANSWER, KNOT_AUTHORITY, KNOT_ADDITIONAL}) {
    const knot_pktsection_t *sec = knot_pkt_section(pkt, s);
    for (uint16_t i = 0; i < sec->count; ++i) {
      uint16_t t = knot_pkt_rr(sec, i)->type;
      bool ok = false;
      switch (s) {
      case KNOT_ANSWER:
        ok = qtype == KNOT_RRTYPE_ANY || t == qtype || t == KNOT_RRTYPE_CNAME ||
             t == KNOT_RRTYPE_DNAME || (dnssec && t == KNOT_RRTYPE_RRSIG);
        break;
      case KNOT_AUTHORITY:
        ok = t == KNOT_RRTYPE_SOA || t == KNOT_RRTYPE_NS ||
             (dnssec && (t == KNOT_RRTYPE_RRSIG || t == KNOT_RRTYPE_DS || t == KNOT_RRTYPE_NSEC ||
                         t == KNOT_RRTYPE_NSEC3));
        break;
      default:
        ok = t == KNOT_RRTYPE_A || t == KNOT_RRTYPE_AAAA || t == KNOT_RRTYPE_OPT ||
             (dnssec && t == KNOT_RRTYPE_RRSIG);
        break;
      }
      if (!ok) {
        return s == KNOT_ANSWER      ? "answer holds a type not asked for"
               : s == KNOT_AUTHORITY ? "authority holds a type it never may"
                                     : "additional holds a type it never may";
      }
    }
  }
  return nullptr;
}

// Whether `sec` holds an RRSIG owned by `owner` covering `type`.
inline bool has_rrsig(const knot_pktsection_t *sec, const knot_dname_t *owner, uint16_t type) {
  for (uint16_t i = 0; i < sec->count; ++i) {
    const knot_rrset_t *rr = knot_pkt_rr(sec, i);
    if (rr->type == KNOT_RRTYPE_RRSIG && rr->rrs.count > 0 &&
        knot_rrsig_type_covered(rr->rrs.rdata) == type &&
        knot_dname_is_case_equal(rr->owner, owner)) {
      return true;
    }
  }
  return false;
}

// A CNAME synthesized from a DNAME of the answer (RFC 6672 5.3: not signed): its owner is
// strictly below that DNAME's owner.
inline bool synthesized_cname(const knot_pktsection_t *answer, const knot_rrset_t *cname) {
  for (uint16_t i = 0; i < answer->count; ++i) {
    const knot_rrset_t *rr = knot_pkt_rr(answer, i);
    if (rr->type != KNOT_RRTYPE_DNAME) {
      continue;
    }
    uint8_t a[KNOT_DNAME_MAXLEN], b[KNOT_DNAME_MAXLEN];
    if (knot_dname_to_wire(a, cname->owner, sizeof(a)) > 0 &&
        knot_dname_to_wire(b, rr->owner, sizeof(b)) > 0) {
      knot_dname_to_lower(a);
      knot_dname_to_lower(b);
      if (knot_dname_in_bailiwick(a, b) > 0) {
        return true;
      }
    }
  }
  return false;
}

// With DO, on a signed zone, in a reply that is not truncated (RFC 4035 3.1.1-3.1.4):
// - every RRset of answer and authority comes with its RRSIG in the same section, except the
//   NS of a referral (RFC 4035 2.2) and a DNAME-synthesized CNAME;
// - an authoritative NOERROR/NXDOMAIN answer (not a referral) carries at least one RRSIG: the
//   signed data, or the SOA of a negative answer;
// - NXDOMAIN carries the zone's kind of denial (NSEC or NSEC3) in the authority section.
// The zone must be fully signed (the fixture's are, by dnssec-signzone).
inline const char *check_dnssec(const knot_pkt_t *pkt, Signing zone) {
  if (zone == Signing::kUnsigned || !reply_do(pkt) || knot_wire_get_tc(pkt->wire)) {
    return nullptr;
  }
  uint16_t rcode = knot_pkt_ext_rcode(pkt);
  if (rcode != KNOT_RCODE_NOERROR && rcode != KNOT_RCODE_NXDOMAIN) {
    return nullptr;
  }
  const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
  const knot_pktsection_t *authority = knot_pkt_section(pkt, KNOT_AUTHORITY);
  bool referral = answer->count == 0 && !knot_wire_get_aa(pkt->wire);
  bool signed_any = false;
  bool denial = false;
  uint16_t denial_type = zone == Signing::kNsec ? KNOT_RRTYPE_NSEC : KNOT_RRTYPE_NSEC3;
  for (const knot_pktsection_t *sec : {answer, authority}) {
    for (uint16_t i = 0; i < sec->count; ++i) {
      const knot_rrset_t *rr = knot_pkt_rr(sec, i);
      if (rr->type == KNOT_RRTYPE_RRSIG) {
        signed_any = true;
        continue;
      }
      denial = denial || (sec == authority && rr->type == denial_type);
      if (sec == authority && rr->type == KNOT_RRTYPE_NS) {
        continue;
      }
      if (sec == answer && rr->type == KNOT_RRTYPE_CNAME && synthesized_cname(answer, rr)) {
        continue;
      }
      if (!has_rrsig(sec, rr->owner, rr->type)) {
        return sec == answer ? "DO: an answer RRset without its RRSIG"
                             : "DO: an authority RRset without its RRSIG";
      }
    }
  }
  if (!referral && !signed_any) {
    return "DO: an authoritative answer from a signed zone without any RRSIG";
  }
  if (rcode == KNOT_RCODE_NXDOMAIN && !denial) {
    return "DO: NXDOMAIN without the zone's NSEC/NSEC3 proof";
  }
  return nullptr;
}

} // namespace holdfast::fuzz
