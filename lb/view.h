// SPDX-License-Identifier: MIT
// The immutable traffic-management view serve answers from: every managed name with the
// members that answer it right now, built on the control loop at each state change and
// published to workers through lb::ViewSlot (view_slot.h).
//
// Built once, then read by every worker without locks: find() and answer() do not allocate
// (rdata go to the per-query arena). Per-worker selector state (smooth weighted round-robin
// current weights, rotation offsets) and answer counters live in per-worker cache-line
// blocks allocated at build time; each worker writes only its own block, so a new view
// starts selection fresh.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/dname.h"
#include "common/knot.h"
#include "lb/health.h"
#include "lb/spec.h"
#include "lb/status.h"

namespace holdfast::lb {

// What serve does with a managed name (LB_PLAN.md "Answer semantics").
enum class Pick : uint8_t {
  kZone,    // this qtype is not managed at this name: answer from the zone's data
  kRRset,   // answer `rrs` of `type` with TTL `ttl`
  kCname,   // one CNAME rdata in `rrs`: put it and follow the chain in-zone
  kNodata,  // every pool down and when-all-down: nodata
  kServfail // every pool down and when-all-down: servfail
};

struct Answer {
  Pick pick = Pick::kZone;
  uint16_t type = 0;
  uint32_t ttl = 0;
  knot_rdataset_t rrs{}; // libknot layout, allocated in the arena passed to answer()
};

class View {
public:
  struct Name;  // one managed owner name (opaque to serve)
  struct Entry; // one configured record, resolved against the members' Live states

  // `live` is [pool index][member index] in config order; missing entries count as kUp.
  // `workers`: serve workers (indexes 0..workers-1 get blocks of their own).
  static std::unique_ptr<View> build(std::shared_ptr<const LbConfig> cfg,
                                     const std::vector<std::vector<Live>> &live, unsigned workers);
  ~View();
  View(const View &) = delete;
  View &operator=(const View &) = delete;

  bool empty() const { return names_.empty(); }
  const LbConfig &config() const { return *cfg_; }

  // The managed name at `key` (make_key relative to the apex) in the zone `apex_wire`, or
  // nullptr. No allocation; one hash over the apex and key, then usually one probe.
  const Name *find(const uint8_t *apex_wire, const NameKey &key) const;

  // The answer for qtype at n, by `worker` (>= workers: a shared block, atomically updated).
  // `mm` is the per-query arena (required): the rdataset and scratch space come from it.
  Answer answer(const Name &n, uint16_t qtype, unsigned worker, knot_mm_t *mm) const;

  // Adds this view's counters (summed over workers) to the vectors, merging equal labels.
  void add_counts(std::vector<AnswerCount> &answers, std::vector<FallbackCount> &fallbacks) const;

private:
  View() = default;
  int entry_for(const Name &n, uint16_t qtype) const;
  uint64_t *block(unsigned worker) const;
  Answer run(const Entry &e, uint64_t *blk, bool shared, knot_mm_t *mm) const;

  struct alignas(64) Line {
    uint64_t w[8];
  };
  std::shared_ptr<const LbConfig> cfg_;
  std::vector<Name> names_;
  std::vector<int32_t> table_; // open addressing over names_, -1 = empty; size a power of two
  std::vector<Entry> entries_;
  unsigned workers_ = 0;
  size_t lines_per_block_ = 1;
  mutable std::vector<Line> lines_; // (workers_ + 1) blocks; the last one is shared
};

// "A", "AAAA", "CNAME", "SRV" (metric label).
const char *type_label(uint16_t type);

// Adds src's counts to dst, merging entries with equal labels.
void merge_counts(std::vector<AnswerCount> &dst, const std::vector<AnswerCount> &src);
void merge_counts(std::vector<FallbackCount> &dst, const std::vector<FallbackCount> &src);

} // namespace holdfast::lb
