// SPDX-License-Identifier: MIT
// Health probe protocol steps: easy-handle setup, tcp/tls exchange, outcome (see probe.h).
#include "lb/probe.h"

#include <netinet/in.h>

#include <fmt/format.h>

namespace holdfast::lb {
namespace {

size_t on_body(char *data, size_t size, size_t n, void *user) {
  auto *st = static_cast<ProbeState *>(user);
  size_t len = size * n;
  size_t room = kBodyLimit - st->body.size();
  if (len > room) {
    // Only the first 64 KiB count: stop the transfer here (CURLE_WRITE_ERROR, which
    // classify_http() reads as a complete answer because `truncated` is set).
    st->body.append(data, room);
    st->truncated = true;
    return 0;
  }
  st->body.append(data, len);
  return len;
}

// "127.0.0.1" / "[::1]": an address as the host part of a URL or a CONNECT_TO entry.
std::string url_host(const Endpoint &address) {
  std::string host = endpoint_host(address);
  return address.addr.ss_family == AF_INET6 ? "[" + host + "]" : host;
}

const char *scheme(CheckType t) {
  return t == CheckType::kHttps || t == CheckType::kTls ? "https" : "http";
}

void set_tls(CURL *easy, const CheckSpec &check) {
  if (!check.tls_ca.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, check.tls_ca.c_str());
  }
  long verify = check.tls_verify ? 1L : 0L;
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, check.tls_verify ? 2L : 0L);
  // A resumed session skips the certificate: every probe must see an expired or replaced one.
  curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
}

Status set_http(CURL *easy, const CheckSpec &check, ProbeState &st) {
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  // Health pages are small: a 4 KiB read buffer instead of 16 KiB per transfer.
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "holdfast-health-check");
  if (check.method == Method::kPost) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(check.body.size()));
    curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, check.body.c_str());
  }
  // No "Expect: 100-continue" round trip before a POST body.
  st.headers = curl_slist_append(st.headers, "Expect:");
  for (const auto &[name, value] : check.headers) {
    curl_slist *h = curl_slist_append(st.headers, (name + ": " + value).c_str());
    if (h == nullptr) {
      return fail("out of memory");
    }
    st.headers = h;
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, st.headers);
  return Ok{};
}

} // namespace

ProbeState::~ProbeState() {
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
}

Status configure(CURL *easy, const CheckSpec &check, const Endpoint &address, ProbeState &st) {
  std::string addr = url_host(address);
  // With `host`, the URL carries the name (Host header, SNI, certificate name) and CONNECT_TO
  // sends the connection to the address; no name is ever resolved.
  std::string name = check.host.empty() ? addr : check.host;
  bool http = check.type == CheckType::kHttp || check.type == CheckType::kHttps;
  st.url = fmt::format("{}://{}:{}{}", scheme(check.type), name, check.port,
                       http ? check.path : std::string("/"));
  if (!check.host.empty()) {
    std::string entry = fmt::format("{}:{}:{}:{}", check.host, check.port, addr, check.port);
    st.connect_to = curl_slist_append(nullptr, entry.c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECT_TO, st.connect_to);
  }
  curl_easy_setopt(easy, CURLOPT_URL, st.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, st.error);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // A health check tests a new connection: a kept-alive one would hide a refused port.
  // (tcp/tls keep theirs past the connect step for send/expect; it closes with the handle.)
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, http ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(check.timeout_ms));
  // Addresses are literals: a DNS cache gains nothing, and libcurl walks it whole on every
  // transfer (thousands of targets made that a fifth of the CPU per probe).
  curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  if (check.source) {
    st.interface = "host!" + endpoint_host(*check.source);
    curl_easy_setopt(easy, CURLOPT_INTERFACE, st.interface.c_str());
  }
  if (check.type == CheckType::kHttps || check.type == CheckType::kTls) {
    set_tls(easy, check);
  }
  if (!http) {
    // tcp: connect only; tls (https scheme): connect and handshake. The exchange follows.
    curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
    return Ok{};
  }
  return set_http(easy, check, st);
}

bool status_expected(const std::vector<StatusRange> &expect, long code) {
  for (const auto &r : expect) {
    if (code >= r.lo && code <= r.hi) {
      return true;
    }
  }
  return false;
}

Reason reason_of(CURLcode rc) {
  switch (rc) {
  case CURLE_OK:
    return Reason::kOk;
  case CURLE_OPERATION_TIMEDOUT:
    return Reason::kTimeout;
  case CURLE_COULDNT_CONNECT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
    return Reason::kRefused;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
    return Reason::kTls;
  default:
    return Reason::kError;
  }
}

namespace {

ProbeResult failed(CURLcode rc, const ProbeState &st) {
  return ProbeResult{reason_of(rc), 0, st.error[0] != 0 ? st.error : curl_easy_strerror(rc)};
}

} // namespace

ProbeResult classify_http(const CheckSpec &check, CURLcode rc, long status, const ProbeState &st) {
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && st.truncated)) {
    return failed(rc, st);
  }
  std::string http = fmt::format("HTTP {}", status);
  if (!status_expected(check.expect_status, status)) {
    return ProbeResult{Reason::kStatus, 0, http};
  }
  if (!check.expect_body.empty() && st.body.find(check.expect_body) == std::string::npos) {
    return ProbeResult{
        Reason::kBody, 0,
        fmt::format("{}, expect-body not in the first {} octets", http, st.body.size())};
  }
  return ProbeResult{Reason::kOk, 0, http};
}

ProbeResult classify_connect(CURLcode rc, const ProbeState &st) {
  if (rc != CURLE_OK) {
    return failed(rc, st);
  }
  return ProbeResult{Reason::kOk, 0, "connected"};
}

namespace {

// tcp/tls: written, nothing to read: done; else read until `expect-body` shows up.
Step read_reply(CURL *easy, const CheckSpec &check, ProbeState &st, ProbeResult &out) {
  if (check.expect_body.empty()) {
    out = ProbeResult{Reason::kOk, 0, check.send.empty() ? "connected" : "sent"};
    return Step::kDone;
  }
  char buf[4096];
  for (;;) {
    size_t n = 0;
    CURLcode rc = curl_easy_recv(easy, buf, sizeof buf, &n);
    if (rc == CURLE_AGAIN) {
      return Step::kWantRead;
    }
    if (rc != CURLE_OK) {
      out = failed(rc, st);
      return Step::kDone;
    }
    if (n == 0) {
      out = ProbeResult{Reason::kBody, 0,
                        fmt::format("closed before expect-body ({} octets)", st.body.size())};
      return Step::kDone;
    }
    size_t keep = std::min(n, kBodyLimit - st.body.size());
    size_t from = st.body.size() >= check.expect_body.size()
                      ? st.body.size() - check.expect_body.size() + 1
                      : 0;
    st.body.append(buf, keep);
    if (st.body.find(check.expect_body, from) != std::string::npos) {
      out = ProbeResult{Reason::kOk, 0, "expect-body found"};
      return Step::kDone;
    }
    if (st.body.size() >= kBodyLimit) {
      out = ProbeResult{Reason::kBody, 0, "expect-body not in the first 65536 octets"};
      return Step::kDone;
    }
  }
}

} // namespace

Step exchange_step(CURL *easy, const CheckSpec &check, ProbeState &st, ProbeResult &out) {
  while (st.sent < check.send.size()) {
    size_t n = 0;
    CURLcode rc =
        curl_easy_send(easy, check.send.data() + st.sent, check.send.size() - st.sent, &n);
    if (rc == CURLE_AGAIN) {
      return Step::kWantWrite;
    }
    if (rc != CURLE_OK) {
      out = failed(rc, st);
      return Step::kDone;
    }
    st.sent += n;
  }
  return read_reply(easy, check, st, out);
}

ProbeResult exchange_timeout(const CheckSpec &check, const ProbeState &st) {
  if (st.sent < check.send.size()) {
    return ProbeResult{Reason::kTimeout, 0, "timed out sending"};
  }
  return ProbeResult{Reason::kTimeout, 0,
                     fmt::format("no expect-body within the timeout ({} octets)", st.body.size())};
}

} // namespace holdfast::lb
