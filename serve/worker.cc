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
constexpr size_t kTcpMaxQueued = 1 << 20; // unsent answer bytes per TCP connection
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
  uv_timer_t idle;
  Worker *worker;
  std::vector<uint8_t> partial; // an incomplete frame carried over between reads
  sockaddr_storage peer{};      // for NOTIFY
  int open_handles = 2;
  bool closing = false;
  bool counted = false; // included in tcp_clients_
  bool close_after_write = false;
};

Worker::Worker(store::Env &env, const ServeOptions &serve, const WorkerOptions &opts,
               std::vector<int> udp_fds, std::vector<int> tcp_fds)
    : env_(env), opts_(opts), qp_(std::make_unique<QueryProcessor>(env, serve)),
      udp_fds_(std::move(udp_fds)), tcp_fds_(std::move(tcp_fds)),
      slots_(std::make_unique<UdpSlot[]>(kBatch)), udp_out_(kBatch * kUdpMaxResponse),
      tcp_read_buf_(65536 + 2), tcp_resp_(std::make_unique<uint8_t[]>(kTcpMaxResponse)) {
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

void Worker::accept_tcp(uv_stream_t *server) {
  auto *conn = new TcpConn;
  conn->worker = this;
  uv_tcp_init(&loop_, &conn->handle);
  uv_timer_init(&loop_, &conn->idle);
  conn->handle.data = conn;
  conn->idle.data = conn;
  if (uv_accept(server, reinterpret_cast<uv_stream_t *>(&conn->handle)) != 0) {
    close_conn(conn);
    return;
  }
  ++tcp_clients_;
  conn->counted = true;
  if (tcp_clients_ > opts_.tcp_max_clients) {
    counters_.tcp_refused.fetch_add(1, std::memory_order_relaxed);
    close_conn(conn);
    return;
  }
  counters_.tcp_connections.fetch_add(1, std::memory_order_relaxed);
  uv_tcp_nodelay(&conn->handle, 1);
  int peer_len = sizeof(conn->peer);
  uv_tcp_getpeername(&conn->handle, reinterpret_cast<sockaddr *>(&conn->peer), &peer_len);
  // Repeating timer restarted by every read: it fires only after a full idle period.
  uv_timer_start(
      &conn->idle,
      [](uv_timer_t *t) {
        auto *c = static_cast<TcpConn *>(t->data);
        c->worker->close_conn(c);
      },
      opts_.tcp_idle_timeout_ms, opts_.tcp_idle_timeout_ms);
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

void Worker::close_conn(TcpConn *conn) {
  if (conn->closing) {
    return;
  }
  conn->closing = true;
  if (conn->counted) {
    --tcp_clients_;
  }
  auto done = [](uv_handle_t *h) {
    auto *c = static_cast<TcpConn *>(h->data);
    if (--c->open_handles == 0) {
      delete c; // freed only when both handles have closed (libuv's rule)
    }
  };
  uv_timer_stop(&conn->idle);
  uv_close(reinterpret_cast<uv_handle_t *>(&conn->idle), done);
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
  uv_timer_again(&conn->idle);
  const auto *data = reinterpret_cast<const uint8_t *>(buf->base);
  size_t len = static_cast<size_t>(nread);
  size_t consumed = 0;
  tcp_out_.clear();
  if (!qp_->begin_batch()) {
    close_conn(conn);
    return;
  }
  if (!conn->partial.empty()) {
    conn->partial.insert(conn->partial.end(), data, data + len);
    answer_frames(conn, conn->partial.data(), conn->partial.size(), consumed);
    conn->partial.erase(conn->partial.begin(), conn->partial.begin() + consumed);
  } else {
    answer_frames(conn, data, len, consumed);
    if (consumed < len) {
      conn->partial.assign(data + consumed, data + len);
    }
  }
  qp_->end_batch();
  if (!tcp_out_.empty() && !conn->closing) {
    send_tcp(conn, tcp_out_.data(), tcp_out_.size());
  }
  if (conn->close_after_write && !conn->closing) {
    close_conn(conn); // uv_close lets queued writes fail; answers before the garbage were sent
  }
}

// RFC 7766 8: each message is preceded by a two-byte length; several may arrive at once.
void Worker::answer_frames(TcpConn *conn, const uint8_t *data, size_t len, size_t &consumed) {
  while (len - consumed >= 2) {
    size_t frame = (size_t{data[consumed]} << 8) | data[consumed + 1];
    if (len - consumed < 2 + frame) {
      return;
    }
    const uint8_t *msg = data + consumed + 2;
    consumed += 2 + frame;
    // Answered into a scratch buffer, then only the bytes produced are appended (growing
    // tcp_out_ by a full frame first would zero 64 KiB for every query).
    size_t n = qp_->process(msg, frame, tcp_resp_.get(), kTcpMaxResponse, true,
                            reinterpret_cast<const sockaddr *>(&conn->peer));
    counters_.tcp_queries.fetch_add(1, std::memory_order_relaxed);
    if (qp_->last_malformed()) {
      // A stream peer that sends garbage is not a DNS client: end the connection (as Knot DNS
      // and NSD do) after the answers already produced.
      conn->close_after_write = true;
      consumed = len;
      return;
    }
    if (n == 0) {
      counters_.dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    tcp_out_.push_back(static_cast<uint8_t>(n >> 8));
    tcp_out_.push_back(static_cast<uint8_t>(n));
    tcp_out_.insert(tcp_out_.end(), tcp_resp_.get(), tcp_resp_.get() + n);
  }
}

void Worker::send_tcp(TcpConn *conn, const uint8_t *data, size_t len) {
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
  // A client that pipelines queries but does not read its answers is cut off rather than
  // allowed to pile up memory here.
  if (uv_stream_get_write_queue_size(stream) > kTcpMaxQueued) {
    close_conn(conn);
    return;
  }
  struct Pending {
    uv_write_t req;
    std::vector<uint8_t> bytes;
  };
  auto *p = new Pending;
  p->bytes.assign(data + done, data + len);
  uv_buf_t b = uv_buf_init(reinterpret_cast<char *>(p->bytes.data()),
                           static_cast<unsigned>(p->bytes.size()));
  p->req.data = p;
  if (uv_write(&p->req, stream, &b, 1,
               [](uv_write_t *req, int) { delete static_cast<Pending *>(req->data); }) != 0) {
    delete p;
    close_conn(conn);
  }
}

} // namespace holdfast::serve
