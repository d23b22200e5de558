// The budget service's operations over its store: what the gRPC service
// calls, and what tools and tests call without a server. Plain reads answer on
// the caller's thread; writes are queued to the store's writer and reported
// through `done` once durable; findings report through `done` once the
// registry has answered or timed out.
//
// Keys (one RocksDB column family each; {uy} is api::UnitYearPrefix, so a
// unit-year is one prefix and so are a province's communes and the nation's
// provinces, which is what roll-ups scan):
//   catalogs      "c/{9999-year}" -> CatalogRecord (scan order = newest first),
//                 "v/{year}" -> its etag (a cheap freshness check for the
//                 in-memory CatalogView cache)
//   needs         "{uy}{code}" -> Need as entered (amounts of leaf lines)
//   records       "{uy}{yyyymmdd}|{code}|{id}" -> FundingRecord (date order)
//   record_ids    "{uy}{code}|{id}" -> its key in records (lookup by name)
//   locks         "{year}|{unit}" -> Lock (api::UnitYearLocks)
//   explanations  "{finding name}" -> ExplanationRecord
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/api/catalogs.h"
#include "common/api/locks.h"
#include "common/api/stored.h"
#include "common/storage/store.h"
#include "htx/budget/v1/budget.pb.h"
#include "htx/type/v1/change.pb.h"
#include "htx/type/v1/lock.pb.h"
#include "services/budget/budget_logic.h"
#include "services/budget/records.pb.h"
#include "services/registry/registry_client.h"

namespace htx::budget {

using Done = std::function<void(absl::Status)>;

class Budget {
 public:
  // The column families the budget service's store needs.
  static std::vector<std::string> ColumnFamilies();

  // `store` must be opened with ColumnFamilies() and outlive the service;
  // `registry` may be null (units are then not checked and the
  // BENEFICIARIES_VS_REGISTRY check is not made).
  Budget(
      storage::Store* store, registry::RegistryClient* registry,
      std::function<absl::Time()> clock = [] { return absl::Now(); });

  // ---- Catalogs
  void ImportCatalog(const v1::ImportCatalogRequest& request, v1::Catalog* response, Done done);
  absl::StatusOr<v1::Catalog> GetCatalog(const v1::GetCatalogRequest& request) const;
  absl::StatusOr<v1::ListCatalogsResponse> ListCatalogs(
      const v1::ListCatalogsRequest& request) const;
  absl::StatusOr<v1::Line> GetLine(const v1::GetLineRequest& request) const;
  absl::StatusOr<v1::ListLinesResponse> ListLines(const v1::ListLinesRequest& request) const;

  // ---- Needs (`author` is the caller's principal subject, kept in provenance)
  absl::StatusOr<v1::Need> GetNeed(const v1::GetNeedRequest& request) const;
  absl::StatusOr<v1::ListNeedsResponse> ListNeeds(const v1::ListNeedsRequest& request) const;
  void UpdateNeed(const v1::UpdateNeedRequest& request, absl::string_view author,
                  v1::Need* response, Done done);
  void BatchUpsertNeeds(const v1::BatchUpsertNeedsRequest& request, absl::string_view author,
                        v1::BatchUpsertNeedsResponse* response, Done done);
  // One message of an ingest stream: every row is tried on its own; `done`
  // runs once all rows are durable or rejected, OK unless the message itself
  // is malformed (then nothing is written).
  void IngestBatch(const v1::IngestNeedsRequest& request, absl::string_view author,
                   v1::IngestNeedsResponse* response, Done done);

  // ---- Allocations and disbursements
  void CreateFundingRecord(const v1::CreateFundingRecordRequest& request, absl::string_view author,
                           v1::FundingRecord* response, Done done);
  absl::StatusOr<v1::ListFundingRecordsResponse> ListFundingRecords(
      const v1::ListFundingRecordsRequest& request) const;
  void DeleteFundingRecord(const v1::DeleteFundingRecordRequest& request,
                           v1::DeleteFundingRecordResponse* response, Done done);

  // ---- Roll-ups and findings
  absl::StatusOr<v1::Rollup> GetRollup(const v1::GetRollupRequest& request) const;
  void ListFindings(const v1::ListFindingsRequest& request, v1::ListFindingsResponse* response,
                    Done done) const;
  void ExplainFinding(const v1::ExplainFindingRequest& request, absl::string_view author,
                      v1::Finding* response, Done done);

  // ---- Locks and the change feed
  absl::StatusOr<type::v1::Lock> GetLock(const type::v1::GetLockRequest& request) const;
  void SetLock(const type::v1::SetLockRequest& request, type::v1::Lock* response, Done done);
  absl::StatusOr<type::v1::ListChangesResponse> ListChanges(
      const type::v1::ListChangesRequest& request) const;

 private:
  using Catalogs = api::CatalogVersions<internal::CatalogRecord, CatalogView>;
  using LoadedCatalog = Catalogs::Loaded;
  // A unit-year's data as read: own needs computed into every line with data
  // (with execution), and the records behind them.
  struct UnitYearData {
    std::vector<v1::Need> needs;
    std::vector<v1::FundingRecord> records;
  };

  // The catalog of `year`; NOT_FOUND naming "catalogs/{year}".
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> LoadCatalog(int year,
                                                                   const api::Reader& read) const;
  // FAILED_PRECONDITION (CATALOG_IN_USE) when `view` would drop a line that
  // has needs or records, or a unit-year of its year is locked.
  absl::Status CheckCatalogReplaceable(const CatalogView& view, const api::Reader& read) const;

  // The unit-year's needs as entered, by line.
  absl::StatusOr<NeedMap> ReadOwnNeeds(const api::Reader& read, absl::string_view unit,
                                       int year) const;
  // The unit-year computed: parents summed, execution filled (records dated
  // up to `as_of` when set, YYYYMMDD).
  absl::StatusOr<UnitYearData> ReadUnitYear(const api::Reader& read, const CatalogView& catalog,
                                            absl::string_view unit, int year,
                                            int32_t as_of = 0) const;

  // Writes one need (merge by `write.update_mask`, checks, etag, revision,
  // change) and returns it as stored; `create` allows a need that does not
  // exist yet.
  // `field` names the write ("writes[3]", or "" for UpdateNeed), so errors
  // name "writes[3].need.planned.local_dong" or "update_mask".
  absl::StatusOr<v1::Need> WriteNeedInTxn(storage::Txn& txn, const CatalogView& catalog,
                                          const v1::NeedWrite& write, bool create,
                                          absl::string_view field,
                                          const v1::Provenance& provenance) const;
  // After writes to a unit-year: sums must still fit in int64 đồng
  // (INVALID_ARGUMENT naming `field`).
  absl::Status CheckSums(storage::Txn& txn, const CatalogView& catalog, absl::string_view unit,
                         int year, absl::string_view field) const;

  // Findings of a unit-year with stored explanations, etags and
  // blocks_submission; `stock` null when the registry is not asked.
  absl::StatusOr<std::vector<v1::Finding>> Findings(const CatalogView& catalog,
                                                    absl::string_view unit, int year,
                                                    const RegistryStock* stock,
                                                    const api::Reader& read) const;
  // Asks the registry for the unit's organisations on 31/12 of year - 1;
  // `done` runs once with null when there is no registry.
  void FetchStock(absl::string_view unit, int year,
                  std::function<void(const RegistryStock*)> done) const;

  void Submit(absl::string_view method, absl::string_view request_id,
              const google::protobuf::Message& request, google::protobuf::Message* response,
              std::function<absl::Status(storage::Txn&)> mutate, Done done);

  storage::Store* store_;
  registry::RegistryClient* registry_;
  registry::UnitChecker units_;
  std::function<absl::Time()> clock_;
  Catalogs catalogs_;
  storage::Family needs_;
  storage::Family records_;
  storage::Family record_ids_;
  storage::Family explanations_;
  api::UnitYearLocks locks_;
};

}  // namespace htx::budget
