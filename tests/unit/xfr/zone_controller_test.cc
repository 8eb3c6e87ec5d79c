// SPDX-License-Identifier: MIT
// xfr/zone_controller.cc and xfr/transport.cc on a real libuv loop against local sockets: a
// failure found while opening an exchange is reported on the next loop turn (never inside
// Exchange::start), the exchange really in flight is the one stop() cancels, and a TC answer
// to the SOA query over TCP is a failed check.
#include "xfr/zone_controller.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "store/writer_thread.h"
#include "tests/unit/testutil.h"
#include "xfr/transport.h"

namespace holdfast::xfr {
namespace {

constexpr const char *kNonLocalSource = "192.0.2.1@0"; // TEST-NET-1: never a local address

// A socket bound to 127.0.0.1 on a free port (UDP or a listening TCP socket on the same port).
int bound_socket(int type, uint16_t port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  if (type == SOCK_STREAM) {
    ::listen(fd, 8);
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len);
  return ntohs(sa.sin_port);
}

Endpoint endpoint(const std::string &text) {
  auto ep = parse_endpoint(text);
  EXPECT_TRUE(ep.ok()) << text;
  return ep.ok() ? *ep : Endpoint{};
}

// Runs the loop without blocking until `done` or `ms` milliseconds have passed.
bool run_until(uv_loop_t *loop, const std::function<bool()> &done, int ms = 5000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    uv_run(loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class DriverTest : public ::testing::Test {
protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    // No test here transfers a zone: writer jobs, if any, complete on the writer thread.
    writer_ = std::make_unique<store::WriterThread>(*env_, nullptr);
  }
  void TearDown() override {
    writer_.reset();
    // Nothing may be left on the loop: every exchange closed, every handle freed.
    run_until(
        &loop_, [this] { return !uv_loop_alive(&loop_); }, 200);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "handles left open on the loop";
  }

  static std::shared_ptr<Master> master(const std::string &id, const std::string &address,
                                        const char *source = nullptr) {
    auto m = std::make_shared<Master>();
    m->id = id;
    m->addresses.push_back(endpoint(address));
    if (source != nullptr) {
      m->source = endpoint(source);
    }
    return m;
  }
  static std::shared_ptr<const ZoneSpec> zone(std::vector<std::shared_ptr<Master>> masters) {
    auto spec = std::make_shared<ZoneSpec>();
    spec->name = "example.";
    test::Name apex("example.");
    spec->apex.assign(apex.get(), apex.get() + apex.size());
    spec->masters.assign(masters.begin(), masters.end());
    return spec;
  }
  void stop(ZoneController &c) {
    c.stop();
    EXPECT_TRUE(run_until(&loop_, [&] { return c.closed(); }));
  }

  uv_loop_t loop_{};
  test::TempDir dir_;
  std::unique_ptr<store::Env> env_;
  std::unique_ptr<store::WriterThread> writer_;
  Limits limits_;
  Throttle throttle_{64, 32};
};

TEST_F(DriverTest, ExchangeReportsAnOpeningFailureOnTheNextLoopTurn) {
  for (bool tcp : {false, true}) {
    int ends = 0;
    ExchangeEnd last;
    auto *ex = Exchange::start(
        &loop_, endpoint("127.0.0.1@53"), endpoint(kNonLocalSource), tcp, {0, 0}, 1000, 0,
        [](uint8_t *, size_t) -> Result<Next> { return Next::kDone; },
        [&](const ExchangeEnd &end) {
          ++ends;
          last = end;
        });
    ASSERT_NE(ex, nullptr);
    EXPECT_EQ(ends, 0) << "on_end ran inside Exchange::start";
    ASSERT_TRUE(run_until(&loop_, [&] { return ends > 0; }));
    EXPECT_EQ(ends, 1);
    ASSERT_FALSE(last.status.ok());
    EXPECT_NE(last.status.error().find("cannot bind"), std::string::npos) << last.status.error();
    EXPECT_TRUE(last.network);
  }
}

TEST_F(DriverTest, ExchangeCancelledBeforeItsOpeningFailureIsReportedEndsOnce) {
  int ends = 0;
  std::string why;
  auto *ex = Exchange::start(
      &loop_, endpoint("127.0.0.1@53"), endpoint(kNonLocalSource), true, {0, 0}, 1000, 0,
      [](uint8_t *, size_t) -> Result<Next> { return Next::kDone; },
      [&](const ExchangeEnd &end) {
        ++ends;
        why = end.status.ok() ? "" : end.status.error();
      });
  ex->cancel();
  run_until(
      &loop_, [&] { return !uv_loop_alive(&loop_); }, 200);
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(why, "cancelled");
}

TEST_F(DriverTest, ExchangeTotalDeadlineEndsASteadyExchange) {
  // A listener that never answers: without a deadline, the 10 s idle timeout would apply.
  int lst = bound_socket(SOCK_STREAM, 0);
  ASSERT_GE(lst, 0);
  bool ended = false;
  ExchangeEnd last;
  auto t0 = std::chrono::steady_clock::now();
  Exchange::start(
      &loop_, endpoint("127.0.0.1@" + std::to_string(port_of(lst))), std::nullopt, true, {0, 0},
      10000, 100, [](uint8_t *, size_t) -> Result<Next> { return Next::kMore; },
      [&](const ExchangeEnd &end) {
        ended = true;
        last = end;
      });
  ASSERT_TRUE(run_until(
      &loop_, [&] { return ended; }, 3000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  ASSERT_FALSE(last.status.ok());
  EXPECT_NE(last.status.error().find("transfer-timeout"), std::string::npos) << last.status.error();
  ::close(lst);
}

TEST_F(DriverTest, NonLocalSourceFailsTheCheckCleanlyAndStopIsClean) {
  ZoneController c(&loop_, *env_, *writer_, zone({master("m", "127.0.0.1@53", kNonLocalSource)}),
                   throttle_, limits_);
  c.start(1);
  c.check_now();
  ASSERT_TRUE(run_until(&loop_, [&] { return c.stats().check_failures.load() > 0; }));
  EXPECT_NE(c.stats().last_error().find("cannot bind"), std::string::npos)
      << c.stats().last_error();
  EXPECT_EQ(throttle_.active(), 0u);
  // Let the failed exchange's close callbacks run (it is freed), then stop: nothing left to
  // cancel (ASan: no use of the freed exchange).
  run_until(
      &loop_, [] { return false; }, 50);
  stop(c);
}

TEST_F(DriverTest, AfterAnOpeningFailureTheNextAddressIsTheExchangeStopCancels) {
  int udp = bound_socket(SOCK_DGRAM, 0); // receives the SOA query, never answers
  ASSERT_GE(udp, 0);
  std::string addr = "127.0.0.1@" + std::to_string(port_of(udp));
  limits_.soa_timeout_ms = 30000; // the query stays in flight until stop()
  ZoneController c(&loop_, *env_, *writer_,
                   zone({master("bad-source", addr, kNonLocalSource), master("good", addr)}),
                   throttle_, limits_);
  c.start(1);
  c.check_now();
  uint8_t buf[512];
  ASSERT_TRUE(run_until(&loop_, [&] { return ::recv(udp, buf, sizeof(buf), MSG_DONTWAIT) > 0; }))
      << "the second master was not asked";
  EXPECT_EQ(c.stats().check_failures.load(), 0u);
  EXPECT_EQ(ZoneController::State(c.stats().state.load()), ZoneController::State::kChecking);
  EXPECT_EQ(throttle_.active("bad-source"), 1u); // counted against the zone's first master
  stop(c);
  // The query in flight was cancelled: its socket and timer are closed (TearDown checks that
  // the loop has nothing left), and the throttle slot is free.
  EXPECT_EQ(throttle_.active(), 0u);
  ::close(udp);
}

// A master that answers every query, over UDP and TCP, with its question and the TC bit.
class TruncatingMaster {
public:
  TruncatingMaster() {
    tcp_ = bound_socket(SOCK_STREAM, 0);
    udp_ = bound_socket(SOCK_DGRAM, port_of(tcp_));
    thread_ = std::thread([this] { serve(); });
  }
  ~TruncatingMaster() {
    stop_ = true;
    thread_.join();
    ::close(tcp_);
    ::close(udp_);
  }
  std::string address() const { return "127.0.0.1@" + std::to_string(port_of(tcp_)); }
  std::atomic<int> tcp_queries{0};

private:
  static void truncate(uint8_t *msg) {
    msg[2] |= 0x80 | 0x02; // QR, TC
  }
  void serve() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) {
        continue;
      }
      uint8_t buf[600];
      if ((fds[0].revents & POLLIN) != 0) {
        sockaddr_storage peer{};
        socklen_t plen = sizeof(peer);
        ssize_t n =
            ::recvfrom(udp_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&peer), &plen);
        if (n >= 12) {
          truncate(buf);
          ::sendto(udp_, buf, n, 0, reinterpret_cast<sockaddr *>(&peer), plen);
        }
      }
      if ((fds[1].revents & POLLIN) != 0) {
        int conn = ::accept(tcp_, nullptr, nullptr);
        timeval tv{2, 0};
        ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t n = ::recv(conn, buf, sizeof(buf), 0); // the client's query fits one read
        if (n >= 14) {
          ++tcp_queries;
          truncate(buf + 2);
          ::send(conn, buf, n, MSG_NOSIGNAL);
          ::recv(conn, buf, sizeof(buf), 0); // until the client closes (or 2 s)
        }
        ::close(conn);
      }
    }
  }
  int tcp_ = -1, udp_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(DriverTest, TruncatedSoaAnswerOverTcpIsAFailedCheck) {
  TruncatingMaster tm;
  ZoneController c(&loop_, *env_, *writer_, zone({master("m", tm.address())}), throttle_, limits_);
  c.start(1);
  c.check_now();
  ASSERT_TRUE(run_until(&loop_, [&] { return c.stats().check_failures.load() > 0; }))
      << "last error: " << c.stats().last_error();
  EXPECT_EQ(tm.tcp_queries.load(), 1); // UDP answer truncated: retried over TCP (RFC 1035 4.2.1)
  EXPECT_FALSE(c.stats().master_seen.load());
  EXPECT_NE(c.stats().last_error().find("TC"), std::string::npos) << c.stats().last_error();
  EXPECT_EQ(c.stats().axfr_failed.load() + c.stats().axfr_ok.load(), 0u); // no transfer tried
  stop(c);
}

} // namespace
} // namespace holdfast::xfr
