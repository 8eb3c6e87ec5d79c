// SPDX-License-Identifier: MIT
// Publishes lb::View to serve workers without locks (RCU-style epochs): workers read the
// current view for a batch of packets; the control loop swaps in a new one and deletes an
// old one only once no worker can still hold it.
//
//   worker w (enter/leave per batch)        control loop
//   ---------------------------------       ------------------------------------------
//   e = epoch                 (1)           old = current.exchange(new)       (a)
//   slot[w] = e               (2)           retired += {old, tag = ++epoch}   (b)
//   v = current               (3)           reclaim: delete each retired view when
//   ... answer from v ...                      every slot[w] is 0 or >= its tag (c)
//   slot[w] = 0               (4)
//
// Every step is seq_cst, so there is one total order. A worker that still got `old` in (3)
// did (1) before (b)'s increment, so its slot holds e < tag from (2), which precedes (a) and
// therefore (c)'s reads, until (4): (c) waits for it. A worker whose (2) comes after (c)'s
// read of its slot does (3) after (a) and gets the new view. A slot may look older than the
// view it holds (conservative: a view is freed one reclaim later).
//
// enter() and leave() take no lock and allocate nothing. Each worker index is used by one
// thread at a time and enter/leave do not nest. publish(), reclaim(), current() and visit()
// run on the control side (one thread, or serialized by the caller).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "lb/view.h"

namespace holdfast::lb {

class ViewSlot {
public:
  explicit ViewSlot(unsigned workers);
  ~ViewSlot(); // deletes every view: workers must have stopped
  ViewSlot(const ViewSlot &) = delete;
  ViewSlot &operator=(const ViewSlot &) = delete;

  // Worker side. worker < workers (indexes beyond share the last slot: keep them apart).
  const View *enter(unsigned worker) {
    Slot &s = slots_[worker < workers_ ? worker : workers_ - 1];
    s.epoch.store(epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
    return current_.load(std::memory_order_seq_cst);
  }
  void leave(unsigned worker) {
    slots_[worker < workers_ ? worker : workers_ - 1].epoch.store(0, std::memory_order_release);
  }

  // Control side.
  void publish(std::unique_ptr<View> v);
  // Deletes the retired views no worker can hold any more, calling before_delete on each
  // first (the registry folds their counters).
  void reclaim(const std::function<void(const View &)> &before_delete = {});
  const View *current() const { return current_.load(std::memory_order_acquire); }
  // The current view and every retired one not deleted yet.
  void visit(const std::function<void(const View &)> &f) const;
  size_t retired() const { return retired_.size(); }
  unsigned workers() const { return workers_; }

private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> epoch{0}; // 0: outside a batch
  };
  unsigned workers_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> epoch_{1};
  std::atomic<const View *> current_{nullptr};
  std::vector<std::pair<std::unique_ptr<const View>, uint64_t>> retired_; // view, tag
};

} // namespace holdfast::lb
