#include "services/indicator/indicator.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/api/api.h"
#include "common/api/writes.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace htx::indicator {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kCatalogs[] = "catalogs";
constexpr char kValues[] = "values";
constexpr char kHistory[] = "history";
constexpr char kLocks[] = "locks";
constexpr char kExplanations[] = "explanations";

constexpr int kMaxWrites = 1000;
constexpr size_t kMaxSourceSystem = 64;
constexpr size_t kMaxComment = 2000;
constexpr size_t kMaxExplanation = 4000;  // characters, as the contract counts them
constexpr int64_t kRevisionCeiling = 999999999999;

// ---- Units and names ----------------------------------------------------------

using api::CatalogName;
using api::Characters;
using api::CheckChildUnits;
using api::CheckRollupUnit;
using api::CheckYear;
using api::Corrupt;
using api::IndexPosition;
using api::LevelOf;
using api::PageByIndex;
using api::ParseCatalogName;
using api::ParseStored;
using api::ParseUnit;
using api::ParseYearSegment;
using api::ScanStored;
using api::ToTimestamp;
using api::Unit;
using api::UnitYearPrefix;
using api::Year4;
using Level = api::UnitLevel;

std::string ValueKey(const ValueName& name) {
  return absl::StrCat(UnitYearPrefix(name.unit, name.year), name.column, "|", name.code);
}

std::string HistoryKey(absl::string_view value_key, int64_t revision) {
  return absl::StrCat(value_key, "|", absl::StrFormat("%012d", kRevisionCeiling - revision));
}

// A value as one revision of its history.
v1::ValueRevision RevisionOf(const v1::IndicatorValue& value) {
  v1::ValueRevision revision;
  revision.set_name(absl::StrCat(value.name(), "/revisions/", value.revision()));
  revision.set_revision(value.revision());
  *revision.mutable_value() = value.value();
  *revision.mutable_provenance() = value.provenance();
  return revision;
}

std::string FindingsPrefix(absl::string_view unit, int year) {
  return absl::StrCat(unit, "/indicator-findings/", year, "/");
}

struct FindingName {
  std::string unit;
  int year = 0;
  std::string rule;
  std::string column;
};

absl::StatusOr<FindingName> ParseFindingName(absl::string_view name, absl::string_view field) {
  constexpr absl::string_view kShape = "{unit}/indicator-findings/{year}/{rule}/{column}";
  if (name.empty()) return RequiredField(field);
  std::vector<absl::string_view> halves = absl::StrSplit(name, "/indicator-findings/");
  if (halves.size() != 2) {
    return InvalidField(field, absl::StrCat("must be ", kShape), "INVALID_NAME");
  }
  if (absl::Status s = ParseUnit(halves[0], field).status(); !s.ok()) return s;
  std::vector<absl::string_view> rest = absl::StrSplit(halves[1], '/');
  if (rest.size() != 3 || rest[1].empty() || rest[2].empty()) {
    return InvalidField(field, absl::StrCat("must be ", kShape), "INVALID_NAME");
  }
  absl::StatusOr<int> year = ParseYearSegment(rest[0], field, kShape);
  if (!year.ok()) return year.status();
  return FindingName{std::string(halves[0]), *year, std::string(rest[1]), std::string(rest[2])};
}

// "catalogs/2026/rules/sum-htx" -> "sum-htx"; a bare id stays as it is.
absl::string_view RuleId(absl::string_view rule_name) {
  size_t slash = rule_name.rfind('/');
  return slash == absl::string_view::npos ? rule_name : rule_name.substr(slash + 1);
}

// ---- Presenting -------------------------------------------------------------

v1::Catalog PresentCatalog(const internal::CatalogRecord& record) {
  v1::Catalog catalog = record.input().catalog();
  catalog.set_name(CatalogName(catalog.year()));
  catalog.set_indicator_count(record.input().indicators_size());
  catalog.set_rule_count(record.input().rules_size());
  if (record.has_update_time()) *catalog.mutable_update_time() = record.update_time();
  catalog.set_etag(record.etag());
  return catalog;
}

v1::Indicator PresentIndicator(int year, const v1::Indicator& given) {
  v1::Indicator indicator = given;
  indicator.set_name(absl::StrCat(CatalogName(year), "/indicators/", indicator.code()));
  indicator.clear_etag();
  indicator.set_etag(api::ComputeEtag(indicator));
  return indicator;
}

v1::ValidationRule PresentRule(int year, const v1::ValidationRule& given) {
  v1::ValidationRule rule = given;
  rule.set_name(absl::StrCat(CatalogName(year), "/rules/", RuleId(given.name())));
  return rule;
}

bool SameCell(const v1::CellValue& a, const v1::CellValue& b) {
  return a.state() == b.state() && a.number() == b.number();
}

// The explanation of a finding applies while left and right are unchanged;
// then blocks_submission and the etag follow.
void Decorate(const internal::ExplanationRecord* stored, v1::Finding* finding) {
  finding->clear_explanation();
  if (stored != nullptr && stored->left() == finding->left() &&
      stored->right() == finding->right()) {
    *finding->mutable_explanation() = stored->explanation();
  }
  finding->set_blocks_submission(
      finding->outcome() == v1::FINDING_OUTCOME_FAILED &&
      (finding->severity() == v1::SEVERITY_ERROR || !finding->has_explanation()));
  finding->clear_etag();
  finding->set_etag(api::ComputeEtag(*finding));
}

// The count of one metric in a registry row.
int64_t Metric(const registry::v1::CountRow& row, v1::RegistryMetric metric) {
  switch (metric) {
    case v1::REGISTRY_METRIC_TOTAL:
      return row.total();
    case v1::REGISTRY_METRIC_ACTIVE:
      return row.active();
    case v1::REGISTRY_METRIC_SUSPENDED:
      return row.suspended();
    case v1::REGISTRY_METRIC_NOT_OPERATING:
      return row.not_operating();
    case v1::REGISTRY_METRIC_ESTABLISHED:
      return row.established();
    case v1::REGISTRY_METRIC_DISSOLVED:
      return row.dissolved();
    case v1::REGISTRY_METRIC_RATED_GOOD:
      return row.rated_good();
    case v1::REGISTRY_METRIC_RATED_FAIR:
      return row.rated_fair();
    case v1::REGISTRY_METRIC_RATED_AVERAGE:
      return row.rated_average();
    case v1::REGISTRY_METRIC_RATED_WEAK:
      return row.rated_weak();
    case v1::REGISTRY_METRIC_HIGH_TECH:
      return row.high_tech();
    case v1::REGISTRY_METRIC_VALUE_CHAIN_LINK:
      return row.value_chain_link();
    case v1::REGISTRY_METRIC_OWNS_ENTERPRISE:
      return row.owns_enterprise();
    case v1::REGISTRY_METRIC_ENTERPRISE_MEMBERS:
      return row.enterprise_members();
    case v1::REGISTRY_METRIC_FOREIGN_MEMBERS:
      return row.foreign_members();
    case v1::REGISTRY_METRIC_MEMBERS:
      return row.members();
    case v1::REGISTRY_METRIC_REGULAR_WORKERS:
      return row.regular_workers();
    case v1::REGISTRY_METRIC_MANAGERS_INTERMEDIATE:
      return row.managers_intermediate();
    case v1::REGISTRY_METRIC_MANAGERS_HIGHER:
      return row.managers_higher();
    case v1::REGISTRY_METRIC_MEMBER_HTX:
      return row.member_htx();
    default:
      return 0;
  }
}

// The registry's figure for a derivation: the row of its kind and sector (a
// sector without organisations has no row, which is 0), metrics summed.
int64_t Derive(const registry::v1::Counts& counts, const v1::RegistryDerivation& derivation) {
  for (const registry::v1::CountRow& row : counts.rows()) {
    if (row.kind() != derivation.kind() || row.sector() != derivation.sector()) continue;
    int64_t sum = 0;
    for (int metric : derivation.metrics())
      sum += Metric(row, static_cast<v1::RegistryMetric>(metric));
    return sum;
  }
  return 0;
}

// INVALID_ARGUMENT naming `field` unless `table` is empty (no filter) or a
// table of the catalog of `year`.
absl::Status CheckTable(const CatalogView& view, int year, const std::string& table,
                        absl::string_view field = "table") {
  if (table.empty() || view.FindTable(table) != nullptr) return absl::OkStatus();
  return InvalidField(field, absl::StrCat(CatalogName(year), " has no table \"", table, "\""));
}

// Whether `table` (any table when empty) of `view` has a column `column`.
bool DeclaresColumn(const CatalogView& view, const std::string& table, const std::string& column) {
  for (const v1::CatalogTable& t : view.catalog().tables()) {
    if (!table.empty() && t.id() != table) continue;
    for (const v1::Column& c : t.columns()) {
      if (c.id() == column) return true;
    }
  }
  return false;
}

// The cell of `write` (named by `field`) as stored. Numbers are kept
// canonical ("2962", not "02962.0"), so equal figures compare equal and no-op
// writes make no revision.
absl::StatusOr<v1::CellValue> CanonicalCell(const CatalogView& catalog, const ValueName& name,
                                            const v1::ValueWrite& write, absl::string_view field) {
  v1::CellValue cell = write.value();
  if (cell.state() != v1::VALUE_STATE_NUMBER) {
    cell.clear_number();
    return cell;
  }
  const v1::Indicator* indicator = catalog.FindIndicator(name.code);
  absl::StatusOr<Decimal> number =
      Decimal::Parse(cell.number(), absl::StrCat(field, ".value.number"),
                     indicator != nullptr ? indicator->max_decimals() : 6,
                     indicator == nullptr || indicator->allow_negative());
  if (!number.ok()) return number.status();
  cell.set_number(number->ToString());
  return cell;
}

}  // namespace

// ---- Plumbing -------------------------------------------------------------------

std::vector<std::string> Indicator::ColumnFamilies() {
  return {kCatalogs, kValues, kHistory, kLocks, kExplanations};
}

Indicator::Indicator(storage::Store* store, RegistryClient* registry,
                     std::function<absl::Time()> clock)
    : store_(store),
      registry_(registry),
      clock_(std::move(clock)),
      units_(registry),
      catalogs_(store->family(kCatalogs)),
      values_(store->family(kValues)),
      history_(store->family(kHistory)),
      locks_(store->family(kLocks), "indicator-locks", "its values and explanations"),
      explanations_(store->family(kExplanations)) {}

void Indicator::Submit(absl::string_view method, absl::string_view request_id,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* response,
                       std::function<absl::Status(storage::Txn&)> mutate, Done done) {
  api::SubmitIdempotent(*store_, method, request_id, request, response, std::move(mutate),
                        std::move(done));
}

absl::StatusOr<std::shared_ptr<const Indicator::LoadedCatalog>> Indicator::LoadCatalog(
    int year, const Reader& read) const {
  return catalogs_.Load(year, read);
}

absl::StatusOr<std::shared_ptr<const Indicator::LoadedCatalog>> Indicator::LoadCatalog(
    int year) const {
  return LoadCatalog(year, api::StoreReader(*store_));
}

absl::StatusOr<ValueMap> Indicator::ReadValues(const Reader& read, absl::string_view unit,
                                               int year) const {
  ValueMap values;
  absl::Status scanned = ScanStored<v1::IndicatorValue>(
      read, values_, UnitYearPrefix(unit, year), "value",
      [&](absl::string_view, v1::IndicatorValue value) {
        values[CellKey(value.column(), value.indicator())] = value.value();
        return true;
      });
  if (!scanned.ok()) return scanned;
  return values;
}

absl::StatusOr<std::vector<v1::Finding>> Indicator::Findings(const CatalogView& catalog,
                                                             absl::string_view unit, int year,
                                                             const ValueMap& values,
                                                             const RegistryFigures* registry,
                                                             const Reader& read) const {
  absl::flat_hash_map<std::string, internal::ExplanationRecord> explanations;
  absl::Status scanned = ScanStored<internal::ExplanationRecord>(
      read, explanations_, FindingsPrefix(unit, year), "explanation",
      [&](absl::string_view key, internal::ExplanationRecord record) {
        explanations.emplace(std::string(key), std::move(record));
        return true;
      });
  if (!scanned.ok()) return scanned;
  std::vector<v1::Finding> findings = EvaluateRules(catalog, unit, values, registry);
  for (v1::Finding& finding : findings) {
    auto it = explanations.find(finding.name());
    Decorate(it == explanations.end() ? nullptr : &it->second, &finding);
  }
  return findings;
}

void Indicator::FetchFigures(std::shared_ptr<const LoadedCatalog> catalog, const std::string& unit,
                             std::function<void(Figures)> done) const {
  // The cells the registry can count, and the distinct queries they need (one
  // per cut-off date, usually one or two per catalog).
  struct Cell {
    std::string column;
    std::string code;
    const v1::RegistryDerivation* derivation;
    std::string query;
  };
  std::vector<Cell> cells;
  std::map<std::string, registry::v1::GetCountsRequest> queries;
  for (const v1::Indicator& indicator : catalog->view->indicators()) {
    if (indicator.heading() || !indicator.has_derivation()) continue;
    const v1::CatalogTable* table = catalog->view->FindTable(indicator.table());
    if (table == nullptr) continue;
    for (const v1::Column& column : table->columns()) {
      if (!column.has_registry_as_of()) continue;
      registry::v1::GetCountsRequest request;
      request.set_unit(unit);
      *request.mutable_as_of() = column.registry_as_of();
      // Flows count from 1 January of the column's year.
      if (column.year() <= column.registry_as_of().year()) {
        request.mutable_period_start()->set_year(column.year());
        request.mutable_period_start()->set_month(1);
        request.mutable_period_start()->set_day(1);
      }
      const std::string key = request.SerializeAsString();
      queries.emplace(key, std::move(request));
      cells.push_back(Cell{column.id(), indicator.code(), &indicator.derivation(), key});
    }
  }
  Figures figures;
  // Agencies own no organisations: there is nothing to compare them with.
  if (cells.empty() || (!unit.empty() && LevelOf(unit) == Level::kAgency)) {
    done(std::move(figures));
    return;
  }
  figures.needed = true;
  if (registry_ == nullptr) {
    done(std::move(figures));
    return;
  }
  struct Pending {
    std::mutex mu;
    size_t remaining = 0;
    bool failed = false;
    std::map<std::string, registry::v1::Counts> answers;
    std::shared_ptr<const LoadedCatalog> catalog;  // keeps `cells` pointers alive
    std::vector<Cell> cells;
    std::function<void(Figures)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = queries.size();
  pending->catalog = std::move(catalog);
  pending->cells = std::move(cells);
  pending->done = std::move(done);
  for (const auto& [key, request] : queries) {
    registry_->GetCounts(request, [pending, key = key,
                                   unit](absl::StatusOr<registry::v1::Counts> counts) {
      if (!counts.ok()) {
        // Callers see registry_unavailable; operators need the cause.
        server::Log("warn", "registry figures unavailable",
                    {{"unit", unit}, {"error", counts.status().ToString()}});
      }
      {
        std::lock_guard<std::mutex> lock(pending->mu);
        if (counts.ok()) {
          pending->answers[key] = *std::move(counts);
        } else {
          pending->failed = true;
        }
        if (--pending->remaining > 0) return;
      }
      Figures result;
      result.needed = true;
      if (!pending->failed) {
        RegistryFigures values;
        for (const Cell& cell : pending->cells) {
          v1::CellValue value;
          value.set_state(v1::VALUE_STATE_NUMBER);
          value.set_number(absl::StrCat(Derive(pending->answers.at(cell.query), *cell.derivation)));
          values[CellKey(cell.column, cell.code)] = std::move(value);
        }
        result.figures = std::move(values);
      }
      pending->done(std::move(result));
    });
  }
}

// ---- Catalogs --------------------------------------------------------------------

absl::Status Indicator::CheckCatalogReplaceable(const CatalogView& view, const Reader& read) const {
  const int year = view.catalog().year();
  absl::StatusOr<std::optional<std::string>> locked = locks_.FirstLocked(read, year);
  if (!locked.ok()) return locked.status();
  if (locked->has_value()) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE",
        absl::StrCat(CatalogName(year), " cannot be replaced while ", **locked, " is locked"),
        {{"resource", **locked}});
  }

  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> old = LoadCatalog(year, read);
  if (!old.ok()) {
    // No earlier catalog: no value can be stored for the year.
    return old.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : old.status();
  }
  // Only when the new catalog drops a cell the old one accepted can a stored
  // value be orphaned; the scan of the whole year is for that rare case.
  bool drops = false;
  for (const v1::Indicator& before : (*old)->view->indicators()) {
    if (before.heading()) continue;
    const v1::Indicator* after = view.FindIndicator(before.code());
    const v1::CatalogTable* table = (*old)->view->FindTable(before.table());
    if (after == nullptr || after->heading() || table == nullptr) {
      drops = true;
      break;
    }
    for (const v1::Column& column : table->columns()) {
      if (view.FindColumn(*after, column.id()) == nullptr) drops = true;
    }
    if (drops) break;
  }
  if (!drops) return absl::OkStatus();
  absl::Status inner;
  absl::Status scanned = read.scan(
      values_, absl::StrCat(Year4(year), "|"), [&](absl::string_view key, absl::string_view bytes) {
        v1::IndicatorValue value;
        inner = ParseStored(bytes, "value", key, &value);
        if (!inner.ok()) return false;
        const v1::Indicator* indicator = view.FindIndicator(value.indicator());
        if (indicator == nullptr || indicator->heading() ||
            view.FindColumn(*indicator, value.column()) == nullptr) {
          inner =
              Error(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE",
                    absl::StrCat(CatalogName(year), " would drop ", value.indicator(), " / ",
                                 value.column(), ", which has values (e.g. ", value.name(), ")"),
                    {{"resource", value.name()}});
          return false;
        }
        return true;
      });
  if (!scanned.ok()) return scanned;
  return inner;
}

void Indicator::ImportCatalog(const v1::ImportCatalogRequest& request, v1::Catalog* response,
                              Done done) {
  catalogs_.Import(
      *store_, request,
      // Output-only fields are derived, never taken from the caller.
      [](v1::ImportCatalogRequest* input) {
        v1::Catalog& catalog = *input->mutable_catalog();
        catalog.clear_name();
        catalog.clear_indicator_count();
        catalog.clear_rule_count();
        catalog.clear_update_time();
        catalog.clear_etag();
        for (v1::Indicator& indicator : *input->mutable_indicators()) {
          indicator.clear_name();
          indicator.clear_etag();
        }
      },
      [this](const CatalogView& view, const api::Reader& read) {
        return CheckCatalogReplaceable(view, read);
      },
      PresentCatalog, response, std::move(done));
}

absl::StatusOr<v1::Catalog> Indicator::GetCatalog(const v1::GetCatalogRequest& request) const {
  return catalogs_.Get(*store_, request.name(), PresentCatalog);
}

absl::StatusOr<v1::ListCatalogsResponse> Indicator::ListCatalogs(
    const v1::ListCatalogsRequest& request) const {
  return catalogs_.ListPage<v1::ListCatalogsResponse>(*store_, request, PresentCatalog);
}

absl::StatusOr<v1::Indicator> Indicator::GetIndicator(
    const v1::GetIndicatorRequest& request) const {
  std::vector<absl::string_view> parts = absl::StrSplit(request.name(), '/');
  if (request.name().empty()) return RequiredField("name");
  if (parts.size() != 4 || parts[2] != "indicators" || parts[3].empty()) {
    return InvalidField("name", "must be catalogs/{year}/indicators/{code}", "INVALID_NAME");
  }
  absl::StatusOr<int> year = ParseCatalogName(absl::StrCat(parts[0], "/", parts[1]), "name");
  if (!year.ok()) return year.status();
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(*year);
  if (!catalog.ok()) return catalog.status();
  const v1::Indicator* indicator = (*catalog)->view->FindIndicator(parts[3]);
  if (indicator == nullptr) return NotFound(request.name());
  return PresentIndicator(*year, *indicator);
}

absl::StatusOr<Indicator::CatalogPage> Indicator::StartCatalogPage(
    const google::protobuf::Message& request, const std::string& parent, int page_size,
    const std::string& page_token) const {
  CatalogPage start;
  absl::StatusOr<int> year = ParseCatalogName(parent, "parent");
  if (!year.ok()) return year.status();
  start.year = *year;
  absl::StatusOr<api::Page> page = api::StartPage(request, page_size, page_token);
  if (!page.ok()) return page.status();
  start.page = *std::move(page);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(*year);
  if (!catalog.ok()) return catalog.status();
  start.catalog = *std::move(catalog);
  return start;
}

absl::StatusOr<v1::ListIndicatorsResponse> Indicator::ListIndicators(
    const v1::ListIndicatorsRequest& request) const {
  absl::StatusOr<CatalogPage> list =
      StartCatalogPage(request, request.parent(), request.page_size(), request.page_token());
  if (!list.ok()) return list.status();
  const CatalogView& view = *list->catalog->view;
  if (absl::Status s = CheckTable(view, list->year, request.table()); !s.ok()) return s;
  absl::StatusOr<size_t> start = IndexPosition(list->page);
  if (!start.ok()) return start.status();
  v1::ListIndicatorsResponse response;
  PageByIndex(
      list->page, *start, view.indicators(),
      [&](const v1::Indicator& i) {
        return request.table().empty() || i.table() == request.table();
      },
      [&](const v1::Indicator& i) { return PresentIndicator(list->year, i); },
      response.mutable_indicators(), response.mutable_next_page_token());
  return response;
}

absl::StatusOr<v1::ListRulesResponse> Indicator::ListRules(
    const v1::ListRulesRequest& request) const {
  absl::StatusOr<CatalogPage> list =
      StartCatalogPage(request, request.parent(), request.page_size(), request.page_token());
  if (!list.ok()) return list.status();
  const CatalogView& view = *list->catalog->view;
  if (!request.subject().empty() && view.FindIndicator(request.subject()) == nullptr) {
    return InvalidField(
        "subject", absl::StrCat(request.parent(), " has no indicator \"", request.subject(), "\""));
  }
  absl::StatusOr<size_t> start = IndexPosition(list->page);
  if (!start.ok()) return start.status();
  v1::ListRulesResponse response;
  PageByIndex(
      list->page, *start, view.rules(),
      [&](const v1::ValidationRule& r) {
        return request.subject().empty() || r.subject() == request.subject();
      },
      [&](const v1::ValidationRule& r) { return PresentRule(list->year, r); },
      response.mutable_rules(), response.mutable_next_page_token());
  return response;
}

// ---- Values ------------------------------------------------------------------------

absl::StatusOr<v1::IndicatorValue> Indicator::GetValue(const v1::GetValueRequest& request) const {
  absl::StatusOr<ValueName> name = ParseValueName(request.name(), "name");
  if (!name.ok()) return name.status();
  v1::IndicatorValue value;
  absl::StatusOr<bool> found = store_->GetProto(values_, ValueKey(*name), &value);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound(request.name());
  return value;
}

absl::StatusOr<v1::ListValuesResponse> Indicator::ListValues(
    const v1::ListValuesRequest& request) const {
  if (absl::Status s = ParseUnit(request.parent(), "parent").status(); !s.ok()) return s;
  if (absl::Status s = CheckYear(request.year(), "year"); !s.ok()) return s;
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year());
  if (!catalog.ok()) return catalog.status();
  const CatalogView& view = *(*catalog)->view;
  if (absl::Status s = CheckTable(view, request.year(), request.table()); !s.ok()) return s;
  if (!request.column().empty()) {
    if (!DeclaresColumn(view, request.table(), request.column())) {
      return InvalidField("column",
                          absl::StrCat("no table of ", CatalogName(request.year()),
                                       " selected has a column \"", request.column(), "\""));
    }
  }
  absl::flat_hash_set<std::string> wanted;
  for (int i = 0; i < request.indicators_size(); ++i) {
    if (view.FindIndicator(request.indicators(i)) == nullptr) {
      return InvalidField(absl::StrCat("indicators[", i, "]"),
                          absl::StrCat(CatalogName(request.year()), " has no indicator \"",
                                       request.indicators(i), "\""));
    }
    wanted.insert(request.indicators(i));
  }
  // Catalog order then column order, as the tables print them.
  absl::flat_hash_map<std::string, int> order;
  for (size_t i = 0; i < view.indicators().size(); ++i) {
    order.emplace(view.indicators()[i].code(), static_cast<int>(i));
  }
  std::vector<std::pair<std::string, v1::IndicatorValue>> selected;
  absl::Status scanned = ScanStored<v1::IndicatorValue>(
      api::StoreReader(*store_), values_, UnitYearPrefix(request.parent(), request.year()), "value",
      [&](absl::string_view, v1::IndicatorValue value) {
        const v1::Indicator* indicator = view.FindIndicator(value.indicator());
        if (indicator == nullptr) return true;
        if (!request.table().empty() && indicator->table() != request.table()) return true;
        if (!request.column().empty() && value.column() != request.column()) return true;
        if (!wanted.empty() && !wanted.contains(value.indicator())) return true;
        int column_index = 999;
        if (const v1::CatalogTable* table = view.FindTable(indicator->table())) {
          for (int c = 0; c < table->columns_size(); ++c) {
            if (table->columns(c).id() == value.column()) column_index = c;
          }
        }
        selected.emplace_back(
            absl::StrFormat("%06d%03d|%s", order[value.indicator()], column_index, value.name()),
            std::move(value));
        return true;
      });
  if (!scanned.ok()) return scanned;
  std::sort(selected.begin(), selected.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // A position is the last value's place in that order, so a page resumes
  // right after it even when values were written in between.
  v1::ListValuesResponse response;
  std::string last;
  for (auto& [position, value] : selected) {
    if (!page->position.empty() && position <= page->position) continue;
    if (response.values_size() == page->size) {
      response.set_next_page_token(page->NextToken(last));
      break;
    }
    last = position;
    *response.add_values() = std::move(value);
  }
  return response;
}

absl::StatusOr<v1::ListValueHistoryResponse> Indicator::ListValueHistory(
    const v1::ListValueHistoryRequest& request) const {
  absl::StatusOr<ValueName> name = ParseValueName(request.name(), "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  // The newest revision is the value as stored; the history holds the older
  // ones, newest first (stores written before that also hold the newest).
  const std::string key = ValueKey(*name);
  v1::IndicatorValue current;
  absl::StatusOr<bool> found =
      ReadStored(api::StoreReader(*store_), values_, key, "value", &current);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound(request.name());
  v1::ListValueHistoryResponse response;
  const std::string newest = HistoryKey(key, current.revision());
  std::string last;
  if (page->position.empty()) {
    *response.add_revisions() = RevisionOf(current);
    last = newest;
  }
  absl::Status parsed;
  absl::Status scanned =
      store_->Scan(history_, absl::StrCat(key, "|"), std::max(page->position, newest),
                   [&](absl::string_view key, absl::string_view bytes) {
                     if (response.revisions_size() == page->size) {
                       response.set_next_page_token(page->NextToken(last));
                       return false;
                     }
                     parsed = ParseStored(bytes, "revision", key, response.add_revisions());
                     if (!parsed.ok()) return false;
                     last = std::string(key);
                     return true;
                   });
  if (!scanned.ok()) return scanned;
  if (!parsed.ok()) return parsed;
  return response;
}

absl::StatusOr<v1::IndicatorValue> Indicator::WriteValueInTxn(
    storage::Txn& txn, const ValueName& name, const v1::ValueWrite& write,
    const v1::CellValue& cell, absl::string_view field, const v1::Provenance& provenance) const {
  const std::string key = ValueKey(name);
  v1::IndicatorValue stored;
  absl::StatusOr<bool> found = txn.GetProto(values_, key, &stored);
  if (!found.ok()) return found.status();
  if (!write.etag().empty() && (!*found || stored.etag() != write.etag())) {
    const std::string etag_field = absl::StrCat(field, ".etag");
    return Error(absl::StatusCode::kAborted, "STALE_ETAG",
                 absl::StrCat(etag_field, ": ", write.name(),
                              *found ? " changed since it was read; get it again and retry"
                                     : " was never written, so it has no etag"),
                 {{"field", etag_field}, {"resource", write.name()}});
  }
  if (*found && SameCell(stored.value(), cell) &&
      stored.provenance().comment() == write.comment()) {
    return stored;
  }
  if (*found) {
    // The revision replaced joins the history; the newest lives only in values.
    txn.PutProto(history_, HistoryKey(key, stored.revision()), RevisionOf(stored));
  }
  v1::IndicatorValue value;
  value.set_name(FormatValueName(name));
  value.set_unit(name.unit);
  value.set_year(name.year);
  value.set_column(name.column);
  value.set_indicator(name.code);
  *value.mutable_value() = cell;
  *value.mutable_provenance() = provenance;
  value.mutable_provenance()->set_comment(write.comment());
  value.set_revision(*found ? stored.revision() + 1 : 1);
  const std::string bytes = api::SerializeWithEtag(&value);
  txn.Put(values_, key, bytes);
  txn.RecordChange(value.name(),
                   *found ? type::v1::CHANGE_KIND_UPDATED : type::v1::CHANGE_KIND_CREATED,
                   v1::IndicatorValue::descriptor()->full_name(), bytes);
  return value;
}

absl::StatusOr<bool> Indicator::HasExplanations(const Reader& read, absl::string_view unit,
                                                int year) const {
  bool any = false;
  absl::Status scanned = read.scan(explanations_, FindingsPrefix(unit, year),
                                   [&](absl::string_view, absl::string_view) {
                                     any = true;
                                     return false;
                                   });
  if (!scanned.ok()) return scanned;
  return any;
}

absl::Status Indicator::ClearStaleExplanations(storage::Txn& txn, const CatalogView& catalog,
                                               absl::string_view unit, int year) const {
  std::vector<std::pair<std::string, internal::ExplanationRecord>> stored;
  absl::Status scanned = ScanStored<internal::ExplanationRecord>(
      api::TxnReader(txn), explanations_, FindingsPrefix(unit, year), "explanation",
      [&](absl::string_view key, internal::ExplanationRecord record) {
        stored.emplace_back(std::string(key), std::move(record));
        return true;
      });
  if (!scanned.ok()) return scanned;
  if (stored.empty()) return absl::OkStatus();  // the common case: nothing to re-evaluate
  absl::StatusOr<ValueMap> values = ReadValues(api::TxnReader(txn), unit, year);
  if (!values.ok()) return values.status();
  absl::flat_hash_map<std::string, v1::Finding> findings;
  for (v1::Finding& finding : EvaluateRules(catalog, unit, *values, nullptr)) {
    std::string name = finding.name();
    findings.emplace(std::move(name), std::move(finding));
  }
  for (const auto& [name, record] : stored) {
    auto it = findings.find(name);
    bool holds = it != findings.end() && it->second.left() == record.left();
    // The registry's side of a comparison is not known here: only the stated
    // figure can be checked; reads re-check the rest.
    if (holds && it->second.kind() != v1::RULE_KIND_REGISTRY_COUNT) {
      holds = it->second.right() == record.right();
    }
    if (!holds) txn.Delete(explanations_, name);
  }
  return absl::OkStatus();
}

void Indicator::BatchUpsertValues(const v1::BatchUpsertValuesRequest& request,
                                  absl::string_view author, v1::BatchUpsertValuesResponse* response,
                                  Done done) {
  if (absl::Status s = ParseUnit(request.parent(), "parent").status(); !s.ok()) return done(s);
  if (absl::Status s = CheckYear(request.year(), "year"); !s.ok()) return done(s);
  if (request.writes().empty()) return done(RequiredField("writes"));
  if (request.writes_size() > kMaxWrites) {
    return done(InvalidField("writes", absl::StrCat("at most ", kMaxWrites, " per request")));
  }
  if (request.source_system().empty()) return done(RequiredField("source_system"));
  if (request.source_system().size() > kMaxSourceSystem) {
    return done(InvalidField("source_system", "at most 64 characters"));
  }
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year());
  if (!catalog.ok()) return done(catalog.status());

  // Everything that needs no lock or stored value is checked here, off the
  // writer thread; the writer re-checks only if the catalog moved meanwhile.
  auto names = std::make_shared<std::vector<ValueName>>();
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < request.writes_size(); ++i) {
    const v1::ValueWrite& write = request.writes(i);
    const std::string field = absl::StrCat("writes[", i, "]");
    absl::StatusOr<ValueName> name = ParseValueName(write.name(), field + ".name");
    if (!name.ok()) return done(name.status());
    if (name->unit != request.parent()) {
      return done(
          InvalidField(field + ".name", absl::StrCat("must lie under parent ", request.parent())));
    }
    if (name->year != request.year()) {
      return done(
          InvalidField(field + ".name", absl::StrCat("must carry the year ", request.year())));
    }
    if (!seen.insert(write.name()).second) {
      return done(InvalidField(field + ".name", "written twice in one batch"));
    }
    if (Characters(write.comment()) > kMaxComment) {
      return done(InvalidField(field + ".comment", "at most 2000 characters"));
    }
    if (absl::Status s = CheckWrite(*(*catalog)->view, write, field); !s.ok()) return done(s);
    names->push_back(*std::move(name));
  }
  auto mutate = [this, &request, author = std::string(author), names, checked = *catalog,
                 response](storage::Txn& txn) -> absl::Status {
    response->Clear();
    const Reader read = api::TxnReader(txn);
    absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
        LoadCatalog(request.year(), read);
    if (!catalog.ok()) return catalog.status();
    const CatalogView& view = *(*catalog)->view;
    if (*catalog != checked) {
      for (int i = 0; i < request.writes_size(); ++i) {
        if (absl::Status s = CheckWrite(view, request.writes(i), absl::StrCat("writes[", i, "]"));
            !s.ok()) {
          return s;
        }
      }
    }
    if (absl::Status s = locks_.CheckUnlocked(read, request.parent(), request.year()); !s.ok())
      return s;
    v1::Provenance provenance;
    provenance.set_author(author);
    provenance.set_source_system(request.source_system());
    *provenance.mutable_write_time() = ToTimestamp(txn.now());
    provenance.set_request_id(request.request_id());
    for (int i = 0; i < request.writes_size(); ++i) {
      const std::string field = absl::StrCat("writes[", i, "]");
      absl::StatusOr<v1::CellValue> cell =
          CanonicalCell(view, (*names)[i], request.writes(i), field);
      if (!cell.ok()) return cell.status();
      absl::StatusOr<v1::IndicatorValue> value =
          WriteValueInTxn(txn, (*names)[i], request.writes(i), *cell, field, provenance);
      if (!value.ok()) return value.status();  // the store rolls back the whole batch
      *response->add_values() = *std::move(value);
    }
    return ClearStaleExplanations(txn, view, request.parent(), request.year());
  };
  // Every write lies under the parent: one unit to check, before anything is
  // queued (the batch is all-or-nothing, so the first write names it).
  units_.Check(
      {request.parent()}, [this, &request, response, mutate = std::move(mutate),
                           done = std::move(done)](registry::UnitChecker::Checks checks) mutable {
        if (const absl::Status& check = checks[request.parent()]; !check.ok()) {
          return done(registry::UnitChecker::Refusal(check, "writes[0].name", request.parent()));
        }
        Submit("BatchUpsertValues", request.request_id(), request, response, std::move(mutate),
               std::move(done));
      });
}

void Indicator::IngestBatch(const v1::IngestValuesRequest& request, absl::string_view author,
                            v1::IngestValuesResponse* response, Done done) {
  if (request.rows_size() > kMaxWrites) {
    return done(InvalidField("rows", absl::StrCat("at most ", kMaxWrites, " rows per message")));
  }
  response->Clear();
  if (request.rows().empty()) return done(absl::OkStatus());
  if (request.source_system().empty()) return done(RequiredField("source_system"));
  if (request.source_system().size() > kMaxSourceSystem) {
    return done(InvalidField("source_system", "at most 64 characters"));
  }
  using Batch = api::RowBatch<v1::IngestValuesResponse>;
  Batch batch(request.rows_size(), response, std::move(done));

  // A row that passed the checks below, with what the writer needs of it
  // worked out here, off the writer thread.
  struct Checked {
    int index;
    ValueName name;
    std::string field;
    std::shared_ptr<const LoadedCatalog> catalog;  // the one checked against
    v1::CellValue cell;                            // CanonicalCell's
  };
  auto checked_rows = std::make_shared<std::vector<Checked>>();
  std::vector<std::string> units;
  absl::flat_hash_set<std::string> unit_set;
  // A message names a year or two: each catalog is looked up once.
  absl::flat_hash_map<int, absl::StatusOr<std::shared_ptr<const LoadedCatalog>>> catalogs;
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ValueWrite& row = request.rows(i);
    std::string field = absl::StrCat("rows[", i, "]");
    absl::StatusOr<ValueName> name = absl::UnknownError("unset");
    absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = absl::UnknownError("unset");
    absl::StatusOr<v1::CellValue> cell = absl::UnknownError("unset");
    absl::Status invalid = api::RequireRowRequestId(row.request_id(), field + ".request_id");
    if (invalid.ok()) {
      name = ParseValueName(row.name(), field + ".name");
      invalid = name.status();
    }
    if (invalid.ok() && Characters(row.comment()) > kMaxComment) {
      invalid = InvalidField(field + ".comment", "at most 2000 characters");
    }
    if (invalid.ok()) {
      auto loaded = catalogs.find(name->year);
      if (loaded == catalogs.end()) {
        loaded = catalogs.emplace(name->year, LoadCatalog(name->year)).first;
      }
      catalog = loaded->second;
      invalid = catalog.status();
    }
    if (invalid.ok()) invalid = CheckWrite(*(*catalog)->view, row, field);
    if (invalid.ok()) {
      cell = CanonicalCell(*(*catalog)->view, *name, row, field);
      invalid = cell.status();
    }
    if (!invalid.ok()) {
      batch.Reject(i, invalid);
      continue;
    }
    if (unit_set.insert(name->unit).second) units.push_back(name->unit);
    checked_rows->push_back(
        Checked{i, *std::move(name), std::move(field), *std::move(catalog), *std::move(cell)});
  }
  if (checked_rows->empty()) return;
  units_.Check(
      std::move(units), [this, &request, batch, checked_rows, author = std::string(author)](
                            registry::UnitChecker::Checks checks) mutable {
        std::vector<Batch::Row> rows;
        auto queued = std::make_shared<std::vector<Checked>>();
        for (Checked& row : *checked_rows) {
          const absl::Status& check = checks[row.name.unit];
          if (!check.ok()) {
            batch.Reject(row.index,
                         registry::UnitChecker::Refusal(check, row.field + ".name", row.name.unit));
            continue;
          }
          const v1::ValueWrite& message = request.rows(row.index);
          rows.push_back(Batch::Row{row.index, message.request_id(), &message});
          queued->push_back(std::move(row));
        }
        if (rows.empty()) return;
        // One mutation for the message: what a unit-year's rows share (catalog,
        // lock, whether it has explanations) is read once, as no row of the
        // message can change it; each row then commits or fails on its own.
        auto write_rows = [this, &request, batch, queued, author](
                              storage::Txn& txn, const Batch::WriteRow& write_row) mutable {
          const Reader read = api::TxnReader(txn);
          v1::Provenance provenance;
          provenance.set_author(author);
          provenance.set_source_system(request.source_system());
          *provenance.mutable_write_time() = ToTimestamp(txn.now());
          struct Shared {
            absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog;
            absl::Status unlocked;
            absl::StatusOr<bool> explained;
          };
          absl::flat_hash_map<std::pair<std::string, int>, Shared> unit_years;
          for (const Checked& row : *queued) {
            const ValueName& name = row.name;
            auto [it, first] = unit_years.try_emplace({name.unit, name.year});
            Shared& shared = it->second;
            if (first) {
              shared.catalog = LoadCatalog(name.year, read);
              shared.unlocked = locks_.CheckUnlocked(read, name.unit, name.year);
              shared.explained = HasExplanations(read, name.unit, name.year);
            }
            write_row(row.index, [&](storage::Txn& txn) -> absl::Status {
              if (!shared.catalog.ok()) return shared.catalog.status();
              const CatalogView& view = *(*shared.catalog)->view;
              const v1::ValueWrite& write = request.rows(row.index);
              const v1::CellValue* cell = &row.cell;
              absl::StatusOr<v1::CellValue> rechecked;
              if (*shared.catalog != row.catalog) {  // imported again since the checks
                if (absl::Status s = CheckWrite(view, write, row.field); !s.ok()) return s;
                rechecked = CanonicalCell(view, name, write, row.field);
                if (!rechecked.ok()) return rechecked.status();
                cell = &*rechecked;
              }
              if (!shared.unlocked.ok()) return shared.unlocked;
              provenance.set_request_id(write.request_id());
              absl::StatusOr<v1::IndicatorValue> value =
                  WriteValueInTxn(txn, name, write, *cell, row.field, provenance);
              if (!value.ok()) return value.status();
              batch.result(row.index)->set_resource(value->name());
              // Without explanations there is nothing to clear, and no row adds one.
              if (!shared.explained.ok()) return shared.explained.status();
              if (!*shared.explained) return absl::OkStatus();
              return ClearStaleExplanations(txn, view, name.unit, name.year);
            });
          }
        };
        batch.SubmitRows(*store_, "IngestValues", rows, std::move(write_rows));
      });
}

// ---- Tables, roll-ups and findings ------------------------------------------------------

void Indicator::GetTable(const v1::GetTableRequest& request, v1::IndicatorTable* response,
                         Done done) const {
  if (!v1::TableSource_IsValid(request.source())) {
    return done(InvalidField("source", absl::StrCat("unknown value ", request.source())));
  }
  v1::TableSource source = request.source();
  if (request.unit().empty()) {
    if (source == v1::TABLE_SOURCE_OWN) {
      return done(InvalidField("source", "the nation stores no values of its own; ask for ROLLUP"));
    }
    source = v1::TABLE_SOURCE_ROLLUP;
  } else {
    absl::StatusOr<Unit> unit = ParseUnit(request.unit(), "unit");
    if (!unit.ok()) return done(unit.status());
    if (source == v1::TABLE_SOURCE_UNSPECIFIED) source = v1::TABLE_SOURCE_OWN;
    if (source == v1::TABLE_SOURCE_ROLLUP && unit->level != Level::kProvince) {
      return done(InvalidField("source", "ROLLUP is for the nation and provinces"));
    }
  }
  if (source == v1::TABLE_SOURCE_OWN && !request.rollup_units().empty()) {
    return done(InvalidField("rollup_units", "only with source ROLLUP"));
  }
  if (absl::Status s = CheckChildUnits(request.unit(), request.rollup_units(), "rollup_units");
      !s.ok()) {
    return done(s);
  }
  if (absl::Status s = CheckYear(request.year(), "year"); !s.ok()) return done(s);
  if (request.table().empty()) return done(RequiredField("table"));
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year());
  if (!catalog.ok()) return done(catalog.status());
  if (absl::Status s = CheckTable(*(*catalog)->view, request.year(), request.table()); !s.ok()) {
    return done(s);
  }
  FetchFigures(*catalog, request.unit(),
               [this, &request, response, source, catalog = *catalog,
                done = std::move(done)](Figures figures) {
                 const CatalogView& view = *catalog->view;
                 const Reader read = api::StoreReader(*store_);
                 ValueMap values;
                 std::optional<RollupAccumulator> rolled;
                 if (source == v1::TABLE_SOURCE_OWN) {
                   absl::StatusOr<ValueMap> own = ReadValues(read, request.unit(), request.year());
                   if (!own.ok()) return done(own.status());
                   values = *std::move(own);
                 } else {
                   rolled.emplace(view);
                   if (absl::Status s = RollUp(request.unit(), request.year(), false,
                                               request.rollup_units(), &*rolled);
                       !s.ok()) {
                     return done(s);
                   }
                   rolled->Finish();
                   values = rolled->Values();
                 }
                 absl::StatusOr<v1::IndicatorTable> table =
                     BuildTable(view, request.table(), values, figures.get());
                 if (!table.ok()) return done(table.status());
                 table->set_unit(request.unit());
                 table->set_year(request.year());
                 table->set_source(source);
                 table->set_registry_unavailable(figures.needed && !figures.figures);
                 if (source == v1::TABLE_SOURCE_OWN) {
                   absl::StatusOr<type::v1::Lock> lock =
                       locks_.Read(read, request.unit(), request.year());
                   if (!lock.ok()) return done(lock.status());
                   table->set_locked(lock->locked());
                   absl::StatusOr<std::vector<v1::Finding>> findings =
                       Findings(view, request.unit(), request.year(), values, figures.get(), read);
                   if (!findings.ok()) return done(findings.status());
                   *table->mutable_findings() = Summarize(*findings);
                 } else {
                   for (v1::TableRow& row : *table->mutable_rows()) {
                     for (v1::TableCell& cell : *row.mutable_cells()) {
                       const int c = rolled->Find(cell.column(), row.indicator());
                       cell.set_reporting_units(c < 0 ? 0 : rolled->reporting(c));
                     }
                   }
                 }
                 *response = *std::move(table);
                 done(absl::OkStatus());
               });
}

absl::StatusOr<v1::Rollup> Indicator::GetRollup(const v1::GetRollupRequest& request) const {
  if (absl::Status s = CheckRollupUnit(request.unit(), "unit"); !s.ok()) return s;
  if (absl::Status s = CheckYear(request.year(), "year"); !s.ok()) return s;
  if (!v1::RollupBasis_IsValid(request.basis())) {
    return InvalidField("basis", absl::StrCat("unknown value ", request.basis()));
  }
  const v1::RollupBasis basis =
      request.basis() == v1::ROLLUP_BASIS_UNSPECIFIED ? v1::ROLLUP_BASIS_CHILDREN : request.basis();
  if (absl::Status s = CheckChildUnits(request.unit(), request.units(), "units"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year());
  if (!catalog.ok()) return catalog.status();
  const CatalogView& view = *(*catalog)->view;
  if (absl::Status s = CheckTable(view, request.year(), request.table()); !s.ok()) return s;
  absl::flat_hash_set<std::string> indicators;
  for (int i = 0; i < request.indicators_size(); ++i) {
    const v1::Indicator* indicator = view.FindIndicator(request.indicators(i));
    if (indicator == nullptr ||
        (!request.table().empty() && indicator->table() != request.table())) {
      return InvalidField(
          absl::StrCat("indicators[", i, "]"),
          absl::StrCat("no indicator \"", request.indicators(i), "\" in ",
                       request.table().empty() ? CatalogName(request.year()) : request.table()));
    }
    indicators.insert(request.indicators(i));
  }
  absl::flat_hash_set<std::string> columns;
  for (int i = 0; i < request.columns_size(); ++i) {
    if (!DeclaresColumn(view, request.table(), request.columns(i))) {
      return InvalidField(
          absl::StrCat("columns[", i, "]"),
          absl::StrCat("no selected table has a column \"", request.columns(i), "\""));
    }
    columns.insert(request.columns(i));
  }

  RollupAccumulator rolled(view);
  if (absl::Status s = RollUp(request.unit(), request.year(), basis == v1::ROLLUP_BASIS_COMMUNES,
                              request.units(), &rolled);
      !s.ok()) {
    return s;
  }
  rolled.Finish();
  v1::Rollup rollup;
  rollup.set_unit(request.unit());
  rollup.set_year(request.year());
  rollup.set_basis(basis);
  rollup.set_child_units(rolled.children());
  for (const std::string& silent : rolled.silent_units()) rollup.add_silent_units(silent);
  // The accumulator's cells are in catalog order then column order.
  for (int c = 0; c < rolled.cell_count(); ++c) {
    const v1::Indicator& indicator = rolled.indicator(c);
    const v1::Column& column = rolled.column(c);
    if (!request.table().empty() && indicator.table() != request.table()) continue;
    if (!indicators.empty() && !indicators.contains(indicator.code())) continue;
    if (!columns.empty() && !columns.contains(column.id())) continue;
    v1::RollupValue* value = rollup.add_values();
    value->set_indicator(indicator.code());
    value->set_column(column.id());
    *value->mutable_value() = rolled.value(c);
    value->set_reporting_units(rolled.reporting(c));
  }
  return rollup;
}

void Indicator::ListFindings(const v1::ListFindingsRequest& request,
                             v1::ListFindingsResponse* response, Done done) const {
  if (absl::Status s = ParseUnit(request.parent(), "parent").status(); !s.ok()) return done(s);
  if (absl::Status s = CheckYear(request.year(), "year"); !s.ok()) return done(s);
  if (!v1::Severity_IsValid(request.severity())) {
    return done(InvalidField("severity", absl::StrCat("unknown value ", request.severity())));
  }
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return done(page.status());
  // The evaluation order depends only on the catalog, not on the values.
  absl::StatusOr<size_t> start = IndexPosition(*page);
  if (!start.ok()) return done(start.status());
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year());
  if (!catalog.ok()) return done(catalog.status());
  if (absl::Status s = CheckTable(*(*catalog)->view, request.year(), request.table()); !s.ok()) {
    return done(s);
  }
  FetchFigures(
      *catalog, request.parent(),
      [this, &request, response, start = *start, page = *page, catalog = *catalog,
       done = std::move(done)](Figures figures) {
        const CatalogView& view = *catalog->view;
        const Reader read = api::StoreReader(*store_);
        absl::StatusOr<ValueMap> values = ReadValues(read, request.parent(), request.year());
        if (!values.ok()) return done(values.status());
        absl::StatusOr<std::vector<v1::Finding>> findings =
            Findings(view, request.parent(), request.year(), *values, figures.get(), read);
        if (!findings.ok()) return done(findings.status());
        response->Clear();
        *response->mutable_summary() = Summarize(*findings);
        PageByIndex(
            page, start, *findings,
            [&](const v1::Finding& finding) {
              if (!request.include_passed() && finding.outcome() == v1::FINDING_OUTCOME_PASSED) {
                return false;
              }
              if (request.severity() != v1::SEVERITY_UNSPECIFIED &&
                  finding.severity() != request.severity()) {
                return false;
              }
              if (request.blocking_only() && !finding.blocks_submission()) return false;
              if (request.table().empty()) return true;
              const v1::ValidationRule* rule = nullptr;
              for (const v1::ValidationRule& r : view.rules()) {
                if (RuleId(r.name()) == RuleId(finding.rule())) rule = &r;
              }
              const v1::Indicator* subject =
                  rule == nullptr ? nullptr : view.FindIndicator(rule->subject());
              return subject != nullptr && subject->table() == request.table();
            },
            [](v1::Finding& finding) { return std::move(finding); }, response->mutable_findings(),
            response->mutable_next_page_token());
        done(absl::OkStatus());
      });
}

void Indicator::ExplainFinding(const v1::ExplainFindingRequest& request, absl::string_view author,
                               v1::Finding* response, Done done) {
  absl::StatusOr<FindingName> name = ParseFindingName(request.name(), "name");
  if (!name.ok()) return done(name.status());
  if (absl::StripAsciiWhitespace(request.text()).empty()) return done(RequiredField("text"));
  if (Characters(request.text()) > kMaxExplanation) {
    return done(InvalidField("text", "at most 4000 characters"));
  }
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(name->year);
  if (!catalog.ok()) return done(catalog.status());
  const v1::ValidationRule* rule = nullptr;
  for (const v1::ValidationRule& r : (*catalog)->view->rules()) {
    if (RuleId(r.name()) == name->rule) rule = &r;
  }
  if (rule == nullptr) return done(NotFound(request.name()));

  auto submit = [this, &request, author = std::string(author), response, name = *name,
                 done = std::move(done)](Figures figures) mutable {
    auto mutate = [this, &request, author, response, name,
                   figures = std::move(figures)](storage::Txn& txn) -> absl::Status {
      const Reader read = api::TxnReader(txn);
      absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(name.year, read);
      if (!catalog.ok()) return catalog.status();
      if (absl::Status s = locks_.CheckUnlocked(read, name.unit, name.year); !s.ok()) return s;
      absl::StatusOr<ValueMap> values = ReadValues(read, name.unit, name.year);
      if (!values.ok()) return values.status();
      absl::StatusOr<std::vector<v1::Finding>> findings =
          Findings(*(*catalog)->view, name.unit, name.year, *values, figures.get(), read);
      if (!findings.ok()) return findings.status();
      auto it = std::find_if(findings->begin(), findings->end(),
                             [&](const v1::Finding& f) { return f.name() == request.name(); });
      if (it == findings->end()) return NotFound(request.name());
      if (it->outcome() != v1::FINDING_OUTCOME_FAILED) {
        return Error(absl::StatusCode::kFailedPrecondition, "FINDING_NOT_FAILED",
                     absl::StrCat(request.name(), " does not currently fail (",
                                  v1::FindingOutcome_Name(it->outcome()),
                                  "): only failed findings are explained"),
                     {{"resource", request.name()}});
      }
      if (absl::Status s = api::CheckEtag(request.etag(), it->etag()); !s.ok()) return s;
      internal::ExplanationRecord record;
      record.mutable_explanation()->set_text(request.text());
      record.mutable_explanation()->set_author(author);
      *record.mutable_explanation()->mutable_explain_time() = ToTimestamp(txn.now());
      record.set_left(it->left());
      record.set_right(it->right());
      txn.PutProto(explanations_, request.name(), record);
      *response = *it;
      Decorate(&record, response);
      txn.RecordChange(request.name(), type::v1::CHANGE_KIND_UPDATED, response);
      return absl::OkStatus();
    };
    Submit("ExplainFinding", request.request_id(), request, response, std::move(mutate),
           std::move(done));
  };
  // Only a registry comparison needs the registry's figure to know whether
  // the finding fails and what it compares.
  if (rule->kind() == v1::RULE_KIND_REGISTRY_COUNT) {
    FetchFigures(*catalog, name->unit, std::move(submit));
  } else {
    submit(Figures{});
  }
}

// ---- Locks and the change feed ---------------------------------------------------

absl::StatusOr<type::v1::Lock> Indicator::GetLock(const type::v1::GetLockRequest& request) const {
  return locks_.Get(api::StoreReader(*store_), request);
}

void Indicator::SetLock(const type::v1::SetLockRequest& request, type::v1::Lock* response,
                        Done done) {
  absl::StatusOr<std::function<absl::Status(storage::Txn&)>> mutate = locks_.Set(request, response);
  if (!mutate.ok()) return done(mutate.status());
  Submit("SetLock", request.request_id(), request, response, *std::move(mutate), std::move(done));
}

absl::StatusOr<type::v1::ListChangesResponse> Indicator::ListChanges(
    const type::v1::ListChangesRequest& request) const {
  return api::ListChanges(*store_, request);
}

}  // namespace htx::indicator
