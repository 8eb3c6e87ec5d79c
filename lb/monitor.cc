// SPDX-License-Identifier: MIT
// libcurl multi on libuv: schedules, sockets, timers and results of health probes (see
// monitor.h). The protocol steps are in probe.cc.
#include "lb/monitor.h"

#include <sys/resource.h>

#include <algorithm>

#include "lb/probe.h"

namespace holdfast::lb {
namespace {

constexpr size_t kReasons = 7;
constexpr size_t kIdleEasyMax = 64;

// Each probe holds one socket while in flight; keep half the descriptors for everything else.
// At most 1024: thousands of targets loaded at once would otherwise all connect in the same
// instant and time out behind each other's handshakes (a queued probe's timeout has not
// started); 1024 still leaves room for ~2,500 dead targets at a 2 s timeout every 5 s.
size_t default_max_in_flight() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return 1024;
  }
  return std::clamp<size_t>(rl.rlim_cur / 2, 16, 1024);
}

void curl_global_once() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

void delete_timer(uv_handle_t *h) {
  delete reinterpret_cast<uv_timer_t *>(h);
}

} // namespace

struct Monitor::Sched {
  Monitor *m = nullptr;
  Target t;
  std::string fp;        // fingerprint + address: what keeps a schedule across set_targets()
  std::string addr_text; // metric label
  uv_timer_t *timer = nullptr;
  std::unique_ptr<Probe> probe; // in flight
  uint64_t due = 0;             // loop ms of the next probe
  bool queued = false;          // in waiting_
};

struct Monitor::Probe {
  Sched *sched = nullptr;
  CURL *easy = nullptr;
  ProbeState st;
  uint64_t start_ns = 0;
  bool exchanging = false; // tcp/tls: connected, in the send/expect step (our timer runs)
  curl_socket_t fd = CURL_SOCKET_BAD;
};

// One uv_poll per socket, shared by libcurl's interest and a tcp/tls exchange's: libuv allows
// one poll handle per descriptor. Freed in its close callback, so a socket that libcurl closes
// and reopens under the same number gets a fresh handle.
struct Monitor::Sock {
  uv_poll_t poll{};
  Monitor *m = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
  int curl_events = 0;  // UV_READABLE/UV_WRITABLE libcurl asked for
  Probe *raw = nullptr; // exchange waiting on this socket
  int raw_events = 0;
  bool closing = false;
};

Monitor::Monitor(uv_loop_t *loop, OnResult on_result, size_t max_in_flight)
    : loop_(loop), on_result_(std::move(on_result)),
      max_in_flight_(max_in_flight != 0 ? max_in_flight : default_max_in_flight()),
      rng_(std::random_device{}()) {
  curl_global_once();
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_timer_ = new uv_timer_t;
  uv_timer_init(loop_, curl_timer_);
  curl_timer_->data = this;
}

Monitor::~Monitor() {
  stop();
}

void Monitor::set_targets(std::vector<Target> targets) {
  if (stopped_) {
    return;
  }
  std::unordered_map<std::string, std::unique_ptr<Sched>> next;
  for (auto &t : targets) {
    std::string host = endpoint_host(t.address);
    std::string fp = fingerprint(t.check) + "|@" + host;
    if (next.count(t.key) != 0) {
      continue;
    }
    if (auto it = scheds_.find(t.key); it != scheds_.end() && it->second->fp == fp) {
      next.emplace(t.key, std::move(it->second));
      scheds_.erase(it);
      continue;
    }
    auto s = std::make_unique<Sched>();
    s->m = this;
    s->fp = std::move(fp);
    s->addr_text = std::move(host);
    s->timer = new uv_timer_t;
    uv_timer_init(loop_, s->timer);
    s->timer->data = s.get();
    std::string key = t.key;
    s->t = std::move(t);
    arm(s.get(), 0); // checks start when the config is loaded
    next.emplace(std::move(key), std::move(s));
  }
  for (auto &[key, s] : scheds_) {
    cancel(s.get());
  }
  scheds_ = std::move(next);
}

void Monitor::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  waiting_.clear();
  for (auto &[key, s] : scheds_) {
    cancel(s.get());
  }
  scheds_.clear();
  for (CURL *e : idle_easy_) {
    curl_easy_cleanup(e);
  }
  idle_easy_.clear();
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  // Whatever libcurl did not report removed (its connection cache closed them).
  std::vector<Sock *> left;
  for (auto &[fd, s] : socks_) {
    left.push_back(s);
  }
  for (Sock *s : left) {
    s->curl_events = 0;
    s->raw = nullptr;
    s->raw_events = 0;
    set_events(s);
  }
  uv_close(reinterpret_cast<uv_handle_t *>(curl_timer_), delete_timer);
  curl_timer_ = nullptr;
}

void Monitor::add_stats(std::vector<CheckCount> &counts,
                        std::vector<CheckDuration> &durations) const {
  std::lock_guard lock(stats_mu_);
  for (const auto &[id, c] : counts_) {
    for (size_t i = 0; i < kReasons; ++i) {
      if (c.by_reason[i] != 0) {
        counts.push_back(
            CheckCount{id.first, id.second, reason_name(static_cast<Reason>(i)), c.by_reason[i]});
      }
    }
  }
  for (const auto &[id, d] : durations_) {
    durations.push_back(d);
  }
}

void Monitor::record(const Sched &s, const ProbeResult &r) {
  std::lock_guard lock(stats_mu_);
  auto &c = counts_[{s.t.check.id, s.addr_text}];
  c.by_reason[static_cast<size_t>(r.reason) % kReasons]++;
  auto &d = durations_[s.t.check.id];
  d.check = s.t.check.id;
  d.count++;
  d.sum += r.latency_s;
  for (size_t i = 0; i < std::size(kDurationBounds); ++i) {
    d.buckets[i] += r.latency_s <= kDurationBounds[i] ? 1 : 0;
  }
}

// --- schedules ------------------------------------------------------------------------------

// interval minus up to 10 %: targets loaded together drift apart instead of probing in step,
// and no target waits longer than its interval (detection time stays interval x fall).
uint64_t Monitor::period_ms(const CheckSpec &c) {
  uint64_t spread = c.interval_ms / 10;
  uint64_t jitter = spread == 0 ? 0 : rng_() % (spread + 1);
  return std::max<uint64_t>(c.interval_ms - jitter, 1);
}

void Monitor::arm(Sched *s, uint64_t delay_ms) {
  uv_timer_start(
      s->timer,
      [](uv_timer_t *t) {
        auto *sched = static_cast<Sched *>(t->data);
        sched->m->on_sched_timer(sched);
      },
      delay_ms, 0);
}

// Due (or, during a tcp/tls exchange, its timeout).
void Monitor::on_sched_timer(Sched *s) {
  if (Probe *p = s->probe.get()) {
    // The loop's clock is cached per iteration: judge by the real one, wait for the rest.
    uint64_t spent_ms = (uv_hrtime() - p->start_ns) / 1000000;
    if (spent_ms < s->t.check.timeout_ms) {
      arm(s, s->t.check.timeout_ms - spent_ms);
      return;
    }
    finish(p, exchange_timeout(s->t.check, p->st));
    return;
  }
  launch(s);
}

void Monitor::launch(Sched *s) {
  if (in_flight_ >= max_in_flight_) {
    if (!s->queued) {
      s->queued = true;
      waiting_.push_back(s);
    }
    return;
  }
  s->due = uv_now(loop_) + period_ms(s->t.check);
  CURL *easy = nullptr;
  if (!idle_easy_.empty()) {
    easy = idle_easy_.back();
    idle_easy_.pop_back();
    curl_easy_reset(easy);
  } else {
    easy = curl_easy_init();
  }
  auto p = std::make_unique<Probe>();
  p->sched = s;
  p->easy = easy;
  p->start_ns = uv_hrtime();
  Probe *raw = p.get();
  s->probe = std::move(p);
  ++in_flight_;
  if (easy == nullptr) {
    finish(raw, ProbeResult{Reason::kError, 0, "cannot create a libcurl handle"});
    return;
  }
  curl_easy_setopt(easy, CURLOPT_PRIVATE, raw);
  if (auto st = configure(easy, s->t.check, s->t.address, raw->st); !st) {
    finish(raw, ProbeResult{Reason::kError, 0, st.error()});
    return;
  }
  if (CURLMcode mc = curl_multi_add_handle(multi_, easy); mc != CURLM_OK) {
    finish(raw, ProbeResult{Reason::kError, 0, curl_multi_strerror(mc)});
  }
}

void Monitor::finish(Probe *p, ProbeResult r) {
  Sched *s = p->sched;
  r.latency_s = static_cast<double>(uv_hrtime() - p->start_ns) / 1e9;
  record(*s, r);
  release(s);
  uint64_t now = uv_now(loop_);
  arm(s, s->due > now ? s->due - now : 0);
  probes_done_.fetch_add(1, std::memory_order_relaxed);
  std::string key = s->t.key; // on_result may call set_targets() and drop `s`
  on_result_(key, r);
}

void Monitor::release(Sched *s) {
  Probe *p = s->probe.get();
  if (p == nullptr) {
    return;
  }
  if (p->exchanging) {
    // Our interest in the socket goes before libcurl closes it (remove_handle below).
    if (auto it = socks_.find(p->fd); it != socks_.end() && it->second->raw == p) {
      it->second->raw = nullptr;
      it->second->raw_events = 0;
      set_events(it->second);
    }
  }
  uv_timer_stop(s->timer);
  if (p->easy != nullptr) {
    curl_multi_remove_handle(multi_, p->easy);
    if (idle_easy_.size() < kIdleEasyMax && !stopped_) {
      idle_easy_.push_back(p->easy);
    } else {
      curl_easy_cleanup(p->easy);
    }
  }
  s->probe.reset();
  --in_flight_;
  if (!stopped_ && !waiting_.empty()) {
    Sched *next = waiting_.front();
    waiting_.pop_front();
    next->queued = false;
    arm(next, 0); // from the loop, never from inside a libcurl call
  }
}

void Monitor::cancel(Sched *s) {
  if (s->queued) {
    if (auto it = std::find(waiting_.begin(), waiting_.end(), s); it != waiting_.end()) {
      waiting_.erase(it);
    }
    s->queued = false;
  }
  release(s);
  uv_close(reinterpret_cast<uv_handle_t *>(s->timer), delete_timer);
  s->timer = nullptr;
}

// --- libcurl on libuv -----------------------------------------------------------------------

int Monitor::on_curl_timer(CURLM *, long timeout_ms, void *self) {
  auto *m = static_cast<Monitor *>(self);
  if (m->curl_timer_ == nullptr) {
    return 0;
  }
  if (timeout_ms < 0) {
    uv_timer_stop(m->curl_timer_);
    return 0;
  }
  // 0 = "as soon as possible", but never from inside this callback: next loop turn.
  uv_timer_start(
      m->curl_timer_,
      [](uv_timer_t *t) { static_cast<Monitor *>(t->data)->socket_action(CURL_SOCKET_TIMEOUT, 0); },
      static_cast<uint64_t>(timeout_ms), 0);
  return 0;
}

int Monitor::on_socket(CURL *, curl_socket_t fd, int what, void *self, void *) {
  auto *m = static_cast<Monitor *>(self);
  if (what == CURL_POLL_REMOVE) {
    if (auto it = m->socks_.find(fd); it != m->socks_.end()) {
      it->second->curl_events = 0;
      m->set_events(it->second);
    }
    return 0;
  }
  Sock *s = m->sock_for(fd);
  if (s == nullptr) {
    return -1;
  }
  s->curl_events = ((what & CURL_POLL_IN) != 0 ? UV_READABLE : 0) |
                   ((what & CURL_POLL_OUT) != 0 ? UV_WRITABLE : 0);
  m->set_events(s);
  return 0;
}

Monitor::Sock *Monitor::sock_for(curl_socket_t fd) {
  if (auto it = socks_.find(fd); it != socks_.end()) {
    return it->second;
  }
  auto *s = new Sock;
  if (uv_poll_init_socket(loop_, &s->poll, fd) != 0) {
    delete s;
    return nullptr;
  }
  s->poll.data = s;
  s->m = this;
  s->fd = fd;
  socks_[fd] = s;
  return s;
}

// Starts the poll with what libcurl and the exchange want; closes it when nobody wants
// anything (libcurl closes the socket right after CURL_POLL_REMOVE).
void Monitor::set_events(Sock *s) {
  int events = s->curl_events | s->raw_events;
  if (events != 0) {
    uv_poll_start(&s->poll, events, on_poll);
    return;
  }
  socks_.erase(s->fd);
  s->closing = true;
  uv_close(reinterpret_cast<uv_handle_t *>(&s->poll),
           [](uv_handle_t *h) { delete static_cast<Sock *>(h->data); });
}

void Monitor::on_poll(uv_poll_t *h, int status, int events) {
  auto *s = static_cast<Sock *>(h->data);
  Monitor *m = s->m;
  if (status < 0) {
    events = UV_READABLE | UV_WRITABLE; // let recv/send or libcurl see the error
  }
  if (s->raw != nullptr && (events & s->raw_events) != 0) {
    m->exchange(s->raw);
  }
  if (!s->closing && (events & s->curl_events) != 0 && m->multi_ != nullptr) {
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : ((events & UV_READABLE) != 0 ? CURL_CSELECT_IN : 0) |
                                 ((events & UV_WRITABLE) != 0 ? CURL_CSELECT_OUT : 0);
    m->socket_action(s->fd, flags);
  }
}

void Monitor::socket_action(curl_socket_t fd, int flags) {
  if (multi_ == nullptr) {
    return;
  }
  int running = 0;
  curl_multi_socket_action(multi_, fd, flags, &running);
  check_multi_info();
}

void Monitor::check_multi_info() {
  CURLMsg *msg = nullptr;
  int left = 0;
  while (!stopped_ && (msg = curl_multi_info_read(multi_, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) {
      continue;
    }
    CURLcode rc = msg->data.result; // `msg` dies with the handle's removal
    Probe *p = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
    const CheckSpec &c = p->sched->t.check;
    if (c.type == CheckType::kHttp || c.type == CheckType::kHttps) {
      long status = 0;
      curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
      finish(p, classify_http(c, rc, status, p->st));
      continue;
    }
    ProbeResult r = classify_connect(rc, p->st);
    if (!r.ok()) {
      finish(p, std::move(r));
      continue;
    }
    connected(p);
  }
}

// tcp/tls connected (and handshaken): libcurl is done; send/expect run on our poll and timer.
// The handle stays in the multi handle: removing it would close the connection.
void Monitor::connected(Probe *p) {
  const CheckSpec &c = p->sched->t.check;
  if (c.send.empty() && c.expect_body.empty()) {
    finish(p, ProbeResult{Reason::kOk, 0, "connected"});
    return;
  }
  curl_socket_t fd = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(p->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
    finish(p, ProbeResult{Reason::kError, 0, "no socket after connecting"});
    return;
  }
  p->fd = fd;
  p->exchanging = true;
  uv_update_time(loop_);
  uint64_t spent_ms = (uv_hrtime() - p->start_ns) / 1000000;
  arm(p->sched, c.timeout_ms > spent_ms ? c.timeout_ms - spent_ms : 0);
  exchange(p);
}

void Monitor::exchange(Probe *p) {
  ProbeResult r;
  Step step = exchange_step(p->easy, p->sched->t.check, p->st, r);
  if (step == Step::kDone) {
    finish(p, std::move(r));
    return;
  }
  Sock *s = sock_for(p->fd);
  if (s == nullptr) {
    finish(p, ProbeResult{Reason::kError, 0, "cannot poll the socket"});
    return;
  }
  s->raw = p;
  s->raw_events = step == Step::kWantRead ? UV_READABLE : UV_WRITABLE;
  set_events(s);
}

} // namespace holdfast::lb
