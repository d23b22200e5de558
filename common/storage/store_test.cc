#include "common/storage/store.h"

#include <atomic>
#include <thread>

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

TEST(StoreTest, OpenFailsClearlyOnAnUnusablePath) {
  StoreOptions options;
  options.path = "/proc/htx-cannot-create-here";
  EXPECT_FALSE(Store::Open(options).ok());
  options.path = "";
  EXPECT_THAT(Store::Open(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace htx::storage
