// SPDX-License-Identifier: MIT
// TSIG on queries (RFC 8945 5.2): the keys a query may be signed with, the check of a signed
// query and the TSIG of its answer. Only signed queries reach this code: the unsigned fast path
// neither locks nor allocates.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/knot.h"
#include "common/tsig.h"

namespace holdfast::serve {

using TsigKeys = std::vector<std::shared_ptr<const TsigKey>>;

// The config's `keys:`, swapped whole by a reload (a worker sees the old set or the new one).
class TsigKeyring {
public:
  TsigKeyring() : keys_(std::make_shared<const TsigKeys>()) {}
  explicit TsigKeyring(TsigKeys keys) : keys_(std::make_shared<const TsigKeys>(std::move(keys))) {}
  void set(TsigKeys keys) { keys_.store(std::make_shared<const TsigKeys>(std::move(keys))); }
  // The key named `name` (TSIG owner; names compare case-insensitively), or null.
  std::shared_ptr<const TsigKey> find(const knot_dname_t *name) const;

private:
  std::atomic<std::shared_ptr<const TsigKeys>> keys_;
};

// What a signed query gets: the key to sign the answer with (null when unknown) and the TSIG
// error (0 = verified).
struct TsigVerdict {
  std::shared_ptr<const TsigKey> key;
  uint16_t error = 0;
};

// RFC 8945 5.2: unknown key or algorithm -> BADKEY, bad MAC -> BADSIG, time outside fudge ->
// BADTIME. `ring` may be null (no keys configured: every key is unknown).
TsigVerdict check_query_tsig(const knot_pkt_t *query, const TsigKeyring *ring);

// Bytes to keep free in the response for its TSIG RR (RFC 8945 5.3: it must fit).
size_t tsig_reserve(const knot_pkt_t *query, const TsigVerdict &v);

// Appends the answer's TSIG after everything else: signed with the key for a verified query
// and for BADTIME (RFC 8945 5.2.3), unsigned (empty MAC) for BADKEY and BADSIG (5.3.2).
// Returns the new size; `len` unchanged when it did not fit.
size_t sign_answer(uint8_t *wire, size_t len, size_t max, const knot_pkt_t *query,
                   const TsigVerdict &v);

} // namespace holdfast::serve
