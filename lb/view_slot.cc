// SPDX-License-Identifier: MIT
// Publishing views to workers and reclaiming retired ones (protocol in view_slot.h).
#include "lb/view_slot.h"

namespace holdfast::lb {

ViewSlot::ViewSlot(unsigned workers)
    : workers_(workers == 0 ? 1 : workers), slots_(new Slot[workers_]) {}

ViewSlot::~ViewSlot() {
  delete current_.load();
}

void ViewSlot::publish(std::unique_ptr<View> v) {
  const View *old = current_.exchange(v.release(), std::memory_order_seq_cst); // (a)
  uint64_t tag = epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;           // (b)
  if (old != nullptr) {
    retired_.emplace_back(std::unique_ptr<const View>(old), tag);
  }
}

void ViewSlot::reclaim(const std::function<void(const View &)> &before_delete) {
  if (retired_.empty()) {
    return;
  }
  // The oldest epoch a worker inside a batch may have entered with (c).
  uint64_t oldest = UINT64_MAX;
  for (unsigned w = 0; w < workers_; ++w) {
    uint64_t e = slots_[w].epoch.load(std::memory_order_seq_cst);
    if (e != 0 && e < oldest) {
      oldest = e;
    }
  }
  size_t kept = 0;
  for (auto &r : retired_) {
    if (oldest >= r.second) {
      if (before_delete) {
        before_delete(*r.first);
      }
      r.first.reset();
    } else {
      retired_[kept++] = std::move(r);
    }
  }
  retired_.resize(kept);
}

void ViewSlot::visit(const std::function<void(const View &)> &f) const {
  if (const View *v = current()) {
    f(*v);
  }
  for (const auto &r : retired_) {
    f(*r.first);
  }
}

} // namespace holdfast::lb
