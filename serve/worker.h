// SPDX-License-Identifier: MIT
// A serve worker: one thread, one libuv loop, its own SO_REUSEPORT UDP and TCP sockets, its own
// QueryProcessor (arena, read transaction). Workers share nothing but the LMDB map.
//
// UDP: a readable socket is drained in batches (recvmmsg/sendmmsg, up to kBatch packets); the
// read transaction is renewed per batch. TCP (RFC 7766): length-framed, pipelined queries are
// answered in order, idle connections closed after a timeout, a per-worker connection limit.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <uv.h>

#include "serve/query.h"

namespace holdfast::serve {

struct WorkerOptions {
  uint64_t tcp_idle_timeout_ms = 10000; // RFC 7766 6.2.3: seconds, not minutes
  int tcp_max_clients = 512;            // per worker
};

// Per-worker counters, read by the metrics endpoint (relaxed: monotonic totals).
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> udp_queries{0};
  std::atomic<uint64_t> tcp_queries{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> tcp_connections{0};
  std::atomic<uint64_t> tcp_refused{0};
};

class Worker {
public:
  Worker(store::Env &env, const ServeOptions &serve, const WorkerOptions &opts,
         std::vector<int> udp_fds, std::vector<int> tcp_fds);
  ~Worker();
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  void start();
  void stop(); // closes every handle and joins the thread
  const WorkerCounters &counters() const { return counters_; }
  const QueryCounters &query_counters() const { return qp_->counters(); }

private:
  struct UdpSlot;
  struct TcpConn;
  static constexpr int kBatch = 64;

  void run();
  void drain_udp(int fd);
  void accept_tcp(uv_stream_t *server);
  void on_tcp_read(TcpConn *conn, ssize_t nread, const uv_buf_t *buf);
  void answer_frames(TcpConn *conn, const uint8_t *data, size_t len, size_t &consumed);
  void send_tcp(TcpConn *conn, const uint8_t *data, size_t len);
  void close_conn(TcpConn *conn);

  store::Env &env_;
  WorkerOptions opts_;
  std::unique_ptr<QueryProcessor> qp_;
  std::vector<int> udp_fds_, tcp_fds_;
  uv_loop_t loop_{};
  uv_async_t stop_async_{};
  std::thread thread_;
  int tcp_clients_ = 0;
  WorkerCounters counters_;

  std::unique_ptr<UdpSlot[]> slots_;
  std::vector<uint8_t> udp_out_;        // kBatch response buffers
  std::vector<uint8_t> tcp_read_buf_;   // shared by every connection's alloc callback
  std::vector<uint8_t> tcp_out_;        // responses of one read, written at once
  std::unique_ptr<uint8_t[]> tcp_resp_; // one TCP response being built
};

} // namespace holdfast::serve
