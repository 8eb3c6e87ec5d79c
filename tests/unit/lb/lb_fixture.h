// SPDX-License-Identifier: MIT
// Builders of traffic-management configs in C++ (no YAML) and answer decoding for lb tests.
#pragma once

#include <arpa/inet.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/arena.h"
#include "common/dname.h"
#include "common/endpoint.h"
#include "common/knot.h"
#include "lb/spec.h"
#include "lb/view.h"

namespace holdfast::lb::test {

inline std::vector<uint8_t> wire(const std::string &name) {
  uint8_t buf[KNOT_DNAME_MAXLEN];
  EXPECT_NE(knot_dname_from_str(buf, name.c_str(), sizeof buf), nullptr) << name;
  knot_dname_to_lower(buf);
  return {buf, buf + knot_dname_size(buf)};
}

inline Endpoint ep(const std::string &text) {
  auto r = parse_endpoint(text, 0);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Endpoint{};
}

inline MemberSpec addr(const std::string &id, const std::string &address, uint32_t weight = 1,
                       unsigned tier = 1) {
  MemberSpec m;
  m.id = id;
  m.address = ep(address);
  m.weight = weight;
  m.tier = tier;
  return m;
}

inline MemberSpec cname(const std::string &id, const std::string &target, uint32_t weight = 1) {
  MemberSpec m;
  m.id = id;
  m.cname = wire(target);
  m.weight = weight;
  return m;
}

inline MemberSpec srv(const std::string &id, const std::string &target, uint16_t port,
                      unsigned tier, uint32_t weight = 0) {
  MemberSpec m;
  m.id = id;
  m.target = wire(target);
  m.port = port;
  m.tier = tier;
  m.weight = weight;
  return m;
}

inline PoolSpec pool(const std::string &id, std::vector<MemberSpec> members,
                     const std::string &check = "") {
  PoolSpec p;
  p.id = id;
  p.check = check;
  p.members = std::move(members);
  return p;
}

inline RecordSpec record(const std::string &name, uint16_t type, const std::string &pool_id,
                         Policy policy, const std::string &zone = "example.com.") {
  RecordSpec r;
  r.name_text = name;
  r.name = wire(name);
  r.zone = wire(zone);
  r.type = type;
  r.pool = pool_id;
  r.policy = policy;
  r.count = policy == Policy::kRoundRobin ? 8 : 1;
  return r;
}

inline CheckSpec check(const std::string &id, unsigned rise = 2, unsigned fall = 3) {
  CheckSpec c;
  c.id = id;
  c.rise = rise;
  c.fall = fall;
  return c;
}

inline NameKey key(const std::string &name, const std::string &zone = "example.com.") {
  NameKey k;
  auto n = wire(name);
  auto z = wire(zone);
  EXPECT_TRUE(make_key(n.data(), z.data(), k)) << name;
  return k;
}

// The rdata of an answer as text: "192.0.2.1", "2001:db8::3", "edge.cdn.example.",
// "1 0 5060 sip1.example.com." (SRV).
inline std::vector<std::string> texts(const Answer &a) {
  std::vector<std::string> out;
  knot_rdata_t *rd = a.rrs.rdata;
  for (uint16_t i = 0; i < a.rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.type == KNOT_RRTYPE_A || a.type == KNOT_RRTYPE_AAAA) {
      inet_ntop(a.type == KNOT_RRTYPE_A ? AF_INET : AF_INET6, rd->data, buf, sizeof buf);
      out.emplace_back(buf);
    } else if (a.type == KNOT_RRTYPE_CNAME) {
      out.push_back(name_to_string(rd->data));
    } else if (a.type == KNOT_RRTYPE_SRV) {
      out.push_back(std::to_string(knot_wire_read_u16(rd->data)) + " " +
                    std::to_string(knot_wire_read_u16(rd->data + 2)) + " " +
                    std::to_string(knot_wire_read_u16(rd->data + 4)) + " " +
                    name_to_string(rd->data + 6));
    }
  }
  return out;
}

// Asks `v` for (name, qtype) as worker `worker` and returns the rdata texts ("" on a miss).
inline std::vector<std::string> ask(const View &v, const std::string &name, uint16_t qtype,
                                    unsigned worker = 0, Pick *pick = nullptr,
                                    const std::string &zone = "example.com.") {
  Arena arena;
  auto apex = wire(zone);
  const View::Name *n = v.find(apex.data(), key(name, zone));
  if (n == nullptr) {
    return {"<miss>"};
  }
  Answer a = v.answer(*n, qtype, worker, arena.mm());
  if (pick != nullptr) {
    *pick = a.pick;
  }
  return texts(a);
}

} // namespace holdfast::lb::test
