// SPDX-License-Identifier: MIT
// The door through which a NOTIFY (RFC 1996) leaves serve: serve never includes xfr, so the
// daemon plugs xfr's intake in behind this interface. It runs on a serve worker thread and must
// only check, answer and enqueue (no I/O, no waiting).
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include "common/knot.h"

namespace holdfast::serve {

class NotifyHandler {
public:
  virtual ~NotifyHandler() = default;
  // `query` is a parsed NOTIFY from `remote`; `resp` was initialised as its response (question
  // copied). Sets the RCODE and flags, may append a TSIG, and returns the response size
  // (0 = drop the packet).
  virtual size_t answer(const knot_pkt_t *query, const sockaddr *remote, knot_pkt_t *resp) = 0;
};

} // namespace holdfast::serve
