// SPDX-License-Identifier: MIT
// Listening sockets (see socket.h).
#include "serve/socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace holdfast::serve {

namespace {

Result<int> open_socket(const Endpoint &ep, int type) {
  int fd = ::socket(ep.addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail("cannot create socket for " + ep.text + ": " + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int e = errno;
    ::close(fd);
    return fail("cannot set SO_REUSEPORT on " + ep.text + ": " + std::strerror(e));
  }
  if (ep.addr.ss_family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (::bind(fd, reinterpret_cast<const sockaddr *>(&ep.addr), ep.len) != 0) {
    int e = errno;
    ::close(fd);
    return fail(std::string("cannot bind ") + (type == SOCK_DGRAM ? "UDP " : "TCP ") + ep.text +
                ": " + std::strerror(e));
  }
  return fd;
}

} // namespace

Result<int> open_udp(const Endpoint &ep) {
  auto fd = open_socket(ep, SOCK_DGRAM);
  if (fd) {
    int size = 4 << 20; // absorb bursts between batches
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  return fd;
}

Result<int> open_tcp(const Endpoint &ep, int backlog) {
  auto fd = open_socket(ep, SOCK_STREAM);
  if (fd && ::listen(*fd, backlog) != 0) {
    int e = errno;
    ::close(*fd);
    return fail("cannot listen on TCP " + ep.text + ": " + std::strerror(e));
  }
  return fd;
}

} // namespace holdfast::serve
