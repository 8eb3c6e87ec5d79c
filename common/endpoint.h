// SPDX-License-Identifier: MIT
// Socket addresses as configured ("192.0.2.1@53", "::1@5353"), shared by serve and xfr.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/result.h"

namespace holdfast {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text; // as configured, for messages
};

// Parses "192.0.2.1@53", "::1@5353", "2001:db8::1" (port defaults to `default_port`).
Result<Endpoint> parse_endpoint(const std::string &text, uint16_t default_port = 53);

// "192.0.2.1@53" / "2001:db8::1@53" for log lines.
std::string format_address(const sockaddr *sa);

// The address alone ("127.0.0.1", "::1") and the port of an endpoint.
std::string endpoint_host(const Endpoint &ep);
uint16_t endpoint_port(const Endpoint &ep);

// "127.0.0.1:9153" / "[::1]:9153": the host:port part of a URL.
std::string format_url_host(const sockaddr *sa);

// Same address family and IP, ports ignored (ACLs match masters by address).
bool same_ip(const sockaddr *a, const sockaddr *b);

} // namespace holdfast
