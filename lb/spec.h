// SPDX-License-Identifier: MIT
// What the config says about traffic management (`checks:`, `pools:`, `records:`), as immutable
// typed values (STYLE.md 9). The daemon's loader fills them; lb/ never sees YAML.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/endpoint.h"

namespace holdfast::lb {

enum class CheckType : uint8_t { kHttp, kHttps, kTcp, kTls };
enum class Method : uint8_t { kGet, kPost };

// One `expect-status` entry: a code (lo == hi), a range ("200-399") or a class ("2xx").
struct StatusRange {
  uint16_t lo = 200;
  uint16_t hi = 299;
};

struct CheckSpec {
  std::string id;
  CheckType type = CheckType::kHttp;
  uint16_t port = 80; // http 80, https 443 by default; required for tcp and tls
  std::string path = "/";
  Method method = Method::kGet;
  std::string body;                                         // POST body
  std::vector<std::pair<std::string, std::string>> headers; // as written, in order
  std::string host; // Host header, SNI, certificate name; empty: the probed address
  std::vector<StatusRange> expect_status{StatusRange{}};
  std::string expect_body; // substring of the first 64 KiB (tcp/tls: of the reply to `send`)
  std::string send;        // tcp/tls: written after connecting
  std::string tls_ca;      // CA bundle path (absolute); empty: the system store
  bool tls_verify = true;
  uint64_t interval_ms = 5000;
  uint64_t timeout_ms = 2000;
  unsigned fall = 3; // consecutive failures before a member is down
  unsigned rise = 2; // consecutive successes before it is up again
  std::optional<Endpoint> source; // local address to probe from (port 0)
  int line = 0;                   // of `id:` in the config, for messages
};

enum class Reintegrate : uint8_t { kAuto, kManual };

struct MemberSpec {
  std::string id;
  std::optional<Endpoint> address; // A (IPv4) or AAAA (IPv6) answer; port unused
  std::vector<uint8_t> cname;      // wire, lowercase: answered as a CNAME
  std::vector<uint8_t> target;     // wire, lowercase: SRV target
  uint16_t port = 0;               // SRV port
  uint32_t weight = 1;             // weighted share; SRV weight
  unsigned tier = 1;               // failover tier, SRV priority (1 = primary)
  std::optional<Endpoint> check_address; // probed instead of `address`
  std::string check;                     // the member's own check id; empty: the pool's
  // The address probed: check_address, else address; none: the member is always up.
  const Endpoint *probe_address() const {
    return check_address ? &*check_address : address ? &*address : nullptr;
  }
};

struct PoolSpec {
  std::string id;
  std::string check; // empty: no check, every member is always up
  Reintegrate reintegrate = Reintegrate::kAuto;
  std::vector<MemberSpec> members;
  int line = 0;
};

enum class Policy : uint8_t { kWeighted, kRoundRobin, kFailover, kSrv };
enum class AllDown : uint8_t { kAll, kNodata, kServfail };

struct RecordSpec {
  std::string name_text;     // as written, for messages and metric labels ("www.example.com.")
  std::vector<uint8_t> name; // wire, lowercase
  std::vector<uint8_t> zone; // apex of the configured zone it lies in (wire, lowercase)
  uint16_t type = 0;         // KNOT_RRTYPE_A, AAAA, CNAME or SRV
  std::string pool;
  Policy policy = Policy::kWeighted;
  unsigned count = 1; // members per answer (weighted default 1, round-robin 8, others: all)
  uint32_t ttl = 60;  // seconds
  std::vector<std::string> fallback; // pool ids tried in order when `pool` has no member up
  AllDown when_all_down = AllDown::kAll;
  int line = 0;
};

struct LbConfig {
  std::vector<CheckSpec> checks;
  std::vector<PoolSpec> pools;
  std::vector<RecordSpec> records;
  bool empty() const { return records.empty() && pools.empty() && checks.empty(); }
  const CheckSpec *check(const std::string &id) const;
  const PoolSpec *pool(const std::string &id) const;
};

// The member's rdata in a record of `type` (A, AAAA, CNAME, SRV); false when the member is not
// eligible for it (A: an IPv4 address or a cname; AAAA: IPv6 or cname; CNAME: cname; SRV:
// target). `cname` says the rdata is the member's alias target.
bool member_rdata(const MemberSpec &m, uint16_t type, std::vector<uint8_t> &out, bool &cname);

// Text of everything that defines a check's probes: a reload keeps the health state of
// (check, address) pairs whose check is unchanged.
std::string fingerprint(const CheckSpec &c);

} // namespace holdfast::lb
