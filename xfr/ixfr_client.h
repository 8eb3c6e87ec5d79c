// SPDX-License-Identifier: MIT
// IXFR consumer (RFC 1995 4): tells an up-to-date reply, an incremental one and an AXFR-style
// one apart, composes the difference sequences into a ZoneDiff, and hands an AXFR-style reply
// to an AxfrClient over a full snapshot sink. No I/O here.
//
//   kStart ──SOA N──► kSecond ──SOA ours──► kRemove ──SOA──► kAdd ──SOA N (== to)──► kDone
//                       │                     ▲  └─RR: remove   │ └─RR: add
//                       │                     └──SOA (== to)────┘
//                       ├─other RR, or SOA N again──► AXFR-style: everything to the AxfrClient
//                       └─(end of message, N not newer)──► up to date
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "common/knot.h"

#include "common/result.h"
#include "store/diff.h"
#include "xfr/axfr_client.h"
#include "xfr/sink.h"

namespace holdfast::xfr {

class IxfrClient {
public:
  enum class Kind { kPending, kUpToDate, kIncremental, kFull };
  // Opens the sink for an AXFR-style reply.
  using OpenFull = std::function<Result<RecordSink *>()>;

  IxfrClient(const knot_dname_t *apex, uint32_t ours, const Vanity &vanity, OpenFull open_full);

  // Consumes one reply message (already passed check_reply()).
  Status consume(const knot_pkt_t *pkt);
  bool done() const;
  Kind kind() const { return kind_; }
  uint32_t serial() const { return serial_; }
  // Valid for kIncremental.
  store::ZoneDiff &diff() { return diff_; }
  // Valid for kFull.
  AxfrClient *full() { return full_.get(); }

private:
  enum class State { kStart, kSecond, kRemove, kAdd, kDone, kFull };
  Status record(const knot_rrset_t &rr);
  Status start_full(const knot_rrset_t &second);
  Status change(const knot_rrset_t &rr, bool add);

  const knot_dname_t *apex_;
  uint32_t ours_;
  const Vanity &vanity_;
  OpenFull open_full_;
  State state_ = State::kStart;
  Kind kind_ = Kind::kPending;
  uint32_t serial_ = 0;  // the master's serial (first SOA)
  uint32_t seq_to_ = 0;  // serial the current sequence goes to
  knot_rrset_t first_{}; // the opening SOA, kept until the second record decides the kind
  std::vector<uint8_t> first_rdata_;
  store::ZoneDiff diff_;
  std::unique_ptr<AxfrClient> full_;
};

} // namespace holdfast::xfr
