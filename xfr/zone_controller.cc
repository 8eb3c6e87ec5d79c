// SPDX-License-Identifier: MIT
// The per-zone refresh state machine (see zone_controller.h).
#include "xfr/zone_controller.h"

#include <chrono>
#include <random>

#include "common/clock.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/serial.h"
#include "store/diff.h"
#include "store/writer.h"
#include "xfr/axfr_client.h"
#include "xfr/ixfr_client.h"
#include "xfr/request.h"
#include "xfr/sink.h"
#include "xfr/timing.h"

namespace holdfast::xfr {
namespace {

// Staging bound of a transfer: beyond it, the records staged go to the writer thread as a batch
// and staging goes on into a fresh buffer. With at most kMaxQueuedBatches waiting for the
// writer, a transfer holds at most 64 MiB of records; past that the master is not read until
// the writer took a batch (a master's own I/O timeout must not see a long pause just because the
// writer is busy with another zone).
constexpr size_t kTransferStagingBytes = size_t{16} << 20;
constexpr int kMaxQueuedBatches = 3;

struct PktFree {
  void operator()(knot_pkt_t *p) const { knot_pkt_free(p); }
};
using PktPtr = std::unique_ptr<knot_pkt_t, PktFree>;

uint16_t random_id() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<uint16_t>(rng());
}

// Everything one transfer needs; shared by the message and end callbacks.
struct TransferJob {
  TransferJob(const ZoneSpec &spec, std::shared_ptr<const TsigKey> key, store::WriterThread &writer)
      : tsig(std::move(key)), vanity(spec), writer(writer) {}
  // An unfinished snapshot (a failed or cancelled transfer) is deleted by the writer thread.
  ~TransferJob() {
    if (sink && !sink->done()) {
      std::shared_ptr<SnapshotSink> s(std::move(sink));
      (void)writer.submit([s] { s->discard(); });
    }
  }
  TsigClient tsig;
  Vanity vanity;
  std::unique_ptr<SnapshotSink> sink;
  std::unique_ptr<AxfrClient> axfr;
  std::unique_ptr<IxfrClient> ixfr;
  store::WriterThread &writer;
  uint16_t id = 0;
  uint16_t qtype = 0;
  bool first = true;
  bool ended = false;  // the exchange ended: a flush completing later must not touch inflight_
  bool paused = false; // reading from the master stopped: kMaxQueuedBatches are queued
  int batches_queued = 0;
  uint64_t bytes = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // One reply message: size limit, parse, checks (TSIG included), then the consumer.
  Result<Next> on_message(uint8_t *wire, size_t n, const ZoneSpec &spec) {
    bytes += n;
    if (spec.max_size != 0 && bytes > spec.max_size) {
      return fail("zone exceeds the size limit (max-zone-size " + std::to_string(spec.max_size) +
                  " bytes)");
    }
    PktPtr pkt(knot_pkt_new(wire, static_cast<uint16_t>(n), nullptr));
    if (auto st = parse_reply(pkt.get()); !st) {
      return fail(st.error());
    }
    auto st = check_reply(pkt.get(), id, spec.apex.data(), qtype, first, tsig);
    first = false;
    if (st) {
      st = axfr ? axfr->consume(pkt.get()) : ixfr->consume(pkt.get());
    }
    if (!st) {
      return fail(st.error());
    }
    if (!(axfr ? axfr->done() : ixfr->done())) {
      return Next::kMore;
    }
    if (auto fin = tsig.finish(); !fin) {
      return fail(fin.error());
    }
    return Next::kDone;
  }
};

Result<std::unique_ptr<SnapshotSink>> open_sink(store::Env &env, const ZoneSpec &spec,
                                                const Vanity &vanity, const std::string &from) {
  store::SourceInfo src;
  src.kind = store::SourceKind::kTransfer;
  src.source = from;
  src.zonemd = spec.zonemd;
  auto w = store::SnapshotWriter::begin(env, spec.apex.data(), src);
  if (!w) {
    return fail(w.error());
  }
  (*w)->set_flush_bytes(kTransferStagingBytes);
  (*w)->set_auto_flush(false); // flushes run on the writer thread (flush_staged)
  return std::make_unique<SnapshotSink>(std::move(*w), vanity);
}

// Publishes what a finished transfer received: a full zone, or an IXFR's difference. Runs on
// the writer thread.
Result<store::Published> publish(store::Env &env, TransferJob &job, const std::string &from,
                                 store::ZonemdPolicy zonemd) {
  if (job.axfr || job.ixfr->kind() == IxfrClient::Kind::kFull) {
    return job.sink->publish();
  }
  store::SourceInfo src;
  src.kind = store::SourceKind::kTransfer;
  src.source = from;
  src.zonemd = zonemd;
  return store::apply_diff(env, job.ixfr->diff(), src);
}

} // namespace

ZoneController::ZoneController(uv_loop_t *loop, store::Env &env, store::WriterThread &writer,
                               std::shared_ptr<const ZoneSpec> spec, Throttle &throttle,
                               const Limits &limits)
    : loop_(loop), env_(env), writer_(writer), spec_(std::move(spec)), throttle_(throttle),
      limits_(limits),
      name_(spec_->name) {
  for (const auto &m : spec_->masters) {
    for (const auto &a : m->addresses) {
      remotes_.push_back({m.get(), &a});
    }
  }
  // A whole operation (checks of every address in turn, then the transfer) counts against the
  // zone's first master: the one it talks to unless that one is down. A slow master (the case
  // transfers-per-master is for) answers the check and then crawls, so its zones are held to
  // its share; a dead first master costs its zones at most soa-timeout per address before they
  // move on, still within that master's share, which leaves the other masters' slots alone.
  // Taking a new slot per master while failing over would put a zone at the back of the queue
  // in the middle of its operation, or make it hold one slot while waiting for another.
  if (!spec_->masters.empty()) {
    throttle_key_ = spec_->masters.front()->id;
  }
  seed_ = std::hash<std::string>{}(name_);
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

ZoneController::~ZoneController() {
  *alive_ = false;
}

const char *ZoneController::state_name(int state) {
  switch (static_cast<State>(state)) {
  case State::kIdle:
    return "idle";
  case State::kQueued:
    return "queued";
  case State::kChecking:
    return "checking";
  case State::kTransferring:
    return "transferring";
  case State::kStopped:
    return "stopped";
  }
  return "unknown";
}

void ZoneController::start(size_t zones) {
  stats_.started_ns = unix_now_ns();
  if (auto z = store::read_zone(env_, spec_->apex.data())) {
    stored_ = z->record.serial;
    stats_.served_serial = z->record.serial;
    stats_.has_snapshot = true;
    zone_log(spdlog::level::info, name_, "secondary, serving stored serial {}, checking masters",
             *stored_);
  } else {
    zone_log(spdlog::level::info, name_, "secondary, no snapshot yet, transferring");
  }
  schedule(stored_ ? first_check_ms(spec_->refresh_ms, seed_)
                   : first_transfer_ms(spec_->refresh_ms, zones, seed_));
}

void ZoneController::schedule(uint64_t delay_ms) {
  if (state_ == State::kStopped) {
    return;
  }
  uv_timer_start(
      &timer_, [](uv_timer_t *t) { static_cast<ZoneController *>(t->data)->begin_check(); },
      delay_ms, 0);
}

void ZoneController::check_now() {
  stats_.notifies.fetch_add(1, std::memory_order_relaxed);
  if (state_ == State::kIdle) {
    schedule(0);
  } else if (state_ == State::kChecking || state_ == State::kTransferring) {
    again_ = true; // a burst of NOTIFYs coalesces into one more check
  }                // kQueued: the check that is waiting for its turn will see the new serial
}

void ZoneController::retransfer() {
  force_axfr_ = true;
  check_now();
}

void ZoneController::stop() {
  set_state(State::kStopped);
  *alive_ = false;
  if (inflight_ != nullptr) {
    inflight_->cancel();
    inflight_ = nullptr;
  }
  throttle_.cancel(this);
  if (holding_) {
    holding_ = false;
    throttle_.release(throttle_key_);
  }
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t *>(&timer_),
           [](uv_handle_t *h) { static_cast<ZoneController *>(h->data)->closed_ = true; });
}

std::string ZoneController::remote_text() const {
  return remote_ < remotes_.size() ? remotes_[remote_].address->text : "none";
}

void ZoneController::begin_check() {
  if (state_ != State::kIdle) {
    return;
  }
  if (remotes_.empty()) {
    zone_log(spdlog::level::err, name_, "refresh, no master address configured");
    return;
  }
  set_state(State::kQueued);
  throttle_.run([this] { start_check(); }, this, throttle_key_);
}

void ZoneController::start_check() {
  holding_ = true;
  set_state(State::kChecking);
  remote_ = 0;
  ++round_;
  stats_.checks.fetch_add(1, std::memory_order_relaxed);
  query_soa(false);
}

void ZoneController::query_soa(bool tcp) {
  const Remote &r = remotes_[remote_];
  auto tsig = std::make_shared<TsigClient>(r.master->key);
  uint8_t buf[kRequestMax];
  uint16_t id = random_id();
  auto len = make_request(buf, spec_->apex.data(), KNOT_RRTYPE_SOA, id, 0, *tsig);
  if (!len) {
    next_remote_or_retry(len.error());
    return;
  }
  auto serial = std::make_shared<std::optional<uint32_t>>();
  auto truncated = std::make_shared<bool>(false);
  inflight_ = Exchange::start(
      loop_, *r.address, r.master->source, tcp, std::vector<uint8_t>(buf, buf + *len),
      limits_.soa_timeout_ms, 0,
      [this, id, tsig, serial, truncated, tcp](uint8_t *wire, size_t n) -> Result<Next> {
        PktPtr pkt(knot_pkt_new(wire, static_cast<uint16_t>(n), nullptr));
        if (auto st = parse_reply(pkt.get()); !st) {
          return fail(st.error());
        }
        if (auto st = check_reply(pkt.get(), id, spec_->apex.data(), KNOT_RRTYPE_SOA, true, *tsig);
            !st) {
          return fail(st.error());
        }
        if (knot_wire_get_tc(pkt->wire)) {
          if (tcp) {
            // Nothing smaller to fall back to: a broken master, this check failed.
            return fail("truncated (TC) answer over TCP");
          }
          *truncated = true; // RFC 1035 4.2.1: retried over TCP
          return Next::kDone;
        }
        const knot_pktsection_t *an = knot_pkt_section(pkt.get(), KNOT_ANSWER);
        for (uint16_t i = 0; i < an->count; ++i) {
          const knot_rrset_t *rr = knot_pkt_rr(an, i);
          if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count == 1 &&
              knot_dname_is_case_equal(rr->owner, spec_->apex.data())) {
            *serial = soa_serial(*rr);
          }
        }
        if (!*serial) {
          return fail("no SOA for the zone in the master's answer");
        }
        return Next::kDone;
      },
      [this, serial, truncated, tcp](const ExchangeEnd &end) {
        inflight_ = nullptr;
        if (state_ == State::kStopped) {
          return;
        }
        on_soa(end, *serial, *truncated, tcp);
      });
}

void ZoneController::on_soa(const ExchangeEnd &end, std::optional<uint32_t> serial, bool truncated,
                            bool tcp) {
  if (!end.status) {
    next_remote_or_retry(end.status.error());
    return;
  }
  if (truncated && !tcp) {
    query_soa(true);
    return;
  }
  if (!serial) { // the message callback fails every other answer without one; never read empty
    next_remote_or_retry("no SOA for the zone in the master's answer");
    return;
  }
  int64_t now = unix_now_ns();
  stats_.last_check_ns = now;
  stats_.master_reachable = true;
  stats_.master_serial = *serial;
  stats_.master_seen = true;
  bool newer = !stored_ || serial_is_newer(*serial, *stored_);
  if (!newer) {
    stats_.ahead_since_ns = 0;
    stats_.set_error("");
  } else if (stats_.ahead_since_ns == 0) {
    stats_.ahead_since_ns = now;
  }
  zone_log(spdlog::level::info, name_, "refresh, remote {}, remote serial {}, local serial {}{}",
           remote_text(), *serial, stored_ ? std::to_string(*stored_) : "none",
           newer || force_axfr_ ? ", transferring" : ", up to date");
  if (!newer && !force_axfr_) {
    stats_.up_to_date.fetch_add(1, std::memory_order_relaxed);
    done(true);
    return;
  }
  begin_transfer(stored_.has_value() && !force_axfr_);
}

void ZoneController::next_remote_or_retry(const std::string &why) {
  zone_log(spdlog::level::warn, name_, "refresh, remote {}, failed: {}", remote_text(), why);
  stats_.set_error("refresh, remote " + remote_text() + ": " + why);
  if (++remote_ < remotes_.size()) {
    query_soa(false);
    return;
  }
  stats_.check_failures.fetch_add(1, std::memory_order_relaxed);
  stats_.master_reachable = false;
  done(false);
}

void ZoneController::begin_transfer(bool ixfr) {
  set_state(State::kTransferring);
  const Remote &r = remotes_[remote_];
  auto job = std::make_shared<TransferJob>(*spec_, r.master->key, writer_);
  job->id = random_id();
  job->qtype = ixfr ? KNOT_RRTYPE_IXFR : KNOT_RRTYPE_AXFR;
  std::string from = r.address->text;
  if (ixfr) {
    // A sealed zone keeps the master's NS and addresses (seals_apex): increments apply to
    // them as sent.
    auto stored = store::read_zone(env_, spec_->apex.data());
    if (stored && (stored->record.dnssec != store::DnssecMode::kUnsigned ||
                   (stored->record.flags & store::kZoneFlagZonemd) != 0)) {
      job->vanity.disable();
    }
    job->ixfr =
        std::make_unique<IxfrClient>(spec_->apex.data(), *stored_, job->vanity,
                                     [this, job = job.get(), from]() -> Result<RecordSink *> {
                                       auto s = open_sink(env_, *spec_, job->vanity, from);
                                       if (!s) {
                                         return fail(s.error());
                                       }
                                       job->sink = std::move(*s);
                                       return static_cast<RecordSink *>(job->sink.get());
                                     });
  } else {
    auto s = open_sink(env_, *spec_, job->vanity, from);
    if (!s) {
      zone_log(spdlog::level::err, name_, "AXFR, incoming, remote {}, failed: {}", from, s.error());
      done(false);
      return;
    }
    job->sink = std::move(*s);
    job->axfr = std::make_unique<AxfrClient>(spec_->apex.data(), *job->sink);
  }
  uint8_t buf[kRequestMax];
  auto len =
      make_request(buf, spec_->apex.data(), job->qtype, job->id, stored_.value_or(0), job->tsig);
  if (!len) {
    zone_log(spdlog::level::err, name_, "transfer request failed: {}", len.error());
    done(false);
    return;
  }
  inflight_ = Exchange::start(
      loop_, *r.address, r.master->source, true, std::vector<uint8_t>(buf, buf + *len),
      limits_.transfer_idle_ms, limits_.transfer_timeout_ms,
      [this, job](uint8_t *wire, size_t n) {
        auto next = job->on_message(wire, n, *spec_);
        if (next && *next == Next::kMore && job->sink && job->sink->flush_due()) {
          flush_staged(job);
        }
        return next;
      },
      [this, ixfr, job](const ExchangeEnd &end) {
        inflight_ = nullptr;
        if (state_ == State::kStopped) {
          return;
        }
        on_transfer_end(ixfr, end, job);
      });
}

void ZoneController::flush_staged(std::shared_ptr<void> job_ptr) {
  auto *job = static_cast<TransferJob *>(job_ptr.get());
  if (job->batches_queued >= kMaxQueuedBatches) {
    if (!job->paused) {
      job->paused = true; // backpressure: resumed when the writer took a batch
      inflight_->pause();
    }
    return;
  }
  auto batch = std::make_shared<store::StagedBatch>(job->sink->take_staged());
  ++job->batches_queued;
  bool queued = writer_.call<Status>(
      [job, batch, job_ptr] { return job->sink->flush(*batch); },
      [this, alive = alive_, job_ptr, job](Status &st) {
        --job->batches_queued;
        if (!*alive || job->ended || inflight_ == nullptr) {
          return; // stopped or ended meanwhile (cancelled, timed out)
        }
        if (!st) {
          inflight_->abort_with(st.error());
        } else if (job->paused) {
          job->paused = false;
          flush_staged(job_ptr); // the full staging buffer, now that the queue has room
          inflight_->resume();
        }
      });
  if (!queued) {
    inflight_->abort_with("shutting down");
  }
}

void ZoneController::on_transfer_end(bool ixfr, const ExchangeEnd &end,
                                     std::shared_ptr<void> job_ptr) {
  auto *job = static_cast<TransferJob *>(job_ptr.get());
  job->ended = true;
  bool up_to_date =
      !end.status ? false : job->ixfr && job->ixfr->kind() == IxfrClient::Kind::kUpToDate;
  if (!end.status || up_to_date) {
    finish_transfer(ixfr, end, std::move(job_ptr),
                    !end.status ? Result<store::Published>(fail(end.status.error()))
                                : Result<store::Published>(fail("")));
    return;
  }
  // The publish (NSEC3 hashing, ZONEMD, a million records) runs on the writer thread: the loop
  // keeps serving every other zone's timers meanwhile.
  std::string from = remote_text();
  bool queued = writer_.call<Result<store::Published>>(
      [env = &env_, job_ptr, from, zonemd = spec_->zonemd] {
        return publish(*env, *static_cast<TransferJob *>(job_ptr.get()), from, zonemd);
      },
      [this, alive = alive_, ixfr, end, job_ptr](Result<store::Published> &pub) {
        if (*alive && state_ != State::kStopped) {
          finish_transfer(ixfr, end, job_ptr, pub);
        }
      });
  if (!queued) {
    finish_transfer(ixfr, end, std::move(job_ptr), fail("shutting down"));
  }
}

void ZoneController::finish_transfer(bool ixfr, const ExchangeEnd &end,
                                     std::shared_ptr<void> job_ptr,
                                     const Result<store::Published> &pub) {
  auto *job = static_cast<TransferJob *>(job_ptr.get());
  const char *kind = ixfr ? "IXFR" : "AXFR";
  std::string from = remote_text();
  bool up_to_date =
      !end.status ? false : job->ixfr && job->ixfr->kind() == IxfrClient::Kind::kUpToDate;
  if (job->ixfr && job->ixfr->kind() == IxfrClient::Kind::kFull) {
    kind = "IXFR (AXFR-style)";
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - job->started).count();
  if (up_to_date) {
    zone_log(spdlog::level::info, name_, "IXFR, incoming, remote {}, up to date, serial {}", from,
             stored_ ? *stored_ : 0);
    stats_.up_to_date.fetch_add(1, std::memory_order_relaxed);
    force_axfr_ = false;
    done(true);
    return;
  }
  if (!pub) {
    (ixfr ? stats_.ixfr_failed : stats_.axfr_failed).fetch_add(1, std::memory_order_relaxed);
    zone_log(spdlog::level::warn, name_, "{}, incoming, remote {}, failed: {}", kind, from,
             pub.error());
    stats_.set_error(std::string(kind) + ", remote " + from + ": " + pub.error());
    if (ixfr && !end.network) {
      // RFC 1995 4: a master that cannot serve the increment, or an increment that does not
      // apply, is followed by a full transfer from the same master.
      zone_log(spdlog::level::info, name_, "IXFR, incoming, remote {}, falling back to AXFR", from);
      begin_transfer(false);
      return;
    }
    done(false);
    return;
  }
  (ixfr ? stats_.ixfr_ok : stats_.axfr_ok).fetch_add(1, std::memory_order_relaxed);
  bool substitutes = !spec_->vanity.empty() || (spec_->overlay && !spec_->overlay->empty());
  if ((job->sink && job->sink->vanity_skipped()) || (substitutes && !job->vanity.active())) {
    stats_.substitutions_skipped.fetch_add(1, std::memory_order_relaxed);
  }
  if (job->sink && job->sink->vanity_skipped()) {
    zone_log(spdlog::level::warn, name_,
             "zone is DNSSEC-signed or has a ZONEMD record: the vanity nameserver set is not "
             "applied, nor are managed names (substituted records would fail validation or the "
             "digest); the zone's own records are served, publish the set's NS and addresses on "
             "the master");
  }
  // A full transfer reports the zone's size, an incremental one the size of the change.
  bool incremental = job->ixfr && job->ixfr->kind() == IxfrClient::Kind::kIncremental;
  std::string size = incremental ? std::to_string(job->ixfr->diff().changes()) + " changes"
                                 : std::to_string(pub->records) + " records";
  zone_log(spdlog::level::info, name_,
           "{}, incoming, remote {}, serial {} -> {}, {:.3f} s, {}, {} bytes{}", kind, from,
           stored_ ? std::to_string(*stored_) : "none", pub->serial, secs, size, end.bytes,
           pub->zonemd_verified ? ", ZONEMD verified" : "");
  stored_ = pub->serial;
  stats_.served_serial = pub->serial;
  stats_.has_snapshot = true;
  stats_.last_transfer_ns = unix_now_ns();
  stats_.last_transfer_duration_ns = static_cast<int64_t>(secs * 1e9);
  stats_.last_transfer_bytes = end.bytes;
  stats_.set_error("");
  if (pub->serial == stats_.master_serial) {
    stats_.ahead_since_ns = 0;
  }
  force_axfr_ = false;
  // (Only an IXFR job of a sealed zone has the set turned off; its reply may be AXFR-style.)
  if (substitutes && !job->vanity.active() &&
      pub->dnssec == store::DnssecMode::kUnsigned && !pub->zonemd) {
    // The zone is no longer sealed (seals_apex): only a full transfer brings the master's
    // records the vanity set replaces, so the set is applied again.
    zone_log(spdlog::level::info, name_,
             "zone is no longer signed or digested: transferring it whole to apply the vanity "
             "nameserver set and managed names");
    force_axfr_ = true;
    again_ = true;
  }
  done(true);
}

void ZoneController::done(bool ok) {
  if (state_ == State::kStopped) {
    return;
  }
  set_state(State::kIdle);
  if (holding_) {
    holding_ = false;
    throttle_.release(throttle_key_); // may start another zone's check right away
  }
  if (again_) {
    again_ = false;
    schedule(0);
    return;
  }
  if (ok) {
    failures_ = 0;
    schedule(next_refresh_ms(spec_->refresh_ms, seed_, round_));
  } else {
    ++failures_;
    schedule(next_retry_ms(spec_->retry_ms, spec_->refresh_ms, failures_, seed_));
  }
}

} // namespace holdfast::xfr
