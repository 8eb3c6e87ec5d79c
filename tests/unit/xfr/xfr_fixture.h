// SPDX-License-Identifier: MIT
// Shared by the xfr unit tests: a collecting record sink, comparing a published zone with zone
// text; messages come from tests/unit/common/message.h.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "common/tsig.h"
#include "store/writer.h"
#include "tests/unit/common/message.h"
#include "tests/unit/testutil.h"
#include "xfr/sink.h"

namespace holdfast::xfr::testing {

using namespace holdfast::test; // NOLINT: the message helpers are this fixture's vocabulary

// "www.example. 3600 IN A 192.0.2.80" for one record of an RRset.
inline std::string rr_text(const knot_rrset_t &rr) {
  size_t size = 256;
  char *buf = static_cast<char *>(std::malloc(size)); // libknot reallocs it as needed
  std::string out;
  if (knot_rrset_txt_dump(&rr, &buf, &size, &KNOT_DUMP_STYLE_DEFAULT) < 0) {
    ADD_FAILURE() << "knot_rrset_txt_dump";
  } else {
    out = buf;
  }
  std::free(buf);
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

// A sink that keeps every record it is given as text.
class CollectSink final : public RecordSink {
public:
  Status add(const knot_rrset_t &rr) override {
    lines.push_back(rr_text(rr));
    return Ok{};
  }
  std::vector<std::string> lines;
};

// Compares the zone's current snapshot in `env` with `text` published into a scratch store:
// node flags, RRsets, TTLs and rdata must all be equal.
inline void expect_zone(store::Env &env, const std::string &apex, const std::string &text) {
  auto zone = store::read_zone(env, Name(apex));
  ASSERT_TRUE(zone.has_value()) << "zone " << apex << " has no snapshot";
  test::TempDir scratch;
  auto ref_env = test::open_env(scratch.path());
  ASSERT_NE(ref_env, nullptr);
  auto ref = test::publish_records(*ref_env, apex, test::parse_records(apex, text));
  ASSERT_TRUE(ref.ok()) << ref.error();
  EXPECT_EQ(test::dump_snapshot(env, zone->record.current, apex),
            test::dump_snapshot(*ref_env, ref->snapshot, apex));
}

} // namespace holdfast::xfr::testing
