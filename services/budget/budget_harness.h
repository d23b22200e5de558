// The budget service on a temporary RocksDB store behind a real gRPC server on
// port 0, with a fixed clock and a registry stand-in: the fixture of the
// budget's integration tests.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/storage/store.h"
#include "common/testing/test_store.h"
#include "common/testing/testing.h"
#include "htx/budget/v1/budget.grpc.pb.h"
#include "services/budget/budget.h"
#include "services/budget/budget_service.h"
#include "services/registry/fake_registry.h"

namespace htx::budget {

class BudgetHarness {
 public:
  struct Options {
    absl::Time now = testing::TestNow();
    // The registry the service asks; null = the harness's FakeRegistry.
    registry::RegistryClient* registry = nullptr;
    // Where the store lives; empty = a temp dir of the harness's own. A
    // directory outliving the harness lets a second harness reopen the store
    // (durability tests).
    std::string store_dir;
  };
  BudgetHarness() : BudgetHarness(Options{}) {}
  explicit BudgetHarness(Options options);
  ~BudgetHarness();

  // Calls signed as a ministry-wide administrator.
  v1::BudgetService::Stub& stub() { return *stub_; }
  // A stub whose calls carry `principal`.
  std::unique_ptr<v1::BudgetService::Stub> StubAs(const auth::Principal& principal) {
    return v1::BudgetService::NewStub(server_->ChannelAs(principal));
  }
  // Calls signed as a service (the only role allowed SetLock).
  v1::BudgetService::Stub& service_stub() { return *service_stub_; }
  std::unique_ptr<v1::BudgetService::Stub> UnsignedStub() {
    return v1::BudgetService::NewStub(server_->UnsignedChannel());
  }
  std::shared_ptr<grpc::Channel> channel() { return server_->channel(); }
  Budget& budget() { return *budget_; }
  storage::Store& store() { return *store_; }
  registry::FakeRegistry& registry() { return fake_registry_; }
  const std::string& address() const { return server_->address(); }

 private:
  testing::TempDir dir_;
  registry::FakeRegistry fake_registry_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Budget> budget_;
  BudgetService service_{server::CallerCheck(testing::TestInternalKey())};
  std::unique_ptr<testing::InProcessServer> server_;
  std::unique_ptr<v1::BudgetService::Stub> stub_;
  std::unique_ptr<v1::BudgetService::Stub> service_stub_;
};

}  // namespace htx::budget
