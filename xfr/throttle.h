// SPDX-License-Identifier: MIT
// At most N zone operations (check + transfer) in flight at once, and at most M of them per
// key (a master), the rest waiting in FIFO order: a provider's tens of thousands of zones must
// not open as many sockets to the masters at the same instant (file descriptors, the masters'
// patience), and one slow master must not hold every slot while other masters' zones wait.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <string>

namespace holdfast::xfr {

class Throttle {
public:
  explicit Throttle(size_t limit, size_t per_key = std::numeric_limits<size_t>::max())
      : limit_(limit), per_key_(per_key) {}

  // New caps (a reload): operations in flight keep their slots; waiting ones start if they fit.
  void set_limits(size_t limit, size_t per_key) {
    limit_ = limit;
    per_key_ = per_key;
    pump();
  }
  // Runs `start` now when a slot is free (overall and for `key`), else once one is released.
  // `owner` names the waiting entry for cancel(). The operation ends with release(key).
  void run(std::function<void()> start, const void *owner = nullptr, const std::string &key = {}) {
    keys_[key].waiting.push_back({owner, seq_++, std::move(start)});
    ++waiting_;
    pump();
  }
  // Drops what `owner` still has waiting (a zone removed by a reload).
  void cancel(const void *owner) {
    for (auto it = keys_.begin(); it != keys_.end();) {
      waiting_ -=
          std::erase_if(it->second.waiting, [owner](const Entry &e) { return e.owner == owner; });
      it = it->second.active == 0 && it->second.waiting.empty() ? keys_.erase(it) : std::next(it);
    }
  }
  // An operation of `key` ended: its slot goes to the longest-waiting operation that fits.
  void release(const std::string &key = {}) {
    if (auto it = keys_.find(key); it != keys_.end() && it->second.active > 0) {
      --it->second.active;
      if (it->second.active == 0 && it->second.waiting.empty()) {
        keys_.erase(it);
      }
    }
    if (active_ > 0) {
      --active_;
    }
    pump();
  }
  // Forgets the waiting operations (shutdown).
  void clear() {
    for (auto &[key, k] : keys_) {
      k.waiting.clear();
    }
    waiting_ = 0;
  }
  size_t active() const { return active_; }
  size_t waiting() const { return waiting_; }
  size_t active(const std::string &key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? 0 : it->second.active;
  }

private:
  struct Entry {
    const void *owner;
    uint64_t seq; // arrival order across keys
    std::function<void()> start;
  };
  struct Key {
    size_t active = 0;
    std::deque<Entry> waiting;
  };

  // Starts waiting operations while they fit. A start that ends at once calls release() (or
  // run()) from inside this loop: those only count and return, and this loop starts the next
  // one, so thousands of operations ending at once never nest calls (no stack growth).
  void pump() {
    if (pumping_) {
      return;
    }
    pumping_ = true;
    struct Reset {
      bool &flag;
      ~Reset() { flag = false; }
    } reset{pumping_};
    while (active_ < limit_) {
      Key *next = nullptr; // the key whose first waiting entry came first, among those with room
      for (auto &[name, k] : keys_) {
        if (!k.waiting.empty() && k.active < per_key_ &&
            (next == nullptr || k.waiting.front().seq < next->waiting.front().seq)) {
          next = &k;
        }
      }
      if (next == nullptr) {
        return;
      }
      auto start = std::move(next->waiting.front().start);
      next->waiting.pop_front();
      --waiting_;
      ++next->active;
      ++active_;
      start(); // may run(), release() or cancel(): `next` is not used after this
    }
  }

  size_t limit_;
  size_t per_key_;
  size_t active_ = 0;
  size_t waiting_ = 0;
  uint64_t seq_ = 0;
  bool pumping_ = false;
  std::map<std::string, Key> keys_;
};

} // namespace holdfast::xfr
