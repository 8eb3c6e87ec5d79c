// SPDX-License-Identifier: MIT
// Composition root (see server.h).
#include "daemon/server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <uv.h>

#include "common/dname.h"
#include "common/log.h"
#include "common/log_limit.h"
#include "common/loop_queue.h"
#include "daemon/config_util.h"
#include "daemon/control.h"
#include "daemon/lb_runtime.h"
#include "daemon/privileges.h"
#include "daemon/status.h"
#include "lb/view_slot.h"
#include "serve/notify.h"
#include "serve/tsig_query.h"
#include "serve/worker.h"
#include "store/env.h"
#include "store/writer.h"
#include "store/writer_thread.h"
#include "store/zonefile.h"
#include "xfr/service.h"

namespace holdfast::daemon {
namespace {

void drop_unconfigured(store::Env &env, const Config &cfg);

// Zone files, loaded on the writer thread when asked (start-up, SIGHUP): the parse and the
// write transactions run there, off the serve threads and off the control loop. Requests that
// arrive while a load is still queued join it.
class ZoneLoader {
public:
  // `after_gc` runs on the writer thread once the start-up garbage collection is done (a
  // transfer must not start building a snapshot before, or the collection would take it).
  ZoneLoader(store::Env &env, store::WriterThread &writer, std::shared_ptr<const Config> cfg,
             std::function<void()> after_gc)
      : env_(env), writer_(writer), cfg_(std::move(cfg)), after_gc_(std::move(after_gc)) {}
  // Loads changed zone files; with a new config (reload), first removes the zones it no longer
  // lists as kept (not served) and serves the kept zones it lists again. The writer must be
  // stopped before the loader is destroyed.
  void request(std::shared_ptr<const Config> reloaded = nullptr) {
    std::lock_guard lock(mu_);
    if (reloaded) {
      cfg_ = std::move(reloaded);
      reconfigured_ = true;
    }
    if (!queued_) {
      queued_ = writer_.submit([this] { run(); });
    }
  }

private:
  void run() {
    std::shared_ptr<const Config> cfg;
    bool reconfigured = false;
    {
      std::lock_guard lock(mu_);
      queued_ = false;
      cfg = cfg_;
      reconfigured = std::exchange(reconfigured_, false);
    }
    if (reconfigured) { // (at start-up, run_server did it before serving)
      drop_unconfigured(env_, *cfg);
    }
    load_all(*cfg);
  }

  void load_all(const Config &cfg) {
    if (first_) {
      first_ = false;
      // Garbage from a crash (an unfinished snapshot) is unreferenced: collecting it here, after
      // the workers already serve, keeps it off the restart-to-first-answer path.
      size_t collected = 0;
      if (auto gc = store::collect_garbage(env_, &collected); !gc) {
        spdlog::warn("storage garbage collection failed: {}", gc.error());
      } else if (collected > 0) {
        spdlog::info("storage: removed {} unreferenced snapshot(s) (unfinished or old)", collected);
      }
      after_gc_();
    }
    std::vector<store::ZoneFileJob> jobs;
    std::vector<const ZoneConfig *> primaries;
    std::set<std::vector<uint8_t>> managed;
    for (const auto &z : cfg.zones) {
      if (!z.file.empty()) {
        // A zone that had managed names and has none now is written again without them (an
        // empty overlay); one that has some is written at every load (store/zonefile.h).
        static const store::Overlay kNone;
        const store::Overlay *ov = z.overlay ? z.overlay.get()
                                   : had_managed_.count(z.apex) != 0 ? &kNone
                                                                     : nullptr;
        jobs.push_back({z.apex.data(), z.file, ov});
        primaries.push_back(&z);
        if (z.overlay) {
          managed.insert(z.apex);
        }
      }
    }
    had_managed_ = std::move(managed);
    if (jobs.empty()) {
      return;
    }
    size_t loaded = 0, unchanged = 0, failed = 0;
    auto start = std::chrono::steady_clock::now();
    store::load_zone_files(
        env_, jobs,
        [&](size_t i, const Result<store::ZoneFileLoad> &r) {
          const auto &z = *primaries[i];
          if (!r) {
            ++failed;
            zone_log(spdlog::level::err, z.domain,
                     "zone file not loaded, previous snapshot kept: {}", r.error());
          } else if (r->outcome == store::LoadOutcome::kUnchanged) {
            ++unchanged;
            zone_log(spdlog::level::debug, z.domain, "zone file unchanged, serial {}",
                     r->published.serial);
          } else {
            ++loaded;
            zone_log(spdlog::level::info, z.domain, "loaded from {}, serial {}, {} records", z.file,
                     r->published.serial, r->published.records);
          }
        },
        &writer_.stopping());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("zone files: {} loaded, {} unchanged, {} failed, {:.3f} s", loaded, unchanged,
                 failed, secs);
  }

  store::Env &env_;
  store::WriterThread &writer_;
  std::shared_ptr<const Config> cfg_; // guarded by mu_
  bool reconfigured_ = false;         // guarded by mu_
  bool queued_ = false;               // guarded by mu_: a run() is waiting on the writer
  std::function<void()> after_gc_;
  std::mutex mu_;
  bool first_ = true; // writer thread only
  std::set<std::vector<uint8_t>> had_managed_; // writer thread only: zones loaded with an overlay
};

// Zones in the store that the config no longer lists stop being served but keep their data
// (a templating slip must not cost every zone); zones listed again are served from it at once.
void drop_unconfigured(store::Env &env, const Config &cfg) {
  std::vector<std::vector<uint8_t>> wanted;
  for (const auto &z : cfg.zones) {
    wanted.push_back(z.apex);
  }
  auto changes = store::sync_kept(env, wanted);
  if (!changes) {
    spdlog::error("cannot mark unconfigured zones: {}", changes.error());
    return;
  }
  for (const auto &z : changes->kept) {
    zone_log(spdlog::level::warn, name_to_string(z.apex.data()),
             "not in the config any more: not served, serial {} kept in storage (holdfast zone "
             "purge deletes it)",
             z.record.serial);
  }
  for (const auto &z : changes->restored) {
    zone_log(spdlog::level::info, name_to_string(z.apex.data()),
             "in the config again: serving its kept snapshot, serial {}", z.record.serial);
  }
}

// Purges a kept zone on the writer thread (the HTTP thread waits: the answer says what happened).
Result<store::PurgeOutcome> purge(std::atomic<store::WriterThread *> &writer, store::Env &env,
                                  const std::vector<uint8_t> &apex) {
  store::WriterThread *w = writer.load();
  if (w == nullptr) {
    return fail("the server is starting or stopping");
  }
  auto done = std::make_shared<std::promise<Result<store::PurgeOutcome>>>();
  auto outcome = done->get_future();
  if (!w->submit([&env, apex, done] { done->set_value(store::purge_zone(env, apex.data())); })) {
    return fail("the server is stopping");
  }
  if (outcome.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return fail("the writer is busy (loading zone files?); the purge runs when it is free");
  }
  try {
    return outcome.get();
  } catch (const std::future_error &) {
    return fail("the server is stopping"); // dropped by the writer's stop()
  }
}

// serve's NOTIFY door opens onto xfr's intake (serve itself never includes xfr).
class NotifyBridge final : public serve::NotifyHandler {
public:
  explicit NotifyBridge(xfr::NotifyRx &rx) : rx_(rx) {}
  size_t answer(const knot_pkt_t *query, const sockaddr *remote, knot_pkt_t *resp) override {
    return rx_.answer(query, remote, resp);
  }

private:
  xfr::NotifyRx &rx_;
};

// Sockets first, in this thread, so that a bind error stops start-up with a clear message;
// one worker per configured thread (started later, once privileges are dropped).
Result<std::vector<std::unique_ptr<serve::Worker>>>
open_workers(store::Env &env, const Config &cfg, const serve::ServeOptions &serve_opts) {
  std::vector<std::unique_ptr<serve::Worker>> workers;
  serve::WorkerOptions worker_opts = cfg.worker;
  // One client's connections land on any worker: the per-address count is shared.
  worker_opts.client_counts = std::make_shared<serve::TcpClientCounts>();
  for (unsigned i = 0; i < cfg.workers; ++i) {
    std::vector<int> udp, tcp;
    for (const auto &ep : cfg.listen) {
      auto u = serve::open_udp(ep);
      auto t = u ? serve::open_tcp(ep, 1024) : Result<int>(fail(""));
      if (!u || !t) {
        return fail(!u ? u.error() : t.error());
      }
      udp.push_back(*u);
      tcp.push_back(*t);
    }
    worker_opts.index = i;
    workers.push_back(std::make_unique<serve::Worker>(env, serve_opts, worker_opts, std::move(udp),
                                                      std::move(tcp)));
  }
  return workers;
}

// SIGTERM/SIGINT stop the control loop; SIGHUP reloads the config (and changed zone files).
struct Signals {
  Signals(uv_loop_t *loop, std::function<void()> on_hup) : reload(std::move(on_hup)) {
    auto stop = [](uv_signal_t *s, int signum) {
      spdlog::info("signal {}: shutting down", signum);
      uv_stop(s->loop);
    };
    uv_signal_init(loop, &term);
    uv_signal_init(loop, &intr);
    uv_signal_init(loop, &hup);
    hup.data = this;
    uv_signal_start(&term, stop, SIGTERM);
    uv_signal_start(&intr, stop, SIGINT);
    uv_signal_start(
        &hup,
        [](uv_signal_t *s, int) {
          spdlog::info("SIGHUP: reloading the config and changed zone files");
          static_cast<Signals *>(s->data)->reload();
        },
        SIGHUP);
  }
  void close() {
    for (uv_signal_t *s : {&term, &intr, &hup}) {
      uv_close(reinterpret_cast<uv_handle_t *>(s), nullptr);
    }
  }
  uv_signal_t term, intr, hup;
  std::function<void()> reload;
};

// Thousands of zones' transfers and TCP clients need descriptors: take the hard limit, as
// Knot DNS does (the soft limit is often 1024).
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      spdlog::warn("cannot raise the open file limit: {}", std::strerror(errno));
    }
  }
}

// What a reload (SIGHUP, POST /api/v1/reload) swaps; only touched on the control loop.
struct Runtime {
  std::shared_ptr<const Config> cfg;
  ZoneLoader *loader = nullptr;
  xfr::Service *xfr = nullptr;
  StatusSource *status = nullptr;
  serve::TsigKeyring *keyring = nullptr;
  LbRuntime *lb = nullptr;
};

// Settings that sockets, threads or the store were built from: a reload cannot change them.
void warn_restart_only(const Config &a, const Config &b) {
  auto texts = [](const std::vector<Endpoint> &v) {
    std::string out;
    for (const auto &e : v) {
      out += e.text + ",";
    }
    return out;
  };
  const struct {
    const char *key;
    bool changed;
  } keys[] = {
      {"server.listen", texts(a.listen) != texts(b.listen)},
      {"server.workers", a.workers != b.workers},
      {"server.storage", a.storage != b.storage},
      {"server.http", (a.http ? a.http->text : "") != (b.http ? b.http->text : "")},
      {"server.http-token", a.http_token != b.http_token},
      {"server.user", a.user != b.user},
      {"server.udp-max-payload", a.serve.udp_max_payload != b.serve.udp_max_payload},
      {"server.identity/version/nsid", a.serve.identity != b.serve.identity ||
                                           a.serve.version != b.serve.version ||
                                           a.serve.nsid != b.serve.nsid},
      {"server.tcp-*",
       a.worker.tcp_idle_timeout_ms != b.worker.tcp_idle_timeout_ms ||
           a.worker.tcp_max_clients != b.worker.tcp_max_clients ||
           a.worker.tcp_io_timeout_ms != b.worker.tcp_io_timeout_ms ||
           a.worker.tcp_max_clients_per_address != b.worker.tcp_max_clients_per_address ||
           a.worker.tcp_max_inflight != b.worker.tcp_max_inflight},
      {"server.rrl", a.rrl != b.rrl},
  };
  for (const auto &k : keys) {
    if (k.changed) {
      spdlog::warn("reload: {} changed; it takes effect at the next restart", k.key);
    }
  }
}

// Re-reads the config: zones added, removed and changed take effect; the workers never stop,
// so queries are answered throughout. An invalid config changes nothing.
void reload(Runtime &rt) {
  auto next = load_config(rt.cfg->path);
  if (!next) {
    std::string why = next.error();
    std::replace(why.begin(), why.end(), '\n', ';');
    spdlog::error("reload: config rejected, keeping the running one: {}", why);
    return;
  }
  auto cfg = std::make_shared<const Config>(std::move(*next));
  warn_restart_only(*rt.cfg, *cfg);
  init_logging(cfg->log_level);
  set_log_rate_limit(static_cast<int64_t>(cfg->log_rate_limit_ms) * 1'000'000);
  std::map<std::vector<uint8_t>, const ZoneConfig *> before;
  for (const auto &z : rt.cfg->zones) {
    before.emplace(z.apex, &z);
  }
  size_t added = 0, changed = 0;
  for (const auto &z : cfg->zones) {
    auto it = before.find(z.apex);
    if (it == before.end()) {
      ++added;
      continue;
    }
    const ZoneConfig &old = *it->second;
    bool same = old.file == z.file && (old.secondary == nullptr) == (z.secondary == nullptr) &&
                (!z.secondary || old.secondary->fingerprint == z.secondary->fingerprint);
    changed += same ? 0 : 1;
    before.erase(it);
  }
  rt.loader->request(cfg); // stops serving dropped zones (data kept), loads new/changed files
  // New transfer bounds apply to the operations that start from now on.
  rt.xfr->set_limits(cfg->xfr);
  rt.xfr->reconfigure(cfg->secondaries());
  rt.keyring->set(cfg->keys);
  rt.lb->reconfigure(cfg->lb);
  rt.status->set_config(cfg);
  rt.cfg = cfg;
  spdlog::info("reload: {} zone(s), {} added, {} removed, {} changed", cfg->zones.size(), added,
               before.size(), changed);
}

} // namespace

int run_server(const Config &initial) {
  const Config &cfg = initial;
  init_logging(cfg.log_level);
  set_log_rate_limit(static_cast<int64_t>(cfg.log_rate_limit_ms) * 1'000'000);
  raise_fd_limit();
  store::EnvOptions env_opts{cfg.storage};
  // Tests only (undocumented): a tiny initial map makes the map grow many times.
  if (const char *t = std::getenv("HOLDFAST_TEST_MAP_SIZE"); t != nullptr && *t != '\0') {
    env_opts.initial_map_size = std::strtoull(t, nullptr, 10);
  }
  auto env = store::Env::open(env_opts);
  if (!env) {
    spdlog::error("{}", env.error());
    return 1;
  }
  auto lock = lock_storage(cfg.storage);
  if (!lock) {
    spdlog::error("{}", lock.error());
    return 1;
  }
  Runtime rt;
  rt.cfg = std::make_shared<const Config>(initial);

  // The control loop: signals, and the xfr controllers of the secondary zones. The single
  // writer thread takes every store write from it and from the zone loader; completions come
  // back to the loop.
  uv_loop_t loop;
  uv_loop_init(&loop);
  LoopQueue completions(&loop);
  store::WriterThread writer(**env,
                             [&completions](std::function<void()> t) { completions.post(t); });
  // Zones the config no longer lists are not served from the first answer on (kept, not
  // removed): the writer's first job, waited for before the workers start.
  std::promise<void> kept_done;
  if (writer.submit([&] { drop_unconfigured(**env, cfg); kept_done.set_value(); })) {
    kept_done.get_future().wait();
  }
  auto xfr_service =
      std::make_unique<xfr::Service>(&loop, **env, writer, cfg.secondaries(), cfg.xfr);
  NotifyBridge notify_bridge(xfr_service->notify_rx());
  serve::ServeOptions serve_opts = cfg.serve;
  serve_opts.notify = &notify_bridge; // also when no zone is a secondary yet: a reload may add one
  serve::TsigKeyring keyring(cfg.keys); // signed queries (RFC 8945 5.2); a reload swaps the set
  serve_opts.keys = &keyring;
  rt.keyring = &keyring;
  // One RRL table for every worker, allocated here once (outlives the workers declared below).
  std::unique_ptr<serve::Rrl> rrl;
  if (cfg.rrl.rate_limit > 0) {
    rrl = std::make_unique<serve::Rrl>(cfg.rrl);
    serve_opts.rrl = rrl.get();
    spdlog::info("response rate limiting: {}/s per network and kind, slip {}, {} buckets",
                 cfg.rrl.rate_limit, cfg.rrl.slip, cfg.rrl.table_size);
  }

  // Managed names' answers: the workers read the lb view through this slot (lb/view_slot.h);
  // it outlives them.
  lb::ViewSlot lb_slot(cfg.workers);
  serve_opts.lb = &lb_slot;

  auto workers = open_workers(**env, cfg, serve_opts);
  if (!workers) {
    spdlog::error("{}", workers.error());
    return 1;
  }
  std::string addrs;
  for (const auto &ep : cfg.listen) {
    addrs += (addrs.empty() ? "" : ", ") + ep.text;
  }
  auto stored = store::list_zones(**env);
  size_t kept = std::count_if(stored.begin(), stored.end(), [](const store::ZoneInfo &z) {
    return (z.record.flags & store::kZoneFlagKept) != 0;
  });
  spdlog::info("serving {} stored zone(s) on {} with {} worker(s); {} kept, not served",
               stored.size() - kept, addrs, workers->size(), kept);

  // The HTTP plane is not needed to serve: a port clash is reported, DNS keeps going.
  StatusSource status(rt.cfg, **env, *xfr_service, *workers, &writer);
  ControlPlane control(status);
  // Traffic management: member states saved before a restart are restored before the first
  // view is built, so the first answers are the last ones; probes start at once.
  LbRuntime lb_runtime(&loop, **env, writer, lb_slot);
  lb_runtime.start(cfg.lb);
  rt.lb = &lb_runtime;
  status.on_lb_stats([&lb_runtime] { return lb_runtime.stats(); });
  control.on_pools([&lb_runtime] { return lb_runtime.pools(); });
  control.on_member_admin(
      [&lb_runtime](const std::string &pool, const std::string &member, const std::string &verb) {
        return lb_runtime.admin(pool, member, verb);
      });

  uv_async_t reload_async;
  reload_async.data = &rt;
  uv_async_init(&loop, &reload_async,
                [](uv_async_t *a) { reload(*static_cast<Runtime *>(a->data)); });
  control.on_reload([&reload_async] { uv_async_send(&reload_async); });
  std::atomic<store::WriterThread *> writer_ptr{nullptr}; // set once the loader runs on it
  control.on_purge([&writer_ptr, &env = **env](const std::vector<uint8_t> &apex) {
    return purge(writer_ptr, env, apex);
  });
  if (cfg.http) {
    if (auto st = control.start(*cfg.http, cfg.http_token); !st) {
      spdlog::error("{}; metrics and the control API are off", st.error());
    } else {
      spdlog::info("metrics and control API on http://{}",
                   format_url_host(reinterpret_cast<const sockaddr *>(&cfg.http->addr)));
    }
  }

  if (auto st = drop_privileges(cfg.user, cfg.storage); !st) {
    spdlog::error("{}", st.error());
    control.stop();
    return 1;
  }
  for (auto &w : *workers) {
    w->start();
  }

  // Polling starts once the loader has collected the garbage of an earlier run.
  uv_async_t start_xfr;
  start_xfr.data = xfr_service.get();
  uv_async_init(&loop, &start_xfr,
                [](uv_async_t *a) { static_cast<xfr::Service *>(a->data)->start(); });
  // Dropping unconfigured zones and collecting garbage are the writer's first job.
  auto loader = std::make_unique<ZoneLoader>(**env, writer, rt.cfg,
                                             [&start_xfr] { uv_async_send(&start_xfr); });
  loader->request();
  rt.loader = loader.get();
  writer_ptr.store(&writer);
  rt.xfr = xfr_service.get();
  rt.status = &status;

  Signals sig(&loop, [&rt] { reload(rt); });
  uv_run(&loop, UV_RUN_DEFAULT);
  control.stop(); // no more reload or purge requests
  writer_ptr.store(nullptr);
  lb_runtime.flush(); // the last operator action must survive the restart
  writer.stop(); // interrupts a load in progress; its partial snapshot is collected next start
  loader.reset();
  xfr_service->stop();
  lb_runtime.stop();
  completions.close();
  uv_close(reinterpret_cast<uv_handle_t *>(&start_xfr), nullptr);
  uv_close(reinterpret_cast<uv_handle_t *>(&reload_async), nullptr);
  sig.close();
  uv_run(&loop, UV_RUN_DEFAULT);
  for (auto &w : *workers) {
    w->stop();
  }
  workers->clear();
  xfr_service.reset(); // after the workers: they may still have been answering a NOTIFY
  if (int rc = uv_loop_close(&loop); rc != 0) {
    spdlog::warn("control loop closed with handles open: {}", uv_strerror(rc));
  }
  spdlog::info("stopped");
  return 0;
}

int check_config(const std::string &path) {
  auto cfg = load_config(path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().c_str());
    return 1;
  }
  int bad = 0;
  for (const auto &z : cfg->zones) {
    if (z.secondary) {
      std::string masters;
      for (const auto &m : z.secondary->masters) {
        masters += (masters.empty() ? "" : ", ") + m->id;
      }
      std::printf("[%s] secondary, masters: %s\n", z.domain.c_str(), masters.c_str());
      continue;
    }
    auto r = store::check_zone_file(z.apex.data(), z.file);
    if (!r) {
      // Named like a config error (file, line, key), since the config points at the file.
      std::fprintf(stderr, "%s:%d: zones[].file: zone %s: %s\n", path.c_str(), z.file_line,
                   z.domain.c_str(), r.error().c_str());
      ++bad;
      continue;
    }
    auto problems = config_detail::lb_zone_file_problems(*cfg, z); // managed names in this file
    for (const auto &p : problems) {
      std::fprintf(stderr, "%s\n", p.c_str());
    }
    bad += static_cast<int>(problems.size());
    if (problems.empty()) {
      std::printf("[%s] %s: %zu records, OK\n", z.domain.c_str(), z.file.c_str(), *r);
    }
  }
  if (bad > 0) {
    return 1;
  }
  std::printf("%s: configuration OK, %zu zone(s), %zu managed record(s)\n", path.c_str(),
              cfg->zones.size(), cfg->lb->records.size());
  return 0;
}

} // namespace holdfast::daemon
