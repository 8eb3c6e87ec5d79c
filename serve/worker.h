// SPDX-License-Identifier: MIT
// A serve worker: one thread, one libuv loop, its own SO_REUSEPORT UDP and TCP sockets, its own
// QueryProcessor (arena, read transaction). Workers share nothing but the LMDB map.
//
// UDP: a readable socket is drained in batches (recvmmsg/sendmmsg, up to kBatch packets); the
// read transaction is renewed per batch. TCP (RFC 7766): length-framed, pipelined queries are
// answered in order, with bounded resources per connection:
//   - reading stops while the connection's unsent answers exceed an output cap or its queries
//     in flight (answered, not yet written) reach tcp-max-inflight, and resumes as they drain;
//   - a message that has begun must arrive whole within tcp-io-timeout (one byte every few
//     seconds does not keep a connection);
//   - the idle timer restarts only when a query is answered;
//   - connections per worker (tcp-max-clients) and per client address across all workers
//     (tcp-max-clients-per-address, lock-free shared counters).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <uv.h>

#include "serve/query.h"

namespace holdfast::serve {

// Open TCP connections per client address, shared by every worker (SO_REUSEPORT spreads one
// client's connections over them). Addresses are hashed into fixed buckets of atomic
// counters: no lock, no allocation; two addresses in one bucket share its count.
class TcpClientCounts {
public:
  static constexpr size_t kBuckets = 16384;
  // The bucket of `addr`'s IP address (the port does not count).
  static size_t bucket(const sockaddr *addr);
  // Takes a slot unless `limit` (> 0) connections from the bucket are open.
  bool acquire(size_t bucket, int limit);
  void release(size_t bucket) { counts_[bucket].fetch_sub(1, std::memory_order_relaxed); }

private:
  std::atomic<int> counts_[kBuckets]{};
};

struct WorkerOptions {
  uint64_t tcp_idle_timeout_ms = 10000; // RFC 7766 6.2.3: seconds, not minutes
  uint64_t tcp_io_timeout_ms = 5000;    // a begun message must arrive whole within it
  int tcp_max_clients = 512;            // per worker
  int tcp_max_clients_per_address = 64; // across workers; 0 = no limit
  int tcp_max_inflight = 100;           // answered but unsent queries per connection
  unsigned index = 0;                   // this worker's number (per-worker state in lb views)
  // Shared by the workers of one server (set by the daemon); a worker without one counts alone.
  std::shared_ptr<TcpClientCounts> client_counts;
};

// Per-worker counters, read by the metrics endpoint (relaxed: monotonic totals).
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> udp_queries{0};
  std::atomic<uint64_t> tcp_queries{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> tcp_connections{0};
  std::atomic<uint64_t> tcp_refused{0};
  std::atomic<uint64_t> tcp_timeouts{0}; // closed at the I/O deadline or idle timeout
  std::atomic<uint64_t> tcp_paused{0};   // reading stopped for unsent answers
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
  static constexpr size_t kTcpMaxResponse = 65535; // RFC 1035 4.2.2: two-byte length prefix

  void run();
  void drain_udp(int fd);
  void accept_tcp(uv_stream_t *server);
  bool admit_tcp(TcpConn *conn);
  void start_reading(TcpConn *conn);
  void on_tcp_read(TcpConn *conn, ssize_t nread, const uv_buf_t *buf);
  size_t answer_some(TcpConn *conn, const uint8_t *data, size_t len, size_t &answered);
  size_t answer_frames(TcpConn *conn, const uint8_t *data, size_t len, size_t &consumed);
  void after_frames(TcpConn *conn, size_t answered);
  bool backlogged(TcpConn *conn, size_t more_bytes = 0, size_t more_queries = 0) const;
  void on_tcp_written(TcpConn *conn, size_t queries);
  void send_tcp(TcpConn *conn, const uint8_t *data, size_t len, size_t queries);
  void arm_timer(TcpConn *conn, uint64_t ms);
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
  std::shared_ptr<TcpClientCounts> client_counts_;
};

} // namespace holdfast::serve
