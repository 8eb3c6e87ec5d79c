// SPDX-License-Identifier: MIT
// The single writer (DESIGN.md "Writes to LMDB happen in one place"): one thread that runs every
// job that writes the store (snapshot flushes, publishes, IXFR application, zone-file loads,
// garbage collection, zone removal), one at a time in FIFO order. Only this thread may begin a
// write transaction or grow the map (Env::set_writer_thread).
//
//   control loop / loader ──submit(work, done)──► queue ──► writer thread: work()
//   control loop ◄──────── complete(done) ─────────────────────────┘
//
// `done` goes back through the `complete` function given at construction; the daemon's hands it
// to the control loop (a uv_async queue), so completions run on the loop and the loop never
// waits for a write. Jobs are std::functions: any module can route its writes through here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "store/env.h"

namespace holdfast::store {

class WriterThread {
public:
  using Task = std::function<void()>;

  // `complete` is called on the writer thread with each job's `done`; it must hand it to the
  // thread that should run it (thread-safe). Null: `done` runs on the writer thread.
  WriterThread(Env &env, std::function<void(Task)> complete);
  ~WriterThread() { stop(); }
  WriterThread(const WriterThread &) = delete;
  WriterThread &operator=(const WriterThread &) = delete;

  // Queues `work` for the writer thread and then `done` for the completion side. False (and
  // nothing runs) once stop() began.
  bool submit(Task work, Task done = {});
  // The same with a result: `work()`'s value is handed to `done`.
  template <typename T> bool call(std::function<T()> work, std::function<void(T &)> done) {
    auto result = std::make_shared<std::optional<T>>();
    return submit([result, work = std::move(work)] { result->emplace(work()); },
                  [result, done = std::move(done)] { done(**result); });
  }

  // True once stop() began: long jobs (a zone-file parse) end early when they see it.
  const std::atomic<bool> &stopping() const { return stopping_; }
  // Jobs waiting, and the one running (metrics, tests).
  size_t backlog() const;
  // Lets the job running finish, drops the queued ones (their `done` never runs) and joins.
  void stop();

private:
  struct Job {
    Task work, done;
  };
  void loop();

  Env &env_;
  std::function<void(Task)> complete_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool running_job_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace holdfast::store
