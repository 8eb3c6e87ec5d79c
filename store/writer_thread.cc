// SPDX-License-Identifier: MIT
// The writer thread's queue (see writer_thread.h).
#include "store/writer_thread.h"

#include <utility>

namespace holdfast::store {

WriterThread::WriterThread(Env &env, std::function<void(Task)> complete)
    : env_(env), complete_(std::move(complete)) {
  std::mutex started;
  std::condition_variable cv;
  bool registered = false;
  thread_ = std::thread([&] {
    env_.set_writer_thread();
    {
      std::lock_guard lock(started);
      registered = true;
    }
    cv.notify_one();
    loop();
  });
  // The rule holds before the constructor returns: no write may slip in from another thread.
  std::unique_lock lock(started);
  cv.wait(lock, [&] { return registered; });
}

bool WriterThread::submit(Task work, Task done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return false;
    }
    jobs_.push_back({std::move(work), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

size_t WriterThread::backlog() const {
  std::lock_guard lock(mu_);
  return jobs_.size() + (running_job_ ? 1 : 0);
}

void WriterThread::loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      running_job_ = false;
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) {
        break;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
      running_job_ = true;
    }
    job.work();
    job.work = nullptr; // what it captured is released here, on the writer thread
    if (job.done) {
      if (complete_) {
        complete_(std::move(job.done));
      } else {
        job.done();
      }
    }
  }
  // Dropped jobs are destroyed here, still on the writer thread: what they own (an unfinished
  // snapshot) is cleaned up by the thread allowed to write.
  std::deque<Job> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(jobs_);
  }
  dropped.clear();
  env_.clear_writer_thread();
}

void WriterThread::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

} // namespace holdfast::store
