// SPDX-License-Identifier: MIT
// Config loading (daemon/config.h): the typed result of a valid file, and every error class
// reported as "FILE:LINE: key: problem".
#include "daemon/config.h"
#include "daemon/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/testutil.h"

namespace holdfast::daemon {
namespace {

using test::Name;
using test::TempDir;

class ConfigTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n");
    dir_.write("example.net.zone", "$ORIGIN example.net.\n@ SOA ns hm 1 2 3 4 5\n");
  }
  // Writes `yaml` as holdfast.yaml and loads it.
  Result<Config> load(const std::string &yaml) {
    path_ = dir_.write("holdfast.yaml", yaml);
    return load_config(path_);
  }
  // Loads `yaml`, expects failure, and returns the message.
  std::string error_of(const std::string &yaml) {
    auto r = load(yaml);
    EXPECT_FALSE(r.ok()) << "config was accepted";
    return r.ok() ? "" : r.error();
  }
  // "FILE:LINE: " for a line of the config file.
  std::string at(int line) const { return path_ + ":" + std::to_string(line) + ": "; }

  TempDir dir_;
  std::string path_;
};

const char *kValid = R"(# a complete config
server:
  listen: ["127.0.0.1@5353", "::1", "192.0.2.1@53"]
  workers: 3
  storage: store
  udp-max-payload: 1400
  identity: ns1.example
  version: "holdfast test"
  nsid: ns1
  tcp-idle-timeout: 2m
  tcp-max-clients: 64
log:
  level: debug
zones:
  - domain: Example.COM
    file: example.com.zone
  - domain: example.net.
    file: example.net.zone
)";

TEST_F(ConfigTest, ValidConfigIsParsedIntoTypedValues) {
  auto r = load(kValid);
  ASSERT_TRUE(r.ok()) << r.error();
  const Config &c = *r;
  EXPECT_EQ(c.path, path_);
  ASSERT_EQ(c.listen.size(), 3u);
  const auto *v4 = reinterpret_cast<const sockaddr_in *>(&c.listen[0].addr);
  EXPECT_EQ(v4->sin_family, AF_INET);
  EXPECT_EQ(ntohs(v4->sin_port), 5353);
  EXPECT_EQ(ntohl(v4->sin_addr.s_addr), 0x7f000001u);
  EXPECT_EQ(c.listen[0].text, "127.0.0.1@5353");
  const auto *v6 = reinterpret_cast<const sockaddr_in6 *>(&c.listen[1].addr);
  EXPECT_EQ(v6->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(v6->sin6_port), 53); // the default port
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.storage, dir_.file("store")); // relative to the config file
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.serve.udp_max_payload, 1400);
  EXPECT_EQ(c.serve.identity, "ns1.example");
  EXPECT_EQ(c.serve.version, "holdfast test");
  EXPECT_EQ(c.serve.nsid, "ns1");
  EXPECT_EQ(c.worker.tcp_idle_timeout_ms, 120000u);
  EXPECT_EQ(c.worker.tcp_max_clients, 64);
  ASSERT_EQ(c.zones.size(), 2u);
  EXPECT_EQ(c.zones[0].domain, "Example.COM.");
  Name lower("example.com.");
  EXPECT_EQ(c.zones[0].apex, std::vector<uint8_t>(lower.get(), lower.get() + lower.size()));
  EXPECT_EQ(c.zones[0].file, dir_.file("example.com.zone"));
  EXPECT_EQ(c.zones[1].domain, "example.net.");
  EXPECT_EQ(c.zones[1].file, dir_.file("example.net.zone"));
}

TEST_F(ConfigTest, DefaultsApplyWhenKeysAreLeftOut) {
  auto r = load("server:\n  listen: [\"127.0.0.1@53\"]\n  storage: /var/lib/holdfast\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->storage, "/var/lib/holdfast");
  EXPECT_GE(r->workers, 1u);
  EXPECT_EQ(r->serve.udp_max_payload, 1232);
  EXPECT_EQ(r->serve.version, "");
  EXPECT_EQ(r->worker.tcp_idle_timeout_ms, 10000u);
  EXPECT_EQ(r->worker.tcp_max_clients, 512);
  EXPECT_EQ(r->log_level, "info");
  EXPECT_TRUE(r->zones.empty());
}

TEST_F(ConfigTest, DurationsTakeUnits) {
  struct Case {
    const char *text;
    uint64_t ms;
  } cases[] = {{"500ms", 500}, {"10s", 10000},  {"7", 7000},
               {"5m", 300000}, {"2h", 7200000}, {"1d", 86400000}};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.text);
    auto r = load(std::string("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n"
                              "  tcp-idle-timeout: ") +
                  c.text + "\n");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->worker.tcp_idle_timeout_ms, c.ms);
  }
}

TEST_F(ConfigTest, UnknownKeyIsAnError) {
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1@53\"]\n"
                           "  storage: s\n"
                           "  listen-port: 53\n"
                           "zones:\n"
                           "  - domain: example.com\n"
                           "    file: example.com.zone\n"
                           "    master: 192.0.2.1\n"
                           "logging: {}\n");
  // Top-level keys are checked first, then each section in turn.
  EXPECT_EQ(e, at(9) + "logging: unknown key\n" +                //
                   at(4) + "server.listen-port: unknown key\n" + //
                   at(8) + "zones[].master: unknown key");
}

TEST_F(ConfigTest, BadAddressIsAnError) {
  std::string e = error_of("server:\n"
                           "  storage: s\n"
                           "  listen:\n"
                           "    - 127.0.0.1@53\n"
                           "    - 300.1.2.3@53\n"
                           "    - ns1.example.com@53\n");
  EXPECT_EQ(e, at(5) +
                   "server.listen: bad address '300.1.2.3@53' (expected an IPv4 or IPv6 address, "
                   "optionally @port)\n" +
                   at(6) +
                   "server.listen: bad address 'ns1.example.com@53' (expected an IPv4 or IPv6 "
                   "address, optionally @port)");
}

TEST_F(ConfigTest, BadPortIsAnError) {
  for (const char *addr : {"127.0.0.1@65536", "127.0.0.1@", "127.0.0.1@53x", "::1@-1"}) {
    SCOPED_TRACE(addr);
    std::string e = error_of(std::string("server:\n  storage: s\n  listen: [\"") + addr + "\"]\n");
    EXPECT_EQ(e, at(3) + "server.listen: bad port in address '" + addr +
                     "' (expected address@port, port 0-65535)");
  }
}

TEST_F(ConfigTest, ListenMustBeAList) {
  std::string e = error_of("server:\n  storage: s\n  listen: 127.0.0.1@53\n");
  EXPECT_EQ(e, at(3) + "server.listen: expected a list of address@port");
}

TEST_F(ConfigTest, NumbersOutOfRangeAreErrors) {
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1\"]\n"
                           "  storage: s\n"
                           "  workers: 0\n"
                           "  udp-max-payload: 511\n"
                           "  tcp-max-clients: many\n");
  EXPECT_EQ(e, at(4) + "server.workers: expected a whole number from 1 to 256, got '0'\n" + at(5) +
                   "server.udp-max-payload: expected a whole number from 512 to 4096, got '511'\n" +
                   at(6) +
                   "server.tcp-max-clients: expected a whole number from 1 to 1000000, got 'many'");
}

TEST_F(ConfigTest, RrlIsOffByDefaultAndTakesKnotsKnobs) {
  auto off = load("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n");
  ASSERT_TRUE(off.ok()) << off.error();
  EXPECT_EQ(off->rrl.rate_limit, 0u); // no rrl block: off
  EXPECT_EQ(off->rrl.slip, 2u);
  EXPECT_EQ(off->rrl.ipv4_prefix, 24);
  EXPECT_EQ(off->rrl.ipv6_prefix, 56);
  EXPECT_EQ(off->rrl.table_size, 393241u);
  auto r = load("server:\n"
                "  listen: [\"127.0.0.1\"]\n"
                "  storage: s\n"
                "  rrl:\n"
                "    rate-limit: 20\n"
                "    slip: 0\n"
                "    ipv4-prefix: 32\n"
                "    ipv6-prefix: 64\n"
                "    table-size: 1000\n"
                "    exempt: [\"127.0.0.0/8\", \"2001:db8::/32\"]\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->rrl.rate_limit, 20u);
  EXPECT_EQ(r->rrl.slip, 0u);
  EXPECT_EQ(r->rrl.ipv4_prefix, 32);
  EXPECT_EQ(r->rrl.ipv6_prefix, 64);
  EXPECT_EQ(r->rrl.table_size, 1000u);
  ASSERT_EQ(r->rrl.exempt.size(), 2u);
  EXPECT_EQ(r->rrl.exempt[0], *serve::parse_prefix("127.0.0.0/8"));
  EXPECT_EQ(r->rrl.exempt[1].family, AF_INET6);
  EXPECT_EQ(r->rrl.exempt[1].len, 32);
}

TEST_F(ConfigTest, RrlErrorsNameTheKey) {
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1\"]\n"
                           "  storage: s\n"
                           "  rrl:\n"
                           "    rate-limit: -1\n"
                           "    slip: 101\n"
                           "    ipv6-prefix: 129\n"
                           "    exempt: [\"10.0.0.0/8\", \"10.0.0.0/40\", \"nowhere\"]\n"
                           "    whitelist: []\n");
  EXPECT_EQ(
      e, at(9) + "server.rrl.whitelist: unknown key\n" + at(5) +
             "server.rrl.rate-limit: expected a whole number from 0 to 1000000, got '-1'\n" +
             at(6) + "server.rrl.slip: expected a whole number from 0 to 100, got '101'\n" + at(7) +
             "server.rrl.ipv6-prefix: expected a whole number from 0 to 128, got '129'\n" + at(8) +
             "server.rrl.exempt: '10.0.0.0/40': prefix length must be 0 to 32\n" + at(8) +
             "server.rrl.exempt: 'nowhere' is not an address or prefix like 192.0.2.0/24");
  EXPECT_EQ(error_of("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n  rrl: 20\n"),
            at(4) + "server.rrl: expected a mapping (rate-limit: ..., slip: ...)");
}

TEST_F(ConfigTest, DuplicateZoneIsAnError) {
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1\"]\n"
                           "  storage: s\n"
                           "zones:\n"
                           "  - domain: example.com.\n"
                           "    file: example.com.zone\n"
                           "  - domain: Example.COM\n"
                           "    file: example.net.zone\n");
  // Names compare case-insensitively (RFC 4343): the second entry is the same zone.
  EXPECT_EQ(e, at(7) + "zones[].domain: zone Example.COM. is listed twice");
}

TEST_F(ConfigTest, BadZoneNameIsAnError) {
  std::string long_label(64, 'a');
  std::string e = error_of("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\nzones:\n"
                           "  - domain: " +
                           long_label + ".com\n    file: example.com.zone\n");
  EXPECT_EQ(e, at(5) + "zones[].domain: '" + long_label + ".com' is not a valid domain name");
}

TEST_F(ConfigTest, BadDurationForTcpIdleTimeoutIsAnError) {
  for (const char *text : {"10x", "s", "0s", "-5s", "1.5s"}) {
    SCOPED_TRACE(text);
    std::string e = error_of(std::string("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n"
                                         "  tcp-idle-timeout: \"") +
                             text + "\"\n");
    EXPECT_EQ(e, at(4) + "server.tcp-idle-timeout: expected a duration like 10s or 2m, got '" +
                     text + "'");
  }
}

TEST_F(ConfigTest, OverflowingDurationIsAnError) {
  // 213503982336 days is more milliseconds than a uint64_t holds: v * 86400000 wraps around
  // to 120848384 ms (about 33.6 hours), which must not be accepted silently.
  std::string e = error_of("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n"
                           "  tcp-idle-timeout: 213503982336d\n");
  EXPECT_EQ(e, at(4) + "server.tcp-idle-timeout: expected a duration like 10s or 2m, got "
                       "'213503982336d'");
}

TEST_F(ConfigTest, UnreadableZoneFileIsNotAConfigError) {
  // `run` keeps serving a zone's stored snapshot when its file is gone; `check` reports the
  // file when it parses it (daemon/config.cc load_zones). The path is still resolved.
  auto r = load("server:\n"
                "  listen: [\"127.0.0.1\"]\n"
                "  storage: s\n"
                "zones:\n"
                "  - domain: example.org\n"
                "    file: missing/example.org.zone\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->zones.size(), 1u);
  EXPECT_EQ(r->zones[0].file, dir_.file("missing/example.org.zone"));
}

TEST_F(ConfigTest, ZoneWithoutFileIsAnError) {
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1\"]\n"
                           "  storage: s\n"
                           "zones:\n"
                           "  - domain: example.org\n");
  EXPECT_EQ(e, at(5) + "zones[].file: missing for zone example.org. (or give masters:)");
}

TEST_F(ConfigTest, MissingStorageIsAnError) {
  std::string e = error_of("server:\n  listen: [\"127.0.0.1@53\"]\n");
  EXPECT_EQ(e, at(2) + "server.storage: missing (the directory for the LMDB store)");
}

TEST_F(ConfigTest, MissingListenIsAnError) {
  std::string e = error_of("server:\n  storage: s\n");
  EXPECT_EQ(e, at(2) + "server.listen: no address to listen on");
}

TEST_F(ConfigTest, BadLogLevelIsAnError) {
  std::string e = error_of("server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n"
                           "log:\n  level: verbose\n");
  EXPECT_EQ(e, at(5) + "log.level: expected debug, info, warning or error");
}

TEST_F(ConfigTest, EveryProblemIsListedOnItsOwnLine) {
  std::string e = error_of("server:\n"
                           "  listen: [\"1.2.3.4@99999\"]\n"
                           "  storage: s\n"
                           "  tcp-idle-timeout: soon\n"
                           "log:\n"
                           "  level: loud\n"
                           "zones:\n"
                           "  - domain: example.org\n");
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 3) << e;
  EXPECT_EQ(e.rfind(at(2) + "server.listen: bad port", 0), 0u) << e;
  EXPECT_NE(e.find("\n" + at(4) + "server.tcp-idle-timeout: "), std::string::npos) << e;
  EXPECT_NE(e.find("\n" + at(6) + "log.level: "), std::string::npos) << e;
  EXPECT_NE(e.find("\n" + at(8) + "zones[].file: missing for zone example.org."), std::string::npos)
      << e;
}

TEST_F(ConfigTest, WrongKindOfValueNamesTheLine) {
  // config.h: every problem is reported as "FILE:LINE: key: problem".
  std::string e = error_of("server:\n"
                           "  listen: [\"127.0.0.1\"]\n"
                           "  storage: s\n"
                           "  workers: [1, 2]\n");
  EXPECT_EQ(e.rfind(at(4), 0), 0u) << e;
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesTheLine) {
  std::string e = error_of("server:\n  listen: [\"127.0.0.1\"\n  storage: s\n");
  EXPECT_EQ(e.rfind(path_ + ":", 0), 0u) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST_F(ConfigTest, MissingConfigFileIsAnError) {
  std::string missing = dir_.file("nope.yaml");
  auto r = load_config(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), missing + ": cannot read the config file");
}

TEST_F(ConfigTest, TopLevelMustBeAMapping) {
  std::string e = error_of("- just\n- a list\n");
  EXPECT_EQ(e, path_ + ": expected a YAML mapping with server: and zones:");
}

const char *kHead = "server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n";

TEST_F(ConfigTest, SecondaryZoneIsParsedWithMastersKeysAndVanitySet) {
  auto r = load(std::string(kHead) + R"(keys:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
masters:
  - id: hidden
    addresses: ["192.0.2.1@5300", "2001:db8::1"]
    key: xfr-key
    source: 192.0.2.53
nameserver-sets:
  - id: vanity
    nameservers:
      - name: ns1.example.org.
        addresses: [198.51.100.1, "2001:db8::53"]
zones:
  - domain: example.org.
    masters: [hidden]
    refresh: 30s
    retry: 2s
    max-zone-size: 10M
    nameservers: vanity
  - domain: example.com.
    file: example.com.zone
)");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->zones.size(), 2u);
  const auto &z = r->zones[0];
  ASSERT_TRUE(z.secondary);
  EXPECT_TRUE(z.file.empty());
  EXPECT_EQ(z.secondary->refresh_ms, 30000u);
  EXPECT_EQ(z.secondary->retry_ms, 2000u);
  EXPECT_EQ(z.secondary->max_size, 10u << 20);
  ASSERT_EQ(z.secondary->masters.size(), 1u);
  const auto &m = *z.secondary->masters[0];
  EXPECT_EQ(m.id, "hidden");
  ASSERT_EQ(m.addresses.size(), 2u);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in *>(&m.addresses[0].addr)->sin_port), 5300);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6 *>(&m.addresses[1].addr)->sin6_port), 53);
  ASSERT_TRUE(m.key);
  EXPECT_EQ(m.key->name(), "xfr-key");
  ASSERT_TRUE(m.source.has_value());
  ASSERT_EQ(z.secondary->vanity.size(), 1u);
  EXPECT_EQ(z.secondary->vanity[0].addresses.size(), 2u);
  EXPECT_FALSE(r->zones[1].secondary);
  EXPECT_EQ(r->secondaries().size(), 1u);
}

TEST_F(ConfigTest, SecondaryDefaultsAreTwoMinutesRefreshAndFifteenSecondsRetry) {
  auto r = load(std::string(kHead) + "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                                     "zones:\n  - domain: example.org\n    masters: [m]\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->zones[0].secondary->refresh_ms, 120000u);
  EXPECT_EQ(r->zones[0].secondary->retry_ms, 15000u);
  EXPECT_EQ(r->zones[0].secondary->max_size, 0u);
  EXPECT_TRUE(r->zones[0].secondary->vanity.empty());
}

TEST_F(ConfigTest, UnknownMasterIsAnError) {
  std::string e = error_of(std::string(kHead) + "zones:\n  - domain: example.org\n"
                                                "    masters: [nowhere]\n");
  EXPECT_EQ(e, at(6) + "zones[].masters: no master 'nowhere' under masters:");
}

TEST_F(ConfigTest, UnknownKeyOfAMasterIsAnError) {
  std::string e = error_of(std::string(kHead) + "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                                                "    key: missing\n");
  EXPECT_EQ(e, at(7) + "masters[].key: no key 'missing' under keys:");
}

TEST_F(ConfigTest, UnknownTsigAlgorithmIsAnError) {
  std::string e = error_of(std::string(kHead) + "keys:\n  - id: k\n    algorithm: hmac-sha3\n"
                                                "    secret: c2VjcmV0\n");
  EXPECT_EQ(e.rfind(at(6) + "keys[].algorithm: unknown TSIG algorithm 'hmac-sha3'", 0), 0u) << e;
}

TEST_F(ConfigTest, SecretThatIsNotBase64IsAnError) {
  std::string e = error_of(std::string(kHead) + "keys:\n  - id: k\n    algorithm: hmac-sha256\n"
                                                "    secret: \"not base64!\"\n");
  EXPECT_EQ(e.rfind(at(7) + "keys[].secret: ", 0), 0u) << e;
}

TEST_F(ConfigTest, BadMasterAddressIsAnError) {
  std::string e =
      error_of(std::string(kHead) + "masters:\n  - id: m\n    addresses: [master.example]\n");
  EXPECT_EQ(e.rfind(at(6) + "masters[].addresses: bad address 'master.example'", 0), 0u) << e;
}

TEST_F(ConfigTest, ZoneWithFileAndMastersIsAnError) {
  std::string e = error_of(std::string(kHead) +
                           "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                           "zones:\n  - domain: example.org\n    file: x.zone\n    masters: [m]\n");
  EXPECT_EQ(e, at(9) + "zones[].file: zone example.org. has both file: and masters: (primary or "
                       "secondary?)");
}

TEST_F(ConfigTest, SecondaryOnlyKeysOnAPrimaryZoneAreErrors) {
  std::string e =
      error_of(std::string(kHead) + "zones:\n  - domain: example.com\n    file: example.com.zone\n"
                                    "    refresh: 10s\n");
  EXPECT_EQ(e, at(7) + "zones[].refresh: only for secondary zones (with masters:)");
}

TEST_F(ConfigTest, BadRefreshAndSizeAreErrors) {
  std::string e =
      error_of(std::string(kHead) + "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                                    "zones:\n  - domain: example.org\n    masters: [m]\n"
                                    "    refresh: often\n    max-zone-size: big\n");
  EXPECT_NE(e.find(at(10) + "zones[].refresh: expected a duration"), std::string::npos) << e;
  EXPECT_NE(e.find(at(11) + "zones[].max-zone-size: expected a size"), std::string::npos) << e;
}

TEST_F(ConfigTest, DuplicateMasterIsAnError) {
  std::string e = error_of(std::string(kHead) + "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                                                "  - id: m\n    addresses: [192.0.2.2]\n");
  EXPECT_EQ(e, at(7) + "masters[].id: master 'm' is defined twice");
}

TEST_F(ConfigTest, HttpListenerTokenAndUserAreParsed) {
  auto r = load(std::string(kHead) + "  http: 127.0.0.1@9999\n  http-token: t0k\n  user: root\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->http.has_value());
  EXPECT_EQ(r->http->text, "127.0.0.1@9999");
  EXPECT_EQ(r->http_token, "t0k");
  EXPECT_EQ(r->user, "root");
}

TEST_F(ConfigTest, HttpDefaultsToTheExporterPortAndNoneTurnsItOff) {
  auto r = load(kHead);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->http.has_value());
  EXPECT_EQ(r->http->text, "127.0.0.1@9153");
  r = load(std::string(kHead) + "  http: none\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->http.has_value());
}

TEST_F(ConfigTest, BadHttpAddressAndUnknownUserAreErrors) {
  std::string e = error_of(std::string(kHead) + "  http: localhost\n  user: no-such-user-here\n");
  EXPECT_NE(e.find(at(4) + "server.http: bad address 'localhost'"), std::string::npos) << e;
  EXPECT_NE(e.find(at(5) + "server.user: no user 'no-such-user-here' on this system"),
            std::string::npos)
      << e;
}

TEST_F(ConfigTest, HttpOffLoopbackWithoutATokenIsAnError) {
  for (const char *addr : {"0.0.0.0@9153", "192.0.2.1@9153", "::@9153", "2001:db8::1"}) {
    std::string e = error_of(std::string(kHead) + "  http: \"" + addr + "\"\n");
    EXPECT_NE(e.find(at(4) + "server.http: " + addr +
                     " is not a loopback address: set server.http-token"),
              std::string::npos)
        << e;
  }
  for (const char *addr : {"127.0.0.1@9153", "127.1.2.3@9153", "::1@9153", "::ffff:127.0.0.1"}) {
    auto r = load(std::string(kHead) + "  http: \"" + addr + "\"\n");
    EXPECT_TRUE(r.ok()) << addr << ": " << r.error();
  }
  auto r = load(std::string(kHead) + "  http: 0.0.0.0@9153\n  http-token: t0k\n");
  EXPECT_TRUE(r.ok()) << r.error();
}

TEST_F(ConfigTest, LogRateLimitDefaultsToTenSecondsAndZeroTurnsItOff) {
  auto r = load(kHead);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->log_rate_limit_ms, 10000u);
  r = load(std::string(kHead) + "log:\n  rate-limit: 2m\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->log_rate_limit_ms, 120000u);
  r = load(std::string(kHead) + "log:\n  rate-limit: 0\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->log_rate_limit_ms, 0u);
  std::string e = error_of(std::string(kHead) + "log:\n  rate-limit: often\n");
  EXPECT_EQ(e, at(5) + "log.rate-limit: expected a duration like 10s, or 0 to log every event; "
                       "got 'often'");
}

TEST_F(ConfigTest, CheckNamesTheConfigLineOfAnUnreadableZoneFile) {
  path_ = dir_.write("holdfast.yaml", std::string(kHead) + "zones:\n  - domain: example.org\n"
                                                           "    file: missing.zone\n");
  testing::internal::CaptureStderr();
  int rc = check_config(path_);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err.rfind(at(6) + "zones[].file: zone example.org.: ", 0), 0u) << err;
  EXPECT_NE(err.find("missing.zone"), std::string::npos) << err;
}

TEST_F(ConfigTest, UnknownNameserverSetIsAnError) {
  std::string e =
      error_of(std::string(kHead) + "masters:\n  - id: m\n    addresses: [192.0.2.1]\n"
                                    "zones:\n  - domain: example.org\n    masters: [m]\n"
                                    "    nameservers: nope\n");
  EXPECT_EQ(e, at(10) + "zones[].nameservers: no set 'nope' under nameserver-sets:");
}

TEST_F(ConfigTest, TransferBoundsDefaultToTheFormerConstants) {
  auto r = load(kHead);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->xfr.soa_timeout_ms, 2000u);
  EXPECT_EQ(r->xfr.transfer_idle_ms, 10000u);
  EXPECT_EQ(r->xfr.transfer_timeout_ms, 3600000u);
  EXPECT_EQ(r->xfr.transfers, 64u);
  EXPECT_EQ(r->xfr.transfers_per_master, 32u);
}

TEST_F(ConfigTest, TransferBoundsAreParsed) {
  auto r = load(std::string(kHead) + "  soa-timeout: 500ms\n  transfer-idle-timeout: 30s\n"
                                     "  transfer-timeout: 20m\n  transfers: 4\n"
                                     "  transfers-per-master: 2\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->xfr.soa_timeout_ms, 500u);
  EXPECT_EQ(r->xfr.transfer_idle_ms, 30000u);
  EXPECT_EQ(r->xfr.transfer_timeout_ms, 1200000u);
  EXPECT_EQ(r->xfr.transfers, 4u);
  EXPECT_EQ(r->xfr.transfers_per_master, 2u);
}

TEST_F(ConfigTest, BadTransferBoundsAreErrors) {
  std::string e = error_of(std::string(kHead) + "  soa-timeout: 0\n  transfer-idle-timeout: soon\n"
                                                "  transfer-timeout: 8d\n  transfers: 0\n"
                                                "  transfers-per-master: [1]\n");
  EXPECT_EQ(
      e, at(4) + "server.soa-timeout: expected a duration from 1ms to 7d, like 2s\n" + at(5) +
             "server.transfer-idle-timeout: expected a duration from 1ms to 7d, like 2s\n" + at(6) +
             "server.transfer-timeout: expected a duration from 1ms to 7d, like 2s\n" + at(7) +
             "server.transfers: expected a whole number from 1 to 100000, got '0'\n" + at(8) +
             "server.transfers-per-master: expected a whole number, not a list or a mapping");
}

// Bounded TCP (serve/worker.h): the I/O deadline, the per-address limit, queries in flight.
TEST_F(ConfigTest, BoundedTcpKeysAreParsedWithDefaults) {
  auto d = load(kHead);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->worker.tcp_io_timeout_ms, 5000u);
  EXPECT_EQ(d->worker.tcp_max_clients_per_address, 64);
  EXPECT_EQ(d->worker.tcp_max_inflight, 100);
  auto r = load(std::string(kHead) + "  tcp-io-timeout: 1500ms\n"
                                     "  tcp-max-clients-per-address: 0\n"
                                     "  tcp-max-inflight: 16\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->worker.tcp_io_timeout_ms, 1500u);
  EXPECT_EQ(r->worker.tcp_max_clients_per_address, 0); // no limit
  EXPECT_EQ(r->worker.tcp_max_inflight, 16);
}

TEST_F(ConfigTest, BoundedTcpKeysOutOfRangeAreErrors) {
  std::string e = error_of(std::string(kHead) + "  tcp-io-timeout: 0s\n"
                                                "  tcp-max-clients-per-address: -1\n"
                                                "  tcp-max-inflight: 0\n");
  EXPECT_EQ(e, at(4) + "server.tcp-io-timeout: expected a duration like 5s or 500ms, got '0s'\n" +
                   at(5) +
                   "server.tcp-max-clients-per-address: expected a whole number from 0 to "
                   "1000000, got '-1'\n" +
                   at(6) +
                   "server.tcp-max-inflight: expected a whole number from 1 to 65535, "
                   "got '0'");
}

// RFC 8945 5.2: every key under keys: may sign queries, not only the masters' ones.
TEST_F(ConfigTest, KeysAreKeptForSignedQueries) {
  auto r = load(std::string(kHead) + "keys:\n  - id: query-key\n    algorithm: hmac-sha256\n"
                                     "    secret: \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"\n");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->keys.size(), 1u);
  EXPECT_EQ(r->keys[0]->name(), "query-key");
}

} // namespace
} // namespace holdfast::daemon
