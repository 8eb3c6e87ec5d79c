// SPDX-License-Identifier: MIT
// Response rate limiting (RRL) for UDP, as Knot DNS and BIND do it: a limit of responses per
// second per (client network, response kind, name), so that holdfast cannot be used to reflect
// and amplify traffic towards a spoofed address. Every Nth limited response "slips" out
// truncated (TC=1, RFC 1035 4.2.1 / RFC 7766 5: a real client retries over TCP, which is never
// limited); the others are dropped.
//
// One fixed table, allocated at start and shared by every worker: each bucket is one 64-bit
// word updated lock-free (relaxed compare-and-swap), holding a 16-bit tag of the key and a GCRA
// "theoretical arrival time" in ticks of 1/rate s (a token bucket with one number of state). A
// key is hashed (SipHash-1-3, a per-process random key) to its bucket; another key in the same
// bucket takes it over. No lock, no allocation on the query path.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace holdfast::serve {

// An address prefix ("192.0.2.0/24", "2001:db8::/32", a bare address is a host).
struct Prefix {
  int family = AF_INET;
  uint8_t addr[16] = {};
  uint8_t len = 32;
  bool operator==(const Prefix &) const = default;
};
Result<Prefix> parse_prefix(const std::string &text);
bool prefix_contains(const Prefix &p, const sockaddr *addr);

struct RrlOptions {
  uint32_t rate_limit = 0; // responses per second per key; 0 = off
  uint32_t slip = 2;       // every Nth limited response is truncated; 0 = drop all
  uint8_t ipv4_prefix = 24;
  uint8_t ipv6_prefix = 56;
  uint32_t table_size = 393241; // buckets (Knot DNS's default)
  std::vector<Prefix> exempt;   // never limited
  bool operator==(const RrlOptions &) const = default;
};

// What a response is, for limiting (Knot DNS's classes, BIND's response types): each kind of a
// network has its own budget, so a flood of NXDOMAINs does not starve the answers.
enum class RrlKind : uint8_t { kAnswer, kNodata, kNxdomain, kReferral, kError };

enum class RrlVerdict : uint8_t { kPass, kSlip, kDrop };

class Rrl {
public:
  // `seed` keys the hash; 0 draws a random one (tests pass a fixed one).
  explicit Rrl(const RrlOptions &opts, uint64_t seed = 0);

  // The coarse monotonic clock in ticks of 1/rate s: read once per batch of packets.
  uint64_t now() const;
  // Ticks at `ns` nanoseconds after the table was created (for tests).
  uint64_t ticks_at(uint64_t ns) const;

  // Counts one response of `kind` for `name` (wire format, any case; the question name, the
  // zone apex or the delegation point, see query.cc) to client `addr` at time `now`.
  // `limited` is the caller's count of limited responses (one per worker: it decides which
  // of them slip without a shared write).
  RrlVerdict decide(const sockaddr *addr, RrlKind kind, const uint8_t *name, uint64_t now,
                    uint32_t &limited) const;

  const RrlOptions &options() const { return opts_; }

private:
  uint64_t hash(const sockaddr *addr, RrlKind kind, const uint8_t *name) const;
  bool exempt(const sockaddr *addr) const;
  bool take(uint64_t h, uint64_t now) const; // false: over the limit

  RrlOptions opts_;
  uint64_t key_[2];
  uint64_t burst_; // ticks a bucket may run ahead of now: rate x window
  int64_t start_ns_;
  struct Unmap {
    size_t bytes;
    void operator()(std::atomic<uint64_t> *p) const;
  };
  std::unique_ptr<std::atomic<uint64_t>[], Unmap> table_;
};

} // namespace holdfast::serve
