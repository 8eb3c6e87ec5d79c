// SPDX-License-Identifier: MIT
// The traffic-management layer wired into the daemon (see lb_runtime.h).
#include "daemon/lb_runtime.h"

#include <chrono>
#include <future>

#include "common/log.h"
#include "daemon/lb_persist.h"

namespace holdfast::daemon {
namespace {

std::vector<lb::Target> probe_targets(const std::vector<lb::Registry::Target> &in) {
  std::vector<lb::Target> out;
  out.reserve(in.size());
  for (const auto &t : in) {
    out.push_back({t.key, t.check, t.address});
  }
  return out;
}

} // namespace

LbRuntime::LbRuntime(uv_loop_t *loop, store::Env &env, store::WriterThread &writer,
                     lb::ViewSlot &slot)
    : env_(env), writer_(writer), saver_(env, writer), registry_(slot, slot.workers()),
      monitor_(loop, [this](const std::string &key,
                            const lb::ProbeResult &r) { registry_.on_probe(key, r); }),
      tasks_(loop) {
  uv_timer_init(loop, &reclaim_);
  reclaim_.data = this;
  registry_.on_persist([this](const std::vector<lb::PersistedMember> &) { persist(); });
}

LbRuntime::~LbRuntime() = default;

void LbRuntime::start(std::shared_ptr<const lb::LbConfig> cfg) {
  // Read before the first view is built: a restart answers exactly as before it stopped.
  auto saved = load_members(env_);
  if (!saved) {
    spdlog::error("traffic management: cannot read the saved member states: {}", saved.error());
  } else if (!saved->empty()) {
    registry_.restore(*saved);
  }
  registry_.configure(std::move(cfg));
  monitor_.set_targets(probe_targets(registry_.targets()));
  // Retired views are freed once no worker holds them; their counters are folded first.
  uv_timer_start(
      &reclaim_, [](uv_timer_t *t) { static_cast<LbRuntime *>(t->data)->registry_.reclaim(); },
      1000, 1000);
}

void LbRuntime::reconfigure(std::shared_ptr<const lb::LbConfig> cfg) {
  registry_.configure(std::move(cfg));
  monitor_.set_targets(probe_targets(registry_.targets()));
  persist(); // members that left are dropped from the store, new ones written
}

void LbRuntime::flush() {
  auto all = registry_.persisted();
  auto done = std::make_shared<std::promise<void>>();
  auto saved = done->get_future();
  store::Env &env = env_;
  if (writer_.submit([&env, all = std::move(all), done] {
        if (auto st = save_members(env, all); !st) {
          spdlog::error("traffic management: cannot save member states: {}", st.error());
        }
        done->set_value();
      })) {
    done.reset();
    if (saved.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      spdlog::warn("traffic management: member states not saved at shutdown (writer busy)");
    }
  }
}

void LbRuntime::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  monitor_.stop();
  tasks_.close();
  uv_timer_stop(&reclaim_);
  uv_close(reinterpret_cast<uv_handle_t *>(&reclaim_), nullptr);
}

lb::LbStats LbRuntime::stats() const {
  lb::LbStats s;
  s.pools = registry_.pools();
  registry_.add_counts(s.answers, s.fallbacks);
  monitor_.add_stats(s.checks, s.durations);
  return s;
}

Result<lb::MemberStatus> LbRuntime::admin(const std::string &pool, const std::string &member,
                                          const std::string &verb) {
  auto done = std::make_shared<std::promise<Status>>();
  auto outcome = done->get_future();
  tasks_.post([this, pool, member, verb, done] {
    done->set_value(registry_.set_admin(pool, member, verb));
  });
  done.reset(); // the task owns the promise: dropped at shutdown, it breaks it at once
  if (outcome.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return fail("the control loop is busy or stopping");
  }
  Status st = fail("the server is stopping");
  try {
    st = outcome.get();
  } catch (const std::future_error &) {
    return fail("the server is stopping");
  }
  if (!st) {
    return fail(st.error());
  }
  auto p = registry_.pool(pool);
  if (p) {
    for (const auto &m : p->members) {
      if (m.id == member) {
        return m;
      }
    }
  }
  return fail("member " + member + " of pool " + pool + " disappeared (reload?)");
}

// The whole set: the table is replaced in one write (members that left the config go).
void LbRuntime::persist() { saver_.save(registry_.persisted()); }

} // namespace holdfast::daemon
