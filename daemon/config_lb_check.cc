// SPDX-License-Identifier: MIT
// `holdfast check`: the managed records of a primary zone against its zone file, read with
// libzscanner: a DNSSEC-signed zone, a CNAME beside other data, a name below a delegation.
#include <map>
#include <memory>

#include "common/knot.h"

#include "common/dname.h"
#include "daemon/config_util.h"

namespace holdfast::daemon::config_detail {
namespace {

using Wire = std::vector<uint8_t>;

// What the file holds that matters to the managed names: types (with a line) at each managed
// name, the apex's DNSSEC records, and the delegations (NS below the apex).
struct Scan {
  Wire apex;
  std::map<Wire, std::map<uint16_t, uint64_t>> at; // managed name -> type -> first line
  uint16_t signed_type = 0;
  uint64_t signed_line = 0;
  std::vector<std::pair<Wire, uint64_t>> cuts;
};

void on_record(zs_scanner_t *s) {
  auto *sc = static_cast<Scan *>(s->process.data);
  Wire owner(s->r_owner, s->r_owner + s->r_owner_length);
  knot_dname_to_lower(owner.data());
  if (owner == sc->apex && sc->signed_type == 0 &&
      (s->r_type == KNOT_RRTYPE_DNSKEY || s->r_type == KNOT_RRTYPE_RRSIG)) {
    sc->signed_type = s->r_type;
    sc->signed_line = s->line_counter;
  }
  if (owner != sc->apex && s->r_type == KNOT_RRTYPE_NS) {
    sc->cuts.emplace_back(owner, s->line_counter);
  }
  if (auto it = sc->at.find(owner); it != sc->at.end()) {
    it->second.emplace(s->r_type, s->line_counter);
  }
}

void on_error(zs_scanner_t *s) {
  s->state = ZS_STATE_STOP;
} // check_zone_file reports it

bool scan(const std::string &path, Scan &sc) {
  auto release = [](zs_scanner_t *p) {
    zs_deinit(p);
    delete p;
  };
  std::unique_ptr<zs_scanner_t, decltype(release)> s(new zs_scanner_t{}, release);
  std::string origin = name_to_string(sc.apex.data());
  if (zs_init(s.get(), origin.c_str(), KNOT_CLASS_IN, 3600) != 0 ||
      zs_set_input_file(s.get(), path.c_str()) != 0 ||
      zs_set_processing(s.get(), on_record, on_error, &sc) != 0) {
    return false;
  }
  return zs_parse_all(s.get()) == 0 && s->error.counter == 0;
}

std::string type_text(uint16_t type) {
  char buf[32];
  return knot_rrtype_to_string(type, buf, sizeof(buf)) < 0 ? "?" : buf;
}

} // namespace

std::vector<std::string> lb_zone_file_problems(const Config &cfg, const ZoneConfig &z) {
  Scan sc;
  sc.apex = z.apex;
  for (const auto &r : cfg.lb->records) {
    if (r.zone == z.apex) {
      sc.at[r.name];
    }
  }
  std::vector<std::string> out;
  if (sc.at.empty() || !scan(z.file, sc)) {
    return out; // nothing managed here, or a file check_zone_file already reported
  }
  for (const auto &r : cfg.lb->records) {
    if (r.zone != z.apex) {
      continue;
    }
    auto head = cfg.path + ":" + std::to_string(r.line) + ": records[].";
    auto what = r.name_text + " " + type_text(r.type) + ": ";
    auto file_at = [&](uint64_t line) { return z.file + ":" + std::to_string(line); };
    if (sc.signed_type != 0) {
      out.push_back(head + "name: " + what + "zone " + z.domain + " is DNSSEC-signed (" +
                    file_at(sc.signed_line) + " has a " + type_text(sc.signed_type) +
                    " at the apex) and holdfast holds no keys to sign a managed answer");
    }
    for (const auto &[cut, line] : sc.cuts) {
      if (knot_dname_in_bailiwick(r.name.data(), cut.data()) >= 0) {
        out.push_back(head + "name: " + what + "lies at or below the delegation " +
                      name_to_string(cut.data()) + " (" + file_at(line) + ")");
      }
    }
    // RFC 2181 10.1: a CNAME stands alone; the file's own RRset of the managed type is
    // replaced, so only the other types conflict.
    for (const auto &[type, line] : sc.at[r.name]) {
      bool clash =
          r.type == KNOT_RRTYPE_CNAME ? type != KNOT_RRTYPE_CNAME : type == KNOT_RRTYPE_CNAME;
      if (clash) {
        out.push_back(head + "type: " + what + file_at(line) + " has " + type_text(type) +
                      " at this name, and a CNAME cannot share its name with other data (RFC "
                      "2181 10.1)");
      }
    }
  }
  return out;
}

} // namespace holdfast::daemon::config_detail
