// SPDX-License-Identifier: MIT
// ViewSlot: a view is deleted only once no worker can hold it, under a publishing thread and
// readers entering and leaving as fast as they can (run under ASan to catch a use after free).
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "lb/view_slot.h"
#include "tests/unit/lb/lb_fixture.h"

namespace holdfast::lb {
namespace {

std::shared_ptr<LbConfig> config() {
  auto cfg = std::make_shared<LbConfig>();
  cfg->pools.push_back(
      test::pool("web", {test::addr("a", "192.0.2.1", 2), test::addr("b", "192.0.2.2", 1)}));
  cfg->records.push_back(test::record("www.example.com.", KNOT_RRTYPE_A, "web", Policy::kWeighted));
  return cfg;
}

TEST(LbViewSlot, ReclaimWaitsForAWorkerInsideABatch) {
  auto cfg = config();
  ViewSlot slot(2);
  EXPECT_EQ(slot.enter(0), nullptr); // nothing published yet
  slot.leave(0);
  slot.publish(View::build(cfg, {}, 2));
  const View *first = slot.enter(0);
  ASSERT_NE(first, nullptr);
  slot.publish(View::build(cfg, {}, 2));
  EXPECT_NE(slot.current(), first);
  int deleted = 0;
  slot.reclaim([&](const View &) { ++deleted; });
  EXPECT_EQ(deleted, 0); // worker 0 may still read `first`
  EXPECT_EQ(slot.retired(), 1u);
  const View *second = slot.enter(1); // a worker entering now gets the new view
  EXPECT_EQ(second, slot.current());
  slot.leave(1);
  slot.leave(0);
  slot.reclaim([&](const View &v) {
    EXPECT_EQ(&v, first);
    ++deleted;
  });
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(slot.retired(), 0u);
}

TEST(LbViewSlot, PublisherAndTwoReadersForASecond) {
  auto cfg = config();
  ViewSlot slot(2);
  slot.publish(View::build(cfg, {}, 2));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<uint64_t> reads{0};
  auto reader = [&](unsigned w) {
    Arena arena;
    auto apex = test::wire("example.com.");
    NameKey k = test::key("www.example.com.");
    while (!stop.load(std::memory_order_relaxed)) {
      const View *v = slot.enter(w);
      const View::Name *n = v->find(apex.data(), k);
      if (n == nullptr || v->answer(*n, KNOT_RRTYPE_A, w, arena.mm()).rrs.count != 1) {
        ++bad;
      }
      slot.leave(w);
      arena.reset();
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::thread r0(reader, 0), r1(reader, 1);
  int published = 1, deleted = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < end) {
    std::vector<std::vector<Live>> live{{published % 2 ? Live::kOut : Live::kUp, Live::kUp}};
    slot.publish(View::build(cfg, live, 2));
    ++published;
    slot.reclaim([&](const View &) { ++deleted; });
  }
  stop = true;
  r0.join();
  r1.join();
  slot.reclaim([&](const View &) { ++deleted; });
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(slot.retired(), 0u);
  EXPECT_EQ(deleted, published - 1); // every view but the current one
}

} // namespace
} // namespace holdfast::lb
