// SPDX-License-Identifier: MIT
// Query processing: bytes of one DNS query in, bytes of its response out. No sockets here
// (the fuzz target and the unit tests drive it directly); one QueryProcessor per worker.
//
//   parse ─► header/opcode/class checks ─► EDNS ─► find zone ─► answer() ─► encode
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/arena.h"
#include "common/knot.h"
#include "serve/rrl.h"
#include "store/env.h"
#include "store/reader.h"

namespace holdfast::lb {
class View;     // lb/view.h
class ViewSlot; // lb/view_slot.h
} // namespace holdfast::lb

namespace holdfast::serve {

struct Plan;         // serve/answer.h
class NotifyHandler; // serve/notify.h
class TsigKeyring;   // serve/tsig_query.h

struct ServeOptions {
  uint16_t udp_max_payload = 1232; // RFC 6891 6.2.5; the DNS Flag Day 2020 default
  std::string identity;            // CHAOS id.server / hostname.bind ("" = REFUSED)
  std::string version;             // CHAOS version.bind / version.server ("" = REFUSED)
  std::string nsid;                // RFC 5001 NSID payload ("" = not sent)
  NotifyHandler *notify = nullptr; // NOTIFY intake (set by the daemon); none: NOTAUTH
  // Keys that signed queries are checked against (set by the daemon); none: every key BADKEY.
  const TsigKeyring *keys = nullptr;
  const Rrl *rrl = nullptr;        // UDP response rate limiting (set by the daemon when on)
  lb::ViewSlot *lb = nullptr;      // managed names' answers (set by the daemon); none: zone data
};

// What the answers were, per worker (relaxed atomics: monotonic totals read by /metrics).
struct QueryCounters {
  static constexpr size_t kRcodes = 24; // up to BADCOOKIE (RFC 7873); larger ones in the last
  std::atomic<uint64_t> rcode[kRcodes]{};
  std::atomic<uint64_t> qtype[256]{}; // QTYPE < 256; the rest in qtype_other
  std::atomic<uint64_t> qtype_other{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> rrl_limited{0}; // over the rate limit: dropped or slipped
  std::atomic<uint64_t> rrl_slipped{0}; // of those, sent truncated
};

class QueryProcessor {
public:
  QueryProcessor(store::Env &env, const ServeOptions &opts);

  // Read transaction around a batch of queries: never held while waiting for packets.
  // The RRL clock is read here too: once per batch, not per query.
  // The traffic layer's current view is taken here as well (lb/view_slot.h: the view stays
  // valid until end_batch()).
  [[nodiscard]] bool begin_batch() {
    if (opts_.rrl != nullptr) {
      rrl_now_ = opts_.rrl->now();
    }
    if (!txn_.begin()) {
      return false;
    }
    enter_lb();
    return true;
  }
  void end_batch() {
    leave_lb();
    txn_.end();
  }
  // This processor's worker index: its per-worker block in lb views (selector state, counters).
  void set_worker(unsigned index) { worker_ = index; }

  // Writes the response to `out` (capacity `out_cap`, at least 512). Returns its size, or 0 when
  // the packet must be dropped (too short to answer, itself a response, or over TCP with a
  // question that cannot be read). Must be called
  // between begin_batch() and end_batch(). `remote` is the sender (needed for NOTIFY).
  size_t process(const uint8_t *query, size_t len, uint8_t *out, size_t out_cap, bool tcp,
                 const sockaddr *remote = nullptr);
  // The last query could not be parsed (a TCP peer sending it is dropped).
  bool last_malformed() const { return malformed_; }
  const QueryCounters &counters() const { return counters_; }

private:
  size_t respond(uint8_t *query_wire, size_t len, uint8_t *out, size_t out_cap, bool tcp,
                 const sockaddr *remote);
  size_t malformed(knot_pkt_t *query, int parsed, uint8_t *out, size_t out_cap, bool tcp);
  size_t answer_query(const knot_pkt_t *query, knot_pkt_t *resp, knot_rrset_t *opt, bool tcp,
                      bool trailing);
  uint16_t decide(const knot_pkt_t *query, bool tcp, bool trailing, Plan &plan,
                  bool &not_authoritative);
  bool make_opt(const knot_pkt_t *query, knot_rrset_t &opt, knot_mm_t *mm);
  size_t rate_limit(uint8_t *out, size_t len, const sockaddr *remote);
  void enter_lb();
  void leave_lb();

  ServeOptions opts_;
  Arena arena_;
  store::ReadTxn txn_;
  store::Reader reader_;
  bool malformed_ = false;
  bool counted_ = false; // respond() counted this answer's RCODE itself
  QueryCounters counters_;
  // RRL: what the last response was (set by respond()), the batch's clock, limited so far.
  RrlKind rrl_kind_ = RrlKind::kError;
  const uint8_t *rrl_name_ = nullptr;
  uint64_t rrl_now_ = 0;
  uint32_t rrl_limited_ = 0;
  unsigned worker_ = 0;
  const lb::View *lb_view_ = nullptr; // between begin_batch() and end_batch()
  bool lb_entered_ = false;
  uint8_t query_copy_[65535];
};

} // namespace holdfast::serve
