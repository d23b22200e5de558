// A registry on a temporary RocksDB store behind a real gRPC server on port
// 0, with a fixed clock: the fixture of the registry's integration tests and
// benchmarks.
#pragma once

#include <memory>

#include "absl/time/time.h"
#include "common/storage/store.h"
#include "common/testing/test_store.h"
#include "common/testing/testing.h"
#include "htx/registry/v1/registry.grpc.pb.h"
#include "services/registry/registry.h"
#include "services/registry/registry_service.h"

namespace htx::registry {

// 23/11/2026 noon in Vietnam: "today" in tests (one clock for every service).
using ::htx::testing::TestNow;

// A unit to import in tests and benchmarks.
v1::Unit MakeUnit(const std::string& name, v1::UnitKind kind, const std::string& display_name);

class RegistryHarness {
 public:
  struct Options {
    absl::Time now = TestNow();
    // False leaves the service detached (UNAVAILABLE) and health NOT_SERVING.
    bool attach = true;
    // False skips the fsync per group commit: for comparison benchmarks only.
    bool sync = true;
  };
  RegistryHarness() : RegistryHarness(Options{}) {}
  explicit RegistryHarness(Options options);
  ~RegistryHarness();

  v1::RegistryService::Stub& stub() { return *stub_; }
  Registry& registry() { return *registry_; }
  storage::Store& store() { return *store_; }
  // Calls signed as a ministry-wide operator.
  std::shared_ptr<grpc::Channel> channel() { return server_->channel(); }
  std::shared_ptr<grpc::Channel> ChannelAs(const auth::Principal& principal) {
    return server_->ChannelAs(principal);
  }
  std::shared_ptr<grpc::Channel> UnsignedChannel() { return server_->UnsignedChannel(); }
  const std::string& address() const { return server_->address(); }
  // Attaches the registry and reports SERVING (for Options{.attach = false}).
  void Attach();

 private:
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Registry> registry_;
  RegistryService service_{server::CallerCheck(testing::TestInternalKey())};
  std::unique_ptr<testing::InProcessServer> server_;
  std::unique_ptr<v1::RegistryService::Stub> stub_;
};

}  // namespace htx::registry
