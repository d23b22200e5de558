// What the other services ask the registry: counts as of a date and whether a
// unit exists. Behind an interface so that a service runs (and is tested)
// without a registry; the gRPC client signs its calls as the calling service.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/policy.h"
#include "htx/auth/v1/principal.pb.h"
#include "htx/registry/v1/registry.grpc.pb.h"

namespace htx::registry {

class RegistryClient {
 public:
  virtual ~RegistryClient() = default;
  // Calls `done` exactly once, on any thread, within the client's deadline.
  virtual void GetCounts(const v1::GetCountsRequest& request,
                         std::function<void(absl::StatusOr<v1::Counts>)> done) = 0;
  // The unit `request.name()`, NOT_FOUND when the registry does not know it;
  // calls `done` exactly once, on any thread, within the client's deadline.
  virtual void GetUnit(const v1::GetUnitRequest& request,
                       std::function<void(absl::StatusOr<v1::Unit>)> done) = 0;
};

// The principal a service signs its own calls with: nation-wide, role SERVICE.
auth::Principal ServicePrincipal(absl::string_view subject);

// GetCounts and GetUnit over gRPC, each call with `deadline`. The channel must
// sign its calls (server::SignedChannel with ServicePrincipal(...)).
class GrpcRegistryClient final : public RegistryClient {
 public:
  explicit GrpcRegistryClient(std::shared_ptr<grpc::Channel> channel,
                              absl::Duration deadline = absl::Seconds(1));
  void GetCounts(const v1::GetCountsRequest& request,
                 std::function<void(absl::StatusOr<v1::Counts>)> done) override;
  void GetUnit(const v1::GetUnitRequest& request,
               std::function<void(absl::StatusOr<v1::Unit>)> done) override;

 private:
  std::unique_ptr<v1::RegistryService::Stub> stub_;
  absl::Duration deadline_;
};

// Whether written data names units the registry knows, asking once per unit:
// units found are cached (units are not deleted in practice: an ended unit
// keeps its name, and there are a few thousand at most).
class UnitChecker {
 public:
  // Null `registry`: units are not checked (a deployment without a registry
  // trusts its writers' unit names).
  explicit UnitChecker(RegistryClient* registry) : registry_(registry) {}

  // Per unit of `units` (distinct names): OK when known, NOT_FOUND when the
  // registry does not know it, another error when it could not be asked in
  // time. `done` runs once, on the caller's thread or a gRPC thread; never
  // blocks.
  using Checks = absl::flat_hash_map<std::string, absl::Status>;
  void Check(std::vector<std::string> units, std::function<void(Checks)> done) const;

  // Why a write to `unit` (named by `field`) is refused after Check said
  // `check` (not OK): INVALID_ARGUMENT (UNKNOWN_UNIT) or UNAVAILABLE
  // (REGISTRY_UNAVAILABLE).
  static absl::Status Refusal(const absl::Status& check, absl::string_view field,
                              absl::string_view unit);

 private:
  RegistryClient* registry_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_set<std::string> known_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htx::registry
