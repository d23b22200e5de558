// The audit log on a real RocksDB store in a temp directory: chaining under
// concurrent appends, paging, tampering and deletion found by Verify, reopen;
// and the audit service over real gRPC behind a fake admission check.
#include "services/gateway/audit_log.h"

#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/storage/keys.h"
#include "common/testing/testing.h"
#include "gtest/gtest.h"
#include "services/gateway/audit_service.h"

namespace htx::gateway {
namespace {

using ::htx::testing::Context;
using ::htx::testing::InvalidArgumentFor;
using ::htx::testing::StatusIs;

const std::string kZeros(64, '0');

absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 12, 0, 0),
                         absl::FixedTimeZone(7 * 60 * 60));
}

v1::AuditRecord MakeRecord(const std::string& subject) {
  v1::AuditRecord record;
  record.set_subject(subject);
  record.set_role(auth::v1::ROLE_PROVINCE_EDITOR);
  record.set_method("/htx.registry.v1.RegistryService/CreateOrganization");
  record.add_resources("provinces/01");
  record.set_decision(v1::DECISION_ALLOWED);
  record.set_code("OK");
  record.set_request_id(absl::StrCat("req-", subject));
  record.set_channel("grpc");
  record.set_peer("ipv4:127.0.0.1:5000");
  return record;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenLog(); }

  void OpenLog() {
    storage::StoreOptions options;
    options.path = dir_.Sub("gateway");
    options.column_families = {AuditLog::kFamily};
    options.clock = [] { return TestNow(); };
    auto store = storage::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto log = AuditLog::Open(store_.get());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void CloseLog() {
    log_.reset();
    store_.reset();
  }

  absl::Status AppendAndWait(v1::AuditRecord record) {
    std::promise<absl::Status> outcome;
    log_->Append(std::move(record), [&outcome](absl::Status s) { outcome.set_value(s); });
    return outcome.get_future().get();
  }

  void AppendN(int n) {
    for (int i = 0; i < n; ++i) {
      HTX_ASSERT_OK(AppendAndWait(MakeRecord(absl::StrCat("user-", i))));
    }
  }

  std::vector<v1::AuditRecord> ListAll(int page_size) {
    std::vector<v1::AuditRecord> all;
    v1::ListAuditRecordsRequest request;
    request.set_page_size(page_size);
    while (true) {
      auto page = log_->List(request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->records_size(), page_size);
      all.insert(all.end(), page->records().begin(), page->records().end());
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
    }
    return all;
  }

  v1::VerifyAuditLogResponse VerifyRange(uint64_t from, uint64_t to) {
    v1::VerifyAuditLogRequest request;
    request.set_from_sequence(from);
    request.set_to_sequence(to);
    auto verified = log_->Verify(request);
    EXPECT_TRUE(verified.ok()) << verified.status();
    return verified.ok() ? *verified : v1::VerifyAuditLogResponse();
  }

  // Writes through the store as someone with disk access would.
  absl::Status Tamper(std::function<void(storage::Txn&, storage::Family)> edit) {
    storage::WriteRequest write;
    storage::Family family = store_->family(AuditLog::kFamily);
    write.mutate = [edit, family](storage::Txn& txn) {
      edit(txn, family);
      return absl::OkStatus();
    };
    return store_->Write(std::move(write));
  }

  v1::AuditRecord Stored(uint64_t sequence) {
    v1::AuditRecord record;
    auto found = store_->GetProto(store_->family(AuditLog::kFamily),
                                  storage::EncodeUint64(sequence), &record);
    EXPECT_TRUE(found.ok() && *found) << sequence;
    return record;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, ChainHashIsLowercaseHexAndIgnoresItsOwnHashFields) {
  v1::AuditRecord record = MakeRecord("a");
  std::string hash = ChainHash(kZeros, record);
  ASSERT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  record.set_hash("ff");
  record.set_previous_hash("ee");
  EXPECT_EQ(ChainHash(kZeros, record), hash);
  EXPECT_NE(ChainHash(std::string(64, '1'), record), hash);
  record.set_code("PERMISSION_DENIED");
  EXPECT_NE(ChainHash(kZeros, record), hash);
}

TEST_F(AuditLogTest, EmptyLogIsIntactAndListsNothing) {
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_TRUE(verified.intact());
  EXPECT_EQ(verified.records_checked(), 0u);
  EXPECT_EQ(verified.first_broken_sequence(), 0u);
  auto listed = log_->List(v1::ListAuditRecordsRequest());
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->records_size(), 0);
  EXPECT_TRUE(listed->next_page_token().empty());
}

TEST_F(AuditLogTest, ConcurrentAppendsChainInCommitOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 60;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<absl::Status> failures;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = AppendAndWait(MakeRecord(absl::StrCat("t", t, "-", i)));
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(s);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(failures.empty()) << failures.front();

  constexpr uint64_t kTotal = kThreads * kPerThread;
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_TRUE(verified.intact()) << verified.problem();
  EXPECT_EQ(verified.records_checked(), kTotal);

  std::vector<v1::AuditRecord> all = ListAll(37);
  ASSERT_EQ(all.size(), kTotal);
  std::set<std::string> subjects;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence(), i + 1);
    EXPECT_EQ(all[i].previous_hash(), i == 0 ? kZeros : all[i - 1].hash());
    EXPECT_EQ(all[i].hash(), ChainHash(all[i].previous_hash(), all[i]));
    EXPECT_EQ(all[i].time().seconds(), absl::ToUnixSeconds(TestNow()));
    subjects.insert(all[i].subject());
  }
  EXPECT_EQ(subjects.size(), kTotal);  // every append recorded once
  EXPECT_EQ(verified.last_hash(), all.back().hash());
}

TEST_F(AuditLogTest, AppendsQueuedTogetherChainWithinOneGroup) {
  // Submitted without waiting, so the writer commits many in one group.
  constexpr int kCount = 200;
  std::vector<std::promise<absl::Status>> outcomes(kCount);
  for (int i = 0; i < kCount; ++i) {
    log_->Append(MakeRecord(absl::StrCat("burst-", i)),
                 [&outcomes, i](absl::Status s) { outcomes[i].set_value(s); });
  }
  for (auto& outcome : outcomes) HTX_ASSERT_OK(outcome.get_future().get());
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_TRUE(verified.intact()) << verified.problem();
  EXPECT_EQ(verified.records_checked(), static_cast<uint64_t>(kCount));
  // One thread submitting in order: commit order is submission order.
  std::vector<v1::AuditRecord> all = ListAll(1000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(all[i].subject(), absl::StrCat("burst-", i));
}

TEST_F(AuditLogTest, ListPagesFromAfterSequence) {
  AppendN(12);
  v1::ListAuditRecordsRequest request;
  request.set_after_sequence(5);
  request.set_page_size(4);
  auto first = log_->List(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->records_size(), 4);
  EXPECT_EQ(first->records(0).sequence(), 6u);
  ASSERT_FALSE(first->next_page_token().empty());

  request.set_page_token(first->next_page_token());
  auto second = log_->List(request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->records_size(), 3);
  EXPECT_EQ(second->records(0).sequence(), 10u);
  EXPECT_EQ(second->records(2).sequence(), 12u);
  EXPECT_TRUE(second->next_page_token().empty());

  // A page that ends exactly at the last record says so.
  v1::ListAuditRecordsRequest exact;
  exact.set_page_size(12);
  auto whole = log_->List(exact);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->records_size(), 12);
  EXPECT_TRUE(whole->next_page_token().empty());
}

TEST_F(AuditLogTest, ListRefusesBadInputNamingTheField) {
  AppendN(3);
  v1::ListAuditRecordsRequest request;
  request.set_page_size(-1);
  EXPECT_THAT(log_->List(request), InvalidArgumentFor("page_size"));

  request.set_page_size(1);
  auto page = log_->List(request);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_FALSE(page->next_page_token().empty());
  v1::ListAuditRecordsRequest other;
  other.set_after_sequence(1);
  other.set_page_token(page->next_page_token());
  EXPECT_THAT(log_->List(other), InvalidArgumentFor("page_token"));
  other.set_page_token("not a token");
  EXPECT_THAT(log_->List(other), InvalidArgumentFor("page_token"));
}

TEST_F(AuditLogTest, VerifyChecksRangesAndRefusesReversedOne) {
  AppendN(10);
  v1::VerifyAuditLogRequest reversed;
  reversed.set_from_sequence(7);
  reversed.set_to_sequence(3);
  EXPECT_THAT(log_->Verify(reversed), InvalidArgumentFor("from_sequence"));

  v1::VerifyAuditLogResponse middle = VerifyRange(3, 7);
  EXPECT_TRUE(middle.intact()) << middle.problem();
  EXPECT_EQ(middle.records_checked(), 5u);
  EXPECT_EQ(middle.last_hash(), Stored(7).hash());

  v1::VerifyAuditLogResponse tail = VerifyRange(8, 0);
  EXPECT_TRUE(tail.intact()) << tail.problem();
  EXPECT_EQ(tail.records_checked(), 3u);

  v1::VerifyAuditLogResponse clamped = VerifyRange(0, 500);
  EXPECT_TRUE(clamped.intact()) << clamped.problem();
  EXPECT_EQ(clamped.records_checked(), 10u);
}

TEST_F(AuditLogTest, EditedRecordIsTheFirstBroken) {
  AppendN(10);
  HTX_ASSERT_OK(Tamper([](storage::Txn& txn, storage::Family family) {
    v1::AuditRecord record;
    ASSERT_TRUE(*txn.GetProto(family, storage::EncodeUint64(4), &record));
    record.set_decision(v1::DECISION_DENIED);
    txn.PutProto(family, storage::EncodeUint64(4), record);
  }));
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.first_broken_sequence(), 4u);
  EXPECT_EQ(verified.problem(), "hash mismatch");
  EXPECT_EQ(verified.records_checked(), 3u);

  // A range after the edit still verifies against the stored predecessor.
  EXPECT_TRUE(VerifyRange(5, 10).intact());
}

TEST_F(AuditLogTest, EditWithRecomputedHashBreaksTheNextLink) {
  AppendN(10);
  HTX_ASSERT_OK(Tamper([](storage::Txn& txn, storage::Family family) {
    v1::AuditRecord record;
    ASSERT_TRUE(*txn.GetProto(family, storage::EncodeUint64(4), &record));
    record.set_subject("someone-else");
    record.set_hash(ChainHash(record.previous_hash(), record));
    txn.PutProto(family, storage::EncodeUint64(4), record);
  }));
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.first_broken_sequence(), 5u);
  EXPECT_EQ(verified.problem(), "previous_hash does not match record 4");
}

TEST_F(AuditLogTest, DeletedRecordIsReportedMissing) {
  AppendN(10);
  HTX_ASSERT_OK(Tamper([](storage::Txn& txn, storage::Family family) {
    txn.Delete(family, storage::EncodeUint64(6));
  }));
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.first_broken_sequence(), 6u);
  EXPECT_EQ(verified.problem(), "record 6 missing");

  v1::VerifyAuditLogResponse after = VerifyRange(7, 0);
  EXPECT_FALSE(after.intact());
  EXPECT_EQ(after.first_broken_sequence(), 6u);
  EXPECT_EQ(after.problem(), "record 6 missing");
}

TEST_F(AuditLogTest, CutOffTailIsReportedMissing) {
  AppendN(10);
  HTX_ASSERT_OK(Tamper([](storage::Txn& txn, storage::Family family) {
    txn.Delete(family, storage::EncodeUint64(10));
  }));
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.first_broken_sequence(), 10u);
  EXPECT_EQ(verified.problem(), "record 10 missing");
}

TEST_F(AuditLogTest, ReopenKeepsTheChainAndAppendContinuesIt) {
  AppendN(5);
  const std::string last_hash = Stored(5).hash();
  CloseLog();
  OpenLog();
  v1::VerifyAuditLogResponse reopened = VerifyRange(0, 0);
  EXPECT_TRUE(reopened.intact()) << reopened.problem();
  EXPECT_EQ(reopened.records_checked(), 5u);
  EXPECT_EQ(reopened.last_hash(), last_hash);

  HTX_ASSERT_OK(AppendAndWait(MakeRecord("after-reopen")));
  v1::AuditRecord next = Stored(6);
  EXPECT_EQ(next.sequence(), 6u);
  EXPECT_EQ(next.previous_hash(), last_hash);
  v1::VerifyAuditLogResponse verified = VerifyRange(0, 0);
  EXPECT_TRUE(verified.intact()) << verified.problem();
  EXPECT_EQ(verified.records_checked(), 6u);
}

// ---- The service over real gRPC ---------------------------------------------

class AuditServiceTest : public AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    // The fake gateway check: only callers saying they are auditors.
    service_ = std::make_unique<AuditService>(
        log_.get(), [this](grpc::CallbackServerContext* context, absl::string_view method) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            admitted_methods_.emplace_back(method);
          }
          auto role = context->client_metadata().find("x-test-role");
          if (role == context->client_metadata().end() || role->second != "auditor") {
            return Error(absl::StatusCode::kPermissionDenied, "ROLE_DENIED",
                         "the audit log is for auditors");
          }
          return absl::OkStatus();
        });
    server_ = std::make_unique<testing::InProcessServer>(
        std::vector<grpc::Service*>{service_.get()},
        std::vector<std::string>{"htx.gateway.v1.AuditService"});
    stub_ = v1::AuditService::NewStub(server_->channel());
  }

  void TearDown() override { server_.reset(); }

  std::unique_ptr<grpc::ClientContext> Auditor() {
    auto context = Context();
    context->AddMetadata("x-test-role", "auditor");
    return context;
  }

  std::unique_ptr<AuditService> service_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::unique_ptr<v1::AuditService::Stub> stub_;
  std::mutex mu_;
  std::vector<std::string> admitted_methods_;
};

TEST_F(AuditServiceTest, RefusedCallerGetsPermissionDeniedAndNoData) {
  AppendN(3);
  v1::ListAuditRecordsResponse listed;
  EXPECT_THAT(stub_->ListAuditRecords(Context().get(), v1::ListAuditRecordsRequest(), &listed),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(listed.records_size(), 0);
  v1::VerifyAuditLogResponse verified;
  EXPECT_THAT(stub_->VerifyAuditLog(Context().get(), v1::VerifyAuditLogRequest(), &verified),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_FALSE(verified.intact());
  EXPECT_EQ(verified.records_checked(), 0u);
}

TEST_F(AuditServiceTest, AdmittedCallerReadsAndVerifies) {
  AppendN(3);
  v1::ListAuditRecordsResponse listed;
  HTX_ASSERT_OK(stub_->ListAuditRecords(Auditor().get(), v1::ListAuditRecordsRequest(), &listed));
  ASSERT_EQ(listed.records_size(), 3);
  EXPECT_EQ(listed.records(2).sequence(), 3u);
  EXPECT_EQ(listed.records(0).subject(), "user-0");

  v1::VerifyAuditLogResponse verified;
  HTX_ASSERT_OK(stub_->VerifyAuditLog(Auditor().get(), v1::VerifyAuditLogRequest(), &verified));
  EXPECT_TRUE(verified.intact());
  EXPECT_EQ(verified.records_checked(), 3u);
  EXPECT_EQ(verified.last_hash(), listed.records(2).hash());

  v1::VerifyAuditLogRequest reversed;
  reversed.set_from_sequence(3);
  reversed.set_to_sequence(1);
  EXPECT_THAT(stub_->VerifyAuditLog(Auditor().get(), reversed, &verified),
              InvalidArgumentFor("from_sequence"));

  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(admitted_methods_,
            (std::vector<std::string>{AuditService::kListMethod, AuditService::kVerifyMethod,
                                      AuditService::kVerifyMethod}));
}

}  // namespace
}  // namespace htx::gateway
