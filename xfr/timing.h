// SPDX-License-Identifier: MIT
// Pure timing math for the refresh controller (STYLE.md 5): when to poll next.
//
// Polls are spread: each is shortened by a per-zone pseudo-random amount of up to 10 %, so
// zones configured together drift apart instead of polling in lockstep. Failures back off from
// `retry`, doubling per consecutive failure, capped at `refresh`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace holdfast::xfr {

// A stable 64-bit mix of a seed and a round number (splitmix64), for jitter.
uint64_t mix(uint64_t seed, uint64_t round);

// Delay until the next poll after a successful check.
uint64_t next_refresh_ms(uint64_t refresh_ms, uint64_t seed, uint64_t round);

// Delay until the next attempt after `failures` (>= 1) consecutive failed checks.
uint64_t next_retry_ms(uint64_t retry_ms, uint64_t refresh_ms, unsigned failures, uint64_t seed);

// Delay of the first check after start: soon, but spread over up to a second so that many
// zones do not hit their masters at the same instant.
uint64_t first_check_ms(uint64_t refresh_ms, uint64_t seed);

// Delay of the first check of a zone that has no snapshot yet (nothing is served until it is
// transferred): none for a lone zone, spread over 1 ms per zone being started, so a fresh start
// of many zones does not open every connection to the masters at once.
uint64_t first_transfer_ms(uint64_t refresh_ms, size_t zones, uint64_t seed);

} // namespace holdfast::xfr
