// SPDX-License-Identifier: MIT
// Work handed to a libuv loop from other threads (the writer thread's completions): a
// mutex-guarded MPSC queue of functions, run on the loop after a uv_async wake (several wakes
// coalesce). Header-only: users link libuv.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <uv.h>

namespace holdfast {

class LoopQueue {
public:
  using Task = std::function<void()>;

  explicit LoopQueue(uv_loop_t *loop) {
    uv_async_init(loop, &async_, [](uv_async_t *a) { static_cast<LoopQueue *>(a->data)->run(); });
    async_.data = this;
  }
  LoopQueue(const LoopQueue &) = delete;
  LoopQueue &operator=(const LoopQueue &) = delete;

  // Any thread. After close(), the task is dropped (destroyed by the caller's thread).
  void post(Task task) {
    std::unique_lock lock(mu_);
    if (closed_) {
      lock.unlock();
      return; // `task` dies here, on the posting thread
    }
    tasks_.push_back(std::move(task));
    uv_async_send(&async_);
  }
  // Loop thread: stops accepting and closes the handle (run the loop once more afterwards).
  // Tasks still queued are dropped.
  void close() {
    std::vector<Task> dropped;
    {
      std::lock_guard lock(mu_);
      if (closed_) {
        return;
      }
      closed_ = true;
      dropped.swap(tasks_);
    }
    uv_close(reinterpret_cast<uv_handle_t *>(&async_), nullptr);
  }

private:
  void run() {
    std::vector<Task> tasks;
    {
      std::lock_guard lock(mu_);
      tasks.swap(tasks_);
    }
    for (auto &t : tasks) {
      t();
    }
  }

  uv_async_t async_{};
  std::mutex mu_;
  std::vector<Task> tasks_;
  bool closed_ = false;
};

} // namespace holdfast
