// SPDX-License-Identifier: MIT
// The answer policies as pure functions (STYLE.md 13, dnsdist-lbpolicies.cc): (eligible
// members with their Live state and weight, one worker's selector state) -> chosen members.
//
// Which members take part (every policy): the eligible members that are Live::kUp with a
// weight > 0; when there is none, the last resort: members in Live::kDrain or with weight 0;
// Live::kOut never. For srv a weight of 0 is an ordinary SRV weight (RFC 2782), so only
// kDrain is a last resort there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lb/health.h"
#include "lb/spec.h"

namespace holdfast::lb {

// One eligible member as a policy sees it.
struct Candidate {
  uint16_t member = 0; // the caller's index for this member: what the policy returns
  Live live = Live::kUp;
  uint32_t weight = 1;
  unsigned tier = 1;
};

// One worker's selector state for one record in one view (a new view starts fresh).
struct Selector {
  int64_t *current = nullptr; // smooth weighted round-robin: one per candidate, zeroed at start
  uint32_t rotation = 0;      // round-robin and failover: answers so far
};

// The members that take part, as above: true for candidate `c` in the set `c.live` selects.
// `last_resort` is what usable_mode() returned for the whole set.
bool takes_part(const Candidate &c, bool last_resort, bool srv);
// Whether any candidate can answer (false: the pool is down for this record); `last_resort`
// is set when only last-resort members can.
bool usable_mode(std::span<const Candidate> c, bool srv, bool &last_resort);

// Each function writes the chosen member indexes to out (capacity cap >= c.size()) and returns
// how many; 0 when no candidate takes part.

// Smooth weighted round-robin as nginx does it: every answer adds each member's weight to its
// current weight, picks the largest and subtracts the total from it; over any sum(weight)
// consecutive answers each member is picked exactly weight times. `count` > 1 repeats the step
// over the members not picked yet (distinct members). Last-resort members count as weight 1
// when their weight is 0.
size_t pick_weighted(std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
                     size_t cap);
// Every member taking part (at most count; 0 = all), the order rotated by one per answer.
size_t pick_round_robin(std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
                        size_t cap);
// The members taking part of the lowest tier that has one, rotated by one per answer.
size_t pick_failover(std::span<const Candidate> c, Selector &s, uint16_t *out, size_t cap);
// Every member taking part, in config order (SIP clients order by priority = tier themselves).
size_t pick_srv(std::span<const Candidate> c, uint16_t *out, size_t cap);

// Dispatches on the record's policy (count: weighted and round-robin only).
size_t pick(Policy p, std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
            size_t cap);

} // namespace holdfast::lb
