// SPDX-License-Identifier: MIT
// Per-worker bump arena behind libknot's knot_mm_t: no heap allocation per query, reset per reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/knot.h"

namespace holdfast {

class Arena {
public:
  explicit Arena(size_t block = size_t{64} * 1024) : block_(block) {
    mm_.ctx = this;
    mm_.alloc = &Arena::alloc_cb;
    mm_.free = &Arena::free_cb;
    blocks_.push_back(std::make_unique<std::byte[]>(block_));
  }
  Arena(const Arena &) = delete;
  Arena &operator=(const Arena &) = delete;

  knot_mm_t *mm() { return &mm_; }

  void *alloc(size_t len) {
    len = (len + 15) & ~size_t{15};
    if (used_ + len > block_) {
      // Rare: a reply needed more than one block. Oversized requests get a block of their own.
      size_t size = len > block_ ? len : block_;
      overflow_.push_back(std::make_unique<std::byte[]>(size));
      if (len > block_) {
        return overflow_.back().get();
      }
      current_ = overflow_.back().get();
      used_ = 0;
    }
    void *p = (current_ ? current_ : blocks_[0].get()) + used_;
    used_ += len;
    return p;
  }

  // Forget everything allocated since the last reset; keeps the first block.
  void reset() {
    overflow_.clear();
    current_ = nullptr;
    used_ = 0;
  }

private:
  static void *alloc_cb(void *ctx, size_t len) { return static_cast<Arena *>(ctx)->alloc(len); }
  static void free_cb(void *) {}

  knot_mm_t mm_{};
  size_t block_;
  size_t used_ = 0;
  std::byte *current_ = nullptr;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::vector<std::unique_ptr<std::byte[]>> overflow_;
};

} // namespace holdfast
