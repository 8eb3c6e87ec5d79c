// SPDX-License-Identifier: MIT
// Controllers, NOTIFY intake and the event queue on the control loop (see service.h).
#include "xfr/service.h"

namespace holdfast::xfr {

Service::Service(uv_loop_t *loop, store::Env &env, store::WriterThread &writer,
                 std::vector<std::shared_ptr<const ZoneSpec>> zones, const Limits &limits)
    : loop_(loop), limits_(limits), throttle_(limits.transfers, limits.transfers_per_master),
      notify_rx_(zones, queue_), env_(env), writer_(writer) {
  for (auto &z : zones) {
    add(z);
  }
  uv_async_init(loop_, &wake_, [](uv_async_t *a) { static_cast<Service *>(a->data)->on_events(); });
  wake_.data = this;
  queue_.set_wake(&wake_);
}

Service::~Service() {
  queue_.set_wake(nullptr);
}

void Service::start() {
  if (started_ || stopped_) {
    return;
  }
  started_ = true;
  for (auto &[apex, c] : controllers_) {
    c->start(controllers_.size());
  }
  on_events(); // NOTIFYs that came before the start
}

void Service::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  queue_.set_wake(nullptr);
  throttle_.clear();
  for (auto &[apex, c] : controllers_) {
    c->stop();
  }
  uv_close(reinterpret_cast<uv_handle_t *>(&wake_), nullptr);
}

void Service::add(std::shared_ptr<const ZoneSpec> spec) {
  auto apex = spec->apex;
  controllers_.insert_or_assign(
      std::move(apex),
      std::make_unique<ZoneController>(loop_, env_, writer_, std::move(spec), throttle_, limits_));
}

void Service::set_limits(const Limits &limits) {
  limits_ = limits;
  throttle_.set_limits(limits.transfers, limits.transfers_per_master);
}

size_t Service::reconfigure(std::vector<std::shared_ptr<const ZoneSpec>> zones) {
  std::erase_if(retired_, [](const auto &c) { return c->closed(); });
  std::map<std::vector<uint8_t>, std::shared_ptr<const ZoneSpec>> wanted;
  for (auto &z : zones) {
    wanted.emplace(z->apex, z);
  }
  std::vector<std::shared_ptr<const ZoneSpec>> started;
  std::vector<std::pair<std::vector<uint8_t>, std::string>> vanity_before; // of replaced zones
  size_t replaced = 0;
  {
    std::lock_guard lock(mu_);
    for (auto it = controllers_.begin(); it != controllers_.end();) {
      auto w = wanted.find(it->first);
      if (w != wanted.end() && w->second->fingerprint == it->second->spec().fingerprint) {
        ++it; // unchanged: keeps its timer, its stats and what it has in flight
        continue;
      }
      if (w != wanted.end()) {
        ++replaced;
        vanity_before.emplace_back(it->first, it->second->spec().vanity_fingerprint);
      }
      it->second->stop();
      retired_.push_back(std::move(it->second));
      it = controllers_.erase(it);
    }
    for (auto &[apex, spec] : wanted) {
      if (controllers_.count(apex) == 0) {
        add(spec);
        started.push_back(spec);
      }
    }
  }
  notify_rx_.reconfigure(zones);
  if (started_ && !stopped_) {
    for (const auto &spec : started) {
      controllers_.at(spec->apex)->start(started.size());
    }
  }
  // A vanity set is applied when a snapshot is written: a changed one needs a new transfer.
  for (const auto &[apex, before] : vanity_before) {
    auto &c = *controllers_.at(apex);
    if (before != c.spec().vanity_fingerprint) {
      c.retransfer();
    }
  }
  return replaced;
}

bool Service::refresh(const std::vector<uint8_t> &apex) {
  std::lock_guard lock(mu_);
  if (controllers_.count(apex) == 0) {
    return false;
  }
  queue_.push(ZoneEvent{ZoneEvent::Kind::kRefresh, apex, std::nullopt});
  return true;
}

bool Service::retransfer(const std::vector<uint8_t> &apex) {
  std::lock_guard lock(mu_);
  if (controllers_.count(apex) == 0) {
    return false;
  }
  queue_.push(ZoneEvent{ZoneEvent::Kind::kRetransfer, apex, std::nullopt});
  return true;
}

void Service::on_events() {
  if (!started_ || stopped_) {
    return; // kept queued until start(); dropped at stop
  }
  for (auto &ev : queue_.drain()) {
    auto it = controllers_.find(ev.apex);
    if (it == controllers_.end()) {
      continue;
    }
    switch (ev.kind) {
    case ZoneEvent::Kind::kNotify:
    case ZoneEvent::Kind::kRefresh:
      it->second->check_now();
      break;
    case ZoneEvent::Kind::kRetransfer:
      it->second->retransfer();
      break;
    }
  }
}

} // namespace holdfast::xfr
