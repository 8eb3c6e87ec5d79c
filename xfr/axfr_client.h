// SPDX-License-Identifier: MIT
// AXFR consumer (RFC 5936): checks the record stream of a full transfer and passes records on
// to a sink as they arrive, so a zone is never held whole in memory. No I/O here.
//
//   kStart ──SOA(apex)──► kBody ──same SOA──► kDone
//     │                    │  └─other RR──► sink
//     └─anything else──► error     └─another SOA──► error
#pragma once

#include <cstdint>

#include "common/knot.h"

#include "common/result.h"
#include "xfr/sink.h"

namespace holdfast::xfr {

class AxfrClient {
public:
  AxfrClient(const knot_dname_t *apex, RecordSink &sink) : apex_(apex), sink_(sink) {}

  // Consumes the answer section of one reply message (already passed check_reply()).
  Status consume(const knot_pkt_t *pkt);
  // Consumes one record (IXFR hands over an AXFR-style reply this way).
  Status consume(const knot_rrset_t &rr);

  bool done() const { return state_ == State::kDone; }
  uint32_t serial() const { return serial_; }
  size_t records() const { return records_; }

private:
  enum class State { kStart, kBody, kDone };
  const knot_dname_t *apex_;
  RecordSink &sink_;
  State state_ = State::kStart;
  uint32_t serial_ = 0;
  std::vector<uint8_t> soa_; // rdata of the opening SOA
  size_t records_ = 0;
};

} // namespace holdfast::xfr
