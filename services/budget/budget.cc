#include "services/budget/budget.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/api/api.h"
#include "common/api/dates.h"
#include "common/api/units.h"
#include "common/api/writes.h"
#include "common/status/status.h"
#include "google/protobuf/util/message_differencer.h"

namespace htx::budget {
namespace {

using api::Characters;
using api::UnitYearPrefix;
using api::Year4;

constexpr char kCatalogs[] = "catalogs";
constexpr char kNeeds[] = "needs";
constexpr char kRecords[] = "records";
constexpr char kRecordIds[] = "record_ids";
constexpr char kLocks[] = "locks";
constexpr char kExplanations[] = "explanations";
constexpr char kNeedsCollection[] = "budget-needs";
constexpr char kFindingsCollection[] = "budget-findings";

constexpr int kMaxWrites = 1000;
constexpr size_t kMaxSourceSystem = 64;
constexpr size_t kMaxNote = 2000;
constexpr size_t kMaxBeneficiaryUnit = 200;
constexpr int kMaxUnclear = 20;
constexpr size_t kMaxDocumentNumber = 100;
constexpr size_t kMaxExplanation = 4000;

// The input fields of a need (what UpdateNeed's mask may name).
const std::vector<std::string>& NeedInputs() {
  static const auto* paths = new std::vector<std::string>{
      "beneficiaries", "beneficiary_unit", "planned", "stated_total_dong", "note", "unclear"};
  return *paths;
}

std::string Sub(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

bool ValidRecordId(absl::string_view id) {
  return !id.empty() && id.size() <= 40 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

// ---- Names --------------------------------------------------------------------

// "{unit}/budget-needs/{year}[/{code}[/records/{id}]]" or
// "{unit}/budget-findings/{year}/{code}/{check}", split.
struct BudgetName {
  std::string unit;
  int year = 0;
  std::string code;    // empty for a unit-year
  std::string record;  // record id, or the check id of a finding
};

enum class Shape { kUnitYear, kNeed, kRecord, kFinding };

absl::StatusOr<BudgetName> ParseName(absl::string_view name, Shape shape, absl::string_view field) {
  absl::string_view pattern;
  switch (shape) {
    case Shape::kUnitYear:
      pattern = "{unit}/budget-needs/{year}";
      break;
    case Shape::kNeed:
      pattern = "{unit}/budget-needs/{year}/{code}";
      break;
    case Shape::kRecord:
      pattern = "{unit}/budget-needs/{year}/{code}/records/{id}";
      break;
    case Shape::kFinding:
      pattern = "{unit}/budget-findings/{year}/{code}/{check}";
      break;
  }
  if (name.empty()) return RequiredField(field);
  auto malformed = [&] {
    return InvalidField(field, absl::StrCat("must be ", pattern), "INVALID_NAME");
  };
  const std::string collection =
      absl::StrCat("/", shape == Shape::kFinding ? kFindingsCollection : kNeedsCollection, "/");
  std::vector<absl::string_view> halves = absl::StrSplit(name, collection);
  if (halves.size() != 2) return malformed();
  if (absl::Status s = api::ParseUnit(halves[0], field).status(); !s.ok()) return s;
  std::vector<absl::string_view> rest = absl::StrSplit(halves[1], '/');
  const size_t expected = shape == Shape::kUnitYear ? 1 : shape == Shape::kNeed ? 2 : 3;
  const size_t parts = shape == Shape::kRecord ? 4 : expected;
  if (rest.size() != parts) return malformed();
  BudgetName parsed;
  parsed.unit = std::string(halves[0]);
  absl::StatusOr<int> year = api::ParseYearSegment(rest[0], field, pattern);
  if (!year.ok()) return year.status();
  parsed.year = *year;
  if (shape == Shape::kUnitYear) return parsed;
  if (rest[1].empty() || rest[1].size() > 32) return malformed();
  parsed.code = std::string(rest[1]);
  if (shape == Shape::kRecord) {
    if (rest[2] != "records" || !ValidRecordId(rest[3])) return malformed();
    parsed.record = std::string(rest[3]);
  } else if (shape == Shape::kFinding) {
    if (CheckFromId(rest[2]) == v1::BUDGET_CHECK_UNSPECIFIED) return malformed();
    parsed.record = std::string(rest[2]);
  }
  return parsed;
}

std::string NeedName(absl::string_view unit, int year, absl::string_view code) {
  return absl::StrCat(unit, "/", kNeedsCollection, "/", year, "/", code);
}

std::string NeedKey(absl::string_view unit, int year, absl::string_view code) {
  return absl::StrCat(UnitYearPrefix(unit, year), code);
}

std::string RecordIdKey(const BudgetName& name) {
  return absl::StrCat(UnitYearPrefix(name.unit, name.year), name.code, "|", name.record);
}

// Keys are "{year4}|{level}|{unit}|..." and units hold no '|'.
std::vector<absl::string_view> KeyParts(absl::string_view key) { return absl::StrSplit(key, '|'); }

// ---- Presenting ---------------------------------------------------------------

v1::Catalog PresentCatalog(const internal::CatalogRecord& record) {
  v1::Catalog catalog = record.input().catalog();
  catalog.set_name(api::CatalogName(catalog.year()));
  catalog.set_line_count(record.input().lines_size());
  if (record.has_update_time()) *catalog.mutable_update_time() = record.update_time();
  catalog.set_etag(record.etag());
  return catalog;
}

v1::Line PresentLine(const v1::Line& given) {
  v1::Line line = given;
  line.clear_etag();
  line.set_etag(api::ComputeEtag(line));
  return line;
}

// Only the fields a writer enters, for "did anything change".
v1::Need Inputs(const v1::Need& need) {
  v1::Need inputs;
  if (need.has_beneficiaries()) inputs.set_beneficiaries(need.beneficiaries());
  inputs.set_beneficiary_unit(need.beneficiary_unit());
  *inputs.mutable_planned() = need.planned();
  inputs.mutable_planned()->clear_total_dong();
  if (need.has_stated_total_dong()) inputs.set_stated_total_dong(need.stated_total_dong());
  inputs.set_note(need.note());
  *inputs.mutable_unclear() = need.unclear();
  return inputs;
}

// The explanation of a finding applies while both sides are unchanged.
bool ExplanationHolds(const internal::ExplanationRecord& stored, const v1::Finding& finding) {
  return stored.has_stated() == finding.has_stated() && stored.stated() == finding.stated() &&
         stored.has_expected() == finding.has_expected() &&
         stored.expected() == finding.expected() &&
         (finding.check() != v1::BUDGET_CHECK_PRINTED_UNCLEAR ||
          stored.message() == finding.message());
}

void Decorate(const internal::ExplanationRecord* stored, v1::Finding* finding) {
  finding->clear_explanation();
  if (stored != nullptr && ExplanationHolds(*stored, *finding)) {
    *finding->mutable_explanation() = stored->explanation();
  }
  finding->set_blocks_submission(
      finding->outcome() == v1::FINDING_OUTCOME_FAILED &&
      (finding->severity() == v1::SEVERITY_ERROR || !finding->has_explanation()));
  finding->clear_etag();
  finding->set_etag(api::ComputeEtag(*finding));
}

absl::Status CheckTable(const CatalogView& view, const std::string& table) {
  if (table.empty() || view.FindTable(table) != nullptr) return absl::OkStatus();
  return InvalidField("table",
                      absl::StrCat(view.catalog().name(), " has no table \"", table, "\""));
}

bool InTable(const CatalogView& view, const std::string& table, absl::string_view code) {
  if (table.empty()) return true;
  const v1::Line* line = view.FindLine(code);
  return line != nullptr && line->table() == table;
}

absl::Status CheckSourceSystem(const std::string& source_system) {
  if (source_system.empty()) return RequiredField("source_system");
  if (source_system.size() > kMaxSourceSystem) {
    return InvalidField("source_system", "at most 64 characters");
  }
  return absl::OkStatus();
}

v1::Provenance MakeProvenance(absl::string_view author, const std::string& source_system,
                              absl::Time now, const std::string& request_id) {
  v1::Provenance provenance;
  provenance.set_author(std::string(author));
  provenance.set_source_system(source_system);
  *provenance.mutable_write_time() = api::ToTimestamp(now);
  provenance.set_request_id(request_id);
  return provenance;
}

// Amounts of a funding record: at least one source, each >= 0, following
// the line's source_split.
absl::Status CheckRecordAmounts(const v1::Line& line, const v1::SourceAmounts& a,
                                absl::string_view field) {
  const std::pair<bool, int64_t> sources[] = {{a.has_central_dong(), a.central_dong()},
                                              {a.has_local_dong(), a.local_dong()},
                                              {a.has_other_dong(), a.other_dong()},
                                              {a.has_unspecified_dong(), a.unspecified_dong()}};
  const char* names[] = {"central_dong", "local_dong", "other_dong", "unspecified_dong"};
  bool any = false;
  for (int i = 0; i < 4; ++i) {
    if (!sources[i].first) continue;
    any = true;
    const std::string f = absl::StrCat(field, ".", names[i]);
    if (sources[i].second < 0) return InvalidField(f, "must not be negative");
    if (!line.source_split() && i < 3) {
      return InvalidField(
          f, absl::StrCat("line ", line.code(), " takes a single unspecified_dong amount"));
    }
  }
  if (!any) return RequiredField(field);
  return absl::OkStatus();
}

}  // namespace

// ---- Plumbing -----------------------------------------------------------------

std::vector<std::string> Budget::ColumnFamilies() {
  return {kCatalogs, kNeeds, kRecords, kRecordIds, kLocks, kExplanations};
}

Budget::Budget(storage::Store* store, registry::RegistryClient* registry,
               std::function<absl::Time()> clock)
    : store_(store),
      registry_(registry),
      units_(registry),
      clock_(std::move(clock)),
      catalogs_(store->family(kCatalogs)),
      needs_(store->family(kNeeds)),
      records_(store->family(kRecords)),
      record_ids_(store->family(kRecordIds)),
      explanations_(store->family(kExplanations)),
      locks_(store->family(kLocks), "budget-locks",
             "its needs and the explanations of findings on them") {}

void Budget::Submit(absl::string_view method, absl::string_view request_id,
                    const google::protobuf::Message& request, google::protobuf::Message* response,
                    std::function<absl::Status(storage::Txn&)> mutate, Done done) {
  api::SubmitIdempotent(*store_, method, request_id, request, response, std::move(mutate),
                        std::move(done));
}

absl::StatusOr<std::shared_ptr<const Budget::LoadedCatalog>> Budget::LoadCatalog(
    int year, const api::Reader& read) const {
  return catalogs_.Load(year, read);
}

// ---- Catalogs -----------------------------------------------------------------

absl::Status Budget::CheckCatalogReplaceable(const CatalogView& view,
                                             const api::Reader& read) const {
  const int year = view.catalog().year();
  absl::StatusOr<std::optional<std::string>> locked = locks_.FirstLocked(read, year);
  if (!locked.ok()) return locked.status();
  if (locked->has_value()) {
    return Error(
        absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE",
        absl::StrCat(api::CatalogName(year), " cannot be replaced while ", **locked, " is locked"),
        {{"resource", **locked}});
  }
  // Every stored need and record of the year must keep a line it still
  // fits: a line dropped, a leaf with amounts turned parent (its amounts
  // would vanish from every total) or a split taken away would lose data.
  std::string resource;
  std::string problem;
  absl::Status scanned = api::ScanStored<v1::Need>(
      read, needs_, absl::StrCat(Year4(year), "|"), "need",
      [&](absl::string_view, const v1::Need& need) {
        if (view.FindLine(need.line()) == nullptr) {
          problem = "drops the line of";
        } else if (!CheckNeed(view, need, "need").ok()) {
          problem = "changes the line (children or source split) under the amounts of";
        } else {
          return true;
        }
        resource = need.name();
        return false;
      });
  if (scanned.ok() && resource.empty()) {
    scanned = api::ScanStored<v1::FundingRecord>(
        read, records_, absl::StrCat(Year4(year), "|"), "funding record",
        [&](absl::string_view key, const v1::FundingRecord& record) {
          std::vector<absl::string_view> parts = KeyParts(key);
          const v1::Line* line = parts.size() == 6 ? view.FindLine(parts[4]) : nullptr;
          if (line == nullptr) {
            problem = "drops the line of";
          } else if (line->has_children() ||
                     !CheckRecordAmounts(*line, record.amounts(), "amounts").ok()) {
            problem = "changes the line (children or source split) under";
          } else {
            return true;
          }
          resource = record.name();
          return false;
        });
  }
  if (!scanned.ok()) return scanned;
  if (resource.empty()) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition, "CATALOG_IN_USE",
               absl::StrCat("the new catalog ", problem, " ", resource,
                            ", which has data; keep the line as it is or change the data first"),
               {{"resource", resource}});
}

void Budget::ImportCatalog(const v1::ImportCatalogRequest& request, v1::Catalog* response,
                           Done done) {
  catalogs_.Import(
      *store_, request,
      // Output-only fields are derived, never taken from the caller.
      [](v1::ImportCatalogRequest* input) {
        v1::Catalog& catalog = *input->mutable_catalog();
        catalog.clear_name();
        catalog.clear_line_count();
        catalog.clear_update_time();
        catalog.clear_etag();
        for (v1::Line& line : *input->mutable_lines()) {
          line.clear_name();
          line.clear_has_children();
          line.clear_etag();
        }
      },
      [this](const CatalogView& view, const api::Reader& read) {
        return CheckCatalogReplaceable(view, read);
      },
      PresentCatalog, response, std::move(done));
}

absl::StatusOr<v1::Catalog> Budget::GetCatalog(const v1::GetCatalogRequest& request) const {
  return catalogs_.Get(*store_, request.name(), PresentCatalog);
}

absl::StatusOr<v1::ListCatalogsResponse> Budget::ListCatalogs(
    const v1::ListCatalogsRequest& request) const {
  return catalogs_.ListPage<v1::ListCatalogsResponse>(*store_, request, PresentCatalog);
}

absl::StatusOr<v1::Line> Budget::GetLine(const v1::GetLineRequest& request) const {
  if (request.name().empty()) return RequiredField("name");
  std::vector<absl::string_view> parts = absl::StrSplit(request.name(), '/');
  if (parts.size() != 4 || parts[2] != "lines" || parts[3].empty()) {
    return InvalidField("name", "must be catalogs/{year}/lines/{code}", "INVALID_NAME");
  }
  absl::StatusOr<int> year = api::ParseCatalogName(absl::StrCat(parts[0], "/", parts[1]), "name");
  if (!year.ok()) return year.status();
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
      LoadCatalog(*year, api::StoreReader(*store_));
  if (!catalog.ok()) return catalog.status();
  const v1::Line* line = (*catalog)->view->FindLine(parts[3]);
  if (line == nullptr) return NotFound(request.name());
  return PresentLine(*line);
}

absl::StatusOr<v1::ListLinesResponse> Budget::ListLines(const v1::ListLinesRequest& request) const {
  absl::StatusOr<int> year = api::ParseCatalogName(request.parent(), "parent");
  if (!year.ok()) return year.status();
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
      LoadCatalog(*year, api::StoreReader(*store_));
  if (!catalog.ok()) return catalog.status();
  const CatalogView& view = *(*catalog)->view;
  if (absl::Status s = CheckTable(view, request.table()); !s.ok()) return s;
  absl::StatusOr<size_t> start = api::IndexPosition(*page);
  if (!start.ok()) return start.status();
  v1::ListLinesResponse response;
  api::PageByIndex(
      *page, *start, view.lines(),
      [&](const v1::Line& line) {
        return request.table().empty() || line.table() == request.table();
      },
      PresentLine, response.mutable_lines(), response.mutable_next_page_token());
  return response;
}

// ---- Reading a unit-year --------------------------------------------------------

absl::StatusOr<NeedMap> Budget::ReadOwnNeeds(const api::Reader& read, absl::string_view unit,
                                             int year) const {
  NeedMap own;
  absl::Status scanned = api::ScanStored<v1::Need>(read, needs_, UnitYearPrefix(unit, year), "need",
                                                   [&](absl::string_view, v1::Need need) {
                                                     std::string line = need.line();
                                                     own.emplace(std::move(line), std::move(need));
                                                     return true;
                                                   });
  if (!scanned.ok()) return scanned;
  return own;
}

absl::StatusOr<Budget::UnitYearData> Budget::ReadUnitYear(const api::Reader& read,
                                                          const CatalogView& catalog,
                                                          absl::string_view unit, int year,
                                                          int32_t as_of) const {
  absl::StatusOr<NeedMap> own = ReadOwnNeeds(read, unit, year);
  if (!own.ok()) return own.status();
  UnitYearData data;
  absl::StatusOr<std::vector<v1::Need>> needs = ComputeNeeds(catalog, *own);
  if (!needs.ok()) return needs.status();
  data.needs = *std::move(needs);
  for (v1::Need& need : data.needs) {
    need.set_name(NeedName(unit, year, need.line()));
    need.set_unit(std::string(unit));
    need.set_year(year);
  }
  // Records are keyed by date, so an as-of reading stops at the first later one.
  const std::string prefix = UnitYearPrefix(unit, year);
  absl::Status scanned = api::ScanStored<v1::FundingRecord>(
      read, records_, prefix, "funding record", [&](absl::string_view key, v1::FundingRecord r) {
        if (as_of != 0 && api::ToDayKey(r.date()) > as_of) return false;
        data.records.push_back(std::move(r));
        return true;
      });
  if (!scanned.ok()) return scanned;
  std::vector<LineRecord> lines;
  for (const v1::FundingRecord& r : data.records) {
    absl::StatusOr<BudgetName> name = ParseName(r.name(), Shape::kRecord, "record");
    if (!name.ok()) return api::Corrupt("funding record", r.name());
    lines.push_back({name->code, &r});
  }
  if (absl::Status s = AddExecution(catalog, lines, &data.needs); !s.ok()) return s;
  return data;
}

absl::StatusOr<v1::Need> Budget::GetNeed(const v1::GetNeedRequest& request) const {
  absl::StatusOr<BudgetName> name = ParseName(request.name(), Shape::kNeed, "name");
  if (!name.ok()) return name.status();
  const api::Reader read = api::StoreReader(*store_);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(name->year, read);
  if (!catalog.ok()) return catalog.status();
  if ((*catalog)->view->FindLine(name->code) == nullptr) {
    return InvalidField(
        "name", absl::StrCat("no line \"", name->code, "\" in ", api::CatalogName(name->year)));
  }
  absl::StatusOr<UnitYearData> data = ReadUnitYear(read, *(*catalog)->view, name->unit, name->year);
  if (!data.ok()) return data.status();
  for (v1::Need& need : data->needs) {
    if (need.line() == name->code) return std::move(need);
  }
  return NotFound(request.name());
}

absl::StatusOr<v1::ListNeedsResponse> Budget::ListNeeds(const v1::ListNeedsRequest& request) const {
  if (absl::Status s = api::ParseUnit(request.parent(), "parent").status(); !s.ok()) return s;
  if (absl::Status s = api::CheckYear(request.year(), "year"); !s.ok()) return s;
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  const api::Reader read = api::StoreReader(*store_);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year(), read);
  if (!catalog.ok()) return catalog.status();
  const CatalogView& view = *(*catalog)->view;
  if (absl::Status s = CheckTable(view, request.table()); !s.ok()) return s;
  absl::StatusOr<UnitYearData> data = ReadUnitYear(read, view, request.parent(), request.year());
  if (!data.ok()) return data.status();
  absl::StatusOr<size_t> start = api::IndexPosition(*page);
  if (!start.ok()) return start.status();
  v1::ListNeedsResponse response;
  api::PageByIndex(
      *page, *start, data->needs,
      [&](const v1::Need& need) { return InTable(view, request.table(), need.line()); },
      [](const v1::Need& need) { return need; }, response.mutable_needs(),
      response.mutable_next_page_token());
  return response;
}

// ---- Writing needs --------------------------------------------------------------

absl::StatusOr<v1::Need> Budget::WriteNeedInTxn(storage::Txn& txn, const CatalogView& catalog,
                                                const v1::NeedWrite& write, bool create,
                                                absl::string_view field,
                                                const v1::Provenance& provenance) const {
  const std::string need_field = Sub(field, "need");
  absl::StatusOr<BudgetName> name =
      ParseName(write.need().name(), Shape::kNeed, Sub(need_field, "name"));
  if (!name.ok()) return name.status();
  const std::string key = NeedKey(name->unit, name->year, name->code);
  v1::Need stored;
  absl::StatusOr<bool> found = txn.GetProto(needs_, key, &stored);
  if (!found.ok()) return found.status();
  if (!*found && !create) return NotFound(write.need().name());
  if (!write.need().etag().empty() && (!*found || stored.etag() != write.need().etag())) {
    const std::string etag_field = Sub(need_field, "etag");
    return Error(absl::StatusCode::kAborted, "STALE_ETAG",
                 absl::StrCat(etag_field, ": ", write.need().name(),
                              *found ? " changed since it was read; get it again and retry"
                                     : " was never written, so it has no etag"),
                 {{"field", etag_field}, {"resource", write.need().name()}});
  }
  // need.line is output only: an unknown code is the name's fault.
  if (catalog.FindLine(name->code) == nullptr) {
    return InvalidField(Sub(need_field, "name"),
                        absl::StrCat("no line \"", name->code, "\" in ", catalog.catalog().name()));
  }
  // The computed total is output only, though it lies under an input path;
  // so is all of planned on a parent (the sums of its children).
  const bool parent = catalog.FindLine(name->code)->has_children();
  for (const std::string& path : write.update_mask().paths()) {
    if (path == "planned.total_dong") {
      return InvalidField(Sub(field, "update_mask"),
                          "path \"planned.total_dong\" is output only (the sum of the sources)");
    }
    if (parent && (path == "planned" || absl::StartsWith(path, "planned."))) {
      return InvalidField(Sub(field, "update_mask"),
                          absl::StrCat("path \"", path, "\": line ", name->code,
                                       " has children, its amounts are their sums"));
    }
  }
  v1::Need merged = *found ? stored : v1::Need();
  if (write.update_mask().paths().empty()) {
    const v1::Need inputs = Inputs(write.need());
    merged.clear_beneficiaries();
    merged.clear_stated_total_dong();
    merged.MergeFrom(inputs);
    merged.set_beneficiary_unit(inputs.beneficiary_unit());
    merged.set_note(inputs.note());
    *merged.mutable_planned() = inputs.planned();
    *merged.mutable_unclear() = inputs.unclear();
  } else if (absl::Status s = api::ApplyFieldMask(write.update_mask(), write.need(), NeedInputs(),
                                                  &merged, Sub(field, "update_mask"));
             !s.ok()) {
    return s;
  }
  merged.mutable_planned()->clear_total_dong();
  merged.set_name(NeedName(name->unit, name->year, name->code));
  merged.set_unit(name->unit);
  merged.set_year(name->year);
  merged.set_line(name->code);
  if (absl::Status s = CheckNeed(catalog, merged, need_field); !s.ok()) return s;
  if (Characters(merged.note()) > kMaxNote) {
    return InvalidField(Sub(need_field, "note"), "at most 2000 characters");
  }
  if (Characters(merged.beneficiary_unit()) > kMaxBeneficiaryUnit) {
    return InvalidField(Sub(need_field, "beneficiary_unit"), "at most 200 characters");
  }
  if (merged.unclear_size() > kMaxUnclear) {
    return InvalidField(Sub(need_field, "unclear"), "at most 20 sentences");
  }
  for (int i = 0; i < merged.unclear_size(); ++i) {
    if (merged.unclear(i).empty() || Characters(merged.unclear(i)) > kMaxNote) {
      return InvalidField(absl::StrCat(need_field, ".unclear[", i, "]"), "1..2000 characters");
    }
  }
  // An unchanged need makes no revision.
  if (*found &&
      google::protobuf::util::MessageDifferencer::Equals(Inputs(stored), Inputs(merged))) {
    return stored;
  }
  merged.clear_execution();
  *merged.mutable_provenance() = provenance;
  merged.set_revision(*found ? stored.revision() + 1 : 1);
  merged.clear_etag();
  merged.set_etag(api::ComputeEtag(merged));
  txn.PutProto(needs_, key, merged);
  txn.RecordChange(merged.name(),
                   *found ? type::v1::CHANGE_KIND_UPDATED : type::v1::CHANGE_KIND_CREATED, &merged);
  return merged;
}

absl::Status Budget::CheckSums(storage::Txn& txn, const CatalogView& catalog,
                               absl::string_view unit, int year, absl::string_view field) const {
  absl::StatusOr<NeedMap> own = ReadOwnNeeds(api::TxnReader(txn), unit, year);
  if (!own.ok()) return own.status();
  absl::StatusOr<std::vector<v1::Need>> needs = ComputeNeeds(catalog, *own);
  if (needs.ok()) return absl::OkStatus();
  if (needs.status().code() != absl::StatusCode::kInvalidArgument) return needs.status();
  return InvalidField(field, absl::StrCat("the sums of ", unit, "'s ", year,
                                          " needs would exceed what int64 đồng can hold (",
                                          needs.status().message(), ")"));
}

void Budget::UpdateNeed(const v1::UpdateNeedRequest& request, absl::string_view author,
                        v1::Need* response, Done done) {
  if (!request.has_need()) return done(RequiredField("need"));
  absl::StatusOr<BudgetName> name = ParseName(request.need().name(), Shape::kNeed, "need.name");
  if (!name.ok()) return done(name.status());
  if (request.update_mask().paths().empty()) return done(RequiredField("update_mask"));
  if (absl::Status s = CheckSourceSystem(request.source_system()); !s.ok()) return done(s);
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  units_.Check({name->unit}, [this, &request, author = std::string(author), name = *name, response,
                              done =
                                  std::move(done)](registry::UnitChecker::Checks checks) mutable {
    const absl::Status& check = checks[name.unit];
    if (!check.ok()) {
      return done(registry::UnitChecker::Refusal(check, "need.name", name.unit));
    }
    auto mutate = [this, &request, author, name, response](storage::Txn& txn) -> absl::Status {
      const api::Reader read = api::TxnReader(txn);
      absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(name.year, read);
      if (!catalog.ok()) return catalog.status();
      const CatalogView& view = *(*catalog)->view;
      if (absl::Status s = locks_.CheckUnlocked(read, name.unit, name.year); !s.ok()) return s;
      v1::NeedWrite write;
      *write.mutable_need() = request.need();
      *write.mutable_update_mask() = request.update_mask();
      absl::StatusOr<v1::Need> written = WriteNeedInTxn(
          txn, view, write, request.allow_missing(), "",
          MakeProvenance(author, request.source_system(), txn.now(), request.request_id()));
      if (!written.ok()) return written.status();
      if (absl::Status s = CheckSums(txn, view, name.unit, name.year, "need.planned"); !s.ok()) {
        return s;
      }
      absl::StatusOr<UnitYearData> data = ReadUnitYear(read, view, name.unit, name.year);
      if (!data.ok()) return data.status();
      for (v1::Need& need : data->needs) {
        if (need.line() == name.code) *response = std::move(need);
      }
      return absl::OkStatus();
    };
    Submit("UpdateNeed", request.request_id(), request, response, std::move(mutate),
           std::move(done));
  });
}

void Budget::BatchUpsertNeeds(const v1::BatchUpsertNeedsRequest& request, absl::string_view author,
                              v1::BatchUpsertNeedsResponse* response, Done done) {
  if (absl::Status s = api::ParseUnit(request.parent(), "parent").status(); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = api::CheckYear(request.year(), "year"); !s.ok()) return done(s);
  if (request.writes().empty()) return done(RequiredField("writes"));
  if (request.writes_size() > kMaxWrites) {
    return done(InvalidField("writes", "at most 1000 writes per batch"));
  }
  if (absl::Status s = CheckSourceSystem(request.source_system()); !s.ok()) return done(s);
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < request.writes_size(); ++i) {
    const std::string field = absl::StrCat("writes[", i, "].need.name");
    absl::StatusOr<BudgetName> name =
        ParseName(request.writes(i).need().name(), Shape::kNeed, field);
    if (!name.ok()) return done(name.status());
    if (name->unit != request.parent() || name->year != request.year()) {
      return done(InvalidField(field, absl::StrCat("must lie under ", request.parent(), "/",
                                                   kNeedsCollection, "/", request.year())));
    }
    if (!names.insert(request.writes(i).need().name()).second) {
      return done(InvalidField(field, "named twice in the batch"));
    }
  }
  units_.Check({request.parent()}, [this, &request, author = std::string(author), response,
                                    done = std::move(done)](
                                       registry::UnitChecker::Checks checks) mutable {
    const absl::Status& check = checks[request.parent()];
    if (!check.ok()) {
      return done(registry::UnitChecker::Refusal(check, "parent", request.parent()));
    }
    auto mutate = [this, &request, author, response](storage::Txn& txn) -> absl::Status {
      const api::Reader read = api::TxnReader(txn);
      absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
          LoadCatalog(request.year(), read);
      if (!catalog.ok()) return catalog.status();
      const CatalogView& view = *(*catalog)->view;
      if (absl::Status s = locks_.CheckUnlocked(read, request.parent(), request.year()); !s.ok()) {
        return s;
      }
      const v1::Provenance provenance =
          MakeProvenance(author, request.source_system(), txn.now(), request.request_id());
      for (int i = 0; i < request.writes_size(); ++i) {
        absl::StatusOr<v1::Need> written =
            WriteNeedInTxn(txn, view, request.writes(i), /*create=*/true,
                           absl::StrCat("writes[", i, "]"), provenance);
        if (!written.ok()) return written.status();
      }
      if (absl::Status s = CheckSums(txn, view, request.parent(), request.year(), "writes");
          !s.ok()) {
        return s;
      }
      absl::StatusOr<UnitYearData> data =
          ReadUnitYear(read, view, request.parent(), request.year());
      if (!data.ok()) return data.status();
      response->Clear();
      for (const v1::NeedWrite& write : request.writes()) {
        for (const v1::Need& need : data->needs) {
          if (need.name() == write.need().name()) *response->add_needs() = need;
        }
      }
      return absl::OkStatus();
    };
    Submit("BatchUpsertNeeds", request.request_id(), request, response, std::move(mutate),
           std::move(done));
  });
}

void Budget::IngestBatch(const v1::IngestNeedsRequest& request, absl::string_view author,
                         v1::IngestNeedsResponse* response, Done done) {
  if (request.rows_size() > kMaxWrites) {
    return done(InvalidField("rows", "at most 1000 rows per message"));
  }
  response->Clear();
  if (request.rows().empty()) return done(absl::OkStatus());
  if (absl::Status s = CheckSourceSystem(request.source_system()); !s.ok()) return done(s);
  api::RowBatch<v1::IngestNeedsResponse> batch(request.rows_size(), response, std::move(done));

  struct Checked {
    int index;
    std::string unit;
    std::function<absl::Status(storage::Txn&)> mutate;
  };
  auto checked_rows = std::make_shared<std::vector<Checked>>();
  std::vector<std::string> units;
  absl::flat_hash_set<std::string> unit_set;
  const std::string author_copy(author);
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::NeedWrite& row = request.rows(i);
    const std::string field = absl::StrCat("rows[", i, "]");
    absl::StatusOr<BudgetName> name = absl::UnknownError("unset");
    absl::Status invalid = api::RequireRowRequestId(row.request_id(), field + ".request_id");
    if (invalid.ok()) {
      name = ParseName(row.need().name(), Shape::kNeed, field + ".need.name");
      invalid = name.status();
    }
    if (invalid.ok()) invalid = LoadCatalog(name->year, api::StoreReader(*store_)).status();
    if (!invalid.ok()) {
      batch.Reject(i, invalid);
      continue;
    }
    type::v1::RowResult* result = batch.result(i);
    auto mutate = [this, &row, &request, name = *name, field, author_copy,
                   result](storage::Txn& txn) -> absl::Status {
      const api::Reader read = api::TxnReader(txn);
      absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(name.year, read);
      if (!catalog.ok()) return catalog.status();
      const CatalogView& view = *(*catalog)->view;
      if (absl::Status s = locks_.CheckUnlocked(read, name.unit, name.year); !s.ok()) return s;
      absl::StatusOr<v1::Need> written = WriteNeedInTxn(
          txn, view, row, /*create=*/true, field,
          MakeProvenance(author_copy, request.source_system(), txn.now(), row.request_id()));
      if (!written.ok()) return written.status();
      if (absl::Status s = CheckSums(txn, view, name.unit, name.year, field + ".need.planned");
          !s.ok()) {
        return s;
      }
      result->set_resource(written->name());
      return absl::OkStatus();
    };
    if (unit_set.insert(name->unit).second) units.push_back(name->unit);
    checked_rows->push_back(Checked{i, name->unit, std::move(mutate)});
  }
  if (checked_rows->empty()) return;
  units_.Check(std::move(units), [this, &request, batch,
                                  checked_rows](registry::UnitChecker::Checks checks) mutable {
    std::vector<api::RowBatch<v1::IngestNeedsResponse>::Row> rows;
    auto queued = std::make_shared<std::vector<Checked>>();
    for (Checked& row : *checked_rows) {
      const absl::Status& check = checks[row.unit];
      if (!check.ok()) {
        batch.Reject(row.index,
                     registry::UnitChecker::Refusal(
                         check, absl::StrCat("rows[", row.index, "].need.name"), row.unit));
        continue;
      }
      const v1::NeedWrite& message = request.rows(row.index);
      rows.push_back({row.index, message.request_id(), &message});
      queued->push_back(std::move(row));
    }
    if (rows.empty()) return;
    // One writer turn for the message; each row commits or fails on its own.
    batch.SubmitRows(*store_, "IngestNeeds", rows, [queued](storage::Txn&, const auto& write_row) {
      for (const Checked& row : *queued) write_row(row.index, row.mutate);
    });
  });
}

// ---- Allocations and disbursements --------------------------------------------------

void Budget::CreateFundingRecord(const v1::CreateFundingRecordRequest& request,
                                 absl::string_view author, v1::FundingRecord* response, Done done) {
  absl::StatusOr<BudgetName> parent = ParseName(request.parent(), Shape::kNeed, "parent");
  if (!parent.ok()) return done(parent.status());
  if (!request.record_id().empty() && !ValidRecordId(request.record_id())) {
    return done(InvalidField("record_id", "1..40 of [a-z0-9-]"));
  }
  if (!request.has_record()) return done(RequiredField("record"));
  const v1::FundingRecord& given = request.record();
  if (given.kind() == v1::FUNDING_RECORD_KIND_UNSPECIFIED) {
    return done(RequiredField("record.kind"));
  }
  if (!v1::FundingRecordKind_IsValid(given.kind())) {
    return done(InvalidField("record.kind", absl::StrCat("unknown value ", given.kind())));
  }
  if (absl::Status s = api::ValidateDate(given.date(), "record.date", /*required=*/true); !s.ok()) {
    return done(s);
  }
  if (Characters(given.document_number()) > kMaxDocumentNumber) {
    return done(InvalidField("record.document_number", "at most 100 characters"));
  }
  if (Characters(given.note()) > kMaxNote) {
    return done(InvalidField("record.note", "at most 2000 characters"));
  }
  if (absl::Status s = CheckSourceSystem(request.source_system()); !s.ok()) return done(s);
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  // A generated id is drawn here, once: a retry with the request_id replays
  // the first response, id included.
  std::string id = request.record_id();
  if (id.empty()) {
    absl::BitGen random;
    id = absl::StrFormat("%016x", absl::Uniform<uint64_t>(random));
  }
  units_.Check({parent->unit}, [this, &request, author = std::string(author), parent = *parent, id,
                                response, done = std::move(done)](
                                   registry::UnitChecker::Checks checks) mutable {
    const absl::Status& check = checks[parent.unit];
    if (!check.ok()) return done(registry::UnitChecker::Refusal(check, "parent", parent.unit));
    auto mutate = [this, &request, author, parent, id,
                   response](storage::Txn& txn) -> absl::Status {
      const api::Reader read = api::TxnReader(txn);
      absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(parent.year, read);
      if (!catalog.ok()) return catalog.status();
      const CatalogView& view = *(*catalog)->view;
      const v1::Line* line = view.FindLine(parent.code);
      if (line == nullptr) {
        return InvalidField("parent", absl::StrCat("no line \"", parent.code, "\" in ",
                                                   api::CatalogName(parent.year)));
      }
      if (line->has_children()) {
        return InvalidField("parent", absl::StrCat("line ", line->code(),
                                                   " has children: record against one of them"));
      }
      v1::FundingRecord record = request.record();
      record.mutable_amounts()->clear_total_dong();
      if (absl::Status s = CheckRecordAmounts(*line, record.amounts(), "record.amounts"); !s.ok()) {
        return s;
      }
      if (absl::Status s = ComputeTotal(record.mutable_amounts(), "record.amounts"); !s.ok()) {
        return s;
      }
      BudgetName name = parent;
      name.record = id;
      const std::string id_key = RecordIdKey(name);
      absl::StatusOr<std::optional<std::string>> taken = txn.Get(record_ids_, id_key);
      if (!taken.ok()) return taken.status();
      const std::string resource = absl::StrCat(request.parent(), "/records/", id);
      if (taken->has_value()) return AlreadyExists(resource);
      const v1::Provenance provenance =
          MakeProvenance(author, request.source_system(), txn.now(), request.request_id());
      // The need the record is against exists from now on (blank if new).
      const std::string need_key = NeedKey(parent.unit, parent.year, parent.code);
      absl::StatusOr<std::optional<std::string>> need = txn.Get(needs_, need_key);
      if (!need.ok()) return need.status();
      if (!need->has_value()) {
        v1::Need blank;
        blank.set_name(request.parent());
        blank.set_unit(parent.unit);
        blank.set_year(parent.year);
        blank.set_line(parent.code);
        *blank.mutable_provenance() = provenance;
        blank.set_revision(1);
        blank.set_etag(api::ComputeEtag(blank));
        txn.PutProto(needs_, need_key, blank);
        txn.RecordChange(blank.name(), type::v1::CHANGE_KIND_CREATED, &blank);
      }
      record.set_name(resource);
      *record.mutable_provenance() = provenance;
      record.clear_etag();
      record.set_etag(api::ComputeEtag(record));
      const std::string key = absl::StrCat(UnitYearPrefix(parent.unit, parent.year),
                                           absl::StrFormat("%08d", api::ToDayKey(record.date())),
                                           "|", parent.code, "|", id);
      txn.PutProto(records_, key, record);
      txn.Put(record_ids_, id_key, key);
      txn.RecordChange(record.name(), type::v1::CHANGE_KIND_CREATED, &record);
      *response = std::move(record);
      return absl::OkStatus();
    };
    Submit("CreateFundingRecord", request.request_id(), request, response, std::move(mutate),
           std::move(done));
  });
}

absl::StatusOr<v1::ListFundingRecordsResponse> Budget::ListFundingRecords(
    const v1::ListFundingRecordsRequest& request) const {
  // The parent is a need, or a whole unit-year.
  const std::string collection = absl::StrCat("/", kNeedsCollection, "/");
  const size_t at = request.parent().find(collection);
  const bool whole_year = at != std::string::npos &&
                          request.parent().find('/', at + collection.size()) == std::string::npos;
  absl::StatusOr<BudgetName> parent =
      ParseName(request.parent(), whole_year ? Shape::kUnitYear : Shape::kNeed, "parent");
  if (!parent.ok()) return parent.status();
  if (!v1::FundingRecordKind_IsValid(request.kind())) {
    return InvalidField("kind", absl::StrCat("unknown value ", request.kind()));
  }
  if (absl::Status s = api::ValidateDate(request.date_from(), "date_from", false); !s.ok()) {
    return s;
  }
  if (absl::Status s = api::ValidateDate(request.date_to(), "date_to", false); !s.ok()) return s;
  const api::DayKey from = api::ToDayKey(request.date_from());
  const api::DayKey to = api::IsSet(request.date_to()) ? api::ToDayKey(request.date_to()) : 0;
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  v1::ListFundingRecordsResponse response;
  std::string last;
  absl::Status parsed;
  absl::Status scanned =
      store_->Scan(records_, UnitYearPrefix(parent->unit, parent->year), page->position,
                   [&](absl::string_view key, absl::string_view bytes) {
                     std::vector<absl::string_view> parts = KeyParts(key);
                     if (parts.size() != 6) {
                       parsed = api::Corrupt("funding record", key);
                       return false;
                     }
                     api::DayKey day = 0;
                     if (!absl::SimpleAtoi(parts[3], &day)) {
                       parsed = api::Corrupt("funding record", key);
                       return false;
                     }
                     if (to != 0 && day > to) return false;  // keys are in date order
                     if (day < from || (!parent->code.empty() && parts[4] != parent->code))
                       return true;
                     v1::FundingRecord record;
                     parsed = api::ParseStored(bytes, "funding record", key, &record);
                     if (!parsed.ok()) return false;
                     if (request.kind() != v1::FUNDING_RECORD_KIND_UNSPECIFIED &&
                         record.kind() != request.kind()) {
                       return true;
                     }
                     if (response.records_size() == page->size) {
                       response.set_next_page_token(page->NextToken(last));
                       return false;
                     }
                     last = std::string(key);
                     *response.add_records() = std::move(record);
                     return true;
                   });
  if (!scanned.ok()) return scanned;
  if (!parsed.ok()) return parsed;
  return response;
}

void Budget::DeleteFundingRecord(const v1::DeleteFundingRecordRequest& request,
                                 v1::DeleteFundingRecordResponse* response, Done done) {
  absl::StatusOr<BudgetName> name = ParseName(request.name(), Shape::kRecord, "name");
  if (!name.ok()) return done(name.status());
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  auto mutate = [this, &request, name = *name](storage::Txn& txn) -> absl::Status {
    const std::string id_key = RecordIdKey(name);
    absl::StatusOr<std::optional<std::string>> key = txn.Get(record_ids_, id_key);
    if (!key.ok()) return key.status();
    if (!key->has_value()) return NotFound(request.name());
    v1::FundingRecord record;
    absl::StatusOr<bool> found = txn.GetProto(records_, **key, &record);
    if (!found.ok()) return found.status();
    if (!*found) return api::Corrupt("funding record index", id_key);
    if (absl::Status s = api::CheckEtag(request.etag(), record.etag()); !s.ok()) return s;
    txn.Delete(records_, **key);
    txn.Delete(record_ids_, id_key);
    txn.RecordChange(request.name(), type::v1::CHANGE_KIND_DELETED, nullptr);
    return absl::OkStatus();
  };
  Submit("DeleteFundingRecord", request.request_id(), request, response, std::move(mutate),
         std::move(done));
}

// ---- Roll-ups -----------------------------------------------------------------------

absl::StatusOr<v1::Rollup> Budget::GetRollup(const v1::GetRollupRequest& request) const {
  if (absl::Status s = api::CheckRollupUnit(request.unit(), "unit"); !s.ok()) return s;
  if (absl::Status s = api::CheckYear(request.year(), "year"); !s.ok()) return s;
  if (absl::Status s = api::ValidateDate(request.as_of(), "as_of", false); !s.ok()) return s;
  if (absl::Status s = api::CheckChildUnits(request.unit(), request.units(), "units"); !s.ok()) {
    return s;
  }
  const api::Reader read = api::StoreReader(*store_);
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog = LoadCatalog(request.year(), read);
  if (!catalog.ok()) return catalog.status();
  const CatalogView& view = *(*catalog)->view;
  if (absl::Status s = CheckTable(view, request.table()); !s.ok()) return s;

  // The children: those named, or every child with stored needs (a record
  // always has its need), found under one prefix.
  std::vector<std::string> children(request.units().begin(), request.units().end());
  if (children.empty()) {
    absl::Status scanned =
        read.scan(needs_, api::ChildrenPrefix(request.unit(), request.year()),
                  [&](absl::string_view key, absl::string_view) {
                    std::vector<absl::string_view> parts = KeyParts(key);
                    if (parts.size() >= 3 && (children.empty() || children.back() != parts[2])) {
                      children.emplace_back(parts[2]);
                    }
                    return true;
                  });
    if (!scanned.ok()) return scanned;
  }

  v1::Rollup rollup;
  rollup.set_unit(request.unit());
  rollup.set_year(request.year());
  rollup.set_child_units(static_cast<int32_t>(children.size()));
  absl::flat_hash_map<std::string, v1::RollupLine> sums;
  const api::DayKey as_of = api::ToDayKey(request.as_of());
  for (const std::string& child : children) {
    absl::StatusOr<UnitYearData> data = ReadUnitYear(read, view, child, request.year(), as_of);
    if (!data.ok()) return data.status();
    if (data->needs.empty()) rollup.add_silent_units(child);
    for (const v1::Need& need : data->needs) {
      v1::RollupLine& line = sums[need.line()];
      const std::string field = absl::StrCat("lines[", need.line(), "]");
      if (need.has_beneficiaries()) {
        line.set_beneficiaries(line.beneficiaries() + need.beneficiaries());
      }
      for (auto [add, sum] :
           {std::make_pair(&need.planned(), line.mutable_planned()),
            std::make_pair(&need.execution().allocated(), line.mutable_allocated()),
            std::make_pair(&need.execution().disbursed(), line.mutable_disbursed())}) {
        if (absl::Status s = AddAmounts(*add, sum, field); !s.ok()) return s;
      }
      line.set_reporting_units(line.reporting_units() + 1);
    }
  }
  absl::flat_hash_map<int, v1::FundingTotals> totals;
  for (const v1::Line& line : view.lines()) {
    if (!InTable(view, request.table(), line.code())) continue;
    auto it = sums.find(line.code());
    if (it == sums.end()) continue;
    v1::RollupLine& out = *rollup.add_lines();
    out = std::move(it->second);
    out.set_line(line.code());
    if (out.planned().has_total_dong()) {
      absl::optional<int32_t> rate =
          DisbursementRateBp(out.disbursed().total_dong(), out.planned().total_dong());
      if (rate) out.set_disbursement_rate_bp(*rate);
    }
    if (!line.parent().empty()) continue;
    const v1::FundingKind kind = view.FindTable(line.table())->funding_kind();
    v1::FundingTotals& total = totals[kind];
    total.set_funding_kind(kind);
    for (auto [add, sum] : {std::make_pair(&out.planned(), total.mutable_planned()),
                            std::make_pair(&out.allocated(), total.mutable_allocated()),
                            std::make_pair(&out.disbursed(), total.mutable_disbursed())}) {
      if (absl::Status s = AddAmounts(*add, sum, "totals"); !s.ok()) return s;
    }
  }
  for (int kind : {v1::FUNDING_KIND_RECURRENT, v1::FUNDING_KIND_INVESTMENT}) {
    auto it = totals.find(kind);
    if (it == totals.end()) continue;
    v1::FundingTotals& total = *rollup.add_totals();
    total = std::move(it->second);
    if (total.planned().has_total_dong()) {
      absl::optional<int32_t> rate =
          DisbursementRateBp(total.disbursed().total_dong(), total.planned().total_dong());
      if (rate) total.set_disbursement_rate_bp(*rate);
    }
  }
  return rollup;
}

// ---- Findings ---------------------------------------------------------------------

void Budget::FetchStock(absl::string_view unit, int year,
                        std::function<void(const RegistryStock*)> done) const {
  // Agencies hold no organisations of their own.
  if (registry_ == nullptr || api::LevelOf(unit) == api::UnitLevel::kAgency) return done(nullptr);
  registry::v1::GetCountsRequest request;
  request.set_unit(std::string(unit));
  request.mutable_as_of()->set_year(year - 1);
  request.mutable_as_of()->set_month(12);
  request.mutable_as_of()->set_day(31);
  registry_->GetCounts(request,
                       [done = std::move(done)](absl::StatusOr<registry::v1::Counts> counts) {
                         RegistryStock stock;
                         if (counts.ok()) {
                           int64_t organizations = 0;
                           // Each kind's all-sector row holds its stock.
                           for (const registry::v1::CountRow& row : counts->rows()) {
                             if (row.sector() == registry::v1::SECTOR_UNSPECIFIED)
                               organizations += row.total();
                           }
                           stock.organizations = organizations;
                         }
                         done(&stock);
                       });
}

absl::StatusOr<std::vector<v1::Finding>> Budget::Findings(const CatalogView& catalog,
                                                          absl::string_view unit, int year,
                                                          const RegistryStock* stock,
                                                          const api::Reader& read) const {
  absl::StatusOr<UnitYearData> data = ReadUnitYear(read, catalog, unit, year);
  if (!data.ok()) return data.status();
  std::vector<v1::Finding> findings = EvaluateFindings(catalog, unit, data->needs, stock);
  absl::flat_hash_map<std::string, internal::ExplanationRecord> explanations;
  absl::Status scanned = api::ScanStored<internal::ExplanationRecord>(
      read, explanations_, absl::StrCat(unit, "/", kFindingsCollection, "/", year, "/"),
      "explanation", [&](absl::string_view key, internal::ExplanationRecord record) {
        explanations.emplace(std::string(key), std::move(record));
        return true;
      });
  if (!scanned.ok()) return scanned;
  for (v1::Finding& finding : findings) {
    auto it = explanations.find(finding.name());
    Decorate(it == explanations.end() ? nullptr : &it->second, &finding);
  }
  return findings;
}

void Budget::ListFindings(const v1::ListFindingsRequest& request,
                          v1::ListFindingsResponse* response, Done done) const {
  if (absl::Status s = api::ParseUnit(request.parent(), "parent").status(); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = api::CheckYear(request.year(), "year"); !s.ok()) return done(s);
  if (!v1::Severity_IsValid(request.severity())) {
    return done(InvalidField("severity", absl::StrCat("unknown value ", request.severity())));
  }
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return done(page.status());
  absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
      LoadCatalog(request.year(), api::StoreReader(*store_));
  if (!catalog.ok()) return done(catalog.status());
  if (absl::Status s = CheckTable(*(*catalog)->view, request.table()); !s.ok()) return done(s);
  FetchStock(request.parent(), request.year(),
             [this, &request, response, page = *page, catalog = *catalog,
              done = std::move(done)](const RegistryStock* stock) {
               absl::StatusOr<std::vector<v1::Finding>> findings =
                   Findings(*catalog->view, request.parent(), request.year(), stock,
                            api::StoreReader(*store_));
               if (!findings.ok()) return done(findings.status());
               v1::FindingSummary& summary = *response->mutable_summary();
               for (const v1::Finding& f : *findings) {
                 if (f.outcome() == v1::FINDING_OUTCOME_NOT_CHECKABLE) {
                   summary.set_not_checkable(summary.not_checkable() + 1);
                 }
                 if (f.outcome() != v1::FINDING_OUTCOME_FAILED) continue;
                 if (f.severity() == v1::SEVERITY_ERROR) {
                   summary.set_errors(summary.errors() + 1);
                 } else {
                   summary.set_warnings(summary.warnings() + 1);
                   if (!f.has_explanation()) {
                     summary.set_unexplained_warnings(summary.unexplained_warnings() + 1);
                   }
                 }
               }
               summary.set_blocking(summary.errors() + summary.unexplained_warnings());
               absl::StatusOr<size_t> start = api::IndexPosition(page);
               if (!start.ok()) return done(start.status());
               const CatalogView& view = *catalog->view;
               api::PageByIndex(
                   page, *start, *findings,
                   [&](const v1::Finding& f) {
                     if (!InTable(view, request.table(), f.line())) return false;
                     if (request.severity() != v1::SEVERITY_UNSPECIFIED &&
                         f.severity() != request.severity()) {
                       return false;
                     }
                     if (!request.include_passed() && f.outcome() == v1::FINDING_OUTCOME_PASSED) {
                       return false;
                     }
                     return !request.blocking_only() || f.blocks_submission();
                   },
                   [](const v1::Finding& f) { return f; }, response->mutable_findings(),
                   response->mutable_next_page_token());
               done(absl::OkStatus());
             });
}

void Budget::ExplainFinding(const v1::ExplainFindingRequest& request, absl::string_view author,
                            v1::Finding* response, Done done) {
  absl::StatusOr<BudgetName> name = ParseName(request.name(), Shape::kFinding, "name");
  if (!name.ok()) return done(name.status());
  if (request.text().empty()) return done(RequiredField("text"));
  if (Characters(request.text()) > kMaxExplanation) {
    return done(InvalidField("text", "at most 4000 characters"));
  }
  if (absl::Status s = api::ValidateRequestId(request.request_id()); !s.ok()) return done(s);
  const v1::BudgetCheck check = CheckFromId(name->record);
  FetchStock(
      name->unit, name->year,
      [this, &request, author = std::string(author), name = *name, check, response,
       done = std::move(done)](const RegistryStock* fetched) mutable {
        // The registry's side is taken as of now; the writer cannot ask again.
        std::optional<RegistryStock> stock;
        if (fetched != nullptr) stock = *fetched;
        auto mutate = [this, &request, author, name, check, stock,
                       response](storage::Txn& txn) -> absl::Status {
          const api::Reader read = api::TxnReader(txn);
          absl::StatusOr<std::shared_ptr<const LoadedCatalog>> catalog =
              LoadCatalog(name.year, read);
          if (!catalog.ok()) return catalog.status();
          // Execution follows approval: its findings stay explainable.
          if (check != v1::BUDGET_CHECK_OVER_DISBURSED) {
            if (absl::Status s = locks_.CheckUnlocked(read, name.unit, name.year); !s.ok())
              return s;
          }
          absl::StatusOr<std::vector<v1::Finding>> findings =
              Findings(*(*catalog)->view, name.unit, name.year, stock ? &*stock : nullptr, read);
          if (!findings.ok()) return findings.status();
          auto it = std::find_if(findings->begin(), findings->end(),
                                 [&](const v1::Finding& f) { return f.name() == request.name(); });
          if (it == findings->end()) return NotFound(request.name());
          if (it->outcome() != v1::FINDING_OUTCOME_FAILED) {
            return Error(absl::StatusCode::kFailedPrecondition, "FINDING_NOT_FAILED",
                         absl::StrCat(request.name(), " does not fail now: nothing to explain"),
                         {{"resource", request.name()}});
          }
          if (absl::Status s = api::CheckEtag(request.etag(), it->etag()); !s.ok()) return s;
          internal::ExplanationRecord record;
          record.mutable_explanation()->set_text(request.text());
          record.mutable_explanation()->set_author(author);
          *record.mutable_explanation()->mutable_explain_time() = api::ToTimestamp(txn.now());
          if (it->has_stated()) record.set_stated(it->stated());
          if (it->has_expected()) record.set_expected(it->expected());
          if (it->check() == v1::BUDGET_CHECK_PRINTED_UNCLEAR) record.set_message(it->message());
          txn.PutProto(explanations_, request.name(), record);
          Decorate(&record, &*it);
          txn.RecordChange(it->name(), type::v1::CHANGE_KIND_UPDATED, &*it);
          *response = *it;
          return absl::OkStatus();
        };
        Submit("ExplainFinding", request.request_id(), request, response, std::move(mutate),
               std::move(done));
      });
}

// ---- Locks and the change feed ------------------------------------------------------

absl::StatusOr<type::v1::Lock> Budget::GetLock(const type::v1::GetLockRequest& request) const {
  return locks_.Get(api::StoreReader(*store_), request);
}

void Budget::SetLock(const type::v1::SetLockRequest& request, type::v1::Lock* response, Done done) {
  absl::StatusOr<std::function<absl::Status(storage::Txn&)>> mutate = locks_.Set(request, response);
  if (!mutate.ok()) return done(mutate.status());
  Submit("SetLock", request.request_id(), request, response, *std::move(mutate), std::move(done));
}

absl::StatusOr<type::v1::ListChangesResponse> Budget::ListChanges(
    const type::v1::ListChangesRequest& request) const {
  return api::ListChanges(*store_, request);
}

}  // namespace htx::budget
