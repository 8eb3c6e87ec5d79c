// SPDX-License-Identifier: MIT
// Listening sockets: "address@port" parsing and SO_REUSEPORT UDP/TCP sockets, one set per worker
// so the kernel spreads packets and connections across workers without a shared queue.
#pragma once

#include <sys/socket.h>

#include <string>

#include "common/endpoint.h"
#include "common/result.h"

namespace holdfast::serve {

using holdfast::Endpoint;
using holdfast::parse_endpoint;

// Non-blocking, SO_REUSEPORT, bound; IPv6 sockets are IPv6-only. Returns the fd.
Result<int> open_udp(const Endpoint &ep);
Result<int> open_tcp(const Endpoint &ep, int backlog);

} // namespace holdfast::serve
