// SPDX-License-Identifier: MIT
// Serve worker: its loop, and UDP batches (see worker.h; TCP is in worker_tcp.cc).
#include "serve/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace holdfast::serve {

namespace {
constexpr size_t kUdpMaxQuery = 4096;    // larger datagrams are not DNS queries we answer
constexpr size_t kUdpMaxResponse = 4096; // udp-max-payload is capped to this
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

Worker::Worker(store::Env &env, const ServeOptions &serve, const WorkerOptions &opts,
               std::vector<int> udp_fds, std::vector<int> tcp_fds)
    : env_(env), opts_(opts), qp_(std::make_unique<QueryProcessor>(env, serve)),
      udp_fds_(std::move(udp_fds)), tcp_fds_(std::move(tcp_fds)),
      slots_(std::make_unique<UdpSlot[]>(kBatch)), udp_out_(kBatch * kUdpMaxResponse),
      tcp_read_buf_(65536 + 2), tcp_resp_(std::make_unique<uint8_t[]>(kTcpMaxResponse)),
      client_counts_(opts.client_counts ? opts.client_counts
                                        : std::make_shared<TcpClientCounts>()) {
  qp_->set_worker(opts.index);
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
            static_cast<Worker *>(h->loop->data)->close_conn(static_cast<TcpConn *>(h->data));
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

} // namespace holdfast::serve
