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

Result<Endpoint> parse_endpoint(const std::string &text, uint16_t default_port) {
  Endpoint ep;
  ep.text = text;
  std::string host = text;
  uint16_t port = default_port;
  if (auto at = text.rfind('@'); at != std::string::npos) {
    host = text.substr(0, at);
    std::string p = text.substr(at + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v > 65535 || p.empty()) {
      return fail("bad port in address '" + text + "' (expected address@port, port 0-65535)");
    }
    port = static_cast<uint16_t>(v);
  }
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ep.addr);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ep.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.len = sizeof(*v6);
  } else {
    return fail("bad address '" + text + "' (expected an IPv4 or IPv6 address, optionally @port)");
  }
  return ep;
}

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
