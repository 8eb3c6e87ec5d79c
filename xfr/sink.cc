// SPDX-License-Identifier: MIT
// Vanity nameserver substitution and the snapshot sink (see sink.h).
#include "xfr/sink.h"

#include <netinet/in.h>

#include "common/dname.h"

namespace holdfast::xfr {

Vanity::Vanity(const ZoneSpec &spec)
    : apex_(spec.apex), set_(spec.vanity), overlay_(spec.overlay) {}

bool Vanity::replaces(const knot_dname_t *owner, uint16_t type) const {
  if (overlay_ != nullptr && overlay_->replaces(owner, type)) {
    return true;
  }
  if (set_.empty()) {
    return false;
  }
  if (type == KNOT_RRTYPE_NS) {
    return knot_dname_is_case_equal(owner, apex_.data());
  }
  if (type != KNOT_RRTYPE_A && type != KNOT_RRTYPE_AAAA) {
    return false;
  }
  for (const auto &ns : set_) {
    if (knot_dname_is_case_equal(owner, ns.name.data())) {
      return labels_below(owner, apex_.data()) >= 0;
    }
  }
  return false;
}

Status Vanity::emit(store::SnapshotWriter &writer, uint32_t ttl) const {
  if (overlay_ != nullptr) {
    if (auto st = overlay_->emit(writer); !st) {
      return st;
    }
  }
  for (const auto &ns : set_) {
    auto st = writer.add(apex_.data(), KNOT_RRTYPE_NS, KNOT_CLASS_IN, ttl, ns.name.data(),
                         static_cast<uint16_t>(ns.name.size()));
    if (!st) {
      return st;
    }
    // Addresses are data only for names inside the zone; outside it they would not be glue
    // (RFC 9471) and belong to the zone that holds the name.
    if (labels_below(ns.name.data(), apex_.data()) < 0) {
      continue;
    }
    for (const auto &a : ns.addresses) {
      const auto *sa = reinterpret_cast<const sockaddr *>(&a.addr);
      if (sa->sa_family == AF_INET) {
        const auto &v4 = reinterpret_cast<const sockaddr_in *>(sa)->sin_addr;
        st = writer.add(ns.name.data(), KNOT_RRTYPE_A, KNOT_CLASS_IN, ttl,
                        reinterpret_cast<const uint8_t *>(&v4), 4);
      } else {
        const auto &v6 = reinterpret_cast<const sockaddr_in6 *>(sa)->sin6_addr;
        st = writer.add(ns.name.data(), KNOT_RRTYPE_AAAA, KNOT_CLASS_IN, ttl,
                        reinterpret_cast<const uint8_t *>(&v6), 16);
      }
      if (!st) {
        return st;
      }
    }
  }
  return Ok{};
}

Status SnapshotSink::add(const knot_rrset_t &rr) {
  if (vanity_.active() && !sealed_) {
    sealed_ = seals_apex(rr, vanity_.apex());
  }
  if (vanity_.replaces(rr.owner, rr.type)) {
    if (rr.type == KNOT_RRTYPE_NS) {
      ns_ttl_ = rr.ttl;
    }
    replaced_.keep(rr);
    return Ok{};
  }
  return writer_->add(rr);
}

Result<store::Published> SnapshotSink::publish() {
  if (vanity_.active() && sealed_) {
    vanity_skipped_ = true;
    if (auto st = replaced_.write_back(*writer_); !st) {
      return fail(st.error());
    }
  } else if (vanity_.active()) {
    if (auto st = vanity_.emit(*writer_, ns_ttl_); !st) {
      return fail(st.error());
    }
  }
  return writer_->publish();
}

} // namespace holdfast::xfr
