// SPDX-License-Identifier: MIT
// Building a View: each record resolved against its pools' Live states (pool, then each
// fallback, then when-all-down), member rdata precomputed, the name table and the per-worker
// block layout laid out once.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>

#include "lb/view_impl.h"

namespace holdfast::lb {

namespace {

int slot_of(uint16_t type) {
  switch (type) {
  case KNOT_RRTYPE_A:
    return 0;
  case KNOT_RRTYPE_AAAA:
    return 1;
  case KNOT_RRTYPE_CNAME:
    return 2;
  case KNOT_RRTYPE_SRV:
    return 3;
  default:
    return -1;
  }
}

int pool_index(const LbConfig &cfg, const std::string &id) {
  for (size_t i = 0; i < cfg.pools.size(); ++i) {
    if (cfg.pools[i].id == id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Replaces e's candidates with the eligible members of pool `pi` (all_up: as if every one
// were up, for when-all-down: all).
void take_pool(View::Entry &e, const LbConfig &cfg, int pi,
               const std::vector<std::vector<Live>> &live, bool all_up) {
  e.cands.clear();
  e.rdata.clear();
  e.is_cname.clear();
  e.ids.clear();
  if (pi < 0) {
    return;
  }
  const PoolSpec &p = cfg.pools[pi];
  for (size_t mi = 0; mi < p.members.size(); ++mi) {
    const MemberSpec &m = p.members[mi];
    std::vector<uint8_t> rd;
    bool cname = false;
    if (!member_rdata(m, e.spec->type, rd, cname)) {
      continue;
    }
    Live l = Live::kUp;
    if (!all_up && static_cast<size_t>(pi) < live.size() && mi < live[pi].size()) {
      l = live[pi][mi];
    }
    e.cands.push_back(Candidate{static_cast<uint16_t>(e.cands.size()), l, m.weight, m.tier});
    e.rdata.push_back(std::move(rd));
    e.is_cname.push_back(cname ? 1 : 0);
    e.ids.push_back(m.id);
  }
}

bool any_usable(const View::Entry &e) {
  bool lr = false;
  return usable_mode(e.cands, e.spec->policy == Policy::kSrv, lr);
}

// `pool` if it has a member up, else the first fallback pool that has one, else
// when-all-down (LB_PLAN.md "Answer semantics").
void resolve(View::Entry &e, const LbConfig &cfg, const std::vector<std::vector<Live>> &live) {
  take_pool(e, cfg, pool_index(cfg, e.spec->pool), live, false);
  if (any_usable(e)) {
    return;
  }
  for (const auto &fb : e.spec->fallback) {
    take_pool(e, cfg, pool_index(cfg, fb), live, false);
    if (any_usable(e)) {
      e.kind = 0;
      return;
    }
  }
  switch (e.spec->when_all_down) {
  case AllDown::kAll:
    take_pool(e, cfg, pool_index(cfg, e.spec->pool), live, true);
    e.kind = 1;
    return;
  case AllDown::kNodata:
    e.cands.clear();
    e.down = Pick::kNodata;
    e.kind = 2;
    return;
  case AllDown::kServfail:
    e.cands.clear();
    e.down = Pick::kServfail;
    e.kind = 3;
    return;
  }
}

} // namespace

uint64_t name_hash(const uint8_t *apex, size_t apex_len, const std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < apex_len; ++i) {
    uint8_t c = apex[i];
    h = (h ^ static_cast<uint8_t>(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 1099511628211ull;
  }
  for (char c : key) {
    h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  }
  return h ^ (h >> 29);
}

std::unique_ptr<View> View::build(std::shared_ptr<const LbConfig> cfg,
                                  const std::vector<std::vector<Live>> &live, unsigned workers) {
  std::unique_ptr<View> v(new View());
  v->cfg_ = std::move(cfg);
  v->workers_ = workers;
  std::map<std::pair<std::vector<uint8_t>, std::string>, size_t> by_name;
  size_t words = 0;
  for (const auto &r : v->cfg_->records) {
    NameKey key;
    int slot = slot_of(r.type);
    if (slot < 0 || r.zone.empty() || !make_key(r.name.data(), r.zone.data(), key)) {
      continue; // the config checker rejects these; never answer them
    }
    auto [it, added] = by_name.try_emplace({r.zone, std::string(key.view())}, v->names_.size());
    if (added) {
      Name n;
      n.apex = r.zone;
      n.key = std::string(key.view());
      n.hash = name_hash(n.apex.data(), n.apex.size(), n.key);
      v->names_.push_back(std::move(n));
    }
    v->names_[it->second].rec[slot] = static_cast<int32_t>(v->entries_.size());
    Entry e;
    e.spec = &r;
    resolve(e, *v->cfg_, live);
    e.rot = words;
    e.cur = e.rot + 1;
    e.cnt = e.cur + e.cands.size();
    e.fb = e.cnt + e.cands.size();
    words = e.fb + 1;
    v->entries_.push_back(std::move(e));
  }
  size_t size = 8;
  while (size < 2 * v->names_.size()) {
    size *= 2;
  }
  v->table_.assign(size, -1);
  for (size_t i = 0; i < v->names_.size(); ++i) {
    size_t at = v->names_[i].hash & (size - 1);
    while (v->table_[at] >= 0) {
      at = (at + 1) & (size - 1);
    }
    v->table_[at] = static_cast<int32_t>(i);
  }
  v->lines_per_block_ = std::max<size_t>(1, (words + 7) / 8);
  v->lines_.assign(v->lines_per_block_ * (workers + 1), Line{});
  return v;
}

View::~View() = default;

} // namespace holdfast::lb
