// SPDX-License-Identifier: MIT
// libuv UDP/TCP exchange with a master (see transport.h).
#include "xfr/transport.h"

#include <algorithm>
#include <cstring>

namespace holdfast::xfr {
namespace {

std::string uv_text(int rc) {
  return uv_strerror(rc);
}

} // namespace

Exchange::Exchange(uv_loop_t *loop, bool tcp, uint64_t timeout_ms, uint64_t deadline_ms,
                   OnMessage on_message, OnEnd on_end)
    : loop_(loop), tcp_(tcp), timeout_ms_(timeout_ms),
      deadline_(deadline_ms != 0 ? uv_now(loop) + deadline_ms : 0),
      on_message_(std::move(on_message)), on_end_(std::move(on_end)) {}

Exchange *Exchange::start(uv_loop_t *loop, const Endpoint &remote,
                          const std::optional<Endpoint> &source, bool tcp,
                          std::vector<uint8_t> request, uint64_t timeout_ms, uint64_t deadline_ms,
                          OnMessage on_message, OnEnd on_end) {
  auto *ex =
      new Exchange(loop, tcp, timeout_ms, deadline_ms, std::move(on_message), std::move(on_end));
  uv_timer_init(loop, &ex->timer_);
  ex->timer_.data = ex;
  ex->open_handles_ = 1;
  if (auto st = ex->open(remote, source, std::move(request)); !st) {
    // Reported on the next loop turn, never from here: `on_end` may start the next exchange or
    // hand the throttle slot on, and the caller has not yet stored what start() returns.
    ex->open_failed_ = std::move(st);
    uv_timer_start(
        &ex->timer_, [](uv_timer_t *t) { static_cast<Exchange *>(t->data)->on_timer(); }, 0, 0);
  } else {
    ex->arm_timer();
  }
  return ex;
}

void Exchange::arm_timer() {
  uint64_t delay = timeout_ms_;
  if (deadline_ != 0) {
    uint64_t now = uv_now(loop_);
    delay = std::min(delay, deadline_ > now ? deadline_ - now : 0);
  }
  uv_timer_start(
      &timer_, [](uv_timer_t *t) { static_cast<Exchange *>(t->data)->on_timer(); }, delay, 0);
}

void Exchange::on_timer() {
  if (open_failed_) {
    finish(std::move(*open_failed_), true);
  } else if (deadline_ != 0 && uv_now(loop_) >= deadline_) {
    // Another request to this remote now would most likely crawl the same way: `network`.
    finish(fail("timed out: not finished within the total time limit (transfer-timeout)"), true);
  } else {
    finish(fail("timed out"), !got_reply_);
  }
}

Status Exchange::open(const Endpoint &remote, const std::optional<Endpoint> &source,
                      std::vector<uint8_t> request) {
  const auto *addr = reinterpret_cast<const sockaddr *>(&remote.addr);
  const sockaddr *src = source ? reinterpret_cast<const sockaddr *>(&source->addr) : nullptr;
  auto st =
      tcp_ ? open_tcp(addr, src, std::move(request)) : open_udp(addr, src, std::move(request));
  if (!st && source && st.error().rfind("cannot bind", 0) == 0) {
    return fail(st.error() + " (source " + source->text + ")");
  }
  return st;
}

Status Exchange::open_tcp(const sockaddr *addr, const sockaddr *source,
                          std::vector<uint8_t> request) {
  uv_tcp_init(loop_, &sock_.tcp);
  sock_.tcp.data = this;
  sock_open_ = true;
  ++open_handles_;
  if (int rc = source != nullptr ? uv_tcp_bind(&sock_.tcp, source, 0) : 0; rc != 0) {
    return fail("cannot bind the source address: " + uv_text(rc));
  }
  // RFC 7766 8: two-byte length, then the message.
  request_.resize(2 + request.size());
  request_[0] = static_cast<uint8_t>(request.size() >> 8);
  request_[1] = static_cast<uint8_t>(request.size());
  std::memcpy(request_.data() + 2, request.data(), request.size());
  connect_.data = this;
  int rc = uv_tcp_connect(&connect_, &sock_.tcp, addr, [](uv_connect_t *req, int status) {
    auto *ex = static_cast<Exchange *>(req->data);
    if (status == UV_ECANCELED || ex->ended_) {
      return;
    }
    if (status != 0) {
      ex->finish(fail("cannot connect: " + uv_text(status)), true);
      return;
    }
    ex->on_connected();
  });
  if (rc != 0) {
    return fail("cannot connect: " + uv_text(rc));
  }
  return Ok{};
}

void Exchange::alloc_read(uv_handle_t *h, size_t, uv_buf_t *buf) {
  auto *e = static_cast<Exchange *>(h->data);
  e->read_buf_.resize(65536);
  *buf = uv_buf_init(reinterpret_cast<char *>(e->read_buf_.data()), 65536);
}

void Exchange::on_connected() {
  connect_done_ = true;
  out_ = uv_buf_init(reinterpret_cast<char *>(request_.data()),
                     static_cast<unsigned>(request_.size()));
  write_.data = this;
  auto *stream = reinterpret_cast<uv_stream_t *>(&sock_.tcp);
  uv_write(&write_, stream, &out_, 1, [](uv_write_t *w, int st) {
    auto *e = static_cast<Exchange *>(w->data);
    if (st != 0 && st != UV_ECANCELED && !e->ended_) {
      e->finish(fail("cannot send the request: " + uv_text(st)), true);
    }
  });
  if (!paused_) {
    reading_ = true;
    uv_read_start(stream, alloc_read, on_read);
  }
}

void Exchange::on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  auto *e = static_cast<Exchange *>(s->data);
  if (e->ended_) {
    return;
  }
  if (n < 0) {
    e->finish(fail(n == UV_EOF ? "connection closed by the master before the end"
                               : "connection error: " + uv_text(static_cast<int>(n))),
              !e->got_reply_);
    return;
  }
  e->on_tcp_data(reinterpret_cast<const uint8_t *>(buf->base), static_cast<size_t>(n));
}

Status Exchange::open_udp(const sockaddr *addr, const sockaddr *source,
                          std::vector<uint8_t> request) {
  uv_udp_init(loop_, &sock_.udp);
  sock_.udp.data = this;
  sock_open_ = true;
  ++open_handles_;
  int rc = source != nullptr ? uv_udp_bind(&sock_.udp, source, 0) : 0;
  if (rc != 0) {
    return fail("cannot bind the source address: " + uv_text(rc));
  }
  // Connected: the kernel drops datagrams from anyone but the master.
  if ((rc = uv_udp_connect(&sock_.udp, addr)) != 0) {
    return fail("cannot reach: " + uv_text(rc));
  }
  request_ = std::move(request);
  out_ = uv_buf_init(reinterpret_cast<char *>(request_.data()),
                     static_cast<unsigned>(request_.size()));
  send_.data = this;
  rc = uv_udp_send(&send_, &sock_.udp, &out_, 1, nullptr, [](uv_udp_send_t *req, int st) {
    auto *e = static_cast<Exchange *>(req->data);
    if (st != 0 && st != UV_ECANCELED && !e->ended_) {
      e->finish(fail("cannot send the request: " + uv_text(st)), true);
    }
  });
  if (rc != 0) {
    return fail("cannot send the request: " + uv_text(rc));
  }
  uv_udp_recv_start(&sock_.udp, alloc_read,
                    [](uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const sockaddr *, unsigned) {
                      auto *e = static_cast<Exchange *>(u->data);
                      if (e->ended_ || n == 0) {
                        return;
                      }
                      if (n < 0) {
                        e->finish(fail("receive error: " + uv_text(static_cast<int>(n))), true);
                        return;
                      }
                      e->deliver(reinterpret_cast<uint8_t *>(buf->base), static_cast<size_t>(n));
                    });
  return Ok{};
}

void Exchange::on_tcp_data(const uint8_t *data, size_t len) {
  if (len > 0) {
    in_.insert(in_.end(), data, data + len);
  }
  size_t pos = 0;
  while (!ended_ && !paused_ && in_.size() - pos >= 2) {
    size_t frame = (size_t{in_[pos]} << 8) | in_[pos + 1];
    if (in_.size() - pos - 2 < frame) {
      break;
    }
    deliver(in_.data() + pos + 2, frame);
    pos += 2 + frame;
  }
  if (!ended_) {
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(pos));
  }
}

void Exchange::deliver(uint8_t *wire, size_t len) {
  got_reply_ = true;
  bytes_ += len;
  arm_timer(); // the timeout is per message: a large transfer may take long in total
  auto r = on_message_(wire, len);
  if (!r) {
    finish(fail(r.error()), false);
  } else if (*r == Next::kDone) {
    finish(Ok{}, false);
  }
}

void Exchange::cancel() {
  finish(fail("cancelled"), false);
}

void Exchange::abort_with(std::string why) {
  finish(fail(std::move(why)), false);
}

void Exchange::pause() {
  if (ended_ || paused_ || !tcp_) {
    return;
  }
  paused_ = true;
  uv_timer_stop(&timer_); // the master is not slow: we are
  if (reading_) {
    reading_ = false;
    uv_read_stop(reinterpret_cast<uv_stream_t *>(&sock_.tcp));
  }
}

void Exchange::resume() {
  if (ended_ || !paused_) {
    return;
  }
  paused_ = false;
  arm_timer();
  on_tcp_data(nullptr, 0); // messages that arrived with the one that paused
  if (!ended_ && !paused_ && !reading_ && connect_done_) {
    reading_ = true;
    uv_read_start(reinterpret_cast<uv_stream_t *>(&sock_.tcp), alloc_read, on_read);
  }
}

void Exchange::close_handle(uv_handle_t *h) {
  h->data = this;
  uv_close(h, [](uv_handle_t *handle) {
    auto *e = static_cast<Exchange *>(handle->data);
    if (--e->open_handles_ == 0) {
      delete e;
    }
  });
}

void Exchange::finish(Status st, bool network) {
  if (ended_) {
    return;
  }
  ended_ = true;
  uv_timer_stop(&timer_);
  ExchangeEnd end{std::move(st), network, bytes_};
  auto on_end = std::move(on_end_);
  if (sock_open_) {
    close_handle(reinterpret_cast<uv_handle_t *>(&sock_));
  }
  close_handle(reinterpret_cast<uv_handle_t *>(&timer_));
  on_end(end); // may start the next exchange; this one is only freed by the close callbacks
}

} // namespace holdfast::xfr
