// SPDX-License-Identifier: MIT
// Wall-clock time for stored timestamps (publish time, snapshot creation).
#pragma once

#include <chrono>
#include <cstdint>

namespace holdfast {

// Unix time in nanoseconds.
inline int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace holdfast
