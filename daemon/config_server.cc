// SPDX-License-Identifier: MIT
// The `server:` section of the config: listeners, workers, storage, HTTP, TCP and transfer
// bounds, response rate limiting (see conf/README.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>

#include "daemon/config_util.h"

namespace holdfast::daemon::config_detail {
namespace {

// server.rrl: response rate limiting (serve/rrl.h), Knot DNS's knobs.
void load_rrl(const YAML::Node &n, serve::RrlOptions &rrl, Errors &errs) {
  if (!n.IsMap()) {
    errs.add(n, "server.rrl", "expected a mapping (rate-limit: ..., slip: ...)");
    return;
  }
  check_keys(n, {"rate-limit", "slip", "ipv4-prefix", "ipv6-prefix", "table-size", "exempt"},
             "server.rrl", errs);
  const struct {
    const char *key;
    uint32_t min, max, *out;
  } numbers[] = {{"rate-limit", 0, 1000000, &rrl.rate_limit},
                 {"slip", 0, 100, &rrl.slip},
                 {"table-size", 1, 1u << 26, &rrl.table_size}};
  for (const auto &k : numbers) {
    if (auto v = n[k.key]) {
      get_uint<uint32_t>(v, std::string("server.rrl.") + k.key, k.min, k.max, *k.out, errs);
    }
  }
  if (auto v = n["ipv4-prefix"]) {
    get_uint<uint8_t>(v, "server.rrl.ipv4-prefix", 0, 32, rrl.ipv4_prefix, errs);
  }
  if (auto v = n["ipv6-prefix"]) {
    get_uint<uint8_t>(v, "server.rrl.ipv6-prefix", 0, 128, rrl.ipv6_prefix, errs);
  }
  if (auto e = n["exempt"]) {
    if (!e.IsSequence()) {
      errs.add(e, "server.rrl.exempt", "expected a list of prefixes like 192.0.2.0/24");
      return;
    }
    for (const auto &item : e) {
      auto p = serve::parse_prefix(item.IsScalar() ? item.as<std::string>() : "");
      if (!p) {
        errs.add(item, "server.rrl.exempt", p.error());
      } else {
        rrl.exempt.push_back(*p);
      }
    }
  }
}

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: reachable from this host only.
bool is_loopback(const Endpoint &ep) {
  if (ep.addr.ss_family == AF_INET) {
    const auto *in = reinterpret_cast<const sockaddr_in *>(&ep.addr);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&ep.addr);
  return ep.addr.ss_family == AF_INET6 &&
         (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
          (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127));
}

} // namespace

void load_server(const YAML::Node &n, const std::string &dir, Config &cfg, Errors &errs) {
  check_keys(n,
             {"listen",
              "workers",
              "storage",
              "udp-max-payload",
              "identity",
              "version",
              "nsid",
              "tcp-idle-timeout",
              "tcp-max-clients",
              "tcp-io-timeout",
              "tcp-max-clients-per-address",
              "tcp-max-inflight",
              "http",
              "http-token",
              "user",
              "soa-timeout",
              "transfer-idle-timeout",
              "transfer-timeout",
              "transfers",
              "transfers-per-master",
              "rrl"},
             "server", errs);
  if (auto r = n["rrl"]) {
    load_rrl(r, cfg.rrl, errs);
  }
  if (auto l = n["listen"]) {
    if (!l.IsSequence()) {
      errs.add(l, "server.listen", "expected a list of address@port");
    } else {
      for (const auto &item : l) {
        auto ep = serve::parse_endpoint(item.as<std::string>());
        if (!ep) {
          errs.add(item, "server.listen", ep.error());
        } else {
          cfg.listen.push_back(*ep);
        }
      }
    }
  }
  if (auto w = n["workers"]) {
    get_uint<unsigned>(w, "server.workers", 1, 256, cfg.workers, errs);
  }
  if (auto s = n["storage"]; s && get_text(s, "server.storage", cfg.storage, errs)) {
    cfg.storage = resolve_path(dir, cfg.storage);
  }
  if (auto p = n["udp-max-payload"]) {
    get_uint<uint16_t>(p, "server.udp-max-payload", 512, 4096, cfg.serve.udp_max_payload, errs);
  }
  if (auto v = n["identity"]) {
    get_text(v, "server.identity", cfg.serve.identity, errs);
  }
  if (auto v = n["version"]) {
    get_text(v, "server.version", cfg.serve.version, errs);
  }
  if (auto v = n["nsid"]) {
    get_text(v, "server.nsid", cfg.serve.nsid, errs);
  }
  if (auto t = n["tcp-idle-timeout"]) {
    if (!parse_duration_ms(t.as<std::string>(), cfg.worker.tcp_idle_timeout_ms) ||
        cfg.worker.tcp_idle_timeout_ms == 0) {
      errs.add(t, "server.tcp-idle-timeout",
               "expected a duration like 10s or 2m, got '" + t.as<std::string>() + "'");
    }
  }
  if (auto h = n["http"]) {
    std::string text;
    if (get_text(h, "server.http", text, errs) && text != "none") {
      auto ep = parse_endpoint(text, 9153);
      if (!ep) {
        errs.add(h, "server.http", ep.error());
      } else {
        cfg.http = *ep;
      }
    } else {
      cfg.http.reset();
    }
  }
  if (auto u = n["user"]; u && get_text(u, "server.user", cfg.user, errs) && !cfg.user.empty() &&
                          ::getpwnam(cfg.user.c_str()) == nullptr) {
    errs.add(u, "server.user", "no user '" + cfg.user + "' on this system");
  }
  if (auto t = n["http-token"]) {
    get_text(t, "server.http-token", cfg.http_token, errs);
  }
  // The API reloads and purges zones: off the host it needs a token.
  if (auto h = n["http"]; h && cfg.http && cfg.http_token.empty() && !is_loopback(*cfg.http)) {
    errs.add(h, "server.http",
             cfg.http->text + " is not a loopback address: set server.http-token (the control "
                              "API can reload the config and purge zones)");
  }
  if (auto m = n["tcp-max-clients"]) {
    get_uint<int>(m, "server.tcp-max-clients", 1, 1000000, cfg.worker.tcp_max_clients, errs);
  }
  // The transfer driver's bounds (xfr::Limits); at most a week, so deadlines cannot overflow.
  const std::pair<const char *, uint64_t *> durations[] = {
      {"soa-timeout", &cfg.xfr.soa_timeout_ms},
      {"transfer-idle-timeout", &cfg.xfr.transfer_idle_ms},
      {"transfer-timeout", &cfg.xfr.transfer_timeout_ms}};
  for (auto [key, out] : durations) {
    if (auto t = n[key]; t && (!t.IsScalar() || !parse_duration_ms(t.as<std::string>(), *out) ||
                               *out == 0 || *out > uint64_t{7} * 86'400'000)) {
      errs.add(t, std::string("server.") + key, "expected a duration from 1ms to 7d, like 2s");
    }
  }
  if (auto t = n["transfers"]) {
    get_uint<size_t>(t, "server.transfers", 1, 100000, cfg.xfr.transfers, errs);
  }
  if (auto t = n["transfers-per-master"]) {
    get_uint<size_t>(t, "server.transfers-per-master", 1, 100000, cfg.xfr.transfers_per_master,
                     errs);
  }
  if (auto t = n["tcp-io-timeout"]) {
    if (!parse_duration_ms(t.as<std::string>(), cfg.worker.tcp_io_timeout_ms) ||
        cfg.worker.tcp_io_timeout_ms == 0) {
      errs.add(t, "server.tcp-io-timeout",
               "expected a duration like 5s or 500ms, got '" + t.as<std::string>() + "'");
    }
  }
  if (auto m = n["tcp-max-clients-per-address"]) {
    get_uint<int>(m, "server.tcp-max-clients-per-address", 0, 1000000,
                  cfg.worker.tcp_max_clients_per_address, errs);
  }
  if (auto m = n["tcp-max-inflight"]) {
    get_uint<int>(m, "server.tcp-max-inflight", 1, 65535, cfg.worker.tcp_max_inflight, errs);
  }
}

} // namespace holdfast::daemon::config_detail
