// The registry's operations over its store: what the gRPC service calls, and
// what tools and tests call without a server. Reads answer on the caller's
// thread; writes are queued to the store's writer and reported through `done`
// once durable.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/storage/store.h"
#include "htx/registry/v1/registry.pb.h"
#include "services/registry/registry_logic.h"

namespace htx::registry {

using Done = std::function<void(absl::Status)>;

class Registry {
 public:
  // The column families the registry's store needs.
  static std::vector<std::string> ColumnFamilies();

  // `store` must be opened with ColumnFamilies() and outlive the registry.
  explicit Registry(
      storage::Store* store, std::function<absl::Time()> clock = [] { return absl::Now(); });

  // Today in Vietnam (UTC+7), by the injected clock.
  DayKey Today() const;

  absl::StatusOr<v1::Unit> GetUnit(const v1::GetUnitRequest& request) const;
  absl::StatusOr<v1::ListUnitsResponse> ListUnits(const v1::ListUnitsRequest& request) const;
  absl::StatusOr<v1::Organization> GetOrganization(const v1::GetOrganizationRequest& request) const;
  // The commune an organisation belongs to (for the owner check of callers
  // scoped below its province); NOT_FOUND when there is no such organisation.
  absl::StatusOr<std::string> OrganizationCommune(absl::string_view name) const;
  absl::StatusOr<v1::ListOrganizationsResponse> ListOrganizations(
      const v1::ListOrganizationsRequest& request) const;
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const v1::ListEventsRequest& request) const;
  absl::StatusOr<v1::Counts> GetCounts(const v1::GetCountsRequest& request) const;
  absl::StatusOr<type::v1::ListChangesResponse> ListChanges(
      const type::v1::ListChangesRequest& request) const;

  void ImportUnits(const v1::ImportUnitsRequest& request, v1::ImportUnitsResponse* response,
                   Done done);
  void CreateOrganization(const v1::CreateOrganizationRequest& request, v1::Organization* response,
                          Done done);
  void UpdateOrganization(const v1::UpdateOrganizationRequest& request, v1::Organization* response,
                          Done done);
  void AppendEvent(const v1::AppendEventRequest& request, v1::LifecycleEvent* response, Done done);
  void SetClassification(const v1::SetClassificationRequest& request, v1::Organization* response,
                         Done done);
  // One batch of a bulk import: every row is tried on its own; `done` runs
  // once all rows are durable or rejected, with OK unless the batch itself is
  // malformed (then nothing is written).
  void ImportBatch(const v1::ImportRegistryRequest& request, v1::ImportRegistryResponse* response,
                   Done done);

 private:
  // Queues a mutation with the request's idempotency key.
  void Submit(absl::string_view method, absl::string_view request_id,
              const google::protobuf::Message& request, google::protobuf::Message* response,
              std::function<absl::Status(storage::Txn&)> mutate, Done done);
  absl::Status CreateInTxn(storage::Txn& txn, const std::string& province,
                           const v1::Organization& given, v1::Organization* response);
  absl::Status AppendInTxn(storage::Txn& txn, const std::string& organization,
                           const v1::LifecycleEvent& event, v1::LifecycleEvent* response);
  absl::Status ClassifyInTxn(storage::Txn& txn, const std::string& organization,
                             const v1::Classification& classification, absl::string_view etag,
                             v1::Organization* response);
  absl::StatusOr<OrganizationRecord> LoadInTxn(storage::Txn& txn, const std::string& name) const;
  void SaveInTxn(storage::Txn& txn, const OrganizationRecord& record, type::v1::ChangeKind kind,
                 v1::Organization* presented) const;
  absl::Status RequireUnit(storage::Txn& txn, const std::string& name,
                           absl::string_view field) const;
  // NOT_FOUND unless `subtree` is the nation ("") or a stored unit.
  absl::Status SubtreeExists(const std::string& subtree) const;
  // Visits the organisations of a subtree in name order after `start_after`.
  absl::Status VisitSubtree(
      const ParsedName& subtree, absl::string_view start_after,
      const std::function<bool(absl::string_view position, const OrganizationRecord&)>& fn) const;

  storage::Store* store_;
  std::function<absl::Time()> clock_;
  storage::Family units_;
  storage::Family organizations_;
  storage::Family commune_index_;
};

}  // namespace htx::registry
