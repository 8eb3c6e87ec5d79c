// SPDX-License-Identifier: MIT
// The health monitor: one schedule per (check, address) target, probes run by libcurl's multi
// interface driven by the control loop's libuv loop (socket and timer callbacks, no thread per
// check), one ProbeResult per probe handed to a callback. Control loop only, except
// add_stats() and probes_done(), which any thread may call.
//
// A target's life:   set_targets() adds it --> probe at once --> result --> wait
//                    interval minus up to 10 % jitter --> probe --> ...
// Probes in flight are capped (file descriptors): a due probe beyond the cap waits its turn.
#pragma once

#include <curl/curl.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/endpoint.h"
#include "lb/health.h"
#include "lb/spec.h"
#include "lb/status.h"

namespace holdfast::lb {

// One (check, address) pair to probe; `key` names it in results (the registry's target key).
struct Target {
  std::string key;
  CheckSpec check;
  Endpoint address;
};

class Monitor {
public:
  using OnResult = std::function<void(const std::string &key, const ProbeResult &)>;

  // max_in_flight 0: derived from the process's file descriptor limit.
  Monitor(uv_loop_t *loop, OnResult on_result, size_t max_in_flight = 0);
  ~Monitor(); // stop()s; the loop must run afterwards to free the closed handles
  Monitor(const Monitor &) = delete;
  Monitor &operator=(const Monitor &) = delete;

  // Replaces the set of targets: a key whose check fingerprint and address are unchanged keeps
  // its schedule (and a probe in flight); new keys are probed at once; removed keys stop (a
  // probe in flight is cancelled, its result never reported).
  void set_targets(std::vector<Target> targets);

  // Cancels every probe, closes every handle. Safe with probes in flight; idempotent.
  void stop();

  // Appends holdfast_health_checks_total and _duration_seconds (any thread).
  void add_stats(std::vector<CheckCount> &counts, std::vector<CheckDuration> &durations) const;

  uint64_t probes_done() const { return probes_done_.load(std::memory_order_relaxed); }
  size_t in_flight() const { return in_flight_; }
  size_t targets() const { return scheds_.size(); }

private:
  struct Sched;
  struct Probe;
  struct Sock;

  static int on_socket(CURL *easy, curl_socket_t fd, int what, void *self, void *sockp);
  static int on_curl_timer(CURLM *multi, long timeout_ms, void *self);
  static void on_poll(uv_poll_t *h, int status, int events);
  void on_sched_timer(Sched *s);
  void socket_action(curl_socket_t fd, int flags);
  void check_multi_info();

  void launch(Sched *s);
  void connected(Probe *p);
  void exchange(Probe *p);
  void finish(Probe *p, ProbeResult r);
  void release(Sched *s); // ends a probe in flight without reporting it
  void cancel(Sched *s);  // release + close the schedule's timer
  void arm(Sched *s, uint64_t delay_ms);
  uint64_t period_ms(const CheckSpec &c);

  Sock *sock_for(curl_socket_t fd);
  void set_events(Sock *sock);
  void record(const Sched &s, const ProbeResult &r);

  uv_loop_t *loop_;
  OnResult on_result_;
  size_t max_in_flight_;
  CURLM *multi_ = nullptr;
  uv_timer_t *curl_timer_ = nullptr;
  bool stopped_ = false;
  std::unordered_map<std::string, std::unique_ptr<Sched>> scheds_;
  std::unordered_map<curl_socket_t, Sock *> socks_;
  std::deque<Sched *> waiting_; // due, waiting for a free slot
  std::vector<CURL *> idle_easy_;
  size_t in_flight_ = 0;
  std::minstd_rand rng_;
  std::atomic<uint64_t> probes_done_{0};

  struct Counts {
    uint64_t by_reason[7] = {};
  };
  mutable std::mutex stats_mu_;
  std::map<std::pair<std::string, std::string>, Counts> counts_; // (check, address)
  std::map<std::string, CheckDuration> durations_;               // by check
};

} // namespace holdfast::lb
