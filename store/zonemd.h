// SPDX-License-Identifier: MIT
// ZONEMD (RFC 8976): the SIMPLE-scheme zone digest, computed while the zone streams past once,
// and its verification against the apex ZONEMD RRset (RFC 8976 4).
//
//   ZonemdDigester d(apex);
//   d.expect(apex_zonemd.rrs);          // first, and only when the apex has a ZONEMD RRset
//   for each RRset in canonical order:  // RFC 4034 6.1 names; types ascending per owner
//     d.add(owner, type, ttl, rrs);     // RRSIGs: one RRset per owner, covered types mixed
//   ZonemdResult r = d.finish(soa_serial);
//
// The digester does the per-RRset work itself: canonical rdata (RFC 4034 6.2 as amended by
// RFC 6840 5.1), canonical RR order and duplicate removal (RFC 4034 6.3), and the exclusions of
// RFC 8976 3.3.1.1 (apex ZONEMD RRset, apex RRSIGs covering ZONEMD, out-of-zone owners).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gnutls/crypto.h>

#include "common/knot.h"

namespace holdfast::store {

enum class ZonemdOutcome : uint8_t {
  kVerified,       // one supported ZONEMD record matched (RFC 8976 4: one is enough)
  kAbsent,         // no ZONEMD RRset at the apex
  kMismatch,       // a usable record's digest differs from the zone's
  kUnsupported,    // ZONEMD present, but no record with a scheme and hash algorithm we compute
  kSerialMismatch, // the supported records name another SOA serial (RFC 8976 4 step 5a)
  kMalformed,      // record too short, wrong digest length, duplicate scheme+hash, bad feed
};

struct ZonemdResult {
  ZonemdOutcome outcome;
  std::string message; // operator-facing; the first reason is the one that decided the outcome
};

// "verified", "absent", "mismatch", ... for logs and counter labels.
const char *zonemd_outcome_name(ZonemdOutcome outcome);

class ZonemdDigester {
public:
  explicit ZonemdDigester(const knot_dname_t *apex);
  ~ZonemdDigester();
  ZonemdDigester(const ZonemdDigester &) = delete;
  ZonemdDigester &operator=(const ZonemdDigester &) = delete;

  // The apex ZONEMD RRset's rdata; decides which digests are computed (SIMPLE with SHA-384
  // and/or SHA-512). Must come before the first add(): apex types below 63 are fed first.
  void expect(const knot_rdataset_t &zonemd_rrs);
  // One RRset of the zone, in canonical order. `ttl` is the RRset's TTL, except that RRSIG RRs
  // are digested with their Original TTL field (see zonemd.cc).
  void add(const knot_dname_t *owner, uint16_t type, uint32_t ttl, const knot_rdataset_t &rrs);
  // Compares the digests with the expected records; soa_serial is the apex SOA serial.
  [[nodiscard]] ZonemdResult finish(uint32_t soa_serial);

private:
  static constexpr size_t kAlgorithms = 2; // SHA-384, SHA-512
  struct Span {
    uint32_t offset; // into rdata_
    uint16_t len;
    uint32_t ttl;
  };

  bool active() const;
  bool in_order(const uint8_t *owner, size_t owner_len, uint16_t type);
  void collect(uint16_t type, uint32_t ttl, const knot_rdataset_t &rrs, bool at_apex);
  void sort_unique();
  void emit(const uint8_t *owner, size_t owner_len, uint16_t type);

  uint8_t apex_[KNOT_DNAME_MAXLEN];
  std::vector<std::vector<uint8_t>> expected_; // apex ZONEMD rdata, duplicates dropped
  gnutls_hash_hd_t hashes_[kAlgorithms] = {};  // null: not needed, or already finished
  bool failed_[kAlgorithms] = {};              // gnutls refused to start or feed this digest
  bool added_ = false;
  bool finished_ = false;
  std::string fault_; // a broken calling contract, reported by finish()

  // The previous RRset, to check the caller's canonical order.
  uint8_t prev_owner_[KNOT_DNAME_MAXLEN];
  uint16_t prev_type_ = 0;
  bool have_prev_ = false;

  // Reused across RRsets so the steady state allocates nothing.
  std::vector<uint8_t> rdata_; // canonical rdata of the current RRset
  std::vector<Span> spans_;    // one per RR, sorted and deduplicated
  std::vector<uint8_t> wire_;  // canonical wire form of the current RRset
};

// Convenience for tests and small zones: the RRsets in any order (one RR each is fine: RRsets
// with equal owner and type are merged, the first one's TTL wins), out-of-zone ones ignored.
// The rrsets are only read; their owners and rdata stay the caller's.
[[nodiscard]] ZonemdResult verify_zonemd(const knot_dname_t *apex,
                                         std::vector<knot_rrset_t> rrsets);

} // namespace holdfast::store
