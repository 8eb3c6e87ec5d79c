// SPDX-License-Identifier: MIT
// Refresh and retry delays (see timing.h).
#include "xfr/timing.h"

#include <algorithm>

namespace holdfast::xfr {

uint64_t mix(uint64_t seed, uint64_t round) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (round + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t next_refresh_ms(uint64_t refresh_ms, uint64_t seed, uint64_t round) {
  uint64_t spread = refresh_ms / 10;
  return refresh_ms - (spread == 0 ? 0 : mix(seed, round) % (spread + 1));
}

uint64_t next_retry_ms(uint64_t retry_ms, uint64_t refresh_ms, unsigned failures, uint64_t seed) {
  uint64_t delay = retry_ms;
  for (unsigned i = 1; i < failures && delay < refresh_ms; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, std::max(refresh_ms, retry_ms));
  uint64_t spread = delay / 10;
  return delay - (spread == 0 ? 0 : mix(seed, failures) % (spread + 1));
}

uint64_t first_check_ms(uint64_t refresh_ms, uint64_t seed) {
  uint64_t window = std::min<uint64_t>(refresh_ms, 1000);
  return window == 0 ? 0 : mix(seed, 0) % window;
}

uint64_t first_transfer_ms(uint64_t refresh_ms, size_t zones, uint64_t seed) {
  uint64_t window = std::min<uint64_t>(refresh_ms, zones);
  return window <= 1 ? 0 : mix(seed, 0) % window;
}

} // namespace holdfast::xfr
