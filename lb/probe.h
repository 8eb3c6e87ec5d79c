// SPDX-License-Identifier: MIT
// One health probe as protocol steps without a loop (STYLE.md 13): configure a libcurl easy
// handle for a (check, address) target, run the tcp/tls send/expect exchange one non-blocking
// step at a time, and classify what happened into a ProbeResult. lb/monitor.cc drives them.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/endpoint.h"
#include "common/result.h"
#include "lb/health.h"
#include "lb/spec.h"

namespace holdfast::lb {

// The issue: expect-body matches within the first 64 KiB; reading stops there (not a failure).
inline constexpr size_t kBodyLimit = 64 * 1024;

// What one probe's easy handle points into: kept alive (and at a fixed address) until the
// handle is cleaned up.
struct ProbeState {
  ProbeState() = default;
  ProbeState(const ProbeState &) = delete;
  ProbeState &operator=(const ProbeState &) = delete;
  ~ProbeState();

  std::string url;
  std::string interface;         // CURLOPT_INTERFACE "host!IP"
  curl_slist *headers = nullptr; // http(s) request headers
  curl_slist *connect_to = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  std::string body;       // http(s): the first kBodyLimit octets; tcp/tls: the reply to `send`
  bool truncated = false; // the body went past kBodyLimit and reading stopped
  size_t sent = 0;        // tcp/tls: octets of `send` written so far
};

// Configures `easy` (fresh, or after curl_easy_reset) for one probe of `check` on `address`
// (a literal IP; its port is ignored, the check's port is used). Never follows redirects,
// never uses a proxy, opens a fresh connection (no reuse, no TLS session resumption: every
// probe sees what a new client sees).
Status configure(CURL *easy, const CheckSpec &check, const Endpoint &address, ProbeState &st);

// Whether `code` is in the check's expect-status list.
bool status_expected(const std::vector<StatusRange> &expect, long code);

// Reason for a transfer that libcurl ended with `rc` (not CURLE_OK).
Reason reason_of(CURLcode rc);

// Outcome of a finished http(s) transfer: `rc` from CURLMSG_DONE, `status` the HTTP code.
ProbeResult classify_http(const CheckSpec &check, CURLcode rc, long status, const ProbeState &st);

// Outcome of the connect (tcp) or handshake (tls) step; ok() means go on to the exchange.
ProbeResult classify_connect(CURLcode rc, const ProbeState &st);

// tcp/tls after connecting: write `send`, then read until `expect-body` is seen.
enum class Step : uint8_t {
  kWantRead,  // wait until the socket is readable, then call again
  kWantWrite, // wait until the socket is writable, then call again
  kDone,      // `out` holds the outcome
};
Step exchange_step(CURL *easy, const CheckSpec &check, ProbeState &st, ProbeResult &out);

// Outcome when the timeout fires during the exchange.
ProbeResult exchange_timeout(const CheckSpec &check, const ProbeState &st);

} // namespace holdfast::lb
