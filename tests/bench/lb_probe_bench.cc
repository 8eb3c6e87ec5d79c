// SPDX-License-Identifier: MIT
// Health checker benchmark: one Monitor probing N targets 127.0.(i/256).(i%256) for a while;
// prints the probes done and this process's CPU (user + sys) per probe. Run by
// scripts/bench/lb_probes.sh against a local nginx inside a network namespace.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "lb/monitor.h"

using namespace holdfast;

namespace {

// User and system CPU seconds of this process.
std::pair<double, double> cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
          static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6};
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"holdfast health checker benchmark"};
  int targets = 5000;
  std::string type = "http";
  int port = 0;
  std::string path = "/health";
  std::string host;
  std::string ca;
  uint64_t interval_ms = 5000;
  double duration_s = 20;
  size_t max_in_flight = 0;
  app.add_option("--targets", targets, "number of targets (127.0.0.1 upwards)");
  app.add_option("--type", type, "http | https | tcp | tls");
  app.add_option("--port", port, "port (default 8080 http/tcp, 8443 https/tls)");
  app.add_option("--path", path, "http(s) path");
  app.add_option("--host", host, "Host / SNI / certificate name");
  app.add_option("--ca", ca, "CA bundle (https/tls); without it verification is off");
  app.add_option("--interval-ms", interval_ms, "probe interval");
  app.add_option("--duration", duration_s, "seconds to run");
  app.add_option("--max-in-flight", max_in_flight, "probes in flight at most (0: the default)");
  CLI11_PARSE(app, argc, argv);

  lb::CheckSpec c;
  c.id = "bench";
  c.type = type == "https" ? lb::CheckType::kHttps
           : type == "tcp" ? lb::CheckType::kTcp
           : type == "tls" ? lb::CheckType::kTls
                           : lb::CheckType::kHttp;
  bool secure = c.type == lb::CheckType::kHttps || c.type == lb::CheckType::kTls;
  c.port = static_cast<uint16_t>(port != 0 ? port : secure ? 8443 : 8080);
  c.path = path;
  c.host = host;
  c.tls_ca = ca;
  c.tls_verify = !ca.empty();
  c.interval_ms = interval_ms;
  c.timeout_ms = 2000;
  c.expect_body = c.type == lb::CheckType::kHttp || c.type == lb::CheckType::kHttps ? "OK" : "";

  std::vector<lb::Target> list;
  for (int i = 1; i <= targets; ++i) {
    std::string ip = "127.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    list.push_back(lb::Target{ip, c, *parse_endpoint(ip, 0)});
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::map<std::string, uint64_t> by_reason;
  std::string sample;
  double latency_sum = 0;
  lb::Monitor monitor(
      &loop,
      [&](const std::string &, const lb::ProbeResult &r) {
        by_reason[lb::reason_name(r.reason)]++;
        latency_sum += r.latency_s;
        if (!r.ok() && sample.empty()) {
          sample = r.detail;
        }
      },
      max_in_flight);
  auto [user0, sys0] = cpu_seconds();
  uint64_t t0 = uv_hrtime();
  monitor.set_targets(std::move(list));
  uv_timer_t stop;
  uv_timer_init(&loop, &stop);
  uv_timer_start(
      &stop, [](uv_timer_t *t) { uv_stop(t->loop); }, static_cast<uint64_t>(duration_s * 1000), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  double wall = static_cast<double>(uv_hrtime() - t0) / 1e9;
  auto [user1, sys1] = cpu_seconds();
  double user = user1 - user0;
  double sys = sys1 - sys0;
  double cpu = user + sys;
  uint64_t probes = monitor.probes_done();
  monitor.stop();
  uv_close(reinterpret_cast<uv_handle_t *>(&stop), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  std::printf("type=%s targets=%d interval_ms=%llu wall_s=%.2f probes=%llu probes_per_s=%.1f "
              "cpu_s=%.3f cpu_us_per_probe=%.1f user_us_per_probe=%.1f sys_us_per_probe=%.1f "
              "mean_latency_ms=%.2f",
              type.c_str(), targets, static_cast<unsigned long long>(interval_ms), wall,
              static_cast<unsigned long long>(probes), static_cast<double>(probes) / wall, cpu,
              probes != 0 ? cpu * 1e6 / static_cast<double>(probes) : 0.0,
              probes != 0 ? user * 1e6 / static_cast<double>(probes) : 0.0,
              probes != 0 ? sys * 1e6 / static_cast<double>(probes) : 0.0,
              probes != 0 ? latency_sum * 1e3 / static_cast<double>(probes) : 0.0);
  for (const auto &[reason, n] : by_reason) {
    std::printf(" %s=%llu", reason.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf("\n");
  if (!sample.empty()) {
    std::printf("first failure: %s\n", sample.c_str());
  }
  return by_reason["ok"] == probes && probes != 0 ? 0 : 1;
}
