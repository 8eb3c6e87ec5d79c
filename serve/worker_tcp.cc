// SPDX-License-Identifier: MIT
// Serve worker, TCP side (RFC 7766): connections, frames, flow control, timers (see worker.h).
#include "serve/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace holdfast::serve {

namespace {
constexpr size_t kTcpOutputCap = 256 << 10; // unsent answer bytes that stop reading
} // namespace

struct Worker::TcpConn {
  uv_tcp_t handle;
  uv_timer_t timer; // idle timeout or I/O deadline (see arm_timer)
  Worker *worker;
  // Bytes read but not yet answered: an incomplete frame, and while paused, whole frames.
  std::vector<uint8_t> partial;
  sockaddr_storage peer{}; // for NOTIFY and the per-address limit
  size_t inflight = 0;     // queries answered whose answers wait in the write queue
  int address_bucket = -1; // TcpClientCounts slot taken, or none
  int open_handles = 2;
  bool closing = false;
  bool counted = false; // included in tcp_clients_
  bool close_after_write = false;
  bool paused = false;   // reading stopped: too much unsent output
  bool io_armed = false; // the timer is the I/O deadline of a begun message
};

size_t TcpClientCounts::bucket(const sockaddr *addr) {
  // FNV-1a over the address bytes: cheap, and spreads neighbouring addresses.
  const uint8_t *p = nullptr;
  size_t n = 0;
  if (addr->sa_family == AF_INET) {
    p = reinterpret_cast<const uint8_t *>(&reinterpret_cast<const sockaddr_in *>(addr)->sin_addr);
    n = 4;
  } else if (addr->sa_family == AF_INET6) {
    p = reinterpret_cast<const sockaddr_in6 *>(addr)->sin6_addr.s6_addr;
    n = 16;
  }
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    h = (h ^ p[i]) * 16777619u;
  }
  return h % kBuckets;
}

bool TcpClientCounts::acquire(size_t bucket, int limit) {
  if (counts_[bucket].fetch_add(1, std::memory_order_relaxed) >= limit && limit > 0) {
    counts_[bucket].fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Worker::accept_tcp(uv_stream_t *server) {
  auto *conn = new TcpConn;
  conn->worker = this;
  uv_tcp_init(&loop_, &conn->handle);
  uv_timer_init(&loop_, &conn->timer);
  conn->handle.data = conn;
  conn->timer.data = conn;
  if (uv_accept(server, reinterpret_cast<uv_stream_t *>(&conn->handle)) != 0) {
    close_conn(conn);
    return;
  }
  if (!admit_tcp(conn)) {
    counters_.tcp_refused.fetch_add(1, std::memory_order_relaxed);
    close_conn(conn);
    return;
  }
  counters_.tcp_connections.fetch_add(1, std::memory_order_relaxed);
  uv_tcp_nodelay(&conn->handle, 1);
  arm_timer(conn, opts_.tcp_idle_timeout_ms);
  start_reading(conn);
}

// The per-worker and the per-address connection limits; the slots taken are given back by
// close_conn.
bool Worker::admit_tcp(TcpConn *conn) {
  ++tcp_clients_;
  conn->counted = true;
  if (tcp_clients_ > opts_.tcp_max_clients) {
    return false;
  }
  int peer_len = sizeof(conn->peer);
  if (uv_tcp_getpeername(&conn->handle, reinterpret_cast<sockaddr *>(&conn->peer), &peer_len) !=
      0) {
    return false; // the peer is already gone
  }
  size_t bucket = TcpClientCounts::bucket(reinterpret_cast<const sockaddr *>(&conn->peer));
  if (!client_counts_->acquire(bucket, opts_.tcp_max_clients_per_address)) {
    return false;
  }
  conn->address_bucket = static_cast<int>(bucket);
  return true;
}

void Worker::start_reading(TcpConn *conn) {
  conn->paused = false;
  uv_read_start(
      reinterpret_cast<uv_stream_t *>(&conn->handle),
      [](uv_handle_t *h, size_t, uv_buf_t *buf) {
        auto *c = static_cast<TcpConn *>(h->data);
        buf->base = reinterpret_cast<char *>(c->worker->tcp_read_buf_.data());
        buf->len = c->worker->tcp_read_buf_.size();
      },
      [](uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
        auto *c = static_cast<TcpConn *>(s->data);
        c->worker->on_tcp_read(c, nread, buf);
      });
}

// One timer per connection, never repeating: the idle timeout after an answered query, the
// I/O deadline once a new message has begun. Either way, when it fires the connection ends.
void Worker::arm_timer(TcpConn *conn, uint64_t ms) {
  uv_timer_start(
      &conn->timer,
      [](uv_timer_t *t) {
        auto *c = static_cast<TcpConn *>(t->data);
        c->worker->counters_.tcp_timeouts.fetch_add(1, std::memory_order_relaxed);
        c->worker->close_conn(c);
      },
      ms, 0);
}

void Worker::close_conn(TcpConn *conn) {
  if (conn->closing) {
    return;
  }
  conn->closing = true;
  if (conn->counted) {
    --tcp_clients_;
  }
  if (conn->address_bucket >= 0) {
    client_counts_->release(static_cast<size_t>(conn->address_bucket));
  }
  auto done = [](uv_handle_t *h) {
    auto *c = static_cast<TcpConn *>(h->data);
    if (--c->open_handles == 0) {
      delete c; // freed only when both handles have closed (libuv's rule)
    }
  };
  uv_timer_stop(&conn->timer);
  uv_close(reinterpret_cast<uv_handle_t *>(&conn->timer), done);
  uv_close(reinterpret_cast<uv_handle_t *>(&conn->handle), done);
}

void Worker::on_tcp_read(TcpConn *conn, ssize_t nread, const uv_buf_t *buf) {
  if (nread < 0) {
    close_conn(conn); // EOF or error
    return;
  }
  if (nread == 0 || conn->closing) {
    return;
  }
  const auto *data = reinterpret_cast<const uint8_t *>(buf->base);
  size_t len = static_cast<size_t>(nread);
  size_t answered = 0;
  // Frames are answered straight from the read buffer; only what is left over (an incomplete
  // frame, or frames held back by a full output) is copied.
  if (conn->partial.empty()) {
    size_t consumed = answer_some(conn, data, len, answered);
    if (consumed < len && !conn->closing) {
      conn->partial.assign(data + consumed, data + len);
    }
  } else {
    conn->partial.insert(conn->partial.end(), data, data + len);
    size_t consumed = answer_some(conn, conn->partial.data(), conn->partial.size(), answered);
    conn->partial.erase(conn->partial.begin(), conn->partial.begin() + consumed);
  }
  after_frames(conn, answered);
}

// Answers complete frames from `data` in rounds while the connection can take more output;
// returns the bytes consumed and adds the frames answered to `answered`.
size_t Worker::answer_some(TcpConn *conn, const uint8_t *data, size_t len, size_t &answered) {
  size_t consumed = 0;
  while (!conn->closing && !conn->close_after_write && !backlogged(conn)) {
    tcp_out_.clear();
    if (!qp_->begin_batch()) {
      close_conn(conn);
      return len;
    }
    size_t n = answer_frames(conn, data, len, consumed);
    qp_->end_batch();
    answered += n;
    if (!tcp_out_.empty() && !conn->closing) {
      send_tcp(conn, tcp_out_.data(), tcp_out_.size(), n);
    }
    if (n == 0) {
      break; // only an incomplete frame (or nothing) is left
    }
  }
  if (conn->close_after_write && !conn->closing) {
    close_conn(conn); // uv_close lets queued writes fail; answers before the garbage were sent
  }
  return consumed;
}

// Timers and flow control after frames were answered: an answered query restarts the idle
// timer; a message that has begun since gets the I/O deadline (not restarted by later bytes);
// a backlogged connection stops reading until its answers drain (on_tcp_written).
void Worker::after_frames(TcpConn *conn, size_t answered) {
  if (conn->closing) {
    return;
  }
  if (answered > 0) {
    conn->io_armed = false;
    arm_timer(conn, opts_.tcp_idle_timeout_ms);
  }
  if (backlogged(conn)) {
    if (!conn->paused) {
      conn->paused = true;
      counters_.tcp_paused.fetch_add(1, std::memory_order_relaxed);
      uv_read_stop(reinterpret_cast<uv_stream_t *>(&conn->handle));
    }
    return;
  }
  if (!conn->partial.empty() && !conn->io_armed) {
    conn->io_armed = true;
    arm_timer(conn, opts_.tcp_io_timeout_ms);
  }
}

// Unsent answer bytes or queries in flight at their cap (with `more` about to be added).
bool Worker::backlogged(TcpConn *conn, size_t more_bytes, size_t more_queries) const {
  auto *stream = reinterpret_cast<uv_stream_t *>(&conn->handle);
  return uv_stream_get_write_queue_size(stream) + more_bytes >= kTcpOutputCap ||
         conn->inflight + more_queries >= static_cast<size_t>(opts_.tcp_max_inflight);
}

// RFC 7766 8: each message is preceded by a two-byte length; several may arrive at once.
// Answers into tcp_out_ until the frames run out or the output would pass its caps; returns
// the number of frames taken.
size_t Worker::answer_frames(TcpConn *conn, const uint8_t *data, size_t len, size_t &consumed) {
  size_t frames = 0;
  while (len - consumed >= 2 && !backlogged(conn, tcp_out_.size(), frames)) {
    size_t frame = (size_t{data[consumed]} << 8) | data[consumed + 1];
    if (len - consumed < 2 + frame) {
      break;
    }
    const uint8_t *msg = data + consumed + 2;
    consumed += 2 + frame;
    ++frames;
    // Answered into a scratch buffer, then only the bytes produced are appended (growing
    // tcp_out_ by a full frame first would zero 64 KiB for every query).
    size_t n = qp_->process(msg, frame, tcp_resp_.get(), kTcpMaxResponse, true,
                            reinterpret_cast<const sockaddr *>(&conn->peer));
    counters_.tcp_queries.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) {
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      tcp_out_.push_back(static_cast<uint8_t>(n >> 8));
      tcp_out_.push_back(static_cast<uint8_t>(n));
      tcp_out_.insert(tcp_out_.end(), tcp_resp_.get(), tcp_resp_.get() + n);
    }
    if (qp_->last_malformed()) {
      // A stream peer that sends garbage is not a DNS client: it gets its FORMERR (RFC 6891
      // 6.1.1 for two OPTs), then the connection ends (as Knot DNS and NSD do).
      conn->close_after_write = true;
      consumed = len;
      break;
    }
  }
  return frames;
}

void Worker::send_tcp(TcpConn *conn, const uint8_t *data, size_t len, size_t queries) {
  auto *stream = reinterpret_cast<uv_stream_t *>(&conn->handle);
  size_t done = 0;
  // Fast path: the kernel takes it all now. Only when a write is already queued, or the socket
  // is full, does the rest go through an owned buffer (libuv keeps queued writes in order).
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t b = uv_buf_init(const_cast<char *>(reinterpret_cast<const char *>(data)),
                             static_cast<unsigned>(len));
    int r = uv_try_write(stream, &b, 1);
    if (r > 0) {
      done = static_cast<size_t>(r);
    } else if (r != UV_EAGAIN) {
      close_conn(conn);
      return;
    }
  }
  if (done == len) {
    return;
  }
  // Queued: the connection's output and in-flight counts grow until the write completes
  // (bounded by backlogged(), which stops answering and reading).
  struct Pending {
    uv_write_t req;
    TcpConn *conn;
    size_t queries;
    std::vector<uint8_t> bytes;
  };
  auto *p = new Pending{{}, conn, queries, {}};
  p->bytes.assign(data + done, data + len);
  uv_buf_t b = uv_buf_init(reinterpret_cast<char *>(p->bytes.data()),
                           static_cast<unsigned>(p->bytes.size()));
  p->req.data = p;
  conn->inflight += queries;
  int r = uv_write(&p->req, stream, &b, 1, [](uv_write_t *req, int) {
    auto *pending = static_cast<Pending *>(req->data);
    // Also called (cancelled) while the connection closes; it is freed only after this.
    pending->conn->worker->on_tcp_written(pending->conn, pending->queries);
    delete pending;
  });
  if (r != 0) {
    conn->inflight -= queries;
    delete p;
    close_conn(conn);
  }
}

// A queued write finished: once the backlog is below its caps, answer the frames held back and
// read again.
void Worker::on_tcp_written(TcpConn *conn, size_t queries) {
  conn->inflight -= queries;
  if (conn->closing || !conn->paused || backlogged(conn)) {
    return;
  }
  size_t answered = 0;
  size_t consumed = answer_some(conn, conn->partial.data(), conn->partial.size(), answered);
  if (conn->closing) {
    return;
  }
  conn->partial.erase(conn->partial.begin(), conn->partial.begin() + consumed);
  if (!backlogged(conn)) {
    start_reading(conn);
  }
  after_frames(conn, answered);
}

} // namespace holdfast::serve
