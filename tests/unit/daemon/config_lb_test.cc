// SPDX-License-Identifier: MIT
// Traffic-management config (`checks:`, `pools:`, `records:`; daemon/config_lb*.cc): the typed
// result of the issue's example, the defaults, every error class as "FILE:LINE: key: problem",
// and what `holdfast check` finds in primary zone files against the managed names.
#include "daemon/config.h"
#include "daemon/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "tests/unit/testutil.h"

namespace holdfast::daemon {
namespace {

using test::Name;
using test::TempDir;

std::vector<uint8_t> wire(const char *text) {
  Name n(text);
  return {n.get(), n.get() + n.size()};
}

// Lines 1-6; the sections under test start at line 7.
const char *kBase = "server:\n  listen: [\"127.0.0.1\"]\n  storage: s\n"
                    "zones:\n  - domain: example.com\n    file: example.com.zone\n";

class ConfigLbTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                                   "ns A 192.0.2.53\n");
    dir_.write("ca.pem", "not parsed by the loader\n");
  }
  Result<Config> load(const std::string &yaml) {
    path_ = dir_.write("holdfast.yaml", yaml);
    return load_config(path_);
  }
  std::string error_of(const std::string &yaml) {
    auto r = load(yaml);
    EXPECT_FALSE(r.ok()) << "config was accepted";
    return r.ok() ? "" : r.error();
  }
  std::string at(int line) const { return path_ + ":" + std::to_string(line) + ": "; }
  // `holdfast check` on `yaml`: the exit code and what it wrote to stderr.
  std::pair<int, std::string> check(const std::string &yaml) {
    path_ = dir_.write("holdfast.yaml", yaml);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = check_config(path_);
    testing::internal::GetCapturedStdout();
    return {rc, testing::internal::GetCapturedStderr()};
  }

  TempDir dir_;
  std::string path_;
};

// The issue's "Configuration" block, with every name inside example.com. and the pools and
// checks it refers to defined.
const char *kIssueExample = R"(checks:
  - id: web
    type: https
    port: 443
    path: /health
    method: POST
    body: '{"probe":1}'
    headers: {X-Probe: holdfast, Accept: text/plain}
    host: www.example.com
    expect-status: ["2xx", "301", "400-404"]
    expect-body: "OK"
    tls-ca: ca.pem
    tls-verify: false
    interval: 10s
    timeout: 1500ms
    fall: 4
    rise: 5
    source: 192.0.2.53
  - id: sip-options
    type: tls
    port: 5061
    send: "OPTIONS\r\n"
    expect-body: "SIP/2.0 200"
pools:
  - id: web
    check: web
    reintegrate: manual
    members:
      - {id: a, address: 192.0.2.1, weight: 20}
      - {id: b, address: 192.0.2.2, weight: 20}
      - {id: c, address: "2001:db8::3", weight: 10, check-address: 10.0.0.3}
      - {id: edge, cname: Edge.CDN.example., weight: 10, check-address: 198.51.100.7}
  - id: web-backup
    members:
      - {id: z, address: 192.0.2.9, tier: 2, check: web}
  - id: sip
    check: sip-options
    members:
      - {id: edge1, target: edge1.sip.example.com., port: 5060, tier: 1, weight: 0, check-address: 192.0.2.10}
      - {id: sip1,  target: sip1.example.com.,      port: 5060, tier: 2, weight: 0, check-address: 192.0.2.11}
      - {id: last,  target: sip9.example.com.,      port: 5060, tier: 3, weight: 0}
records:
  - name: WWW.example.com.
    type: A
    pool: web
    policy: weighted
    count: 2
    ttl: 30s
    fallback: [web-backup]
    when-all-down: servfail
  - {name: _sip._udp.example.com., type: SRV, pool: sip, policy: srv}
)";

TEST_F(ConfigLbTest, IssueExampleIsParsedIntoTypedValues) {
  auto r = load(std::string(kBase) + kIssueExample);
  ASSERT_TRUE(r.ok()) << r.error();
  const lb::LbConfig &lb = *r->lb;
  ASSERT_EQ(lb.checks.size(), 2u);
  const lb::CheckSpec &w = lb.checks[0];
  EXPECT_EQ(w.id, "web");
  EXPECT_EQ(w.line, 8);
  EXPECT_EQ(w.type, lb::CheckType::kHttps);
  EXPECT_EQ(w.port, 443);
  EXPECT_EQ(w.path, "/health");
  EXPECT_EQ(w.method, lb::Method::kPost);
  EXPECT_EQ(w.body, "{\"probe\":1}");
  using Header = std::pair<std::string, std::string>;
  EXPECT_EQ(w.headers, (std::vector<Header>{{"X-Probe", "holdfast"}, {"Accept", "text/plain"}}));
  EXPECT_EQ(w.host, "www.example.com");
  ASSERT_EQ(w.expect_status.size(), 3u);
  EXPECT_EQ(w.expect_status[0].lo, 200);
  EXPECT_EQ(w.expect_status[0].hi, 299);
  EXPECT_EQ(w.expect_status[1].lo, 301);
  EXPECT_EQ(w.expect_status[1].hi, 301);
  EXPECT_EQ(w.expect_status[2].lo, 400);
  EXPECT_EQ(w.expect_status[2].hi, 404);
  EXPECT_EQ(w.expect_body, "OK");
  EXPECT_EQ(w.tls_ca, dir_.file("ca.pem")); // relative to the config file
  EXPECT_FALSE(w.tls_verify);
  EXPECT_EQ(w.interval_ms, 10000u);
  EXPECT_EQ(w.timeout_ms, 1500u);
  EXPECT_EQ(w.fall, 4u);
  EXPECT_EQ(w.rise, 5u);
  ASSERT_TRUE(w.source.has_value());
  EXPECT_EQ(w.source->text, "192.0.2.53");
  const lb::CheckSpec &s = lb.checks[1];
  EXPECT_EQ(s.type, lb::CheckType::kTls);
  EXPECT_EQ(s.port, 5061);
  EXPECT_EQ(s.send, "OPTIONS\r\n");
  EXPECT_EQ(s.expect_body, "SIP/2.0 200");
  EXPECT_TRUE(s.tls_verify);

  ASSERT_EQ(lb.pools.size(), 3u);
  const lb::PoolSpec &web = lb.pools[0];
  EXPECT_EQ(web.id, "web");
  EXPECT_EQ(web.line, 31);
  EXPECT_EQ(web.check, "web");
  EXPECT_EQ(web.reintegrate, lb::Reintegrate::kManual);
  ASSERT_EQ(web.members.size(), 4u);
  EXPECT_EQ(web.members[0].id, "a");
  EXPECT_EQ(web.members[0].address->addr.ss_family, AF_INET);
  EXPECT_EQ(web.members[0].weight, 20u);
  EXPECT_EQ(web.members[0].probe_address(), &*web.members[0].address);
  EXPECT_EQ(web.members[2].address->addr.ss_family, AF_INET6);
  EXPECT_EQ(web.members[2].probe_address()->text, "10.0.0.3");
  EXPECT_EQ(web.members[3].cname, wire("edge.cdn.example.")); // lowercase wire
  EXPECT_FALSE(web.members[3].address.has_value());
  EXPECT_EQ(web.members[3].tier, 1u);
  const lb::PoolSpec &backup = lb.pools[1];
  EXPECT_EQ(backup.check, "");
  EXPECT_EQ(backup.reintegrate, lb::Reintegrate::kAuto);
  EXPECT_EQ(backup.members[0].check, "web");
  EXPECT_EQ(backup.members[0].tier, 2u);
  EXPECT_EQ(backup.members[0].weight, 1u);
  const lb::PoolSpec &sip = lb.pools[2];
  ASSERT_EQ(sip.members.size(), 3u);
  EXPECT_EQ(sip.members[1].target, wire("sip1.example.com."));
  EXPECT_EQ(sip.members[1].port, 5060);
  EXPECT_EQ(sip.members[1].tier, 2u);
  EXPECT_EQ(sip.members[1].weight, 0u);
  EXPECT_EQ(sip.members[2].probe_address(), nullptr); // no address to probe: always up

  ASSERT_EQ(lb.records.size(), 2u);
  const lb::RecordSpec &www = lb.records[0];
  EXPECT_EQ(www.name_text, "www.example.com.");
  EXPECT_EQ(www.name, wire("www.example.com."));
  EXPECT_EQ(www.zone, wire("example.com."));
  EXPECT_EQ(www.type, KNOT_RRTYPE_A);
  EXPECT_EQ(www.pool, "web");
  EXPECT_EQ(www.policy, lb::Policy::kWeighted);
  EXPECT_EQ(www.count, 2u);
  EXPECT_EQ(www.ttl, 30u);
  EXPECT_EQ(www.fallback, std::vector<std::string>{"web-backup"});
  EXPECT_EQ(www.when_all_down, lb::AllDown::kServfail);
  EXPECT_EQ(www.line, 49);
  const lb::RecordSpec &srv = lb.records[1];
  EXPECT_EQ(srv.type, KNOT_RRTYPE_SRV);
  EXPECT_EQ(srv.policy, lb::Policy::kSrv);
  EXPECT_EQ(srv.ttl, 60u);
  EXPECT_EQ(srv.line, 57);
}

TEST_F(ConfigLbTest, DefaultsApplyWhenKeysAreLeftOut) {
  dir_.write("sub.example.com.zone", "$ORIGIN sub.example.com.\n@ SOA ns hm 1 2 3 4 5\n");
  auto r = load(std::string(kBase) + R"(  - domain: sub.example.com
    file: sub.example.com.zone
checks:
  - {id: h}
  - {id: s, type: https}
pools:
  - id: p
    check: h
    members: [{id: a, address: 192.0.2.1}, {id: b, address: "2001:db8::1"}]
  - id: t
    members: [{id: x, target: x.example.com, port: 5060}]
records:
  - {name: a.sub.example.com, type: aaaa, pool: p}
  - {name: b.example.com, type: A, pool: p, policy: round-robin}
  - {name: _sip._tcp.example.com, type: SRV, pool: t}
  - {name: c.example.com, type: A, pool: p, policy: failover}
)");
  ASSERT_TRUE(r.ok()) << r.error();
  const lb::LbConfig &lb = *r->lb;
  const lb::CheckSpec &h = lb.checks[0];
  EXPECT_EQ(h.type, lb::CheckType::kHttp);
  EXPECT_EQ(h.port, 80);
  EXPECT_EQ(h.path, "/");
  EXPECT_EQ(h.method, lb::Method::kGet);
  ASSERT_EQ(h.expect_status.size(), 1u);
  EXPECT_EQ(h.expect_status[0].lo, 200);
  EXPECT_EQ(h.expect_status[0].hi, 299);
  EXPECT_EQ(h.interval_ms, 5000u);
  EXPECT_EQ(h.timeout_ms, 2000u);
  EXPECT_EQ(h.fall, 3u);
  EXPECT_EQ(h.rise, 2u);
  EXPECT_TRUE(h.tls_verify);
  EXPECT_EQ(h.tls_ca, "");
  EXPECT_FALSE(h.source.has_value());
  EXPECT_EQ(lb.checks[1].port, 443);
  const lb::PoolSpec &p = lb.pools[0];
  EXPECT_EQ(p.reintegrate, lb::Reintegrate::kAuto);
  EXPECT_EQ(p.members[0].weight, 1u);
  EXPECT_EQ(p.members[0].tier, 1u);
  ASSERT_EQ(lb.records.size(), 4u);
  EXPECT_EQ(lb.records[0].type, KNOT_RRTYPE_AAAA);         // type names in any case
  EXPECT_EQ(lb.records[0].zone, wire("sub.example.com.")); // the longest zone that holds it
  EXPECT_EQ(lb.records[0].name_text, "a.sub.example.com.");
  EXPECT_EQ(lb.records[0].policy, lb::Policy::kWeighted);
  EXPECT_EQ(lb.records[0].count, 1u);
  EXPECT_EQ(lb.records[0].ttl, 60u);
  EXPECT_EQ(lb.records[0].when_all_down, lb::AllDown::kAll);
  EXPECT_TRUE(lb.records[0].fallback.empty());
  EXPECT_EQ(lb.records[1].zone, wire("example.com."));
  EXPECT_EQ(lb.records[1].count, 8u);                // round-robin
  EXPECT_EQ(lb.records[2].policy, lb::Policy::kSrv); // the only policy of SRV
  EXPECT_EQ(lb.records[3].policy, lb::Policy::kFailover);
}

TEST_F(ConfigLbTest, NoTrafficSectionsGiveAnEmptyLbConfig) {
  auto r = load(kBase);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_NE(r->lb, nullptr);
  EXPECT_TRUE(r->lb->empty());
  r = load(std::string(kBase) + "checks:\npools:\nrecords:\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->lb->empty());
}

TEST_F(ConfigLbTest, ExpectStatusTakesCodesRangesAndClasses) {
  struct Case {
    const char *text;
    int lo, hi; // 0: rejected
  } cases[] = {{"200", 200, 200}, {"100", 100, 100}, {"599", 599, 599}, {"200-399", 200, 399},
               {"5xx", 500, 599}, {"1xx", 100, 199}, {"099", 0, 0},     {"600", 0, 0},
               {"6xx", 0, 0},     {"0xx", 0, 0},     {"399-200", 0, 0}, {"200-600", 0, 0},
               {"20", 0, 0},      {"2xx-3xx", 0, 0}, {"abc", 0, 0},     {"", 0, 0}};
  for (const auto &c : cases) {
    SCOPED_TRACE(c.text);
    auto r =
        load(std::string(kBase) + "checks:\n  - {id: h, expect-status: [\"" + c.text + "\"]}\n");
    if (c.lo == 0) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error(), at(8) + "checks[].expect-status: '" + c.text +
                               "' is not a status code (200), range (200-399) or class (2xx) "
                               "within 100-599");
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->lb->checks[0].expect_status[0].lo, c.lo);
    EXPECT_EQ(r->lb->checks[0].expect_status[0].hi, c.hi);
  }
}

// One bad config and the one error it must give, with its line (the snippet starts at line 7).
struct ErrorCase {
  const char *name;
  const char *yaml;
  int line;
  const char *error; // "key: problem"
};

// A pool every record case can use, then the sections of the case.
const char *kPools = "pools:\n  - id: p\n    members: [{id: a, address: 192.0.2.1}]\n";

const ErrorCase kCheckErrors[] = {
    {"UnknownKey", "checks:\n  - {id: h, colour: red}\n", 8, "checks[].colour: unknown key"},
    {"NotAList", "checks: {id: h}\n", 7, "checks: expected a list"},
    {"MissingId", "checks:\n  - {type: http}\n", 8, "checks[].id: missing"},
    {"DuplicateId", "checks:\n  - {id: h}\n  - {id: h}\n", 9,
     "checks[].id: check 'h' is defined twice"},
    {"BadType", "checks:\n  - {id: h, type: ftp}\n", 8,
     "checks[].type: expected http, https, tcp or tls, got 'ftp'"},
    {"TcpNeedsPort", "checks:\n  - id: h\n    type: tcp\n", 8,
     "checks[].port: required for tcp and tls checks (check 'h')"},
    {"TlsNeedsPort", "checks:\n  - {id: h, type: tls}\n", 8,
     "checks[].port: required for tcp and tls checks (check 'h')"},
    {"BadPort", "checks:\n  - {id: h, port: 0}\n", 8,
     "checks[].port: expected a whole number from 1 to 65535, got '0'"},
    {"BadPath", "checks:\n  - {id: h, path: health}\n", 8,
     "checks[].path: expected a path starting with /, got 'health'"},
    {"BadMethod", "checks:\n  - {id: h, method: PUT}\n", 8,
     "checks[].method: expected GET or POST, got 'PUT'"},
    {"BodyWithoutPost", "checks:\n  - {id: h, body: x}\n", 8,
     "checks[].body: only with method: POST"},
    {"BadHeaderName", "checks:\n  - id: h\n    headers: {\"X Probe\": 1}\n", 9,
     "checks[].headers: 'X Probe' is not a valid header name"},
    {"HeaderValueWithLineBreak", "checks:\n  - id: h\n    headers: {X: \"a\\r\\nY: b\"}\n", 9,
     "checks[].headers: the value of 'X' must be one line of text"},
    {"HeadersNotAMap", "checks:\n  - {id: h, headers: [a]}\n", 8,
     "checks[].headers: expected a mapping of header names to values"},
    {"ExpectStatusNotAList", "checks:\n  - {id: h, expect-status: 200}\n", 8,
     "checks[].expect-status: expected a list of codes (200), ranges (200-399) or classes "
     "(2xx)"},
    {"SendOnHttp", "checks:\n  - {id: h, send: x}\n", 8,
     "checks[].send: only for tcp and tls checks"},
    {"PathOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, path: /}\n", 8,
     "checks[].path: only for http and https checks"},
    {"MethodOnTls", "checks:\n  - {id: h, type: tls, port: 1, method: GET}\n", 8,
     "checks[].method: only for http and https checks"},
    {"BodyOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, body: x}\n", 8,
     "checks[].body: only for http and https checks"},
    {"HeadersOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, headers: {A: b}}\n", 8,
     "checks[].headers: only for http and https checks"},
    {"ExpectStatusOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, expect-status: [200]}\n", 8,
     "checks[].expect-status: only for http and https checks"},
    {"HostOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, host: a.example}\n", 8,
     "checks[].host: only for http, https and tls checks"},
    {"TlsCaOnHttp", "checks:\n  - {id: h, tls-ca: ca.pem}\n", 8,
     "checks[].tls-ca: only for https and tls checks"},
    {"TlsVerifyOnTcp", "checks:\n  - {id: h, type: tcp, port: 1, tls-verify: false}\n", 8,
     "checks[].tls-verify: only for https and tls checks"},
    {"BadTlsVerify", "checks:\n  - {id: h, type: https, tls-verify: no}\n", 8,
     "checks[].tls-verify: expected true or false, got 'no'"},
    {"BadInterval", "checks:\n  - {id: h, interval: soon}\n", 8,
     "checks[].interval: expected a duration like 500ms, 5s or 1m, got 'soon'"},
    {"ZeroTimeout", "checks:\n  - {id: h, timeout: 0}\n", 8,
     "checks[].timeout: expected a duration like 500ms, 5s or 1m, got '0'"},
    {"TimeoutNotBelowInterval", "checks:\n  - id: h\n    interval: 3s\n    timeout: 3s\n", 10,
     "checks[].timeout: must be shorter than the interval (3s)"},
    {"IntervalBelowDefaultTimeout", "checks:\n  - id: h\n    interval: 1500ms\n", 9,
     "checks[].interval: must be longer than the timeout (2s)"},
    {"FallZero", "checks:\n  - {id: h, fall: 0}\n", 8,
     "checks[].fall: expected a whole number from 1 to 100, got '0'"},
    {"RiseTooHigh", "checks:\n  - {id: h, rise: 101}\n", 8,
     "checks[].rise: expected a whole number from 1 to 100, got '101'"},
    {"SourceWithPort", "checks:\n  - {id: h, source: 192.0.2.1@53}\n", 8,
     "checks[].source: expected an IPv4 or IPv6 address (no port), got '192.0.2.1@53'"},
    {"SourceNotAnAddress", "checks:\n  - {id: h, source: host.example}\n", 8,
     "checks[].source: expected an IPv4 or IPv6 address (no port), got 'host.example'"},
};

const ErrorCase kPoolErrors[] = {
    {"UnknownKey", "pools:\n  - {id: p, size: 2, members: [{id: a, address: 192.0.2.1}]}\n", 8,
     "pools[].size: unknown key"},
    {"UnknownMemberKey",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, "
     "ip: 1}\n",
     10, "pools[].members[].ip: unknown key"},
    {"MissingId", "pools:\n  - {members: [{id: a, address: 192.0.2.1}]}\n", 8,
     "pools[].id: missing"},
    {"DuplicateId",
     "pools:\n  - {id: p, members: [{id: a, address: 192.0.2.1}]}\n"
     "  - {id: p, members: [{id: a, address: 192.0.2.1}]}\n",
     9, "pools[].id: pool 'p' is defined twice"},
    {"UnknownCheck", "pools:\n  - {id: p, check: web, members: [{id: a, address: 192.0.2.1}]}\n", 8,
     "pools[].check: no check 'web' under checks:"},
    {"BadReintegrate",
     "pools:\n  - {id: p, reintegrate: later, members: [{id: a, address: 192.0.2.1}]}\n", 8,
     "pools[].reintegrate: expected auto or manual, got 'later'"},
    {"NoMembers", "pools:\n  - id: p\n    members: []\n", 9,
     "pools[].members: expected a list of members for pool 'p'"},
    {"MembersMissing", "pools:\n  - id: p\n", 8,
     "pools[].members: expected a list of members for pool 'p'"},
    {"MemberMissingId", "pools:\n  - id: p\n    members:\n      - {address: 192.0.2.1}\n", 10,
     "pools[].members[].id: missing"},
    {"DuplicateMember",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1}\n"
     "      - {id: a, address: 192.0.2.2}\n",
     11, "pools[].members[].id: member 'a' is listed twice in pool 'p'"},
    {"MemberWithoutAnswer", "pools:\n  - id: p\n    members:\n      - {id: a, weight: 2}\n", 10,
     "pools[].members[]: member 'a' needs exactly one of address, cname or target"},
    {"MemberWithTwoAnswers",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, cname: a.example.}\n",
     10, "pools[].members[]: member 'a' needs exactly one of address, cname or target"},
    {"AddressNotAnIp", "pools:\n  - id: p\n    members:\n      - {id: a, address: www.example}\n",
     10,
     "pools[].members[].address: expected an IPv4 or IPv6 address (no port), got "
     "'www.example'"},
    {"BadCname", "pools:\n  - id: p\n    members:\n      - {id: a, cname: a..example}\n", 10,
     "pools[].members[].cname: 'a..example' is not a valid domain name"},
    {"TargetWithoutPort",
     "pools:\n  - id: p\n    members:\n      - {id: a, target: sip.example.}\n", 10,
     "pools[].members[].port: required with target (member 'a')"},
    {"PortWithoutTarget",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, port: 80}\n", 10,
     "pools[].members[].port: only for target (SRV) members"},
    {"BadWeight",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, weight: 65536}\n", 10,
     "pools[].members[].weight: expected a whole number from 0 to 65535, got '65536'"},
    {"BadTier", "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, tier: 0}\n",
     10, "pools[].members[].tier: expected a whole number from 1 to 9, got '0'"},
    {"UnknownMemberCheck",
     "pools:\n  - id: p\n    members:\n      - {id: a, address: 192.0.2.1, check: web}\n", 10,
     "pools[].members[].check: no check 'web' under checks:"},
    {"CheckAddressNotAnIp",
     "checks:\n  - {id: h}\npools:\n  - id: p\n    check: h\n    members:\n"
     "      - {id: a, cname: a.example., check-address: a.example}\n",
     13,
     "pools[].members[].check-address: expected an IPv4 or IPv6 address (no port), got "
     "'a.example'"},
    {"CheckAddressWithoutCheck",
     "pools:\n  - id: p\n    members:\n      - {id: a, cname: a.example., check-address: "
     "192.0.2.7}\n",
     10,
     "pools[].members[].check-address: member 'a' has no check (neither its own nor pool "
     "'p''s)"},
};

const ErrorCase kRecordErrors[] = {
    {"UnknownKey", "records:\n  - {name: www.example.com, type: A, pool: p, weight: 1}\n", 11,
     "records[].weight: unknown key"},
    {"MissingName", "records:\n  - {type: A, pool: p}\n", 11, "records[].name: missing"},
    {"BadName", "records:\n  - {name: a..example.com, type: A, pool: p}\n", 11,
     "records[].name: 'a..example.com' is not a valid domain name"},
    {"NameOutsideZones", "records:\n  - {name: www.example.org., type: A, pool: p}\n", 11,
     "records[].name: www.example.org. is not inside any zone under zones:"},
    {"WildcardName", "records:\n  - {name: \"*.apps.example.com.\", type: A, pool: p}\n", 11,
     "records[].name: *.apps.example.com.: a wildcard label is not allowed here"},
    {"MissingType", "records:\n  - {name: www.example.com, pool: p}\n", 11,
     "records[].type: missing"},
    {"BadType", "records:\n  - {name: www.example.com, type: MX, pool: p}\n", 11,
     "records[].type: expected A, AAAA, CNAME or SRV, got 'MX'"},
    {"MissingPool", "records:\n  - {name: www.example.com, type: A}\n", 11,
     "records[].pool: missing"},
    {"UnknownPool", "records:\n  - {name: www.example.com, type: A, pool: q}\n", 11,
     "records[].pool: no pool 'q' under pools:"},
    {"BadPolicy", "records:\n  - {name: www.example.com, type: A, pool: p, policy: random}\n", 11,
     "records[].policy: expected weighted, round-robin, failover or srv, got 'random'"},
    {"SrvPolicyOnA", "records:\n  - {name: www.example.com, type: A, pool: p, policy: srv}\n", 11,
     "records[].policy: policy srv is only for type SRV"},
    {"SrvWithOtherPolicy",
     "  - id: t\n    members: [{id: x, target: x.example., port: 1}]\n"
     "records:\n  - {name: _x._tcp.example.com, type: SRV, pool: t, policy: weighted}\n",
     13, "records[].policy: type SRV needs policy: srv"},
    {"CountZero", "records:\n  - {name: www.example.com, type: A, pool: p, count: 0}\n", 11,
     "records[].count: expected a whole number from 1 to 255, got '0'"},
    {"CountOnFailover",
     "records:\n  - {name: www.example.com, type: A, pool: p, policy: failover, count: 2}\n", 11,
     "records[].count: only for policies weighted and round-robin"},
    {"TtlNotWholeSeconds", "records:\n  - {name: www.example.com, type: A, pool: p, ttl: 1500ms}\n",
     11,
     "records[].ttl: expected whole seconds like 60s or 5m (at most 2147483647s), got "
     "'1500ms'"},
    {"FallbackNotAList",
     "records:\n  - {name: www.example.com, type: A, pool: p, fallback: {a: b}}\n", 11,
     "records[].fallback: expected a list of pool ids"},
    {"UnknownFallback", "records:\n  - {name: www.example.com, type: A, pool: p, fallback: [q]}\n",
     11, "records[].fallback: no pool 'q' under pools:"},
    {"FallbackIsOwnPool",
     "records:\n  - {name: www.example.com, type: A, pool: p, fallback: [p]}\n", 11,
     "records[].fallback: pool 'p' is the record's own pool"},
    {"BadWhenAllDown",
     "records:\n  - {name: www.example.com, type: A, pool: p, when-all-down: refused}\n", 11,
     "records[].when-all-down: expected all, nodata or servfail, got 'refused'"},
    {"AaaaPoolWithoutIpv6", "records:\n  - {name: www.example.com, type: AAAA, pool: p}\n", 11,
     "records[].pool: pool 'p' has no member that can answer AAAA (one with an IPv6 address or "
     "a cname)"},
    {"CnamePoolWithoutCname", "records:\n  - {name: www.example.com, type: CNAME, pool: p}\n", 11,
     "records[].pool: pool 'p' has no member that can answer CNAME (one with a cname)"},
    {"SrvPoolWithoutTarget", "records:\n  - {name: _x._tcp.example.com, type: SRV, pool: p}\n", 11,
     "records[].pool: pool 'p' has no member that can answer SRV (one with a target)"},
    {"APoolWithOnlyTargets",
     "  - id: t\n    members: [{id: x, target: x.example., port: 1}]\n"
     "records:\n  - {name: www.example.com, type: A, pool: p, fallback: [t]}\n",
     13,
     "records[].fallback: pool 't' has no member that can answer A (one with an IPv4 "
     "address or a cname)"},
    {"SameNameAndType",
     "records:\n  - {name: www.example.com, type: A, pool: p}\n"
     "  - {name: WWW.example.com., type: A, pool: p, policy: round-robin}\n",
     12, "records[].name: www.example.com. A is already managed (line 11)"},
    {"CnameBesideManagedA",
     "  - id: c\n    members: [{id: x, cname: x.example.}]\n"
     "records:\n  - {name: www.example.com, type: A, pool: p}\n"
     "  - {name: www.example.com, type: CNAME, pool: c}\n",
     14,
     "records[].type: www.example.com.: a CNAME cannot share its name with another managed "
     "record (A at line 13, RFC 2181 10.1)"},
    {"CnameAtApex",
     "  - id: c\n    members: [{id: x, cname: x.example.}]\n"
     "records:\n  - {name: example.com, type: CNAME, pool: c}\n",
     13, "records[].type: example.com.: a CNAME cannot be at a zone apex (RFC 2181 10.1)"},
};

class ConfigLbErrorTest : public ConfigLbTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ConfigLbErrorTest, IsReportedWithFileLineAndKey) {
  const ErrorCase &c = GetParam();
  // Record cases get pool `p` (lines 7-9) first; the others start right after the zones.
  std::string yaml = kBase;
  if (std::string(c.yaml).find("records:") != std::string::npos) {
    yaml += kPools;
  }
  std::string e = error_of(yaml + c.yaml); // sets path_ for at()
  EXPECT_EQ(e, at(c.line) + c.error);
}

std::string case_name(const ::testing::TestParamInfo<ErrorCase> &info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Checks, ConfigLbErrorTest, ::testing::ValuesIn(kCheckErrors), case_name);
INSTANTIATE_TEST_SUITE_P(Pools, ConfigLbErrorTest, ::testing::ValuesIn(kPoolErrors), case_name);
INSTANTIATE_TEST_SUITE_P(Records, ConfigLbErrorTest, ::testing::ValuesIn(kRecordErrors), case_name);

TEST_F(ConfigLbTest, UnreadableTlsCaIsAnError) {
  std::string e =
      error_of(std::string(kBase) + "checks:\n  - {id: h, type: https, tls-ca: nope.pem}\n");
  EXPECT_EQ(e, at(8) + "checks[].tls-ca: cannot read '" + dir_.file("nope.pem") +
                   "': No such file or directory");
}

TEST_F(ConfigLbTest, TlsCaThatIsADirectoryIsAnError) {
  std::filesystem::create_directory(dir_.file("certs"));
  std::string e =
      error_of(std::string(kBase) + "checks:\n  - {id: h, type: tls, port: 853, tls-ca: certs}\n");
  EXPECT_EQ(e,
            at(8) + "checks[].tls-ca: '" + dir_.file("certs") + "' is a directory, not a PEM file");
}

TEST_F(ConfigLbTest, UnknownTopLevelKeyStillAnError) {
  std::string e = error_of(std::string(kBase) + "record:\n  - {name: www.example.com}\n");
  EXPECT_EQ(e, at(7) + "record: unknown key");
}

// `holdfast check` (daemon/server.cc) against primary zone files.
const char *kOnePool = "pools:\n  - id: p\n    members: [{id: a, address: 192.0.2.1}]\n"
                       "  - id: c\n    members: [{id: x, cname: x.example.net.}]\n";

TEST_F(ConfigLbTest, CheckAcceptsAManagedNameThatReplacesTheZonesOwnRecords) {
  dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                                 "ns A 192.0.2.53\nwww A 192.0.2.80\nalias CNAME www\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "records:\n  - {name: www.example.com, type: A, pool: p}\n"
                         "  - {name: alias.example.com, type: CNAME, pool: c}\n"
                         "  - {name: new.example.com, type: A, pool: p}\n");
  EXPECT_EQ(rc, 0) << err;
  EXPECT_EQ(err, "");
}

TEST_F(ConfigLbTest, CheckRejectsAManagedNameInASignedZone) {
  std::string zone = dir_.write(
      "example.com.zone",
      "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
      "@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9"
      "iUzy1L53eKGQ==\nns A 192.0.2.53\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "records:\n  - {name: www.example.com, type: A, pool: p}\n");
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err, at(13) +
                     "records[].name: www.example.com. A: zone example.com. is "
                     "DNSSEC-signed (" +
                     zone +
                     ":4 has a DNSKEY at the apex) and holdfast holds no keys to sign a "
                     "managed answer\n");
}

TEST_F(ConfigLbTest, CheckRejectsAnRrsigAtTheApexToo) {
  std::string zone = dir_.write(
      "example.com.zone",
      "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
      "@ RRSIG SOA 13 2 3600 20300101000000 20200101000000 12345 example.com. "
      "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "records:\n  - {name: www.example.com, type: A, pool: p}\n");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find(zone + ":4 has a RRSIG at the apex"), std::string::npos) << err;
}

TEST_F(ConfigLbTest, CheckRejectsACnameBesideOtherDataAndAnAddressBesideACname) {
  std::string zone =
      dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                                     "ns A 192.0.2.53\nwww TXT hello\nalias CNAME ns\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "records:\n  - {name: www.example.com, type: CNAME, pool: c}\n"
                         "  - {name: alias.example.com, type: A, pool: p}\n");
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err, at(13) + "records[].type: www.example.com. CNAME: " + zone +
                     ":5 has TXT at this name, and a CNAME cannot share its name with other data "
                     "(RFC 2181 10.1)\n" +
                     at(14) + "records[].type: alias.example.com. A: " + zone +
                     ":6 has CNAME at this name, and a CNAME cannot share its name with other "
                     "data (RFC 2181 10.1)\n");
}

TEST_F(ConfigLbTest, AnAddressRecordNeedsAnAddressMemberAndNoAliasAtTheApex) {
  dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "  - id: m\n    members: [{id: a, address: 192.0.2.1}, "
                         "{id: x, cname: x.example.net.}]\n"
                         "records:\n  - {name: www.example.com, type: A, pool: c}\n"
                         "  - {name: example.com, type: A, pool: m}\n");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("records[].pool: pool 'c' has no IPv4 address member: for a pool of cname "
                     "members use type: CNAME"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("records[].pool: example.com.: a cname member would answer a CNAME at the "
                     "zone apex (RFC 2181 10.1)"),
            std::string::npos)
      << err;
}

TEST_F(ConfigLbTest, CheckRejectsAManagedNameBelowADelegation) {
  std::string zone =
      dir_.write("example.com.zone", "$ORIGIN example.com.\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                                     "ns A 192.0.2.53\nsub NS ns.example.net.\n");
  auto [rc, err] = check(std::string(kBase) + kOnePool +
                         "records:\n  - {name: www.sub.example.com, type: A, pool: p}\n");
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(err, at(13) +
                     "records[].name: www.sub.example.com. A: lies at or below the "
                     "delegation sub.example.com. (" +
                     zone + ":5)\n");
}

} // namespace
} // namespace holdfast::daemon
