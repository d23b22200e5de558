// The indicator service's operations over its store: what the gRPC service
// calls, and what tools and tests call without a server. Plain reads answer on
// the caller's thread; writes are queued to the store's writer and reported
// through `done` once durable; reads that need the registry's figures (tables,
// findings) report through `done` once the registry has answered or timed out.
//
// Keys (one RocksDB column family each):
//   catalogs      "c/{9999-year}" -> CatalogRecord (scan order = newest first),
//                 "v/{year}" -> the record's etag (a cheap freshness check for
//                 the in-memory CatalogView cache)
//   values        "{year}|{P|C|A}|{unit}|{column}|{code}" -> IndicatorValue:
//                 a unit-year is one prefix, and so are a province's communes
//                 ("{year}|C|provinces/01/"), the nation's provinces
//                 ("{year}|P|") and the nation's communes ("{year}|C|"),
//                 which is what roll-ups scan
//   history       "{value key}|{999999999999-revision}" -> ValueRevision,
//                 newest first: the revisions a later write replaced (the
//                 newest is the value itself; older stores hold it here too)
//   locks         "{year}|{unit}" -> Lock (a catalog import checks its year)
//   explanations  "{finding name}" -> ExplanationRecord
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/api/api.h"
#include "common/api/catalogs.h"
#include "common/api/locks.h"
#include "common/api/stored.h"
#include "common/storage/store.h"
#include "htx/indicator/v1/indicator.pb.h"
#include "htx/registry/v1/registry.pb.h"
#include "htx/type/v1/lock.pb.h"
#include "services/indicator/indicator_logic.h"
#include "services/indicator/records.pb.h"
#include "services/registry/registry_client.h"

namespace htx::indicator {

using Done = std::function<void(absl::Status)>;

// The registry's counts and units (services/registry/registry_client.h).
using RegistryClient = registry::RegistryClient;

class Indicator {
 public:
  // The column families the indicator service's store needs.
  static std::vector<std::string> ColumnFamilies();

  // `store` must be opened with ColumnFamilies() and outlive the service;
  // `registry` may be null (no registry figures: derived cells stay unset, and
  // written values' units are not checked against the registry).
  Indicator(
      storage::Store* store, RegistryClient* registry,
      std::function<absl::Time()> clock = [] { return absl::Now(); });

  // ---- Catalogs
  void ImportCatalog(const v1::ImportCatalogRequest& request, v1::Catalog* response, Done done);
  absl::StatusOr<v1::Catalog> GetCatalog(const v1::GetCatalogRequest& request) const;
  absl::StatusOr<v1::ListCatalogsResponse> ListCatalogs(
      const v1::ListCatalogsRequest& request) const;
  absl::StatusOr<v1::Indicator> GetIndicator(const v1::GetIndicatorRequest& request) const;
  absl::StatusOr<v1::ListIndicatorsResponse> ListIndicators(
      const v1::ListIndicatorsRequest& request) const;
  absl::StatusOr<v1::ListRulesResponse> ListRules(const v1::ListRulesRequest& request) const;

  // ---- Values (`author` is the caller's principal subject, kept in provenance)
  absl::StatusOr<v1::IndicatorValue> GetValue(const v1::GetValueRequest& request) const;
  absl::StatusOr<v1::ListValuesResponse> ListValues(const v1::ListValuesRequest& request) const;
  absl::StatusOr<v1::ListValueHistoryResponse> ListValueHistory(
      const v1::ListValueHistoryRequest& request) const;
  void BatchUpsertValues(const v1::BatchUpsertValuesRequest& request, absl::string_view author,
                         v1::BatchUpsertValuesResponse* response, Done done);
  // One message of an ingest stream: every row is tried on its own; `done`
  // runs once all rows are durable or rejected, OK unless the message itself
  // is malformed (then nothing is written).
  void IngestBatch(const v1::IngestValuesRequest& request, absl::string_view author,
                   v1::IngestValuesResponse* response, Done done);

  // ---- Tables, roll-ups, findings
  void GetTable(const v1::GetTableRequest& request, v1::IndicatorTable* response, Done done) const;
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
  using Reader = api::Reader;
  // Registry figures of a unit-year: `needed` when the catalog has derived
  // rows in columns with a registry_as_of (and the unit is not an agency);
  // `figures` unset when needed but the registry did not answer.
  struct Figures {
    bool needed = false;
    std::optional<RegistryFigures> figures;
    const RegistryFigures* get() const { return figures ? &*figures : nullptr; }
  };

  void Submit(absl::string_view method, absl::string_view request_id,
              const google::protobuf::Message& request, google::protobuf::Message* response,
              std::function<absl::Status(storage::Txn&)> mutate, Done done);

  // What a List over one catalog's entries starts from: the catalog `parent`
  // (catalogs/{year}) names and the page asked for.
  struct CatalogPage {
    int year = 0;
    api::Page page;
    std::shared_ptr<const LoadedCatalog> catalog;
  };
  absl::StatusOr<CatalogPage> StartCatalogPage(const google::protobuf::Message& request,
                                               const std::string& parent, int page_size,
                                               const std::string& page_token) const;

  // The catalog of `year`; NOT_FOUND naming "catalogs/{year}".
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> LoadCatalog(int year,
                                                                   const Reader& read) const;
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> LoadCatalog(int year) const;
  // FAILED_PRECONDITION (CATALOG_IN_USE) when `view` would orphan a stored
  // value of its year or a unit-year of it is locked.
  absl::Status CheckCatalogReplaceable(const CatalogView& view, const Reader& read) const;

  // Every stored cell of a unit-year.
  absl::StatusOr<ValueMap> ReadValues(const Reader& read, absl::string_view unit, int year) const;
  // Writes one checked value as `cell` (CanonicalCell's): etag, revision,
  // history, change.
  absl::StatusOr<v1::IndicatorValue> WriteValueInTxn(storage::Txn& txn, const ValueName& name,
                                                     const v1::ValueWrite& write,
                                                     const v1::CellValue& cell,
                                                     absl::string_view field,
                                                     const v1::Provenance& provenance) const;
  // Whether any explanation of a unit-year is stored.
  absl::StatusOr<bool> HasExplanations(const Reader& read, absl::string_view unit, int year) const;
  // Drops the explanations of a unit-year whose left or right no longer hold
  // (for registry comparisons only the left: the writer cannot ask the registry).
  absl::Status ClearStaleExplanations(storage::Txn& txn, const CatalogView& catalog,
                                      absl::string_view unit, int year) const;
  // Findings of a unit-year with their stored explanations, etags and
  // blocks_submission.
  absl::StatusOr<std::vector<v1::Finding>> Findings(const CatalogView& catalog,
                                                    absl::string_view unit, int year,
                                                    const ValueMap& values,
                                                    const RegistryFigures* registry,
                                                    const Reader& read) const;
  // Asks the registry for the figures of `unit`'s derived rows; `done` runs
  // once, on the caller's thread or a gRPC thread.
  void FetchFigures(std::shared_ptr<const LoadedCatalog> catalog, const std::string& unit,
                    std::function<void(Figures)> done) const;
  // Adds the own values a roll-up of `unit` ("" or a province) reads into
  // `rollup`, which has nothing added yet, a child at a time
  // (services/indicator/rollup.cc): the named `units` (each a child, even one
  // that stored nothing), else every child with stored values; with
  // `communes`, every commune below `unit` instead (of the named provinces
  // only when `units` names them). Prefix scans only; DATA_LOSS at a record
  // that does not parse.
  absl::Status RollUp(absl::string_view unit, int year, bool communes,
                      const google::protobuf::RepeatedPtrField<std::string>& units,
                      RollupAccumulator* rollup) const;

  storage::Store* store_;
  RegistryClient* registry_;
  std::function<absl::Time()> clock_;
  registry::UnitChecker units_;
  Catalogs catalogs_;
  storage::Family values_;
  storage::Family history_;
  api::UnitYearLocks locks_;
  storage::Family explanations_;
};

}  // namespace htx::indicator
