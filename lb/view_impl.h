// SPDX-License-Identifier: MIT
// The inside of lb::View shared by view.cc (answers, counters) and view_build.cc (build).
#pragma once

#include <string>
#include <vector>

#include "lb/policy.h"
#include "lb/view.h"

namespace holdfast::lb {

inline constexpr const char *kKinds[] = {"fallback", "all", "nodata", "servfail"};

struct View::Name {
  std::vector<uint8_t> apex; // wire, lowercase
  std::string key;           // NameKey bytes
  uint64_t hash = 0;
  int32_t rec[4] = {-1, -1, -1, -1}; // entry index for A, AAAA, CNAME, SRV
};

struct View::Entry {
  const RecordSpec *spec = nullptr;
  Pick down = Pick::kRRset;     // kRRset: answer from cands; kNodata / kServfail: all down
  int kind = -1;                // index in kKinds counted per answer, -1: `pool` answers
  std::vector<Candidate> cands; // Candidate::member = position in cands
  std::vector<std::vector<uint8_t>> rdata;  // per candidate: rdata wire
  std::vector<uint8_t> is_cname;            // per candidate
  std::vector<std::string> ids;             // per candidate: member id
  size_t rot = 0, cur = 0, cnt = 0, fb = 0; // word offsets in a worker block
};

// FNV-1a over the lowercased apex, then the key.
uint64_t name_hash(const uint8_t *apex, size_t apex_len, const std::string_view key);

} // namespace holdfast::lb
