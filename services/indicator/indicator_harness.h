// The indicator service on a temporary RocksDB store behind a real gRPC
// server on port 0, with a fixed clock and a registry stand-in: the fixture of
// the indicator's integration tests and benchmarks.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "common/storage/store.h"
#include "common/testing/test_store.h"
#include "common/testing/testing.h"
#include "htx/indicator/v1/indicator.grpc.pb.h"
#include "services/indicator/indicator.h"
#include "services/indicator/indicator_service.h"
#include "services/registry/fake_registry.h"

namespace htx::indicator {

// 23/11/2026 noon in Vietnam: "today" in tests (one clock for every service).
using ::htx::testing::TestNow;

// The registry stand-in the harness gives the service.
using FakeRegistry = registry::FakeRegistry;

class IndicatorHarness {
 public:
  struct Options {
    absl::Time now = TestNow();
    // False leaves the service detached (UNAVAILABLE) and health NOT_SERVING.
    bool attach = true;
    // The registry the service asks; null = the harness's FakeRegistry.
    RegistryClient* registry = nullptr;
  };
  IndicatorHarness() : IndicatorHarness(Options{}) {}
  explicit IndicatorHarness(Options options);
  ~IndicatorHarness();

  // Calls signed as a ministry-wide administrator.
  v1::IndicatorService::Stub& stub() { return *stub_; }
  // A stub whose calls carry `principal`.
  std::unique_ptr<v1::IndicatorService::Stub> StubAs(const auth::Principal& principal) {
    return v1::IndicatorService::NewStub(server_->ChannelAs(principal));
  }
  // Calls signed as a service (the only role allowed SetLock).
  v1::IndicatorService::Stub& service_stub() { return *service_stub_; }
  std::unique_ptr<v1::IndicatorService::Stub> UnsignedStub() {
    return v1::IndicatorService::NewStub(server_->UnsignedChannel());
  }
  std::shared_ptr<grpc::Channel> channel() { return server_->channel(); }
  Indicator& indicator() { return *indicator_; }
  storage::Store& store() { return *store_; }
  FakeRegistry& registry() { return fake_registry_; }
  const std::string& address() const { return server_->address(); }
  // Attaches the service to the store and reports SERVING.
  void Attach();

 private:
  testing::TempDir dir_;
  FakeRegistry fake_registry_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Indicator> indicator_;
  IndicatorService service_{server::CallerCheck(testing::TestInternalKey())};
  std::unique_ptr<testing::InProcessServer> server_;
  std::unique_ptr<v1::IndicatorService::Stub> stub_;
  std::unique_ptr<v1::IndicatorService::Stub> service_stub_;
};

}  // namespace htx::indicator
