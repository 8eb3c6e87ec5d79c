// SPDX-License-Identifier: MIT
// Controllers, NOTIFY intake and the event queue on the control loop (see service.h).
#include "xfr/service.h"

namespace holdfast::xfr {

Service::Service(uv_loop_t *loop, store::Env &env,
                 std::vector<std::shared_ptr<const ZoneSpec>> zones)
    : loop_(loop), throttle_(kMaxInflight), notify_rx_(zones, queue_) {
  for (auto &z : zones) {
    auto apex = z->apex;
    controllers_.emplace(std::move(apex),
                         std::make_unique<ZoneController>(loop, env, z, throttle_));
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

bool Service::refresh(const std::vector<uint8_t> &apex) {
  if (controllers_.count(apex) == 0) {
    return false;
  }
  queue_.push(ZoneEvent{ZoneEvent::Kind::kRefresh, apex, std::nullopt});
  return true;
}

bool Service::retransfer(const std::vector<uint8_t> &apex) {
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
