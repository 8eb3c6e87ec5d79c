// SPDX-License-Identifier: MIT
// Serve worker: UDP batches and RFC 7766 TCP on one libuv loop (see worker.h).
#include "serve/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace holdfast::serve {

namespace {
constexpr size_t kUdpMaxQuery = 4096;     // larger datagrams are not DNS queries we answer
constexpr size_t kUdpMaxResponse = 4096;  // udp-max-payload is capped to this
constexpr size_t kTcpOutputCap = 256 << 10; // unsent answer bytes that stop reading
constexpr size_t kTcpMaxResponse = 65535; // RFC 1035 4.2.2: two-byte length prefix
constexpr size_t kCmsgSize = CMSG_SPACE(sizeof(in6_pktinfo)) > CMSG_SPACE(sizeof(in_pktinfo))
                                 ? CMSG_SPACE(sizeof(in6_pktinfo))
                                 : CMSG_SPACE(sizeof(in_pktinfo));
} // namespace

// One datagram in flight: its buffers, source address and destination (for wildcard binds the
// answer must leave from the address the query was sent to).
struct Worker::UdpSlot {
  sockaddr_storage peer;
  alignas(cmsghdr) uint8_t cmsg[kCmsgSize];
  alignas(cmsghdr) uint8_t out_cmsg[kCmsgSize];
  uint8_t in[kUdpMaxQuery];
  iovec in_iov, out_iov;
};

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

Worker::Worker(store::Env &env, const ServeOptions &serve, const WorkerOptions &opts,
               std::vector<int> udp_fds, std::vector<int> tcp_fds)
    : env_(env), opts_(opts), qp_(std::make_unique<QueryProcessor>(env, serve)),
      udp_fds_(std::move(udp_fds)), tcp_fds_(std::move(tcp_fds)),
      slots_(std::make_unique<UdpSlot[]>(kBatch)), udp_out_(kBatch * kUdpMaxResponse),
      tcp_read_buf_(65536 + 2), tcp_resp_(std::make_unique<uint8_t[]>(kTcpMaxResponse)),
      client_counts_(opts.client_counts ? opts.client_counts
                                        : std::make_shared<TcpClientCounts>()) {
  uv_loop_init(&loop_);
  for (int fd : udp_fds_) {
    // Only a wildcard bind (0.0.0.0, ::) needs to learn each query's destination address to
    // answer from it; asking the kernel for it on every packet costs time otherwise.
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) != 0) {
      continue;
    }
    int one = 1;
    if (local.ss_family == AF_INET &&
        reinterpret_cast<sockaddr_in *>(&local)->sin_addr.s_addr == htonl(INADDR_ANY)) {
      ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    } else if (local.ss_family == AF_INET6 &&
               IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<sockaddr_in6 *>(&local)->sin6_addr)) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    }
  }
}

Worker::~Worker() {
  stop();
  uv_loop_close(&loop_);
  for (int fd : udp_fds_) {
    ::close(fd);
  }
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (thread_.joinable()) {
    uv_async_send(&stop_async_);
    thread_.join();
  }
}

void Worker::run() {
  uv_async_init(&loop_, &stop_async_, [](uv_async_t *a) {
    // Close every handle; the loop ends when the last close callback has run.
    uv_walk(
        a->loop,
        [](uv_handle_t *h, void *) {
          if (uv_is_closing(h)) {
            return;
          }
          if (h->type == UV_TCP && h->data != nullptr) {
            auto *conn = static_cast<TcpConn *>(h->data);
            conn->worker->close_conn(conn);
          } else if (h->type == UV_TIMER) {
            // Closed together with its connection.
          } else if (h->type == UV_TCP) { // a listener
            uv_close(h, [](uv_handle_t *x) { delete reinterpret_cast<uv_tcp_t *>(x); });
          } else if (h->type == UV_POLL) {
            uv_close(h, [](uv_handle_t *x) { delete reinterpret_cast<uv_poll_t *>(x); });
          } else {
            uv_close(h, nullptr);
          }
        },
        nullptr);
  });
  for (int fd : udp_fds_) {
    auto *poll = new uv_poll_t;
    uv_poll_init(&loop_, poll, fd);
    poll->data = this;
    uv_poll_start(poll, UV_READABLE, [](uv_poll_t *p, int status, int) {
      if (status == 0) {
        static_cast<Worker *>(p->data)->drain_udp(p->io_watcher.fd);
      }
    });
  }
  for (int fd : tcp_fds_) {
    auto *server = new uv_tcp_t;
    uv_tcp_init(&loop_, server);
    server->data = nullptr; // listeners carry no connection
    if (uv_tcp_open(server, fd) != 0 ||
        uv_listen(reinterpret_cast<uv_stream_t *>(server), 1024, [](uv_stream_t *s, int status) {
          if (status == 0) {
            static_cast<Worker *>(s->loop->data)->accept_tcp(s);
          }
        }) != 0) {
      spdlog::error("worker: cannot listen on a TCP socket");
    }
  }
  loop_.data = this;
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::drain_udp(int fd) {
  mmsghdr in[kBatch], out[kBatch];
  std::vector<uint8_t> &responses = udp_out_;
  size_t per_response = responses.size() / kBatch;
  // Bounded work per wake-up keeps TCP clients on this worker served under UDP load.
  for (int round = 0; round < 16; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      UdpSlot &s = slots_[i];
      s.in_iov = {s.in, sizeof(s.in)};
      std::memset(&in[i].msg_hdr, 0, sizeof(msghdr));
      in[i].msg_hdr.msg_name = &s.peer;
      in[i].msg_hdr.msg_namelen = sizeof(s.peer);
      in[i].msg_hdr.msg_iov = &s.in_iov;
      in[i].msg_hdr.msg_iovlen = 1;
      in[i].msg_hdr.msg_control = s.cmsg;
      in[i].msg_hdr.msg_controllen = sizeof(s.cmsg);
    }
    int n = ::recvmmsg(fd, in, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      return;
    }
    int replies = 0;
    if (!qp_->begin_batch()) {
      counters_.dropped.fetch_add(n, std::memory_order_relaxed);
      return;
    }
    for (int i = 0; i < n; ++i) {
      UdpSlot &s = slots_[i];
      if (in[i].msg_hdr.msg_flags & MSG_TRUNC) {
        counters_.dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      uint8_t *resp = responses.data() + size_t(i) * per_response;
      size_t len = qp_->process(s.in, in[i].msg_len, resp, per_response, false,
                                reinterpret_cast<const sockaddr *>(&s.peer));
      if (len == 0) {
        counters_.dropped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      s.out_iov = {resp, len};
      msghdr &m = out[replies].msg_hdr;
      std::memset(&m, 0, sizeof(m));
      m.msg_name = &s.peer;
      m.msg_namelen = in[i].msg_hdr.msg_namelen;
      m.msg_iov = &s.out_iov;
      m.msg_iovlen = 1;
      // Answer from the address the query was sent to (matters for wildcard binds).
      size_t clen = 0;
      for (cmsghdr *c = CMSG_FIRSTHDR(&in[i].msg_hdr); c != nullptr;
           c = CMSG_NXTHDR(&in[i].msg_hdr, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          auto *o = reinterpret_cast<cmsghdr *>(s.out_cmsg);
          o->cmsg_level = IPPROTO_IP;
          o->cmsg_type = IP_PKTINFO;
          o->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
          pi.ipi_spec_dst = pi.ipi_addr;
          pi.ipi_ifindex = 0;
          std::memcpy(CMSG_DATA(o), &pi, sizeof(pi));
          clen = CMSG_SPACE(sizeof(in_pktinfo));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          auto *o = reinterpret_cast<cmsghdr *>(s.out_cmsg);
          o->cmsg_level = IPPROTO_IPV6;
          o->cmsg_type = IPV6_PKTINFO;
          o->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          std::memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(in6_pktinfo));
          clen = CMSG_SPACE(sizeof(in6_pktinfo));
        }
      }
      if (clen > 0) {
        m.msg_control = s.out_cmsg;
        m.msg_controllen = clen;
      }
      ++replies;
    }
    qp_->end_batch();
    counters_.udp_queries.fetch_add(n, std::memory_order_relaxed);
    for (int sent = 0; sent < replies;) {
      int r = ::sendmmsg(fd, out + sent, replies - sent, 0);
      if (r <= 0) {
        counters_.dropped.fetch_add(replies - sent, std::memory_order_relaxed);
        break;
      }
      sent += r;
    }
    if (n < kBatch) {
      return;
    }
  }
}

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
