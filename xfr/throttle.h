// SPDX-License-Identifier: MIT
// At most N zone operations (check + transfer) in flight at once, the rest waiting in FIFO
// order: a provider's tens of thousands of zones must not open as many sockets to the masters
// at the same instant (file descriptors, the masters' patience). Loop thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>

namespace holdfast::xfr {

class Throttle {
public:
  explicit Throttle(size_t limit) : limit_(limit) {}
  // Runs `start` now when a slot is free, else once one is released. `owner` names the
  // waiting entry for cancel().
  void run(std::function<void()> start, const void *owner = nullptr) {
    if (active_ < limit_) {
      ++active_;
      start();
    } else {
      waiting_.push_back({owner, std::move(start)});
    }
  }
  // Drops what `owner` still has waiting (a zone removed by a reload).
  void cancel(const void *owner) {
    std::erase_if(waiting_, [owner](const Entry &e) { return e.owner == owner; });
  }
  // An operation ended: its slot goes to the longest-waiting one.
  void release() {
    if (!waiting_.empty()) {
      auto next = std::move(waiting_.front().start);
      waiting_.pop_front();
      next();
    } else if (active_ > 0) {
      --active_;
    }
  }
  // Forgets the waiting operations (shutdown).
  void clear() { waiting_.clear(); }
  size_t active() const { return active_; }
  size_t waiting() const { return waiting_.size(); }

private:
  struct Entry {
    const void *owner;
    std::function<void()> start;
  };
  size_t limit_;
  size_t active_ = 0;
  std::deque<Entry> waiting_;
};

} // namespace holdfast::xfr
