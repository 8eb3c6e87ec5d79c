// SPDX-License-Identifier: MIT
// Answers from a View (find a managed name, run its record's policy into the arena) and its
// per-worker counters. See view.h; the build is in view_build.cc.
#include <atomic>
#include <cstring>
#include <unordered_map>

#include "lb/view_impl.h"

namespace holdfast::lb {

namespace {

bool apex_equal(const std::vector<uint8_t> &a, const uint8_t *b, size_t b_len) {
  if (a.size() != b_len) {
    return false;
  }
  for (size_t i = 0; i < b_len; ++i) {
    uint8_t c = b[i];
    if (a[i] != (c >= 'A' && c <= 'Z' ? c + 32 : c)) {
      return false;
    }
  }
  return true;
}

// Each worker is the only writer of its block: a relaxed load and store (no locked
// instruction) keeps the counter readable by the control side. The shared block (workers
// beyond the configured number) has several writers and adds atomically.
void bump(uint64_t &word, bool shared) {
  std::atomic_ref<uint64_t> a(word);
  if (shared) {
    a.fetch_add(1, std::memory_order_relaxed);
  } else {
    a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
}

void *arena_alloc(knot_mm_t *mm, size_t len) {
  return mm->alloc(mm->ctx, len);
}

// The rdataset of the chosen candidates, in the order chosen (not sorted: the rotation is
// the point), libknot layout: each rdata is len(2) data padded to an even size.
knot_rdataset_t make_rrs(const View::Entry &e, const uint16_t *idx, size_t n, knot_mm_t *mm) {
  knot_rdataset_t rrs{};
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    total += knot_rdata_size(static_cast<uint16_t>(e.rdata[idx[i]].size()));
  }
  auto *p = static_cast<uint8_t *>(arena_alloc(mm, total));
  if (p == nullptr) {
    return rrs;
  }
  rrs.rdata = reinterpret_cast<knot_rdata_t *>(p);
  for (size_t i = 0; i < n; ++i) {
    const auto &rd = e.rdata[idx[i]];
    auto *r = reinterpret_cast<knot_rdata_t *>(p);
    knot_rdata_init(r, static_cast<uint16_t>(rd.size()), rd.data());
    p += knot_rdata_size(r->len);
  }
  rrs.count = static_cast<uint16_t>(n);
  rrs.size = static_cast<uint32_t>(total);
  return rrs;
}

} // namespace

const char *type_label(uint16_t type) {
  switch (type) {
  case KNOT_RRTYPE_A:
    return "A";
  case KNOT_RRTYPE_AAAA:
    return "AAAA";
  case KNOT_RRTYPE_CNAME:
    return "CNAME";
  case KNOT_RRTYPE_SRV:
    return "SRV";
  default:
    return "?";
  }
}

const View::Name *View::find(const uint8_t *apex_wire, const NameKey &key) const {
  if (names_.empty() || apex_wire == nullptr) {
    return nullptr;
  }
  size_t apex_len = knot_dname_size(apex_wire);
  uint64_t h = name_hash(apex_wire, apex_len, key.view());
  size_t mask = table_.size() - 1;
  for (size_t at = h & mask;; at = (at + 1) & mask) {
    int32_t i = table_[at];
    if (i < 0) {
      return nullptr; // the table is at most half full: an empty slot always ends the probe
    }
    const Name &n = names_[i];
    if (n.hash == h && n.key == key.view() && apex_equal(n.apex, apex_wire, apex_len)) {
      return &n;
    }
  }
}

// A managed CNAME answers every qtype; else the record of type qtype; ANY: the first of A,
// AAAA, SRV configured (RFC 8482 lets a server answer ANY with a subset).
int View::entry_for(const Name &n, uint16_t qtype) const {
  if (n.rec[2] >= 0) {
    return n.rec[2];
  }
  switch (qtype) {
  case KNOT_RRTYPE_A:
    return n.rec[0];
  case KNOT_RRTYPE_AAAA:
    return n.rec[1];
  case KNOT_RRTYPE_SRV:
    return n.rec[3];
  case KNOT_RRTYPE_ANY:
    return n.rec[0] >= 0 ? n.rec[0] : n.rec[1] >= 0 ? n.rec[1] : n.rec[3];
  default:
    return -1;
  }
}

uint64_t *View::block(unsigned worker) const {
  size_t b = worker < workers_ ? worker : workers_;
  return lines_[b * lines_per_block_].w;
}

Answer View::answer(const Name &n, uint16_t qtype, unsigned worker, knot_mm_t *mm) const {
  int i = entry_for(n, qtype);
  if (i < 0) {
    return Answer{};
  }
  const Entry &e = entries_[i];
  uint64_t *blk = block(worker);
  bool shared = worker >= workers_;
  if (e.kind >= 0) {
    bump(blk[e.fb], shared);
  }
  if (e.down != Pick::kRRset) {
    return Answer{e.down, e.spec->type, e.spec->ttl, {}};
  }
  return run(e, blk, shared, mm);
}

Answer View::run(const Entry &e, uint64_t *blk, bool shared, knot_mm_t *mm) const {
  size_t n = e.cands.size();
  auto *cur = static_cast<int64_t *>(arena_alloc(mm, n * sizeof(int64_t) + 8));
  auto *out = static_cast<uint16_t *>(arena_alloc(mm, n * sizeof(uint16_t) + 2));
  if (cur == nullptr || out == nullptr) {
    return Answer{Pick::kServfail, e.spec->type, e.spec->ttl, {}};
  }
  // The selector state is copied through relaxed atomics: only the shared block has several
  // writers, where a lost update merely skews one rotation.
  Selector s;
  s.current = cur;
  std::atomic_ref<uint64_t> rot(blk[e.rot]);
  s.rotation = static_cast<uint32_t>(rot.load(std::memory_order_relaxed));
  for (size_t i = 0; i < n; ++i) {
    cur[i] = static_cast<int64_t>(
        std::atomic_ref<uint64_t>(blk[e.cur + i]).load(std::memory_order_relaxed));
  }
  size_t k = pick(e.spec->policy, e.cands, e.spec->count, s, out, n);
  rot.store(s.rotation, std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i) {
    std::atomic_ref<uint64_t>(blk[e.cur + i])
        .store(static_cast<uint64_t>(cur[i]), std::memory_order_relaxed);
  }
  if (k == 0) {
    return Answer{Pick::kNodata, e.spec->type, e.spec->ttl, {}};
  }
  Answer a{Pick::kRRset, e.spec->type, e.spec->ttl, {}};
  if (e.is_cname[out[0]] || e.spec->type == KNOT_RRTYPE_CNAME) {
    // A chosen cname member answers alone (a CNAME is the only record at its owner).
    a.pick = Pick::kCname;
    a.type = KNOT_RRTYPE_CNAME;
    k = 1;
  } else {
    size_t kept = 0; // an address answer leaves out cname members picked after the first
    for (size_t i = 0; i < k; ++i) {
      if (!e.is_cname[out[i]]) {
        out[kept++] = out[i];
      }
    }
    k = kept;
  }
  for (size_t i = 0; i < k; ++i) {
    bump(blk[e.cnt + out[i]], shared);
  }
  a.rrs = make_rrs(e, out, k, mm);
  return a;
}

void View::add_counts(std::vector<AnswerCount> &answers,
                      std::vector<FallbackCount> &fallbacks) const {
  std::vector<AnswerCount> a;
  std::vector<FallbackCount> f;
  auto sum = [&](size_t word) {
    uint64_t total = 0;
    for (unsigned b = 0; b <= workers_; ++b) {
      total += std::atomic_ref<uint64_t>(lines_[b * lines_per_block_].w[word])
                   .load(std::memory_order_relaxed);
    }
    return total;
  };
  for (const auto &e : entries_) {
    const char *type = type_label(e.spec->type);
    for (size_t i = 0; i < e.cands.size(); ++i) {
      a.push_back(AnswerCount{e.spec->name_text, type, e.ids[i], sum(e.cnt + i)});
    }
    if (e.kind >= 0) {
      f.push_back(FallbackCount{e.spec->name_text, type, kKinds[e.kind], sum(e.fb)});
    }
  }
  merge_counts(answers, a);
  merge_counts(fallbacks, f);
}

namespace {

template <typename T, typename KeyFn>
void merge_by(std::vector<T> &dst, const std::vector<T> &src, KeyFn key) {
  std::unordered_map<std::string, size_t> at;
  for (size_t i = 0; i < dst.size(); ++i) {
    at.emplace(key(dst[i]), i);
  }
  for (const auto &s : src) {
    auto [it, added] = at.try_emplace(key(s), dst.size());
    if (added) {
      dst.push_back(s);
    } else {
      dst[it->second].count += s.count;
    }
  }
}

} // namespace

void merge_counts(std::vector<AnswerCount> &dst, const std::vector<AnswerCount> &src) {
  merge_by(dst, src, [](const AnswerCount &c) { return c.name + '\0' + c.type + '\0' + c.member; });
}

void merge_counts(std::vector<FallbackCount> &dst, const std::vector<FallbackCount> &src) {
  merge_by(dst, src, [](const FallbackCount &c) { return c.name + '\0' + c.type + '\0' + c.kind; });
}

} // namespace holdfast::lb
