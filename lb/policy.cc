// SPDX-License-Identifier: MIT
// The answer policies (see policy.h): weighted, round-robin, failover, srv.
#include "lb/policy.h"

#include <algorithm>

namespace holdfast::lb {

namespace {

bool last_resort_member(const Candidate &c, bool srv) {
  return c.live == Live::kDrain || (!srv && c.weight == 0);
}

bool already(const uint16_t *out, size_t n, uint16_t member) {
  return std::find(out, out + n, member) != out + n;
}

// Rotates out[0, n) left by rotation % n and keeps at most `count` (0 = all).
size_t rotate_keep(uint16_t *out, size_t n, uint32_t rotation, unsigned count) {
  if (n == 0) {
    return 0;
  }
  std::rotate(out, out + rotation % n, out + n);
  return count == 0 ? n : std::min<size_t>(n, count);
}

} // namespace

bool takes_part(const Candidate &c, bool last_resort, bool srv) {
  if (c.live == Live::kOut) {
    return false;
  }
  // In last-resort mode no ordinary member is up, so every member not out takes part.
  return last_resort || !last_resort_member(c, srv);
}

bool usable_mode(std::span<const Candidate> c, bool srv, bool &last_resort) {
  bool any = false;
  last_resort = true;
  for (const auto &m : c) {
    if (m.live == Live::kOut) {
      continue;
    }
    any = true;
    if (!last_resort_member(m, srv)) {
      last_resort = false;
      break;
    }
  }
  return any;
}

size_t pick_weighted(std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
                     size_t cap) {
  bool lr = false;
  if (!usable_mode(c, false, lr)) {
    return 0;
  }
  size_t want = std::min<size_t>(count == 0 ? c.size() : count, cap);
  size_t n = 0;
  while (n < want) {
    int64_t total = 0;
    size_t best = c.size();
    for (size_t i = 0; i < c.size(); ++i) {
      if (!takes_part(c[i], lr, false) || already(out, n, c[i].member)) {
        continue;
      }
      int64_t w = c[i].weight == 0 ? 1 : c[i].weight;
      s.current[i] += w;
      total += w;
      if (best == c.size() || s.current[i] > s.current[best]) {
        best = i;
      }
    }
    if (best == c.size()) {
      break;
    }
    s.current[best] -= total;
    out[n++] = c[best].member;
  }
  return n;
}

size_t pick_round_robin(std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
                        size_t cap) {
  bool lr = false;
  if (!usable_mode(c, false, lr)) {
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < c.size() && n < cap; ++i) {
    if (takes_part(c[i], lr, false)) {
      out[n++] = c[i].member;
    }
  }
  return rotate_keep(out, n, s.rotation++, count);
}

size_t pick_failover(std::span<const Candidate> c, Selector &s, uint16_t *out, size_t cap) {
  bool lr = false;
  if (!usable_mode(c, false, lr)) {
    return 0;
  }
  unsigned tier = ~0u;
  for (const auto &m : c) {
    if (takes_part(m, lr, false)) {
      tier = std::min(tier, m.tier);
    }
  }
  size_t n = 0;
  for (size_t i = 0; i < c.size() && n < cap; ++i) {
    if (c[i].tier == tier && takes_part(c[i], lr, false)) {
      out[n++] = c[i].member;
    }
  }
  return rotate_keep(out, n, s.rotation++, 0);
}

size_t pick_srv(std::span<const Candidate> c, uint16_t *out, size_t cap) {
  bool lr = false;
  if (!usable_mode(c, true, lr)) {
    return 0;
  }
  size_t n = 0;
  for (size_t i = 0; i < c.size() && n < cap; ++i) {
    if (takes_part(c[i], lr, true)) {
      out[n++] = c[i].member;
    }
  }
  return n;
}

size_t pick(Policy p, std::span<const Candidate> c, unsigned count, Selector &s, uint16_t *out,
            size_t cap) {
  switch (p) {
  case Policy::kWeighted:
    return pick_weighted(c, count, s, out, cap);
  case Policy::kRoundRobin:
    return pick_round_robin(c, count, s, out, cap);
  case Policy::kFailover:
    return pick_failover(c, s, out, cap);
  case Policy::kSrv:
    return pick_srv(c, out, cap);
  }
  return 0;
}

} // namespace holdfast::lb
