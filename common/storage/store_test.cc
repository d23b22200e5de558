#include "common/storage/store.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/testing.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"

namespace htx::storage {
namespace {

using ::htx::testing::StatusIs;
using ::htx::testing::StatusIsWithReason;
using ::htx::testing::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  StoreOptions options;
  options.path = path;
  options.column_families = {"things"};
  auto store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

WriteRequest PutRequest(Store& store, std::string key, std::string value) {
  WriteRequest request;
  request.mutate = [&store, key, value](Txn& txn) {
    txn.Put(store.family("things"), key, value);
    txn.RecordChange(key, type::v1::CHANGE_KIND_CREATED, nullptr);
    return absl::OkStatus();
  };
  return request;
}

TEST(StoreTest, WriteIsReadableAndSurvivesReopen) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    HTX_ASSERT_OK(store->Write(PutRequest(*store, "a", "1")));
    auto value = store->Get(store->family("things"), "a");
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value->value_or(""), "1");
  }
  auto store = OpenStore(dir.path());
  auto value = store->Get(store->family("things"), "a");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(""), "1");
  EXPECT_EQ(store->last_sequence(), 1u);
}

TEST(StoreTest, FailedMutationWritesNothingAndTakesNoSequence) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  WriteRequest failing;
  failing.mutate = [&](Txn& txn) {
    txn.Put(store->family("things"), "b", "x");
    txn.RecordChange("b", type::v1::CHANGE_KIND_CREATED, nullptr);
    return absl::FailedPreconditionError("no");
  };
  EXPECT_THAT(store->Write(std::move(failing)), StatusIs(absl::StatusCode::kFailedPrecondition));
  auto value = store->Get(store->family("things"), "b");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
  HTX_ASSERT_OK(store->Write(PutRequest(*store, "c", "3")));
  auto changes = store->ListChanges(0, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].sequence(), 1u);
  EXPECT_EQ((*changes)[0].resource(), "c");
}

TEST(StoreTest, MutationSeesEarlierWritesOfItsGroup) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  // Many concurrent increments of one counter: each read-modify-write must
  // see the one before it, whether or not they share a group.
  constexpr int kWriters = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        WriteRequest increment;
        increment.mutate = [&](Txn& txn) {
          auto current = txn.Get(store->family("things"), "counter");
          if (!current.ok()) return current.status();
          int value = current->has_value() ? std::stoi(**current) : 0;
          txn.Put(store->family("things"), "counter", std::to_string(value + 1));
          return absl::OkStatus();
        };
        EXPECT_TRUE(store->Write(std::move(increment)).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto value = store->Get(store->family("things"), "counter");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(""), std::to_string(kWriters * kEach));
}

TEST(StoreTest, RequestIdReplaysFirstResponseAndRejectsOtherRequest) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  int runs = 0;
  auto make = [&](uint64_t digest, google::protobuf::Int64Value* response) {
    WriteRequest request;
    request.request_id = "Method/abc";
    request.request_digest = digest;
    request.response = response;
    request.mutate = [&runs, response](Txn&) {
      response->set_value(++runs);
      return absl::OkStatus();
    };
    return request;
  };
  google::protobuf::Int64Value first, second, third;
  bool replayed = true;
  HTX_ASSERT_OK(store->Write(make(7, &first), &replayed));
  EXPECT_FALSE(replayed);
  HTX_ASSERT_OK(store->Write(make(7, &second), &replayed));
  EXPECT_TRUE(replayed);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(second.value(), first.value());
  EXPECT_THAT(store->Write(make(8, &third)),
              StatusIsWithReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_EQ(runs, 1);
}

TEST(StoreTest, ScanHonoursPrefixAndStartAfter) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (const char* key : {"p/1", "p/2", "p/3", "q/1"}) {
    HTX_ASSERT_OK(store->Write(PutRequest(*store, key, "v")));
  }
  std::vector<std::string> seen;
  HTX_ASSERT_OK(store->Scan(store->family("things"), "p/", "p/1",
                            [&](absl::string_view key, absl::string_view) {
                              seen.emplace_back(key);
                              return true;
                            }));
  EXPECT_EQ(seen, (std::vector<std::string>{"p/2", "p/3"}));
}

TEST(StoreTest, ChangesArePagedInSequenceOrder) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int i = 0; i < 5; ++i) {
    HTX_ASSERT_OK(store->Write(PutRequest(*store, "k" + std::to_string(i), "v")));
  }
  auto page = store->ListChanges(2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].sequence(), 3u);
  EXPECT_EQ((*page)[1].sequence(), 4u);
  EXPECT_EQ(store->last_sequence(), 5u);
}

TEST(StoreTest, QueuedWritesCompleteWhenTheStoreCloses) {
  TempDir dir;
  std::atomic<int> acknowledged{0};
  {
    auto store = OpenStore(dir.path());
    for (int i = 0; i < 200; ++i) {
      WriteRequest request = PutRequest(*store, "k" + std::to_string(i), "v");
      request.done = [&](absl::Status status, bool) {
        if (status.ok()) acknowledged++;
      };
      store->Submit(std::move(request));
    }
  }
  EXPECT_EQ(acknowledged.load(), 200);
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->last_sequence(), 200u);
}

TEST(StoreTest, ScanInAMutationMergesTheGroupsWritesWithTheStore) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (const char* key : {"p/1", "p/3", "p/5", "q/1"}) {
    HTX_ASSERT_OK(store->Write(PutRequest(*store, key, "stored")));
  }
  std::vector<std::string> seen;
  WriteRequest request;
  request.mutate = [&](Txn& txn) {
    const Family things = store->family("things");
    txn.Put(things, "p/2", "new");
    txn.Put(things, "p/3", "replaced");
    txn.Delete(things, "p/5");
    txn.Put(things, "p/6", "gone");
    txn.Delete(things, "p/6");
    txn.Put(things, "q/0", "new");
    return txn.Scan(things, "p/", [&](absl::string_view key, absl::string_view value) {
      seen.push_back(absl::StrCat(key, "=", value));
      return true;
    });
  };
  HTX_ASSERT_OK(store->Write(std::move(request)));
  EXPECT_EQ(seen, (std::vector<std::string>{"p/1=stored", "p/2=new", "p/3=replaced"}));
  auto value = store->Get(store->family("things"), "p/5");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
}

TEST(StoreTest, PartsOfAMutationFailReplayAndRollBackOnTheirOwn) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const Family things = store->family("things");
  auto put = [&](std::string key) {
    return [things, key](Txn& txn) {
      txn.Put(things, key, "v");
      txn.RecordChange(key, type::v1::CHANGE_KIND_CREATED, nullptr);
      return absl::OkStatus();
    };
  };
  google::protobuf::Int64Value first, again, other;
  first.set_value(42);
  std::vector<absl::Status> outcomes;
  std::vector<bool> replays;
  WriteRequest request;
  request.mutate = [&](Txn& txn) {
    auto run = [&](absl::string_view id, uint64_t digest, google::protobuf::Message* response,
                   const std::function<absl::Status(Txn&)>& mutate) {
      bool replayed = true;
      outcomes.push_back(txn.RunPart(id, digest, response, mutate, &replayed));
      replays.push_back(replayed);
    };
    run("Rows/a", 1, &first, put("a"));
    // A failing part takes back its writes and sequence, and nothing else.
    run("Rows/b", 2, nullptr, [&](Txn& txn) {
      txn.Put(things, "b", "v");
      txn.RecordChange("b", type::v1::CHANGE_KIND_CREATED, nullptr);
      return absl::FailedPreconditionError("no");
    });
    run("Rows/a", 1, &again, put("a2"));  // a replay, within the group
    run("Rows/a", 9, &other, put("a3"));  // the same id for something else
    // A part inside a part is undone with it.
    run("", 0, nullptr, [&](Txn& txn) {
      bool replayed = false;
      HTX_EXPECT_OK(txn.RunPart("Rows/c", 3, nullptr, put("c"), &replayed));
      return absl::AbortedError("undo c too");
    });
    run("Rows/d", 4, nullptr, put("d"));
    return absl::OkStatus();
  };
  HTX_ASSERT_OK(store->Write(std::move(request)));
  ASSERT_EQ(outcomes.size(), 6u);
  HTX_EXPECT_OK(outcomes[0]);
  EXPECT_FALSE(replays[0]);
  EXPECT_THAT(outcomes[1], StatusIs(absl::StatusCode::kFailedPrecondition));
  HTX_EXPECT_OK(outcomes[2]);
  EXPECT_TRUE(replays[2]);
  EXPECT_EQ(again.value(), 42);
  EXPECT_THAT(outcomes[3],
              StatusIsWithReason(absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_FALSE(replays[3]);
  EXPECT_THAT(outcomes[4], StatusIs(absl::StatusCode::kAborted));
  HTX_EXPECT_OK(outcomes[5]);

  for (const char* key : {"a", "d"}) {
    auto value = store->Get(things, key);
    ASSERT_TRUE(value.ok());
    EXPECT_TRUE(value->has_value()) << key;
  }
  for (const char* key : {"b", "a2", "a3", "c"}) {
    auto value = store->Get(things, key);
    ASSERT_TRUE(value.ok());
    EXPECT_FALSE(value->has_value()) << key;
  }
  auto changes = store->ListChanges(0, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].sequence(), 1u);
  EXPECT_EQ((*changes)[0].resource(), "a");
  EXPECT_EQ((*changes)[0].request_id(), "Rows/a");
  EXPECT_EQ((*changes)[1].sequence(), 2u);
  EXPECT_EQ((*changes)[1].resource(), "d");
  EXPECT_EQ((*changes)[1].request_id(), "Rows/d");

  // The parts' idempotency records are a write request's: a later request
  // with the same id replays the part's response.
  google::protobuf::Int64Value later;
  WriteRequest replay;
  replay.request_id = "Rows/a";
  replay.request_digest = 1;
  replay.response = &later;
  replay.mutate = put("never");
  bool replayed = false;
  HTX_ASSERT_OK(store->Write(std::move(replay), &replayed));
  EXPECT_TRUE(replayed);
  EXPECT_EQ(later.value(), 42);
}

// Changes are encoded by hand: they must read back as the message protobuf
// itself would have written.
TEST(StoreTest, ARecordedChangeIsTheMessageProtobufWouldWrite) {
  TempDir dir;
  StoreOptions options;
  options.path = dir.path();
  options.column_families = {"things"};
  const absl::Time now = absl::FromUnixNanos(1795425600123456789);
  options.clock = [now] { return now; };
  auto opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Store> store = *std::move(opened);
  google::protobuf::Int64Value after;
  after.set_value(2026);
  WriteRequest request;
  request.request_id = "Things/r-1";
  request.mutate = [&](Txn& txn) {
    txn.RecordChange("things/a", type::v1::CHANGE_KIND_UPDATED, &after);
    txn.RecordChange("things/b", type::v1::CHANGE_KIND_DELETED, nullptr);
    return absl::OkStatus();
  };
  HTX_ASSERT_OK(store->Write(std::move(request)));
  auto changes = store->ListChanges(0, 10);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2u);

  type::v1::Change expected;
  expected.set_sequence(1);
  expected.mutable_commit_time()->set_seconds(1795425600);
  expected.mutable_commit_time()->set_nanos(123456789);
  expected.set_resource("things/a");
  expected.set_kind(type::v1::CHANGE_KIND_UPDATED);
  expected.mutable_resource_after()->PackFrom(after);
  expected.set_request_id("Things/r-1");
  EXPECT_EQ((*changes)[0].SerializeAsString(), expected.SerializeAsString())
      << (*changes)[0].DebugString();
  expected.set_sequence(2);
  expected.set_resource("things/b");
  expected.set_kind(type::v1::CHANGE_KIND_DELETED);
  expected.clear_resource_after();
  EXPECT_EQ((*changes)[1].SerializeAsString(), expected.SerializeAsString())
      << (*changes)[1].DebugString();
}

// Many writes in flight: each group runs while the one before it is still
// being committed, so each mutation must see every earlier one's writes.
TEST(StoreTest, EveryMutationSeesTheWritesOfTheGroupStillBeingCommitted) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const Family things = store->family("things");
  constexpr int kWrites = 2000;
  std::atomic<int> wrong{0}, acknowledged{0};
  for (int i = 0; i < kWrites; ++i) {
    WriteRequest request;
    request.mutate = [&, i](Txn& txn) {
      // The counter, read through Get, and the keys so far, through Scan.
      auto counter = txn.Get(things, "counter");
      if (!counter.ok()) return counter.status();
      const int before = counter->has_value() ? std::stoi(**counter) : 0;
      int keys = 0;
      absl::Status scanned = txn.Scan(things, "k/", [&](absl::string_view, absl::string_view) {
        ++keys;
        return true;
      });
      if (!scanned.ok()) return scanned;
      if (before != i || keys != i) wrong++;
      txn.Put(things, "counter", std::to_string(before + 1));
      txn.Put(things, absl::StrCat("k/", 100000 + i), "v");
      txn.RecordChange("counter", type::v1::CHANGE_KIND_UPDATED, nullptr);
      return absl::OkStatus();
    };
    request.done = [&](absl::Status status, bool) {
      if (status.ok()) acknowledged++;
    };
    store->Submit(std::move(request));
  }
  store.reset();  // drains the queue
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(acknowledged.load(), kWrites);
  store = OpenStore(dir.path());
  auto counter = store->Get(store->family("things"), "counter");
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(counter->value_or(""), std::to_string(kWrites));
  EXPECT_EQ(store->last_sequence(), static_cast<uint64_t>(kWrites));
}

// A group run against the writes of a group whose commit then fails read
// something that never became durable: it fails too, and nothing of either
// is kept or acknowledged.
TEST(StoreTest, AFailedCommitFailsTheGroupRunAgainstIt) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  int commits = 0;
  bool release = false;
  StoreOptions options;
  options.path = dir.path();
  options.column_families = {"things"};
  // The first commit waits for the test, then fails like a full disk.
  options.before_commit = [&]() -> absl::Status {
    std::unique_lock<std::mutex> lock(mu);
    if (++commits > 1) return absl::OkStatus();
    cv.wait(lock, [&] { return release; });
    return absl::ResourceExhaustedError("disk full");
  };
  auto opened = Store::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Store> store = *std::move(opened);
  const Family things = store->family("things");

  std::promise<absl::Status> first_done, second_done;
  WriteRequest first = PutRequest(*store, "a", "1");
  first.done = [&](absl::Status status, bool) { first_done.set_value(status); };
  store->Submit(std::move(first));
  // Queued once "a" is with the committer: it reads "a" from there.
  while (true) {
    std::lock_guard<std::mutex> lock(mu);
    if (commits == 1) break;
    std::this_thread::yield();
  }
  bool saw_a = false;
  WriteRequest second;
  second.mutate = [&](Txn& txn) {
    auto a = txn.Get(things, "a");
    if (!a.ok()) return a.status();
    saw_a = a->has_value();
    txn.Put(things, "b", "2");
    txn.RecordChange("b", type::v1::CHANGE_KIND_CREATED, nullptr);
    return absl::OkStatus();
  };
  second.done = [&](absl::Status status, bool) { second_done.set_value(status); };
  store->Submit(std::move(second));
  // Whenever the writer takes it, it runs against the first group's writes:
  // it keeps them until it has seen that commit's outcome.
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_THAT(first_done.get_future().get(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(second_done.get_future().get(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(saw_a);
  for (const char* key : {"a", "b"}) {
    auto value = store->Get(things, key);
    ASSERT_TRUE(value.ok());
    EXPECT_FALSE(value->has_value()) << key;
  }
  EXPECT_EQ(store->last_sequence(), 0u);
  // The store goes on, and the sequences of the lost writes are handed out again.
  HTX_ASSERT_OK(store->Write(PutRequest(*store, "c", "3")));
  EXPECT_EQ(store->last_sequence(), 1u);
  auto changes = store->ListChanges(0, 10);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].resource(), "c");
}

TEST(StoreTest, OpenFailsClearlyOnAnUnusablePath) {
  StoreOptions options;
  options.path = "/proc/htx-cannot-create-here";
  EXPECT_FALSE(Store::Open(options).ok());
  options.path = "";
  EXPECT_THAT(Store::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace htx::storage
