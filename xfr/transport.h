// SPDX-License-Identifier: MIT
// The libuv driver of one exchange with one master (STYLE.md 1): send a request over UDP or
// TCP (RFC 7766 length framing), hand each reply message to the protocol consumer until it
// says done, with a timeout that restarts on every message and an optional total deadline. The
// consumers know no sockets.
//
// An Exchange deletes itself once its handles are closed; `on_end` runs exactly once, before
// that (also after cancel()), and never inside start(): a failure found while opening (a source
// address that cannot be bound, no route) is reported from the next loop turn, so the caller
// has stored the pointer start() returned before `on_end` can clear it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "common/endpoint.h"
#include "common/result.h"

namespace holdfast::xfr {

enum class Next { kMore, kDone };

struct ExchangeEnd {
  Status status = Ok{};
  bool network = false; // failed before a reply arrived (timeout, connect, reset): another
                        // request to the same remote is not worth it now
  uint64_t bytes = 0;   // reply bytes received
};

class Exchange {
public:
  using OnMessage = std::function<Result<Next>(uint8_t *wire, size_t len)>;
  using OnEnd = std::function<void(const ExchangeEnd &)>;

  // `timeout_ms`: for the first reply message, then between messages; `deadline_ms`: for the
  // whole exchange (0: none).
  static Exchange *start(uv_loop_t *loop, const Endpoint &remote,
                         const std::optional<Endpoint> &source, bool tcp,
                         std::vector<uint8_t> request, uint64_t timeout_ms, uint64_t deadline_ms,
                         OnMessage on_message, OnEnd on_end);
  // Ends the exchange now (on_end gets "cancelled").
  void cancel();
  // Ends the exchange now with `why` as its error (not a network failure).
  void abort_with(std::string why);
  // Backpressure (TCP): stops reading from the master and delivering messages, and stops the
  // timeout, until resume(). Used while the records received wait for the writer thread.
  void pause();
  void resume();

private:
  Exchange(uv_loop_t *loop, bool tcp, uint64_t timeout_ms, uint64_t deadline_ms,
           OnMessage on_message, OnEnd on_end);
  ~Exchange() = default;
  Status open(const Endpoint &remote, const std::optional<Endpoint> &source,
              std::vector<uint8_t> request);
  Status open_tcp(const sockaddr *addr, const sockaddr *source, std::vector<uint8_t> request);
  Status open_udp(const sockaddr *addr, const sockaddr *source, std::vector<uint8_t> request);
  void on_connected();
  static void alloc_read(uv_handle_t *h, size_t, uv_buf_t *buf);
  static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
  void finish(Status st, bool network);
  void close_handle(uv_handle_t *h);
  void arm_timer();
  void on_timer();
  void on_tcp_data(const uint8_t *data, size_t len);
  void deliver(uint8_t *wire, size_t len);

  uv_loop_t *loop_;
  bool tcp_;
  uint64_t timeout_ms_;
  uint64_t deadline_ = 0; // loop time (ms) the whole exchange must end by; 0: none
  OnMessage on_message_;
  OnEnd on_end_;
  union {
    uv_tcp_t tcp;
    uv_udp_t udp;
  } sock_{};
  uv_timer_t timer_{};
  uv_connect_t connect_{};
  uv_write_t write_{};
  uv_udp_send_t send_{};
  uv_buf_t out_{};
  std::vector<uint8_t> request_; // framed for TCP
  std::vector<uint8_t> in_;      // TCP bytes not yet consumed
  std::vector<uint8_t> read_buf_;
  uint64_t bytes_ = 0;
  std::optional<Status> open_failed_; // reported by the timer armed at 0 ms (see start())
  int open_handles_ = 0;
  bool sock_open_ = false;
  bool ended_ = false;
  bool got_reply_ = false;
  bool paused_ = false;
  bool reading_ = false;
  bool connect_done_ = false;
};

} // namespace holdfast::xfr
