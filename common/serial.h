// SPDX-License-Identifier: MIT
// SOA serial number arithmetic (RFC 1982): serials wrap, so "newer" is a half-circle test.
#pragma once

#include <cstdint>

namespace holdfast {

enum class SerialOrder {
  kEqual,
  kOlder,     // the first serial is behind the second
  kNewer,     // the first serial is ahead of the second
  kUndefined, // exactly 2^31 apart: RFC 1982 3.2 leaves the order undefined
};

// How serial `a` relates to serial `b` (RFC 1982 3.2).
constexpr SerialOrder serial_compare(uint32_t a, uint32_t b) {
  if (a == b) {
    return SerialOrder::kEqual;
  }
  uint32_t ahead = a - b; // modular distance from b forward to a
  if (ahead == uint32_t{1} << 31) {
    return SerialOrder::kUndefined;
  }
  return ahead < (uint32_t{1} << 31) ? SerialOrder::kNewer : SerialOrder::kOlder;
}

// True when the master's serial means there is something to transfer. An undefined distance
// counts as newer, as Knot DNS and NSD do: the operator clearly changed the zone.
constexpr bool serial_is_newer(uint32_t master, uint32_t ours) {
  SerialOrder o = serial_compare(master, ours);
  return o == SerialOrder::kNewer || o == SerialOrder::kUndefined;
}

} // namespace holdfast
