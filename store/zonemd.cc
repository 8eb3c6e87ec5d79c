// SPDX-License-Identifier: MIT
// ZONEMD digest and verification (see zonemd.h).
#include "store/zonemd.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/dname.h"

namespace holdfast::store {
namespace {

constexpr uint8_t kSchemeSimple = 1; // RFC 8976 5.2
constexpr size_t kFixedLen = 6;      // Serial, Scheme, Hash Algorithm (RFC 8976 2.2)
constexpr size_t kMinDigestLen = 12; // RFC 8976 2.2.4

struct HashAlgorithm {
  uint8_t id; // RFC 8976 5.3
  gnutls_digest_algorithm_t gnutls;
  size_t len; // RFC 8976 2.2.3: never truncated
  const char *name;
};
// The index into this table is the digester's hash slot.
constexpr HashAlgorithm kHashes[] = {
    {1, GNUTLS_DIG_SHA384, 48, "SHA-384"},
    {2, GNUTLS_DIG_SHA512, 64, "SHA-512"},
};
constexpr size_t kMaxDigestLen = 64;

struct Finding {
  ZonemdOutcome outcome;
  std::string text;
};

// The finished digests, one per hash slot.
struct Computed {
  uint8_t digest[std::size(kHashes)][kMaxDigestLen] = {};
  bool ok[std::size(kHashes)] = {};
};

int hash_slot(uint8_t id) {
  for (size_t i = 0; i < std::size(kHashes); ++i) {
    if (kHashes[i].id == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

uint16_t read16(const uint8_t *p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t read32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void put16(std::vector<uint8_t> &out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t> &out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

const knot_rdata_t *next_rdata(const knot_rdata_t *rd) {
  return reinterpret_cast<const knot_rdata_t *>(reinterpret_cast<const uint8_t *>(rd) +
                                                knot_rdata_size(rd->len));
}

std::string type_name(uint16_t type) {
  char buf[32];
  return knot_rrtype_to_string(type, buf, sizeof(buf)) > 0 ? buf : std::to_string(type);
}

// RFC 4034 6.2 item 3, as amended by RFC 6840 5.1 (NSEC is off the list): the domain names in
// the rdata of the listed types are lowercased. libknot's descriptor says where they are. A name
// that does not parse stops the walk and the rest stays as it is: such rdata is corrupt and its
// digest differs anyway, but it must not make us read past the rdata.
void lowercase_names(uint16_t type, uint8_t *rd, size_t len) {
  if (!knot_rrtype_should_be_lowercased(type)) {
    return;
  }
  const knot_rdata_descriptor_t *desc = knot_get_rdata_descriptor(type);
  size_t pos = 0;
  for (int i = 0; i < KNOT_MAX_RDATA_BLOCKS && pos < len; ++i) {
    int block = desc->block_types[i];
    if (block == KNOT_RDATA_WF_END || block == KNOT_RDATA_WF_REMAINDER) {
      return;
    }
    if (block > 0) { // a fixed-size field
      pos += static_cast<size_t>(block);
      continue;
    }
    if (block == KNOT_RDATA_WF_NAPTR_HEADER) {
      // Order and Preference, then the Flags, Services and Regexp strings (RFC 3403 4.1).
      pos += 4;
      for (int s = 0; s < 3 && pos < len; ++s) {
        pos += 1 + size_t{rd[pos]};
      }
      continue;
    }
    int size = knot_dname_wire_check(rd + pos, rd + len, nullptr);
    if (size <= 0) {
      return;
    }
    knot_dname_to_lower(rd + pos);
    pos += static_cast<size_t>(size);
  }
}

// RFC 8976 4 steps 4 and 5 for one apex ZONEMD record; same_kind counts the records of the
// RRset with this record's Scheme and Hash Algorithm (itself included).
Finding judge(const std::vector<uint8_t> &rd, uint32_t soa_serial, size_t same_kind,
              const Computed &computed) {
  if (rd.size() < kFixedLen + kMinDigestLen) {
    return {ZonemdOutcome::kMalformed,
            "ZONEMD record of " + std::to_string(rd.size()) +
                " octets is too short: the digest alone has at least 12 (RFC 8976 2.2.4)"};
  }
  uint32_t serial = read32(rd.data());
  uint8_t scheme = rd[4];
  uint8_t hash = rd[5];
  int slot = scheme == kSchemeSimple ? hash_slot(hash) : -1;
  if (slot < 0) {
    return {ZonemdOutcome::kUnsupported, "scheme " + std::to_string(scheme) +
                                             " with hash algorithm " + std::to_string(hash) +
                                             " is not supported"};
  }
  const HashAlgorithm &alg = kHashes[slot];
  std::string what = "scheme 1, " + std::string(alg.name) + ", serial " + std::to_string(serial);
  if (rd.size() - kFixedLen != alg.len) { // step 5d
    return {ZonemdOutcome::kMalformed, "ZONEMD digest of " + std::to_string(rd.size() - kFixedLen) +
                                           " octets, " + alg.name + " has " +
                                           std::to_string(alg.len) + " (" + what + ")"};
  }
  if (same_kind > 1) { // step 4
    return {ZonemdOutcome::kMalformed, "ZONEMD RRset has " + std::to_string(same_kind) +
                                           " records with scheme 1 and " + alg.name +
                                           ", so none of them counts (RFC 8976 4 step 4)"};
  }
  if (serial != soa_serial) { // step 5a
    return {ZonemdOutcome::kSerialMismatch,
            "ZONEMD serial " + std::to_string(serial) + " differs from the SOA serial " +
                std::to_string(soa_serial) + " (scheme 1, " + alg.name + ")"};
  }
  if (!computed.ok[slot]) {
    return {ZonemdOutcome::kUnsupported,
            std::string("gnutls could not compute ") + alg.name + " (" + what + ")"};
  }
  if (std::memcmp(computed.digest[slot], rd.data() + kFixedLen, alg.len) != 0) {
    return {ZonemdOutcome::kMismatch, "ZONEMD digest mismatch (" + what + ")"};
  }
  return {ZonemdOutcome::kVerified, "ZONEMD verified (" + what + ")"};
}

// Which finding decides the outcome: one match verifies the zone (RFC 8976 4); otherwise the
// most specific failure wins over "could not be done".
int rank(ZonemdOutcome outcome) {
  switch (outcome) {
  case ZonemdOutcome::kVerified:
    return 0;
  case ZonemdOutcome::kMismatch:
    return 1;
  case ZonemdOutcome::kSerialMismatch:
    return 2;
  case ZonemdOutcome::kMalformed:
    return 3;
  case ZonemdOutcome::kUnsupported:
    return 4;
  case ZonemdOutcome::kAbsent:
    return 5;
  }
  return 5;
}

// RFC 8976 4: "the verifier SHOULD report the reason(s)": every record's finding, deciding first.
ZonemdResult summarize(std::vector<Finding> findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding &a, const Finding &b) {
    return rank(a.outcome) < rank(b.outcome);
  });
  ZonemdResult out{findings.front().outcome, {}};
  if (out.outcome == ZonemdOutcome::kUnsupported) {
    // RFC 8976 4 steps 5b/5c: such a zone could not be verified; say so plainly.
    out.message = "ZONEMD not verified: no record uses a supported scheme and hash algorithm "
                  "(SIMPLE with SHA-384 or SHA-512): ";
  }
  for (size_t i = 0; i < findings.size(); ++i) {
    out.message += (i == 0 ? "" : "; ") + findings[i].text;
  }
  return out;
}

} // namespace

const char *zonemd_outcome_name(ZonemdOutcome outcome) {
  switch (outcome) {
  case ZonemdOutcome::kVerified:
    return "verified";
  case ZonemdOutcome::kAbsent:
    return "absent";
  case ZonemdOutcome::kMismatch:
    return "mismatch";
  case ZonemdOutcome::kUnsupported:
    return "unsupported";
  case ZonemdOutcome::kSerialMismatch:
    return "serial-mismatch";
  case ZonemdOutcome::kMalformed:
    return "malformed";
  }
  return "unknown";
}

ZonemdDigester::ZonemdDigester(const knot_dname_t *apex) {
  std::memcpy(apex_, apex, knot_dname_size(apex));
  knot_dname_to_lower(apex_);
}

ZonemdDigester::~ZonemdDigester() {
  for (gnutls_hash_hd_t &h : hashes_) {
    if (h != nullptr) {
      gnutls_hash_deinit(h, nullptr);
    }
  }
}

bool ZonemdDigester::active() const {
  return std::any_of(std::begin(hashes_), std::end(hashes_),
                     [](gnutls_hash_hd_t h) { return h != nullptr; });
}

void ZonemdDigester::expect(const knot_rdataset_t &zonemd_rrs) {
  if (added_ || finished_) {
    fault_ = "the apex ZONEMD RRset was given after the zone's records (internal error)";
    return;
  }
  const knot_rdata_t *rd = zonemd_rrs.rdata;
  for (uint16_t i = 0; i < zonemd_rrs.count; ++i, rd = next_rdata(rd)) {
    std::vector<uint8_t> bytes(rd->data, rd->data + rd->len);
    if (std::find(expected_.begin(), expected_.end(), bytes) != expected_.end()) {
      continue; // the same RR twice is one RR (RFC 2181 5), not two with one scheme and hash
    }
    expected_.push_back(std::move(bytes));
    int slot = rd->len >= kFixedLen && rd->data[4] == kSchemeSimple ? hash_slot(rd->data[5]) : -1;
    if (slot < 0 || hashes_[slot] != nullptr || failed_[slot]) {
      continue;
    }
    if (gnutls_hash_init(&hashes_[slot], kHashes[slot].gnutls) != 0) {
      hashes_[slot] = nullptr;
      failed_[slot] = true;
    }
  }
}

void ZonemdDigester::add(const knot_dname_t *owner, uint16_t type, uint32_t ttl,
                         const knot_rdataset_t &rrs) {
  added_ = true;
  if (!active() || !fault_.empty()) {
    return; // nothing to compute, or the outcome is already decided
  }
  // RFC 8976 3.3.1.1 digests "all records in the zone": out-of-zone data is not (A.2's
  // foo.test.), while glue and occluded data below a delegation are.
  int depth = labels_below(owner, apex_);
  if (depth < 0) {
    return;
  }
  uint8_t lower[KNOT_DNAME_MAXLEN];
  size_t owner_len = knot_dname_size(owner);
  std::memcpy(lower, owner, owner_len);
  knot_dname_to_lower(lower); // RFC 4034 6.2 item 2
  if (!in_order(lower, owner_len, type)) {
    return;
  }
  if (depth == 0 && type == KNOT_RRTYPE_ZONEMD) {
    return; // RFC 8976 3.3.1.1: the apex ZONEMD RRs are placeholders while digesting
  }
  collect(type, ttl, rrs, depth == 0);
  sort_unique();
  emit(lower, owner_len, type);
}

// The digest depends on the order (RFC 8976 3.3.1); a caller that breaks it would make a good
// zone look tampered with, so the break is reported as what it is.
bool ZonemdDigester::in_order(const uint8_t *owner, size_t owner_len, uint16_t type) {
  if (have_prev_) {
    int cmp = knot_dname_cmp(prev_owner_, owner);
    if (cmp > 0 || (cmp == 0 && type <= prev_type_)) {
      fault_ = name_to_string(owner) + " " + type_name(type) + " came after " +
               name_to_string(prev_owner_) + " " + type_name(prev_type_) +
               ": RRsets not fed in canonical order (internal error)";
      return false;
    }
  }
  std::memcpy(prev_owner_, owner, owner_len);
  prev_type_ = type;
  have_prev_ = true;
  return true;
}

void ZonemdDigester::collect(uint16_t type, uint32_t ttl, const knot_rdataset_t &rrs,
                             bool at_apex) {
  rdata_.clear();
  spans_.clear();
  const knot_rdata_t *rd = rrs.rdata;
  for (uint16_t i = 0; i < rrs.count; ++i, rd = next_rdata(rd)) {
    uint32_t rr_ttl = ttl;
    if (type == KNOT_RRTYPE_RRSIG) {
      // RFC 8976 3.3.1.1: the RRSIGs covering the apex ZONEMD are left out. One RRSIG RRset
      // holds every covered type of the owner, so this is decided per RR.
      if (at_apex && rd->len >= 2 && read16(rd->data) == KNOT_RRTYPE_ZONEMD) {
        continue;
      }
      // Each RRSIG RR has the TTL of the RRset it covers (RFC 4034 3), which one RRset TTL
      // cannot carry; in the zone that TTL is also its Original TTL field (RFC 4034 3.1.4).
      if (rd->len >= 8) {
        rr_ttl = read32(rd->data + 4);
      }
    }
    size_t offset = rdata_.size();
    rdata_.insert(rdata_.end(), rd->data, rd->data + rd->len);
    lowercase_names(type, rdata_.data() + offset, rd->len);
    spans_.push_back(Span{static_cast<uint32_t>(offset), rd->len, rr_ttl});
  }
}

// RFC 4034 6.3: RRs in the order of their canonical rdata read as left-justified octet strings
// (a missing octet sorts first); RFC 8976 3.3.1.1: duplicate RRs are digested once.
void ZonemdDigester::sort_unique() {
  const uint8_t *base = rdata_.data();
  auto cmp = [base](const Span &a, const Span &b) {
    size_t common = std::min(a.len, b.len);
    int c = common == 0 ? 0 : std::memcmp(base + a.offset, base + b.offset, common);
    return c != 0 ? c : int{a.len} - int{b.len};
  };
  std::sort(spans_.begin(), spans_.end(),
            [&cmp](const Span &a, const Span &b) { return cmp(a, b) < 0; });
  auto last = std::unique(spans_.begin(), spans_.end(),
                          [&cmp](const Span &a, const Span &b) { return cmp(a, b) == 0; });
  spans_.erase(last, spans_.end());
}

// RFC 8976 3.3.1.2 with RFC 4034 6.2: owner | type | class | TTL | RDLENGTH | RDATA per RR,
// names uncompressed; the whole RRset goes to every digest in progress at once.
void ZonemdDigester::emit(const uint8_t *owner, size_t owner_len, uint16_t type) {
  wire_.clear();
  for (const Span &s : spans_) {
    wire_.insert(wire_.end(), owner, owner + owner_len);
    put16(wire_, type);
    put16(wire_, KNOT_CLASS_IN);
    put32(wire_, s.ttl);
    put16(wire_, s.len);
    wire_.insert(wire_.end(), rdata_.begin() + s.offset, rdata_.begin() + s.offset + s.len);
  }
  if (wire_.empty()) {
    return;
  }
  for (size_t i = 0; i < kAlgorithms; ++i) {
    if (hashes_[i] != nullptr && gnutls_hash(hashes_[i], wire_.data(), wire_.size()) != 0) {
      failed_[i] = true;
    }
  }
}

ZonemdResult ZonemdDigester::finish(uint32_t soa_serial) {
  Computed computed;
  for (size_t i = 0; i < kAlgorithms; ++i) {
    if (hashes_[i] != nullptr) {
      gnutls_hash_deinit(hashes_[i], computed.digest[i]);
      hashes_[i] = nullptr;
      computed.ok[i] = !failed_[i];
    }
  }
  if (finished_) {
    fault_ = "the digest was already finished (internal error)";
  }
  finished_ = true;
  if (!fault_.empty()) {
    return {ZonemdOutcome::kMalformed, "ZONEMD not verified: " + fault_};
  }
  if (expected_.empty()) {
    return {ZonemdOutcome::kAbsent, "no ZONEMD RRset at the apex"};
  }
  std::vector<Finding> findings;
  for (const std::vector<uint8_t> &rd : expected_) {
    size_t same_kind =
        std::count_if(expected_.begin(), expected_.end(), [&rd](const std::vector<uint8_t> &other) {
          return rd.size() >= kFixedLen && other.size() >= kFixedLen && other[4] == rd[4] &&
                 other[5] == rd[5];
        });
    findings.push_back(judge(rd, soa_serial, same_kind, computed));
  }
  return summarize(std::move(findings));
}

namespace {

// One RRset of verify_zonemd's input after merging: knot_rdata_t records back to back, the
// layout of a knot_rdataset_t.
struct Group {
  const knot_dname_t *owner;
  uint16_t type;
  uint32_t ttl;
  size_t count = 0;
  std::vector<uint8_t> rdata;

  knot_rdataset_t view() const {
    return {static_cast<uint16_t>(count), static_cast<uint32_t>(rdata.size()),
            reinterpret_cast<knot_rdata_t *>(const_cast<uint8_t *>(rdata.data()))};
  }
};

// The RRsets in canonical order (RFC 4034 6.1 owner, then type), equal ones merged.
std::vector<Group> group_rrsets(const std::vector<knot_rrset_t> &rrsets) {
  struct Entry {
    std::vector<uint8_t> owner; // lowercased, for knot_dname_cmp's case-sensitive order
    const knot_rrset_t *rrset;
  };
  std::vector<Entry> entries;
  for (const knot_rrset_t &rr : rrsets) {
    Entry e{std::vector<uint8_t>(rr.owner, rr.owner + knot_dname_size(rr.owner)), &rr};
    knot_dname_to_lower(e.owner.data());
    entries.push_back(std::move(e));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    int c = knot_dname_cmp(a.owner.data(), b.owner.data());
    return c != 0 ? c < 0 : a.rrset->type < b.rrset->type;
  });
  std::vector<Group> groups;
  for (size_t i = 0; i < entries.size(); ++i) {
    const knot_rrset_t &rr = *entries[i].rrset;
    if (i == 0 || entries[i].owner != entries[i - 1].owner || rr.type != groups.back().type) {
      groups.push_back(Group{rr.owner, rr.type, rr.ttl, 0, {}});
    }
    const auto *bytes = reinterpret_cast<const uint8_t *>(rr.rrs.rdata);
    groups.back().rdata.insert(groups.back().rdata.end(), bytes, bytes + rr.rrs.size);
    groups.back().count += rr.rrs.count;
  }
  return groups;
}

// The SERIAL field of the first SOA record: after MNAME and RNAME (RFC 1035 3.3.13).
bool soa_serial(const Group &soa, uint32_t &out) {
  const auto *rd = reinterpret_cast<const knot_rdata_t *>(soa.rdata.data());
  const uint8_t *p = rd->data;
  const uint8_t *end = p + rd->len;
  for (int name = 0; name < 2; ++name) {
    int size = knot_dname_wire_check(p, end, nullptr);
    if (size <= 0) {
      return false;
    }
    p += size;
  }
  if (end - p < 4) {
    return false;
  }
  out = read32(p);
  return true;
}

} // namespace

ZonemdResult verify_zonemd(const knot_dname_t *apex, std::vector<knot_rrset_t> rrsets) {
  // Out-of-zone data is not digested (RFC 8976 3.3.1.1); the digester would skip it too.
  std::erase_if(rrsets, [apex](const knot_rrset_t &rr) {
    return rr.owner == nullptr || rr.rrs.count == 0 || labels_below(rr.owner, apex) < 0;
  });
  std::vector<Group> groups = group_rrsets(rrsets);
  const Group *soa = nullptr;
  const Group *zonemd = nullptr;
  for (const Group &g : groups) {
    if (g.count > UINT16_MAX) {
      return {ZonemdOutcome::kMalformed, "ZONEMD not verified: " + name_to_string(g.owner) + " " +
                                             type_name(g.type) + " has more than 65535 records"};
    }
    if (labels_below(g.owner, apex) == 0) {
      soa = g.type == KNOT_RRTYPE_SOA ? &g : soa;
      zonemd = g.type == KNOT_RRTYPE_ZONEMD ? &g : zonemd;
    }
  }
  ZonemdDigester digester(apex);
  if (zonemd != nullptr) {
    digester.expect(zonemd->view());
  }
  for (const Group &g : groups) {
    digester.add(g.owner, g.type, g.ttl, g.view());
  }
  uint32_t serial = 0;
  if (zonemd != nullptr && (soa == nullptr || !soa_serial(*soa, serial))) {
    return {ZonemdOutcome::kMalformed, "ZONEMD not verified: the apex has no readable SOA"};
  }
  return digester.finish(serial);
}

} // namespace holdfast::store
