// SPDX-License-Identifier: MIT
// IXFR reply parsing and difference composition (see ixfr_client.h).
#include "xfr/ixfr_client.h"

#include "common/serial.h"
#include "xfr/request.h"

namespace holdfast::xfr {

IxfrClient::IxfrClient(const knot_dname_t *apex, uint32_t ours, const Vanity &vanity,
                       OpenFull open_full)
    : apex_(apex), ours_(ours), vanity_(vanity), open_full_(std::move(open_full)), diff_(apex) {}

bool IxfrClient::done() const {
  if (state_ == State::kFull) {
    return full_->done();
  }
  return state_ == State::kDone;
}

Status IxfrClient::consume(const knot_pkt_t *pkt) {
  const knot_pktsection_t *answer = knot_pkt_section(pkt, KNOT_ANSWER);
  for (uint16_t i = 0; i < answer->count; ++i) {
    const knot_rrset_t &rr = *knot_pkt_rr(answer, i);
    auto st = state_ == State::kFull ? full_->consume(rr) : record(rr);
    if (!st) {
      return st;
    }
  }
  // RFC 1995 4: a reply holding only the master's SOA, not newer than ours, means up to date.
  if (state_ == State::kSecond && !serial_is_newer(serial_, ours_)) {
    state_ = State::kDone;
    kind_ = Kind::kUpToDate;
  }
  return Ok{};
}

Status IxfrClient::start_full(const knot_rrset_t &second) {
  auto sink = open_full_();
  if (!sink) {
    return fail(sink.error());
  }
  full_ = std::make_unique<AxfrClient>(apex_, **sink);
  state_ = State::kFull;
  kind_ = Kind::kFull;
  knot_rrset_t soa;
  knot_rrset_init(&soa, const_cast<knot_dname_t *>(apex_), KNOT_RRTYPE_SOA, KNOT_CLASS_IN,
                  first_.ttl);
  soa.rrs = first_.rrs;
  if (auto st = full_->consume(soa); !st) {
    return st;
  }
  return full_->consume(second);
}

Status IxfrClient::change(const knot_rrset_t &rr, bool add) {
  if (add && vanity_.active() && seals_apex(rr, apex_)) {
    // The stored zone carries the vanity set; a sealed zone must keep the master's records,
    // which only a full transfer brings (the caller falls back to AXFR).
    return fail("the zone becomes DNSSEC-signed or gains a ZONEMD record: the vanity "
                "nameserver set no longer applies, a full transfer is needed");
  }
  if (vanity_.replaces(rr.owner, rr.type)) {
    return Ok{}; // the vanity set stays as it is in the stored snapshot
  }
  knot_rdata_t *rd = rr.rrs.rdata;
  for (uint16_t i = 0; i < rr.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    auto st = add ? diff_.add(rr.owner, rr.type, rr.ttl, rd->data, rd->len)
                  : diff_.remove(rr.owner, rr.type, rd->data, rd->len);
    if (!st) {
      return st;
    }
  }
  return Ok{};
}

Status IxfrClient::record(const knot_rrset_t &rr) {
  if (rr.rclass != KNOT_CLASS_IN) {
    return fail("record of class " + std::to_string(rr.rclass) + " in the transfer");
  }
  bool is_soa = rr.type == KNOT_RRTYPE_SOA;
  if (is_soa && (!knot_dname_is_case_equal(rr.owner, apex_) || rr.rrs.count != 1)) {
    return fail("an SOA other than the zone's appears inside the transfer");
  }
  switch (state_) {
  case State::kStart:
    if (!is_soa) {
      return fail("transfer does not start with the zone's SOA");
    }
    serial_ = soa_serial(rr);
    first_rdata_.assign(reinterpret_cast<const uint8_t *>(rr.rrs.rdata),
                        reinterpret_cast<const uint8_t *>(rr.rrs.rdata) + rr.rrs.size);
    first_ = rr;
    first_.rrs.rdata = reinterpret_cast<knot_rdata_t *>(first_rdata_.data());
    state_ = State::kSecond;
    return Ok{};
  case State::kSecond:
    // RFC 1995 4: an incremental reply continues with the SOA of the version we hold; anything
    // else (a non-SOA record, or the master's SOA again for an SOA-only zone) is AXFR-style.
    if (is_soa && soa_serial(rr) == ours_ && serial_ != ours_) {
      kind_ = Kind::kIncremental;
      state_ = State::kRemove;
      diff_.set_serials(ours_, serial_);
      return change(rr, false);
    }
    return start_full(rr);
  case State::kRemove:
    if (is_soa) { // the SOA that opens the additions of this sequence
      seq_to_ = soa_serial(rr);
      state_ = State::kAdd;
      return change(rr, true);
    }
    return change(rr, false);
  case State::kAdd:
    if (!is_soa) {
      return change(rr, true);
    }
    if (seq_to_ == serial_ && soa_serial(rr) == serial_) {
      state_ = State::kDone; // RFC 1995 4: the closing SOA
      return Ok{};
    }
    if (soa_serial(rr) != seq_to_) {
      return fail("IXFR sequences do not chain: serial " + std::to_string(soa_serial(rr)) +
                  " after " + std::to_string(seq_to_));
    }
    state_ = State::kRemove;
    return change(rr, false);
  case State::kDone:
  case State::kFull:
    break;
  }
  return fail("records after the closing SOA");
}

} // namespace holdfast::xfr
