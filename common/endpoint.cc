// SPDX-License-Identifier: MIT
// Address parsing and formatting (see endpoint.h).
#include "common/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace holdfast {

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

std::string format_address(const sockaddr *sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (sa->sa_family == AF_INET) {
    const auto *v4 = reinterpret_cast<const sockaddr_in *>(sa);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
    port = ntohs(v4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const auto *v6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
    port = ntohs(v6->sin6_port);
  }
  return std::string(buf) + "@" + std::to_string(port);
}

std::string endpoint_host(const Endpoint &ep) {
  std::string text = format_address(reinterpret_cast<const sockaddr *>(&ep.addr));
  return text.substr(0, text.rfind('@'));
}

uint16_t endpoint_port(const Endpoint &ep) {
  const auto *sa = reinterpret_cast<const sockaddr *>(&ep.addr);
  return sa->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in *>(sa)->sin_port)
                                  : ntohs(reinterpret_cast<const sockaddr_in6 *>(sa)->sin6_port);
}

std::string format_url_host(const sockaddr *sa) {
  std::string text = format_address(sa);
  auto at = text.rfind('@');
  std::string host = text.substr(0, at), port = text.substr(at + 1);
  return sa->sa_family == AF_INET6 ? "[" + host + "]:" + port : host + ":" + port;
}

bool same_ip(const sockaddr *a, const sockaddr *b) {
  if (a->sa_family != b->sa_family) {
    return false;
  }
  if (a->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in *>(a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in *>(b)->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6 *>(a)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6 *>(b)->sin6_addr, 16) == 0;
  }
  return false;
}

} // namespace holdfast
