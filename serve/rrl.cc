// SPDX-License-Identifier: MIT
// Response rate limiting: the shared bucket table and its decision (see rrl.h).
#include "serve/rrl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>

#include <cstring>
#include <ctime>
#include <new>
#include <random>

namespace holdfast::serve {
namespace {

// A bucket may run this many seconds of responses ahead (Knot DNS's 4 s window): a client
// that was quiet can send a burst of 4 x rate before it is limited.
constexpr uint64_t kWindowSeconds = 4;
constexpr unsigned kTatBits = 48; // low bits of a bucket word: the arrival time in ticks
constexpr uint64_t kTatMask = (uint64_t{1} << kTatBits) - 1;

int64_t coarse_ns() {
  timespec ts{};
  // A few ms of resolution, and no system call: enough for per-second budgets.
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

void sip_round(uint64_t &v0, uint64_t &v1, uint64_t &v2, uint64_t &v3) {
  v0 += v1;
  v1 = rotl(v1, 13) ^ v0;
  v0 = rotl(v0, 32);
  v2 += v3;
  v3 = rotl(v3, 16) ^ v2;
  v0 += v3;
  v3 = rotl(v3, 21) ^ v0;
  v2 += v1;
  v1 = rotl(v1, 17) ^ v2;
  v2 = rotl(v2, 32);
}

// SipHash (Aumasson, Bernstein 2012) with 1 compression and 3 finalization rounds (SipHash-1-3,
// as Rust's and Python's hash tables use it; Knot DNS keys its RRL table with SipHash-2-4): a
// client cannot choose names that collide without knowing the process's key, at half the cost
// per query. Host byte order: the value is never stored or sent.
uint64_t siphash13(const uint64_t key[2], const uint8_t *in, size_t len) {
  uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL, v1 = key[1] ^ 0x646f72616e646f6dULL;
  uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL, v3 = key[1] ^ 0x7465646279746573ULL;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t m;
    std::memcpy(&m, in + i, 8);
    v3 ^= m;
    sip_round(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t last = uint64_t{len & 0xff} << 56;
  for (size_t j = 0; i + j < len; ++j) {
    last |= uint64_t{in[i + j]} << (8 * j);
  }
  v3 ^= last;
  sip_round(v0, v1, v2, v3);
  v0 ^= last;
  v2 ^= 0xff;
  for (int r = 0; r < 3; ++r) {
    sip_round(v0, v1, v2, v3);
  }
  return v0 ^ v1 ^ v2 ^ v3;
}

// The address as family + 16 bytes; an IPv4-mapped IPv6 address (dual-stack socket) is IPv4.
bool address_bytes(const sockaddr *sa, int &family, uint8_t out[16]) {
  std::memset(out, 0, 16);
  if (sa->sa_family == AF_INET) {
    family = AF_INET;
    std::memcpy(out, &reinterpret_cast<const sockaddr_in *>(sa)->sin_addr, 4);
    return true;
  }
  if (sa->sa_family != AF_INET6) {
    return false;
  }
  const in6_addr &a6 = reinterpret_cast<const sockaddr_in6 *>(sa)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    family = AF_INET;
    std::memcpy(out, a6.s6_addr + 12, 4);
  } else {
    family = AF_INET6;
    std::memcpy(out, a6.s6_addr, 16);
  }
  return true;
}

// The table: a random bucket per query, so in huge pages where the kernel allows (one TLB entry
// for 2 MiB instead of 512), zeroed and touched once here, never on the query path.
std::atomic<uint64_t> *map_table(size_t bytes) {
  void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw std::bad_alloc();
  }
  ::madvise(p, bytes, MADV_HUGEPAGE);
  return static_cast<std::atomic<uint64_t> *>(p);
}

void mask_bits(uint8_t addr[16], unsigned len) {
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = len > 8 * i ? std::min(8u, len - 8 * i) : 0;
    addr[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
}

} // namespace

Result<Prefix> parse_prefix(const std::string &text) {
  Prefix p;
  auto slash = text.find('/');
  std::string host = text.substr(0, slash);
  if (inet_pton(AF_INET, host.c_str(), p.addr) == 1) {
    p.family = AF_INET;
    p.len = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), p.addr) == 1) {
    p.family = AF_INET6;
    p.len = 128;
  } else {
    return fail("'" + text + "' is not an address or prefix like 192.0.2.0/24");
  }
  if (slash != std::string::npos) {
    std::string bits = text.substr(slash + 1);
    unsigned max = p.len, len = 0;
    bool digits = !bits.empty() && bits.size() <= 3 &&
                  bits.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || (len = static_cast<unsigned>(std::stoul(bits))) > max) {
      return fail("'" + text + "': prefix length must be 0 to " + std::to_string(max));
    }
    p.len = static_cast<uint8_t>(len);
  }
  mask_bits(p.addr, p.len);
  return p;
}

bool prefix_contains(const Prefix &p, const sockaddr *addr) {
  int family = 0;
  uint8_t bytes[16];
  if (!address_bytes(addr, family, bytes) || family != p.family) {
    return false;
  }
  mask_bits(bytes, p.len);
  return std::memcmp(bytes, p.addr, 16) == 0;
}

void Rrl::Unmap::operator()(std::atomic<uint64_t> *p) const {
  ::munmap(p, bytes);
}

Rrl::Rrl(const RrlOptions &opts, uint64_t seed)
    : opts_(opts), burst_(uint64_t{opts.rate_limit} * kWindowSeconds), start_ns_(coarse_ns()),
      table_(map_table(std::max<uint32_t>(opts.table_size, 1) * sizeof(uint64_t)),
             Unmap{std::max<uint32_t>(opts.table_size, 1) * sizeof(uint64_t)}) {
  if (seed == 0) {
    std::random_device rd;
    key_[0] = (uint64_t{rd()} << 32) | rd();
    key_[1] = (uint64_t{rd()} << 32) | rd();
  } else {
    key_[0] = seed;
    key_[1] = ~seed;
  }
  opts_.table_size = std::max<uint32_t>(opts.table_size, 1);
  for (uint32_t i = 0; i < opts_.table_size; ++i) {
    table_[i].store(0, std::memory_order_relaxed);
  }
}

uint64_t Rrl::ticks_at(uint64_t ns) const {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * opts_.rate_limit / 1000000000u);
}

uint64_t Rrl::now() const {
  return ticks_at(static_cast<uint64_t>(coarse_ns() - start_ns_));
}

// Knot DNS's key: kind, the client's network (the configured prefix of its address), and a
// name chosen by the caller per kind; names compared without case (RFC 4343).
uint64_t Rrl::hash(const sockaddr *addr, RrlKind kind, const uint8_t *name) const {
  uint8_t buf[2 + 16 + 255];
  int family = 0;
  address_bytes(addr, family, buf + 2);
  mask_bits(buf + 2, family == AF_INET ? opts_.ipv4_prefix : opts_.ipv6_prefix);
  buf[0] = static_cast<uint8_t>(kind);
  buf[1] = static_cast<uint8_t>(family);
  size_t len = 18;
  static const uint8_t kRoot = 0;
  name = name != nullptr ? name : &kRoot;
  // Labels up to the root; length octets (< 64) are below 'A', so one pass lowercases all.
  for (size_t i = 0; i < 255; ++i) {
    uint8_t c = name[i];
    buf[len++] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
    if (c == 0) {
      break;
    }
    for (size_t end = i + c; i < end && i < 254; ++i) {
      c = name[i + 1];
      buf[len++] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
    }
  }
  return siphash13(key_, buf, len);
}

bool Rrl::exempt(const sockaddr *addr) const {
  for (const auto &p : opts_.exempt) {
    if (prefix_contains(p, addr)) {
      return true;
    }
  }
  return false;
}

// GCRA (ITU-T I.371): the bucket remembers when it would be empty again at the allowed rate
// ("theoretical arrival time", one tick per response); a response passes while that lies less
// than the burst ahead of now. A limited response writes nothing, so a flood that is being
// limited only reads its bucket's cache line.
bool Rrl::take(uint64_t h, uint64_t now) const {
  // The bucket from the low 32 bits by multiply-shift (no division), the tag from the top 16.
  std::atomic<uint64_t> &bucket = table_[((h & 0xffffffffu) * opts_.table_size) >> 32];
  uint64_t tag = h >> kTatBits;
  now &= kTatMask;
  uint64_t word = bucket.load(std::memory_order_relaxed);
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t ahead = ((word & kTatMask) - now) & kTatMask;
    // Another key's bucket (it is taken over), or one left behind by now (the difference
    // wraps to a huge value; the rate's worth of slack covers workers' batch clocks).
    if ((word >> kTatBits) != tag || ahead > burst_ + opts_.rate_limit) {
      ahead = 0;
    }
    if (ahead >= burst_) {
      return false;
    }
    uint64_t next = (tag << kTatBits) | ((now + ahead + 1) & kTatMask);
    if (bucket.compare_exchange_weak(word, next, std::memory_order_relaxed)) {
      return true;
    }
  }
  return true; // lost to other workers again and again: answer rather than spin
}

RrlVerdict Rrl::decide(const sockaddr *addr, RrlKind kind, const uint8_t *name, uint64_t now,
                       uint32_t &limited) const {
  if (opts_.rate_limit == 0 || exempt(addr) || take(hash(addr, kind, name), now)) {
    return RrlVerdict::kPass;
  }
  ++limited;
  if (opts_.slip == 0) {
    return RrlVerdict::kDrop;
  }
  return limited % opts_.slip == 0 ? RrlVerdict::kSlip : RrlVerdict::kDrop;
}

} // namespace holdfast::serve
