// SPDX-License-Identifier: MIT
// Listening sockets: "address@port" parsing and SO_REUSEPORT UDP/TCP sockets, one set per worker
// so the kernel spreads packets and connections across workers without a shared queue.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/result.h"

namespace holdfast::serve {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text; // as configured, for messages
};

// Parses "192.0.2.1@53", "::1@5353", "2001:db8::1" (port defaults to `default_port`).
Result<Endpoint> parse_endpoint(const std::string &text, uint16_t default_port = 53);

// Non-blocking, SO_REUSEPORT, bound; IPv6 sockets are IPv6-only. Returns the fd.
Result<int> open_udp(const Endpoint &ep);
Result<int> open_tcp(const Endpoint &ep, int backlog);

} // namespace holdfast::serve
