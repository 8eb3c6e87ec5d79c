// SPDX-License-Identifier: MIT
// NOTIFY checks and answers (see notify_rx.h).
#include "xfr/notify_rx.h"

#include "common/dname.h"
#include "common/log.h"
#include "xfr/request.h"

namespace holdfast::xfr {

NotifyRx::NotifyRx(const std::vector<std::shared_ptr<const ZoneSpec>> &zones, EventQueue &queue)
    : queue_(queue) {
  reconfigure(zones);
}

void NotifyRx::reconfigure(const std::vector<std::shared_ptr<const ZoneSpec>> &zones) {
  auto old = table_.load();
  auto t = std::make_shared<Table>();
  for (const auto &z : zones) {
    t->zones.emplace(z->apex, z);
    // A zone that stays keeps its counters (they are monotonic for Prometheus).
    std::shared_ptr<ZoneNotifies> c;
    if (old) {
      if (auto it = old->counters.find(z->apex); it != old->counters.end()) {
        c = it->second;
      }
    }
    t->counters.emplace(z->apex, c ? c : std::make_shared<ZoneNotifies>());
  }
  table_.store(std::move(t));
}

const Master *NotifyRx::authorize(const ZoneSpec &zone, const knot_pkt_t *query,
                                  const sockaddr *remote, uint16_t &rcode, uint16_t &tsig_rcode,
                                  std::string &why) const {
  why = "not a master of the zone";
  rcode = KNOT_RCODE_REFUSED;
  for (const auto &m : zone.masters) {
    for (const auto &a : m->addresses) {
      if (!same_ip(reinterpret_cast<const sockaddr *>(&a.addr), remote)) {
        continue;
      }
      if (!m->key && query->tsig_rr != nullptr) {
        // RFC 8945 5.2: a key we do not have cannot be checked (BADKEY).
        why = "signed with a TSIG key this master has not got";
        rcode = KNOT_RCODE_NOTAUTH;
        tsig_rcode = KNOT_RCODE_BADKEY;
        continue;
      }
      if (!m->key) {
        return m.get();
      }
      // RFC 8945 5.2: a request that fails TSIG is answered NOTAUTH with the TSIG error.
      auto st = tsig_server_check(query, *m->key, tsig_rcode);
      if (st) {
        return m.get();
      }
      why = st.error();
      rcode = KNOT_RCODE_NOTAUTH;
    }
  }
  return nullptr;
}

// One NOTIFY line, unless its source logged one less than an interval ago (log_limit.h); the
// line then says how many were not logged. The counters above count every one.
void NotifyRx::log_notify(bool refused, uint64_t key, const std::vector<uint8_t> &apex,
                          const sockaddr *remote, std::optional<uint32_t> serial,
                          const std::string &outcome) {
  LogLimiter &limiter = refused ? refused_log_ : accepted_log_;
  auto level = refused ? spdlog::level::warn : spdlog::level::info;
  if (!spdlog::should_log(level)) {
    return;
  }
  auto d = limiter.allow(key);
  if (!d.log) {
    return;
  }
  std::string more;
  if (d.suppressed > 0) {
    more = fmt::format(" ({} similar NOTIFY line(s) from this source not logged in the last {} s)",
                       d.suppressed, limiter.interval_ns() / 1'000'000'000);
  }
  zone_log(level, name_to_string(apex.data()), "NOTIFY, incoming, remote {}, serial {}, {}{}",
           format_address(remote), serial ? std::to_string(*serial) : "none", outcome, more);
}

size_t NotifyRx::answer(const knot_pkt_t *query, const sockaddr *remote, knot_pkt_t *resp) {
  counters_.received.fetch_add(1, std::memory_order_relaxed);
  std::vector<uint8_t> apex(knot_pkt_qname(query),
                            knot_pkt_qname(query) + knot_dname_size(knot_pkt_qname(query)));
  knot_dname_to_lower(apex.data());
  auto table = table_.load();
  const auto &zones = table->zones;
  auto it = zones.find(apex);
  uint16_t rcode = KNOT_RCODE_NOERROR, tsig_rcode = 0;
  std::string why;
  const Master *master = nullptr;
  // Not a zone we are a secondary for: NOTAUTH without AA, as Knot DNS answers (whatever the
  // QTYPE), so that serving a zone as a primary answers the same as before any reload.
  if (it == zones.end()) {
    rcode = KNOT_RCODE_NOTAUTH;
    why = "not a secondary zone here";
  } else if (knot_pkt_qtype(query) != KNOT_RRTYPE_SOA) {
    rcode = KNOT_RCODE_FORMERR; // RFC 1996 3.7: QTYPE SOA
    why = "QTYPE is not SOA";
  } else {
    master = authorize(*it->second, query, remote, rcode, tsig_rcode, why);
    if (master != nullptr) {
      rcode = KNOT_RCODE_NOERROR;
    }
  }
  std::optional<uint32_t> serial;
  const knot_pktsection_t *answer = knot_pkt_section(query, KNOT_ANSWER);
  for (uint16_t i = 0; i < answer->count; ++i) {
    const knot_rrset_t *rr = knot_pkt_rr(answer, i);
    if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count == 1) {
      serial = soa_serial(*rr);
    }
  }
  ZoneNotifies *zc = it != zones.end() ? table->counters.at(apex).get() : nullptr;
  if (master == nullptr) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    if (zc != nullptr) {
      zc->refused.fetch_add(1, std::memory_order_relaxed);
    }
    // Per source only: a spoofed flood names any zone it likes.
    log_notify(true, LogLimiter::key_of(remote), apex, remote, serial, "refused: " + why);
  } else {
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    zc->accepted.fetch_add(1, std::memory_order_relaxed);
    // Per source, zone and serial: every NOTIFY of a master's new versions is logged, its
    // retries (and a flood replaying one) are not.
    std::string zone_key(apex.begin(), apex.end());
    uint32_t serial_key = serial.value_or(0);
    zone_key.append(reinterpret_cast<const char *>(&serial_key), sizeof(serial_key));
    log_notify(false, LogLimiter::key_of(remote, zone_key), apex, remote, serial, "accepted");
    queue_.push(ZoneEvent{ZoneEvent::Kind::kNotify, apex, serial});
  }
  if (it != zones.end()) {
    knot_wire_set_aa(resp->wire); // authoritative for the zone named
  }
  knot_wire_set_rcode(resp->wire, static_cast<uint8_t>(rcode));
  // Sign with the master's key; a TSIG failure gets the unsigned error TSIG (RFC 8945 5.3.2).
  const TsigKey *key = master != nullptr ? master->key.get() : nullptr;
  if (key == nullptr && tsig_rcode != 0 && it != zones.end()) {
    for (const auto &m : it->second->masters) {
      if (m->key) {
        key = m->key.get();
        break;
      }
    }
  }
  size_t len = resp->size;
  if (key != nullptr && query->tsig_rr != nullptr) {
    (void)tsig_server_sign(resp->wire, len, resp->max_size, query, *key, tsig_rcode);
  }
  return len;
}

} // namespace holdfast::xfr
