// SPDX-License-Identifier: MIT
// Health probes against real servers on 127.0.0.1 (probe_server.py: HTTP, HTTPS with openssl-made
// certificates, silent and PING/PONG TCP/TLS), driven by the Monitor on a real libuv loop.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lb/monitor.h"
#include "lb/probe.h"

namespace holdfast::lb {
namespace {

class MonitorTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/holdfast-probe-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string script = std::string(HOLDFAST_TEST_DATA) + "/../unit/lb/probe_server.py";
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL); // gone with the test binary, even if it crashes
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::execlp("python3", "python3", script.c_str(), dir_.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE *f = ::fdopen(fds[0], "r");
    char line[1024] = {};
    ASSERT_NE(std::fgets(line, sizeof line, f), nullptr) << "probe_server.py did not start";
    std::fclose(f);
    std::string text = line;
    std::regex re("\"(\\w+)\": (\\d+)");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
      ports_[(*it)[1]] = static_cast<uint16_t>(std::stoi((*it)[2]));
    }
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  static CheckSpec check(CheckType type, const char *port) {
    CheckSpec c;
    c.id = "t";
    c.type = type;
    c.port = ports_.at(port);
    c.timeout_ms = 2000;
    c.interval_ms = 60000;
    return c;
  }
  static CheckSpec tls(CheckType type, const char *port) {
    CheckSpec c = check(type, port);
    c.host = "good.test";
    c.tls_ca = dir_ + "/ca.pem";
    return c;
  }
  static Endpoint local() { return *parse_endpoint("127.0.0.1", 0); }

  // Runs one Monitor over `targets` until `done` says so (or 10 s), then stops it and checks
  // that every handle closed.
  static void
  run(std::vector<Target> targets,
      const std::function<bool(Monitor &, const std::string &, const ProbeResult &)> &done,
      size_t max_in_flight = 0) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(
        &guard, [](uv_timer_t *t) { uv_stop(t->loop); }, 10000, 0);
    {
      Monitor *mp = nullptr;
      Monitor m(
          &loop,
          [&](const std::string &key, const ProbeResult &r) {
            if (done(*mp, key, r)) {
              uv_stop(&loop);
            }
          },
          max_in_flight);
      mp = &m;
      m.set_targets(std::move(targets));
      uv_run(&loop, UV_RUN_DEFAULT);
      m.stop();
    }
    uv_close(reinterpret_cast<uv_handle_t *>(&guard), nullptr);
    EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }

  static ProbeResult probe(const CheckSpec &c, Endpoint address = local()) {
    ProbeResult got{Reason::kError, 0, "no result within 10 s"};
    run({Target{"k", c, std::move(address)}},
        [&](Monitor &, const std::string &, const ProbeResult &r) {
          got = r;
          return true;
        });
    return got;
  }

  static inline std::string dir_;
  static inline pid_t pid_ = -1;
  static inline std::map<std::string, uint16_t> ports_;
};

TEST_F(MonitorTest, HttpGet200IsOk) {
  ProbeResult r = probe(check(CheckType::kHttp, "http"));
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
  EXPECT_EQ(r.detail, "HTTP 200");
  EXPECT_GT(r.latency_s, 0);
}

TEST_F(MonitorTest, Http503IsStatus) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.path = "/status/503";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kStatus);
  EXPECT_EQ(r.detail, "HTTP 503");
}

TEST_F(MonitorTest, ExpectStatusCodesRangesAndClasses) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.path = "/status/404";
  c.expect_status = {{404, 404}};
  EXPECT_EQ(probe(c).reason, Reason::kOk);
  c.path = "/status/302";
  c.expect_status = {{200, 399}};
  EXPECT_EQ(probe(c).reason, Reason::kOk);
  c.path = "/status/204";
  c.expect_status = {{300, 399}, {500, 599}};
  EXPECT_EQ(probe(c).reason, Reason::kStatus);
  // Redirects are not followed: the 302 itself is judged (2xx by default).
  c.path = "/redirect";
  c.expect_status = {StatusRange{}};
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kStatus);
  EXPECT_EQ(r.detail, "HTTP 302");
  EXPECT_TRUE(status_expected({{200, 299}}, 299));
  EXPECT_FALSE(status_expected({{200, 299}}, 300));
}

TEST_F(MonitorTest, ExpectBodyWithinTheFirst64KiB) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.expect_body = "OK";
  EXPECT_EQ(probe(c).reason, Reason::kOk);
  c.expect_body = "NOPE";
  EXPECT_EQ(probe(c).reason, Reason::kBody);
  // A 270 KB body: reading stops at 64 KiB, which is not a failure; past it nothing matches.
  c.path = "/big";
  c.expect_body = "aaaa";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
  c.expect_body = "NEEDLE";
  r = probe(c);
  EXPECT_EQ(r.reason, Reason::kBody) << r.detail;
}

TEST_F(MonitorTest, PostSendsBodyAndHeaders) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.method = Method::kPost;
  c.path = "/post";
  c.body = R"({"probe":1})";
  c.headers = {{"X-Probe", "holdfast"}, {"Content-Type", "application/json"}};
  c.expect_body = "posted";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
  c.headers.pop_back(); // the server checks every one: a missing header gets a 400
  EXPECT_EQ(probe(c).reason, Reason::kStatus);
}

TEST_F(MonitorTest, HostHeaderIsTheConfiguredHost) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.path = "/host";
  c.host = "www.example.com";
  c.expect_body = "host=www.example.com";
  ProbeResult r = probe(c); // connects to 127.0.0.1 all the same: nothing is resolved
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
}

TEST_F(MonitorTest, ClosedPortIsRefused) {
  ProbeResult r = probe(check(CheckType::kHttp, "closed"));
  EXPECT_EQ(r.reason, Reason::kRefused) << r.detail;
  EXPECT_EQ(probe(check(CheckType::kTcp, "closed")).reason, Reason::kRefused);
}

TEST_F(MonitorTest, ServerThatNeverAnswersTimesOut) {
  CheckSpec c = check(CheckType::kHttp, "silent");
  c.timeout_ms = 500;
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kTimeout) << r.detail;
  EXPECT_GE(r.latency_s, 0.45);
  EXPECT_LT(r.latency_s, 1.0);
}

TEST_F(MonitorTest, BadSourceAddressIsAnError) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.source = *parse_endpoint("127.0.0.1", 0);
  EXPECT_EQ(probe(c).reason, Reason::kOk);
  c.source = *parse_endpoint("192.0.2.53", 0); // not ours: bind fails, nothing is sent
  EXPECT_EQ(probe(c).reason, Reason::kError);
}

TEST_F(MonitorTest, HttpsVerifiesChainDateAndName) {
  CheckSpec c = tls(CheckType::kHttps, "https_good");
  c.path = "/host";
  c.expect_body = "host=good.test";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;

  c = tls(CheckType::kHttps, "https_other");
  r = probe(c);
  EXPECT_EQ(r.reason, Reason::kTls) << r.detail;
  c.tls_verify = false; // written out: the wrong name is accepted
  r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;

  r = probe(tls(CheckType::kHttps, "https_expired"));
  EXPECT_EQ(r.reason, Reason::kTls);
  EXPECT_NE(r.detail.find("expired"), std::string::npos) << r.detail;

  c = tls(CheckType::kHttps, "https_good");
  c.tls_ca.clear(); // the system store does not know the test CA
  EXPECT_EQ(probe(c).reason, Reason::kTls);
}

TEST_F(MonitorTest, TcpConnectAndSendExpect) {
  EXPECT_EQ(probe(check(CheckType::kTcp, "silent")).reason, Reason::kOk);
  CheckSpec c = check(CheckType::kTcp, "tcp");
  c.send = "PING\r\n";
  c.expect_body = "+PONG PING";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
  c.expect_body = "-ERR";
  r = probe(c); // the server closes after its reply
  EXPECT_EQ(r.reason, Reason::kBody) << r.detail;

  c = check(CheckType::kTcp, "silent");
  c.send = "PING\r\n";
  c.expect_body = "PONG";
  c.timeout_ms = 500;
  r = probe(c);
  EXPECT_EQ(r.reason, Reason::kTimeout) << r.detail;
  EXPECT_GE(r.latency_s, 0.45);
  EXPECT_LT(r.latency_s, 1.0);
}

TEST_F(MonitorTest, TlsHandshakeAndSendExpect) {
  CheckSpec c = tls(CheckType::kTls, "tls");
  EXPECT_EQ(probe(c).reason, Reason::kOk);
  c.send = "PING\r\n";
  c.expect_body = "+PONG PING";
  ProbeResult r = probe(c);
  EXPECT_EQ(r.reason, Reason::kOk) << r.detail;
  c = tls(CheckType::kTls, "https_expired");
  r = probe(c);
  EXPECT_EQ(r.reason, Reason::kTls) << r.detail;
  c = tls(CheckType::kTls, "https_other");
  EXPECT_EQ(probe(c).reason, Reason::kTls);
}

TEST_F(MonitorTest, SetTargetsKeepsStopsAndStarts) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.interval_ms = 400;
  std::map<std::string, int> n;
  uint64_t switched = 0;
  auto target = [&](const char *key) { return Target{key, c, local()}; };
  run({target("a"), target("b")}, [&](Monitor &m, const std::string &key, const ProbeResult &) {
    ++n[key];
    if (switched == 0 && n["a"] == 1 && n["b"] == 1) {
      switched = uv_hrtime();
      m.set_targets({target("a"), target("c")}); // a kept, b stopped, c new
      EXPECT_EQ(m.targets(), 2u);
    }
    if (key == "c" && n["c"] == 1) {
      // Probed at once, while a keeps its schedule (next probe 360-400 ms after its first).
      EXPECT_LT((uv_hrtime() - switched) / 1000000, 300u);
      EXPECT_EQ(n["a"], 1);
    }
    return n["c"] >= 3;
  });
  EXPECT_EQ(n["b"], 1);
  EXPECT_GE(n["a"], 2);
  EXPECT_GE(n["c"], 3);
}

TEST_F(MonitorTest, ChangedCheckRestartsTheTarget) {
  CheckSpec c = check(CheckType::kHttp, "http");
  c.interval_ms = 60000;
  std::vector<std::string> details;
  run({Target{"a", c, local()}}, [&](Monitor &m, const std::string &, const ProbeResult &r) {
    details.push_back(r.detail);
    if (details.size() == 1) {
      CheckSpec changed = c;
      changed.path = "/status/503";
      m.set_targets({Target{"a", changed, local()}});
    }
    return details.size() == 2;
  });
  ASSERT_EQ(details.size(), 2u);
  EXPECT_EQ(details[1], "HTTP 503");
}

TEST_F(MonitorTest, ManyTargetsQueueBehindTheInFlightCap) {
  CheckSpec c = check(CheckType::kHttp, "http");
  std::vector<Target> targets;
  for (int i = 0; i < 100; ++i) {
    targets.push_back(Target{"t" + std::to_string(i), c, local()});
  }
  size_t results = 0;
  size_t peak = 0;
  std::vector<CheckCount> counts;
  std::vector<CheckDuration> durations;
  run(
      targets,
      [&](Monitor &m, const std::string &, const ProbeResult &r) {
        EXPECT_TRUE(r.ok()) << r.detail;
        peak = std::max(peak, m.in_flight());
        if (++results == 100) {
          m.add_stats(counts, durations);
          return true;
        }
        return false;
      },
      8);
  EXPECT_EQ(results, 100u);
  EXPECT_LE(peak, 8u);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].check, "t");
  EXPECT_EQ(counts[0].address, "127.0.0.1");
  EXPECT_EQ(counts[0].result, "ok");
  EXPECT_EQ(counts[0].count, 100u);
  ASSERT_EQ(durations.size(), 1u);
  EXPECT_EQ(durations[0].count, 100u);
  EXPECT_EQ(durations[0].buckets[std::size(kDurationBounds) - 1], 100u);
}

TEST_F(MonitorTest, StopWithProbesInFlight) {
  std::vector<Target> targets;
  CheckSpec hang = check(CheckType::kHttp, "http");
  hang.path = "/hang";
  CheckSpec silent = check(CheckType::kHttps, "silent");
  CheckSpec tcp = check(CheckType::kTcp, "silent");
  tcp.send = "PING\r\n";
  tcp.expect_body = "PONG";
  CheckSpec tlsx = tls(CheckType::kTls, "tls");
  tlsx.send = "WAIT"; // no newline: the server waits for more, the probe for its reply
  tlsx.expect_body = "PONG";
  for (auto *c : {&hang, &silent, &tcp, &tlsx}) {
    c->timeout_ms = 10000; // still in flight at stop() however slow the machine
  }
  for (int i = 0; i < 10; ++i) {
    for (auto *c : {&hang, &silent, &tcp, &tlsx}) {
      targets.push_back(Target{std::to_string(i) + c->path + std::to_string(int(c->type)) + c->send,
                               *c, local()});
    }
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  int results = 0;
  {
    Monitor m(&loop, [&](const std::string &key, const ProbeResult &r) {
      ++results;
      ADD_FAILURE() << key << ": " << r.detail << " after " << r.latency_s << " s";
    });
    m.set_targets(targets);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(
        &t, [](uv_timer_t *h) { uv_stop(h->loop); }, 400, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(m.in_flight(), 40u);
    m.stop();
    m.stop();
    uv_close(reinterpret_cast<uv_handle_t *>(&t), nullptr);
  }
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  EXPECT_EQ(results, 0);
}

TEST_F(MonitorTest, StopWithProbesQueuedBehindTheCap) {
  CheckSpec hang = check(CheckType::kHttp, "http");
  hang.path = "/hang";
  hang.timeout_ms = 10000;
  std::vector<Target> targets;
  for (int i = 0; i < 20; ++i) {
    targets.push_back(Target{"q" + std::to_string(i), hang, local()});
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    Monitor m(
        &loop, [](const std::string &, const ProbeResult &) {}, 4);
    m.set_targets(targets);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(
        &t, [](uv_timer_t *h) { uv_stop(h->loop); }, 300, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(m.in_flight(), 4u);
    targets.resize(10); // drops queued and in-flight ones alike
    m.set_targets(targets);
    m.stop(); // 4 in flight, the rest queued
    uv_close(reinterpret_cast<uv_handle_t *>(&t), nullptr);
  }
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

} // namespace
} // namespace holdfast::lb
