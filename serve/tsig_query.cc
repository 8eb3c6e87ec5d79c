// SPDX-License-Identifier: MIT
// TSIG on queries (see tsig_query.h).
#include "serve/tsig_query.h"

namespace holdfast::serve {

std::shared_ptr<const TsigKey> TsigKeyring::find(const knot_dname_t *name) const {
  auto keys = keys_.load();
  for (const auto &k : *keys) {
    if (knot_dname_is_case_equal(k->raw()->name, name)) {
      return k;
    }
  }
  return nullptr;
}

TsigVerdict check_query_tsig(const knot_pkt_t *query, const TsigKeyring *ring) {
  TsigVerdict v;
  const knot_rrset_t *tsig = query->tsig_rr;
  v.key = ring != nullptr ? ring->find(tsig->owner) : nullptr;
  if (!v.key) {
    v.error = KNOT_RCODE_BADKEY; // RFC 8945 5.2.1: a key we do not have
    return v;
  }
  // The algorithm must be the key's too (libknot reports a mismatch as BADKEY).
  (void)tsig_server_check(query, *v.key, v.error);
  if (v.error == KNOT_RCODE_BADKEY) {
    v.key.reset();
  }
  return v;
}

size_t tsig_reserve(const knot_pkt_t *query, const TsigVerdict &v) {
  if (v.key) {
    return knot_tsig_wire_maxsize(v.key->raw());
  }
  // The echoed error TSIG: the query's owner and algorithm, no MAC, no other data; RR header
  // (10) + time (6) + fudge, MAC size, original ID, error, other length (2 each).
  const knot_rrset_t *tsig = query->tsig_rr;
  const knot_dname_t *alg = knot_tsig_rdata_alg_name(tsig);
  return knot_dname_size(tsig->owner) + (alg != nullptr ? knot_dname_size(alg) : 1) + 26;
}

size_t sign_answer(uint8_t *wire, size_t len, size_t max, const knot_pkt_t *query,
                   const TsigVerdict &v) {
  size_t n = len;
  Status st = Ok{};
  if (v.key) {
    st = tsig_server_sign(wire, n, max, query, *v.key, v.error);
  } else if (knot_tsig_add(wire, &n, max, v.error, query->tsig_rr) != KNOT_EOK) {
    return len;
  }
  return st ? n : len;
}

} // namespace holdfast::serve
