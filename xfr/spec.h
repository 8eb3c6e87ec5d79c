// SPDX-License-Identifier: MIT
// What the config says about secondary zones, as immutable typed values (STYLE.md 9): masters,
// their keys and addresses, per-zone timers and limits, vanity nameserver sets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/endpoint.h"
#include "common/tsig.h"
#include "store/overlay.h"
#include "store/writer.h"

namespace holdfast::xfr {

struct Master {
  std::string id;
  std::vector<Endpoint> addresses;    // tried in order, failing over
  std::shared_ptr<const TsigKey> key; // null: no TSIG
  std::optional<Endpoint> source;     // bind before connecting (port 0 = any)
};

// One vanity nameserver: its name and the addresses served for it.
struct NameServer {
  std::vector<uint8_t> name; // wire format, lowercase
  std::vector<Endpoint> addresses;
};

// Bounds of the transfer driver, shared by every zone (server.soa-timeout, transfer-idle-timeout,
// transfer-timeout, transfers, transfers-per-master). A reload applies them to the operations
// that start after it.
struct Limits {
  uint64_t soa_timeout_ms = 2000;           // one SOA query (UDP, then TCP when truncated)
  uint64_t transfer_idle_ms = 10'000;       // per reply message of a transfer
  uint64_t transfer_timeout_ms = 3'600'000; // a whole transfer, however steadily it arrives
  size_t transfers = 64;                    // zone operations (check + transfer) in flight
  size_t transfers_per_master = 32;         // of those, counted against one master
};

struct ZoneSpec {
  std::string name;          // "example.com."
  std::vector<uint8_t> apex; // wire format, lowercase
  std::vector<std::shared_ptr<const Master>> masters;
  uint64_t refresh_ms = 120'000;
  uint64_t retry_ms = 15'000;
  uint64_t max_size = 0; // bytes of one transfer; 0 = no limit
  // RFC 8976: a transferred zone's ZONEMD is checked before publishing (zones[].zonemd).
  store::ZonemdPolicy zonemd = store::ZonemdPolicy::kVerify;
  std::vector<NameServer> vanity; // empty: the master's apex NS RRset is served
  // Managed names of the traffic layer in this zone (null or empty: none).
  std::shared_ptr<const store::Overlay> overlay;
  // Everything above as text (key secrets included): a reload replaces the zone's controller
  // when it differs, and transfers the zone again when the vanity part (the vanity set and
  // the overlay's fingerprint) differs.
  std::string fingerprint;
  std::string vanity_fingerprint;
};

} // namespace holdfast::xfr
