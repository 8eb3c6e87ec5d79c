// SPDX-License-Identifier: MIT
// The single writer thread and the read gate: readers are counted (any number), a resize waits
// for every one of them, only the writer thread writes or grows the map.
#include "store/writer_thread.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "store/reader.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using namespace std::chrono_literals;
using test::Name;
using test::Record;
using test::TempDir;

// A zone of `n` A records (serial `serial`) whose names are a0..a{n-1}.
std::vector<Record> zone_of(uint32_t serial, size_t n) {
  std::string text = "@ 3600 SOA ns.example. admin.example. " + std::to_string(serial) +
                     " 7200 3600 1209600 300\n@ NS ns.example.\nns A 192.0.2.53\n";
  for (size_t i = 0; i < n; ++i) {
    text += "a" + std::to_string(i) + " A 192.0.2." + std::to_string(i % 250) + "\n";
  }
  return test::parse_records("example.", text);
}

TEST(StoreReadGate, CountsMoreThan256ReadersAndResizeWaitsForEveryOne) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  std::vector<std::unique_ptr<ReadTxn>> txns;
  for (int i = 0; i < 300; ++i) {
    txns.push_back(std::make_unique<ReadTxn>(*env));
    ASSERT_TRUE(txns.back()->begin());
  }
  EXPECT_EQ(env->active_readers(), 300);
  std::atomic<bool> grown{false};
  std::thread resizer([&] {
    EXPECT_TRUE(env->grow().ok());
    grown = true;
  });
  // Every reader but the last leaves: the resize must still wait (per-slot flags shared past
  // slot 256 would let it through here).
  for (int i = 0; i < 299; ++i) {
    txns[i]->end();
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(grown.load());
  EXPECT_EQ(env->active_readers(), 1);
  txns.clear(); // destroying an active ReadTxn leaves the gate
  resizer.join();
  EXPECT_TRUE(grown.load());
  EXPECT_EQ(env->active_readers(), 0);
  EXPECT_EQ(env->resizes(), 1u);
}

TEST(StoreReadGate, ReadTxnsComeAndGoWithoutLeaking) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  // More than LMDB's reader table (1024) and the old 256 slots: each one is released.
  for (int i = 0; i < 3000; ++i) {
    ReadTxn txn(*env);
    ASSERT_TRUE(txn.begin()) << i;
    EXPECT_FALSE(list_zones(*env, txn.get()).size() > 0);
  }
  EXPECT_EQ(env->active_readers(), 0);
  EXPECT_TRUE(env->grow().ok());
}

TEST(WriterThread, OnlyTheWriterThreadWritesOrGrowsTheMap) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  WriterThread writer(*env, nullptr);
  EXPECT_FALSE(env->begin_write().ok());
  EXPECT_FALSE(env->grow().ok());
  EXPECT_FALSE(env->may_write());
  std::promise<std::string> published;
  writer.submit([&] {
    auto p = test::publish_records(*env, "example.", zone_of(7, 10));
    published.set_value(p ? "" : p.error());
  });
  EXPECT_EQ(published.get_future().get(), "");
  auto z = read_zone(*env, Name("example."));
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->record.serial, 7u);
  writer.stop();
  EXPECT_TRUE(env->may_write()); // the rule ends with the thread
}

TEST(WriterThread, CompletionsAreHandedToTheCompleteFunction) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WriterThread::Task> handed;
  WriterThread writer(*env, [&](WriterThread::Task t) {
    std::lock_guard lock(mu);
    handed.push_back(std::move(t));
    cv.notify_one();
  });
  std::thread::id work_thread, done_thread;
  int value = 0;
  ASSERT_TRUE(writer.call<int>(
      [&] {
        work_thread = std::this_thread::get_id();
        return 42;
      },
      [&](int &v) {
        done_thread = std::this_thread::get_id();
        value = v;
      }));
  std::vector<WriterThread::Task> tasks;
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !handed.empty(); });
    tasks.swap(handed);
  }
  EXPECT_EQ(value, 0); // not yet: `done` runs where the complete function sends it
  for (auto &t : tasks) {
    t();
  }
  EXPECT_EQ(value, 42);
  EXPECT_NE(work_thread, std::this_thread::get_id());
  EXPECT_EQ(done_thread, std::this_thread::get_id());
}

TEST(WriterThread, StopFinishesTheRunningJobAndDropsTheQueuedOnes) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  WriterThread writer(*env, nullptr);
  std::promise<void> started;
  std::atomic<bool> release{false}, first_done{false}, second_ran{false};
  writer.submit([&] {
    started.set_value();
    while (!release) {
      std::this_thread::sleep_for(1ms);
    }
    first_done = true;
  });
  writer.submit([&] { second_ran = true; });
  started.get_future().wait();
  EXPECT_EQ(writer.backlog(), 2u);
  std::thread stopper([&] { writer.stop(); });
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(writer.stopping().load());
  release = true;
  stopper.join();
  EXPECT_TRUE(first_done.load());
  EXPECT_FALSE(second_ran.load());
  EXPECT_FALSE(writer.submit([] {}));
}

TEST(WriterThread, GrowingTheMapWhileHoldingAReadFailsInsteadOfDeadlocking) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  WriterThread writer(*env, nullptr);
  std::promise<std::pair<bool, bool>> out;
  writer.submit([&] {
    bool inside;
    {
      ReadTxn txn(*env);
      EXPECT_TRUE(txn.begin());
      inside = env->grow().ok();
    }
    out.set_value({inside, env->grow().ok()});
  });
  auto [inside, after] = out.get_future().get();
  EXPECT_FALSE(inside);
  EXPECT_TRUE(after);
}

// A transfer's double buffering: batches taken out while staging goes on are written in order
// and merge with what is staged later (an RRset split across batches included).
TEST(SnapshotWriterBatches, TakenBatchesAndLaterRecordsMakeOneSnapshot) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  SourceInfo src;
  src.kind = SourceKind::kTransfer;
  auto w = SnapshotWriter::begin(*env, Name("example."), src);
  ASSERT_TRUE(w.ok());
  (*w)->set_auto_flush(false);
  (*w)->set_flush_bytes(256);
  auto records = zone_of(5, 300);
  auto extra = test::parse_records("example.", "a1 A 198.51.100.1\n");
  records.insert(records.end(), extra.begin(), extra.end()); // joins a1's RRset of batch 1
  std::vector<StagedBatch> batches;
  for (const auto &r : records) {
    ASSERT_TRUE((*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                          static_cast<uint16_t>(r.rdata.size()))
                    .ok());
    if ((*w)->flush_due()) {
      batches.push_back((*w)->take_staged());
      EXPECT_FALSE((*w)->flush_due());
    }
  }
  ASSERT_GT(batches.size(), 3u);
  for (auto &b : batches) {
    ASSERT_TRUE((*w)->flush(b).ok());
  }
  auto p = (*w)->publish();
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->records, records.size());
  auto dump = test::dump_snapshot(*env, p->snapshot, "example.");
  EXPECT_NE(dump["a1.example."].find("c6336401"), std::string::npos) << dump["a1.example."];
  EXPECT_NE(dump["a299.example."], "");
}

TEST(SnapshotWriterBatches, AFailedBatchFailsThePublish) {
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto w = SnapshotWriter::begin(*env, Name("example."), SourceInfo{});
  ASSERT_TRUE(w.ok());
  (*w)->set_auto_flush(false);
  for (const auto &r : zone_of(5, 10)) {
    ASSERT_TRUE((*w)->add(r.owner.data(), r.type, r.rclass, r.ttl, r.rdata.data(),
                          static_cast<uint16_t>(r.rdata.size()))
                    .ok());
  }
  auto batch = (*w)->take_staged();
  {
    WriterThread writer(*env, nullptr); // this thread may not write while it runs
    EXPECT_FALSE((*w)->flush(batch).ok());
  }
  auto p = (*w)->publish();
  EXPECT_FALSE(p.ok());
  EXPECT_FALSE(read_zone(*env, Name("example.")).has_value());
}

// Readers on several threads keep reading consistent zones while the writer publishes ever
// bigger versions into a map that starts at 1 MiB and grows many times.
TEST(WriterThread, ReadersStayCorrectWhileTheMapGrowsManyTimes) {
  TempDir dir;
  auto env = test::open_env(dir.path(), size_t{1} << 20);
  ASSERT_NE(env, nullptr);
  size_t map_before = env->map_size();
  WriterThread writer(*env, nullptr);
  std::promise<void> first;
  writer.submit([&] {
    EXPECT_TRUE(test::publish_records(*env, "example.", zone_of(1, 1)).ok());
    first.set_value();
  });
  first.get_future().wait();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      ReadTxn txn(*env);
      Reader reader(txn);
      while (!stop) {
        if (!txn.begin()) {
          ++wrong;
          continue;
        }
        ZoneHandle zone;
        NodeView node;
        // Version `serial` holds a0 .. a{serial*2000-1}: its last name must be there.
        bool ok = reader.find_zone(Name("example."), zone);
        if (ok && zone.record.serial > 1) {
          std::string last = "a" + std::to_string(zone.record.serial * 2000 - 1) + ".example.";
          ok = reader.get(zone, test::key_of(last, "example."), node) &&
               zone.record.records == zone.record.serial * 2000 + 3;
        }
        wrong += ok ? 0 : 1;
        txn.end();
        ++reads;
      }
    });
  }
  std::promise<void> all;
  for (uint32_t serial = 2; serial <= 12; ++serial) {
    writer.submit([&, serial] {
      auto p = test::publish_records(*env, "example.", zone_of(serial, serial * 2000), 64 << 10);
      EXPECT_TRUE(p.ok()) << (p ? "" : p.error());
      if (serial % 2 == 0) {
        EXPECT_TRUE(env->grow().ok()); // more resizes than the data alone would need
      }
    });
  }
  writer.submit([&] { all.set_value(); });
  all.get_future().wait();
  stop = true;
  for (auto &t : readers) {
    t.join();
  }
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GE(env->resizes(), 6u);
  EXPECT_GT(env->map_size(), map_before);
  EXPECT_GT(env->used_bytes(), size_t{1} << 20);
}

} // namespace
} // namespace holdfast::store
