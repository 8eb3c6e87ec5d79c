// SPDX-License-Identifier: MIT
// AXFR record stream checks (see axfr_client.h).
#include "xfr/axfr_client.h"

#include <cstring>

#include "common/dname.h"
#include "xfr/request.h"

namespace holdfast::xfr {

Status AxfrClient::consume(const knot_pkt_t *pkt) {
  const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
  for (uint16_t i = 0; i < answer->count; ++i) {
    if (auto st = consume(*knot_pkt_rr(answer, i)); !st) {
      return st;
    }
  }
  return Ok{};
}

Status AxfrClient::consume(const knot_rrset_t &rr) {
  if (rr.rclass != KNOT_CLASS_IN) {
    return fail("record of class " + std::to_string(rr.rclass) + " in the transfer");
  }
  bool is_soa = rr.type == KNOT_RRTYPE_SOA;
  switch (state_) {
  case State::kStart:
    // RFC 5936 2.2: the first record is the zone's SOA.
    if (!is_soa || !knot_dname_is_case_equal(rr.owner, apex_) || rr.rrs.count != 1) {
      return fail("transfer does not start with the zone's SOA");
    }
    serial_ = soa_serial(rr);
    soa_.assign(rr.rrs.rdata->data, rr.rrs.rdata->data + rr.rrs.rdata->len);
    state_ = State::kBody;
    ++records_;
    return sink_.add(rr);
  case State::kBody:
    if (!is_soa) {
      ++records_;
      return sink_.add(rr);
    }
    // RFC 5936 2.2: the last record is the opening SOA again; no other SOA may appear.
    if (!knot_dname_is_case_equal(rr.owner, apex_) || rr.rrs.count != 1 ||
        soa_serial(rr) != serial_) {
      return fail("an SOA other than the zone's appears inside the transfer");
    }
    if (rr.rrs.rdata->len != soa_.size() ||
        std::memcmp(rr.rrs.rdata->data, soa_.data(), soa_.size()) != 0) {
      return fail("the closing SOA differs from the opening one");
    }
    state_ = State::kDone;
    return Ok{};
  case State::kDone:
    break;
  }
  return fail("records after the closing SOA");
}

} // namespace holdfast::xfr
