// SPDX-License-Identifier: MIT
// The traffic-management API and CLI (daemon/control.h, daemon/cli.h) driven through a real
// ControlPlane on 127.0.0.1 with fake hooks: pool listing and its JSON shape, member actions,
// 400/404 errors naming what was wrong, the bearer token, and the CLI's table and verbs.
#include "daemon/control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "daemon/cli.h"
#include "tests/unit/testutil.h"

namespace holdfast::daemon {
namespace {

using nlohmann::json;
using test::TempDir;

// A port nothing listens on right now (bound and released: a race only another test could lose).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len) != 0) {
    ADD_FAILURE() << "cannot find a free port";
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

lb::MemberStatus member(const std::string &id, const std::string &address, const std::string &probe,
                        bool health_up, lb::Reason reason, const std::string &detail,
                        double latency, int64_t since_ms, uint32_t weight, unsigned tier) {
  lb::MemberStatus m;
  m.id = id;
  m.address = address;
  m.probe = probe;
  m.health_up = health_up;
  m.live = lb::effective(m.admin, health_up, false);
  m.reason = reason;
  m.detail = detail;
  m.latency_s = latency;
  m.since_ms = since_ms;
  m.weight = weight;
  m.tier = tier;
  return m;
}

std::vector<lb::PoolStatus> sample_pools() {
  lb::PoolStatus web{"web", "web", "auto", {}};
  web.members = {member("a", "192.0.2.1", "web@192.0.2.1", true, lb::Reason::kOk, "", 0.0123,
                        1700000000123, 20, 1),
                 member("b", "192.0.2.2", "web@192.0.2.2", false, lb::Reason::kStatus, "HTTP 503",
                        0.004, 1700000060000, 20, 1)};
  lb::PoolStatus sip{"sip", "", "manual", {}};
  sip.members = {member("last", "sip9.example.com.", "", true, lb::Reason::kOk, "", 0, 0, 0, 3)};
  return {web, sip};
}

class PoolsApi : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    writer_ = std::make_unique<store::WriterThread>(*env_, nullptr);
    uv_loop_init(&loop_);
    xfr_ = std::make_unique<xfr::Service>(&loop_, *env_, *writer_,
                                          std::vector<std::shared_ptr<const xfr::ZoneSpec>>{});
    status_ = std::make_unique<StatusSource>(std::make_shared<Config>(), *env_, *xfr_, workers_,
                                             writer_.get());
    plane_ = std::make_unique<ControlPlane>(*status_);
  }
  void TearDown() override {
    plane_.reset();
    status_.reset();
    xfr_->stop();
    uv_run(&loop_, UV_RUN_DEFAULT); // the service's async handle closes
    xfr_.reset();
    uv_loop_close(&loop_);
    writer_.reset();
  }
  // The fake registry: pools as above, verbs applied the way the registry does.
  void hooks() {
    plane_->on_pools([this] {
      std::lock_guard lock(mu_);
      return pools_;
    });
    plane_->on_member_admin([this](const std::string &pool, const std::string &id,
                                   const std::string &verb) -> Result<lb::MemberStatus> {
      std::lock_guard lock(mu_);
      calls_.push_back(pool + "/" + id + "/" + verb);
      for (auto &p : pools_) {
        for (auto &m : p.members) {
          if (p.id == pool && m.id == id) {
            m.admin = verb == "enable"    ? lb::Admin::kUp
                      : verb == "disable" ? lb::Admin::kDown
                      : verb == "drain"   ? lb::Admin::kDrain
                                          : lb::Admin::kAuto;
            m.latched = m.latched && verb != "enable";
            m.live = lb::effective(m.admin, m.health_up, m.latched);
            return m;
          }
        }
      }
      return fail("no such member");
    });
  }
  void start(const std::string &token = "") {
    port_ = free_port();
    auto ep = parse_endpoint("127.0.0.1@" + std::to_string(port_));
    ASSERT_TRUE(ep.ok());
    auto st = plane_->start(*ep, token);
    ASSERT_TRUE(st.ok()) << st.error();
  }
  httplib::Result get(const std::string &path, const std::string &token = "") {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    if (!token.empty()) {
      h.emplace("Authorization", "Bearer " + token);
    }
    return c.Get(path, h);
  }
  httplib::Result post(const std::string &path) {
    httplib::Client c("127.0.0.1", port_);
    return c.Post(path, "", "application/json");
  }
  // A config file naming this plane as the API (for the CLI).
  std::string config(const std::string &token = "") {
    std::string yaml = "server:\n  listen: [\"127.0.0.1@5353\"]\n  storage: s\n  http: 127.0.0.1@" +
                       std::to_string(port_) + "\n";
    if (!token.empty()) {
      yaml += "  http-token: " + token + "\n";
    }
    return dir_.write("holdfast.yaml", yaml);
  }

  TempDir dir_;
  std::unique_ptr<store::Env> env_;
  std::unique_ptr<store::WriterThread> writer_;
  uv_loop_t loop_{};
  std::unique_ptr<xfr::Service> xfr_;
  std::vector<std::unique_ptr<serve::Worker>> workers_;
  std::unique_ptr<StatusSource> status_;
  std::unique_ptr<ControlPlane> plane_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<lb::PoolStatus> pools_ = sample_pools();
  std::vector<std::string> calls_;
};

TEST_F(PoolsApi, ListsEveryPoolWithItsMembers) {
  hooks();
  start();
  auto r = get("/api/v1/pools");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  ASSERT_EQ(body["pools"].size(), 2u);
  json web = body["pools"][0];
  EXPECT_EQ(web["id"], "web");
  EXPECT_EQ(web["check"], "web");
  EXPECT_EQ(web["reintegrate"], "auto");
  EXPECT_EQ(web["members_up"], 1);
  json b = web["members"][1];
  json want = {{"id", "b"},
               {"address", "192.0.2.2"},
               {"probe", "web@192.0.2.2"},
               {"state", "down"},
               {"admin", "auto"},
               {"health", "down"},
               {"latched", false},
               {"last_result", "status"},
               {"reason", "status"},
               {"detail", "HTTP 503"},
               {"latency_seconds", 0.004},
               {"since", "2023-11-14T22:14:20.000Z"},
               {"since_ms", 1700000060000},
               {"weight", 20},
               {"tier", 1}};
  EXPECT_EQ(b, want) << b.dump(2);
  json last = body["pools"][1]["members"][0];
  EXPECT_TRUE(body["pools"][1]["check"].is_null());
  EXPECT_TRUE(last["probe"].is_null()); // no check: always up
  EXPECT_TRUE(last["since"].is_null());
  EXPECT_EQ(last["tier"], 3);
}

TEST_F(PoolsApi, OnePoolAndAnUnknownPoolNamedIn404) {
  hooks();
  start();
  auto r = get("/api/v1/pools/sip");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["members"][0]["id"], "last");
  r = get("/api/v1/pools/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"], "no pool nope configured (pools[])");
}

TEST_F(PoolsApi, DrainAnswersTheMemberNewStatusAndSticks) {
  hooks();
  start();
  auto r = post("/api/v1/pools/web/members/a/drain");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body);
  EXPECT_EQ(body["pool"], "web");
  EXPECT_EQ(body["action"], "drain");
  EXPECT_EQ(body["member"]["id"], "a");
  EXPECT_EQ(body["member"]["state"], "drain");
  EXPECT_EQ(body["member"]["admin"], "drain");
  EXPECT_EQ(calls_, std::vector<std::string>{"web/a/drain"});
  r = get("/api/v1/pools/web");
  EXPECT_EQ(json::parse(r->body)["members"][0]["admin"], "drain");
  r = post("/api/v1/pools/web/members/b/enable");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["member"]["state"], "up"); // forced up though unhealthy
}

TEST_F(PoolsApi, BadVerbIs400AndUnknownPoolOrMemberIs404WithoutCallingTheHook) {
  hooks();
  start();
  auto r = post("/api/v1/pools/web/members/a/reboot");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"],
            "unknown member action 'reboot': one of enable, disable, drain, auto");
  r = post("/api/v1/pools/nope/members/a/drain");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"], "no pool nope configured (pools[])");
  r = post("/api/v1/pools/web/members/zz/drain");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error"], "pool web has no member zz");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(PoolsApi, WithoutHooksThereAreNoPools) {
  start();
  auto r = get("/api/v1/pools");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body), json({{"pools", json::array()}}));
  r = post("/api/v1/pools/web/members/a/drain");
  EXPECT_EQ(r->status, 404);
}

TEST_F(PoolsApi, TokenIsRequiredWhenConfigured) {
  hooks();
  start("s3cret");
  auto r = get("/api/v1/pools");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = post("/api/v1/pools/web/members/a/disable");
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(calls_.empty());
  r = get("/api/v1/pools", "wrong");
  EXPECT_EQ(r->status, 401);
  r = get("/api/v1/pools", "s3cret");
  EXPECT_EQ(r->status, 200);
}

TEST_F(PoolsApi, CliListPrintsOneLinePerMember) {
  hooks();
  start("t0k");
  PoolCommand cmd{config("t0k"), "list", "", "", false};
  testing::internal::CaptureStdout();
  int rc = pool_command(cmd);
  std::fflush(stdout);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "POOL             MEMBER           STATE  ADMIN  HEALTH   LATENCY SINCE           "
                 "         LAST RESULT\n"
                 "web              a                up     auto   up        12.3ms "
                 "2023-11-14T22:13:20.123Z ok\n"
                 "web              b                down   auto   down       4.0ms "
                 "2023-11-14T22:14:20.000Z status: HTTP 503\n"
                 "sip              last             up     auto   up             - -             "
                 "           ok\n");
}

TEST_F(PoolsApi, CliVerbsAndErrors) {
  hooks();
  start("t0k");
  std::string cfg = config("t0k");
  testing::internal::CaptureStdout();
  int rc = pool_command({cfg, "disable", "web", "a", false});
  std::fflush(stdout);
  std::string out = testing::internal::GetCapturedStdout(); // after the server's log line
  EXPECT_TRUE(out.ends_with("\npool web member a: disable done, now down (operator state down)\n"))
      << out;
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(calls_, std::vector<std::string>{"web/a/disable"});

  testing::internal::CaptureStdout();
  rc = pool_command({cfg, "status", "web", "", true});
  std::fflush(stdout);
  json body = json::parse(testing::internal::GetCapturedStdout());
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(body["members"][0]["admin"], "down");

  testing::internal::CaptureStderr();
  rc = pool_command({cfg, "status", "nope", "", false});
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "holdfast: no pool nope configured (pools[]) (HTTP 404)\n");
  EXPECT_EQ(rc, 1);

  testing::internal::CaptureStderr();
  rc = pool_command({config("wrong"), "auto", "web", "a", false});
  EXPECT_NE(testing::internal::GetCapturedStderr().find("bearer token"), std::string::npos);
  EXPECT_EQ(rc, 1);
}

} // namespace
} // namespace holdfast::daemon
