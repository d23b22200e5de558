#include "services/registry/registry.h"

#include <atomic>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/api/api.h"
#include "common/api/writes.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/registry/text.h"

namespace htx::registry {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kUnits[] = "units";
constexpr char kOrganizations[] = "organizations";
constexpr char kCommuneIndex[] = "commune_organizations";

// Units are keyed under their parent so that listing a parent's children is a
// prefix scan: "|provinces/01", "provinces/01|provinces/01/communes/00004".
std::string UnitKey(absl::string_view name) { return absl::StrCat(UnitParent(name), "|", name); }

std::string CommuneIndexKey(absl::string_view commune, absl::string_view organization) {
  return absl::StrCat(commune, "|", organization);
}

bool ValidOn(const v1::Unit& unit, DayKey day) {
  return (!IsSet(unit.valid_from()) || ToDayKey(unit.valid_from()) <= day) &&
         (!IsSet(unit.valid_to()) || ToDayKey(unit.valid_to()) >= day);
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::Status ParseRecord(absl::string_view bytes, OrganizationRecord* record) {
  if (!record->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Error(absl::StatusCode::kDataLoss, "CORRUPT_RECORD",
                 "an organisation record does not parse");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> Registry::ColumnFamilies() {
  return {kUnits, kOrganizations, kCommuneIndex};
}

Registry::Registry(storage::Store* store, std::function<absl::Time()> clock)
    : store_(store),
      clock_(std::move(clock)),
      units_(store->family(kUnits)),
      organizations_(store->family(kOrganizations)),
      commune_index_(store->family(kCommuneIndex)) {}

DayKey Registry::Today() const {
  absl::CivilDay day = absl::ToCivilDay(clock_(), absl::FixedTimeZone(7 * 60 * 60));
  return static_cast<DayKey>(day.year() * 10000 + day.month() * 100 + day.day());
}

// ---- Reads -----------------------------------------------------------------

absl::StatusOr<v1::Unit> Registry::GetUnit(const v1::GetUnitRequest& request) const {
  if (absl::Status s = ParseUnitName(request.name(), "name").status(); !s.ok()) return s;
  v1::Unit unit;
  absl::StatusOr<bool> found = store_->GetProto(units_, UnitKey(request.name()), &unit);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound(request.name());
  return unit;
}

absl::StatusOr<v1::ListUnitsResponse> Registry::ListUnits(
    const v1::ListUnitsRequest& request) const {
  if (!request.parent().empty()) {
    absl::StatusOr<ParsedName> parent = ParseUnitName(request.parent(), "parent");
    if (!parent.ok()) return parent.status();
    if (!parent->collection.empty()) {
      return InvalidField("parent", "only the nation (\"\") and provinces have child units");
    }
  }
  if (!v1::UnitKind_IsValid(request.kind())) {
    return InvalidField("kind", absl::StrCat("unknown value ", request.kind()));
  }
  if (absl::Status s = ValidateDate(request.valid_on(), "valid_on", false); !s.ok()) return s;
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();

  v1::ListUnitsResponse response;
  std::string last_key;
  absl::Status parsed;
  const DayKey valid_on = IsSet(request.valid_on()) ? ToDayKey(request.valid_on()) : 0;
  absl::Status scanned = store_->Scan(
      units_, absl::StrCat(request.parent(), "|"), page->position,
      [&](absl::string_view key, absl::string_view value) {
        if (response.units_size() == page->size) {
          response.set_next_page_token(page->NextToken(last_key));
          return false;
        }
        last_key = std::string(key);
        v1::Unit unit;
        if (!unit.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parsed = Error(absl::StatusCode::kDataLoss, "CORRUPT_RECORD",
                         absl::StrCat("unit record ", key, " does not parse"));
          return false;
        }
        if (request.kind() != v1::UNIT_KIND_UNSPECIFIED && unit.kind() != request.kind()) {
          return true;
        }
        if (valid_on != 0 && !ValidOn(unit, valid_on)) return true;
        *response.add_units() = std::move(unit);
        return true;
      });
  if (!scanned.ok()) return scanned;
  if (!parsed.ok()) return parsed;
  return response;
}

absl::StatusOr<v1::Organization> Registry::GetOrganization(
    const v1::GetOrganizationRequest& request) const {
  if (absl::Status s = ParseOrganizationName(request.name(), "name").status(); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::optional<std::string>> bytes = store_->Get(organizations_, request.name());
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return NotFound(request.name());
  OrganizationRecord record;
  if (absl::Status s = ParseRecord(**bytes, &record); !s.ok()) return s;
  return Present(record, Today());
}

absl::StatusOr<std::string> Registry::OrganizationCommune(absl::string_view name) const {
  absl::StatusOr<std::optional<std::string>> bytes = store_->Get(organizations_, name);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return NotFound(name);
  OrganizationRecord record;
  if (absl::Status s = ParseRecord(**bytes, &record); !s.ok()) return s;
  return record.organization().commune();
}

absl::Status Registry::SubtreeExists(const std::string& subtree) const {
  if (subtree.empty()) return absl::OkStatus();  // the nation
  absl::StatusOr<std::optional<std::string>> unit = store_->Get(units_, UnitKey(subtree));
  if (!unit.ok()) return unit.status();
  return unit->has_value() ? absl::OkStatus() : NotFound(subtree);
}

absl::Status Registry::VisitSubtree(
    const ParsedName& subtree, absl::string_view start_after,
    const std::function<bool(absl::string_view, const OrganizationRecord&)>& fn) const {
  absl::Status inner;
  if (subtree.collection == "communes") {
    const std::string commune =
        absl::StrCat(ProvinceName(subtree.province), "/communes/", subtree.id);
    absl::Status scanned = store_->Scan(commune_index_, absl::StrCat(commune, "|"), start_after,
                                        [&](absl::string_view key, absl::string_view) {
                                          absl::string_view name = key.substr(commune.size() + 1);
                                          absl::StatusOr<std::optional<std::string>> bytes =
                                              store_->Get(organizations_, name);
                                          if (!bytes.ok()) {
                                            inner = bytes.status();
                                            return false;
                                          }
                                          if (!bytes->has_value())
                                            return true;  // index ahead of a concurrent move
                                          OrganizationRecord record;
                                          inner = ParseRecord(**bytes, &record);
                                          if (!inner.ok()) return false;
                                          // The index is written with the record, so a mismatch is
                                          // only a reader racing a commune change: skip the stale
                                          // entry.
                                          if (record.organization().commune() != commune)
                                            return true;
                                          return fn(key, record);
                                        });
    return scanned.ok() ? inner : scanned;
  }
  const std::string prefix = subtree.province.empty()
                                 ? std::string("provinces/")
                                 : absl::StrCat(ProvinceName(subtree.province), "/organizations/");
  absl::Status scanned = store_->Scan(organizations_, prefix, start_after,
                                      [&](absl::string_view key, absl::string_view value) {
                                        OrganizationRecord record;
                                        inner = ParseRecord(value, &record);
                                        if (!inner.ok()) return false;
                                        return fn(key, record);
                                      });
  return scanned.ok() ? inner : scanned;
}

absl::StatusOr<v1::ListOrganizationsResponse> Registry::ListOrganizations(
    const v1::ListOrganizationsRequest& request) const {
  absl::StatusOr<ParsedName> subtree = ParseSubtree(request.parent(), "parent");
  if (!subtree.ok()) return subtree.status();
  if (!v1::OrganizationKind_IsValid(request.kind())) {
    return InvalidField("kind", absl::StrCat("unknown value ", request.kind()));
  }
  if (!v1::Sector_IsValid(request.sector())) {
    return InvalidField("sector", absl::StrCat("unknown value ", request.sector()));
  }
  if (!v1::OrganizationStatus_IsValid(request.status())) {
    return InvalidField("status", absl::StrCat("unknown value ", request.status()));
  }
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  if (absl::Status s = SubtreeExists(request.parent()); !s.ok()) return s;

  const DayKey today = Today();
  const std::string needle = FoldCase(request.name_contains());
  v1::ListOrganizationsResponse response;
  std::string last;
  absl::Status visited = VisitSubtree(
      *subtree, page->position, [&](absl::string_view position, const OrganizationRecord& record) {
        const v1::Organization& o = record.organization();
        if (response.organizations_size() == page->size) {
          response.set_next_page_token(page->NextToken(last));
          return false;
        }
        last = std::string(position);
        if (request.kind() != v1::ORGANIZATION_KIND_UNSPECIFIED && o.kind() != request.kind()) {
          return true;
        }
        if (request.sector() != v1::SECTOR_UNSPECIFIED && o.sector() != request.sector()) {
          return true;
        }
        if (request.status() != v1::ORGANIZATION_STATUS_UNSPECIFIED &&
            StatusOn(record, today) != request.status()) {
          return true;
        }
        if (!needle.empty() && FoldCase(o.display_name()).find(needle) == std::string::npos) {
          return true;
        }
        *response.add_organizations() = Present(record, today);
        return true;
      });
  if (!visited.ok()) return visited;
  return response;
}

absl::StatusOr<v1::ListEventsResponse> Registry::ListEvents(
    const v1::ListEventsRequest& request) const {
  if (absl::Status s = ParseOrganizationName(request.parent(), "parent").status(); !s.ok()) {
    return s;
  }
  absl::StatusOr<api::Page> page =
      api::StartPage(request, request.page_size(), request.page_token());
  if (!page.ok()) return page.status();
  int first = 0;
  if (!page->position.empty() && (!absl::SimpleAtoi(page->position, &first) || first < 0)) {
    return InvalidField("page_token", "malformed", "INVALID_PAGE_TOKEN");
  }
  OrganizationRecord record;
  absl::StatusOr<bool> found = store_->GetProto(organizations_, request.parent(), &record);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound(request.parent());
  v1::ListEventsResponse response;
  for (int i = first; i < record.events_size(); ++i) {
    if (response.events_size() == page->size) {
      response.set_next_page_token(page->NextToken(absl::StrCat(i)));
      break;
    }
    *response.add_events() = record.events(i);
  }
  return response;
}

absl::StatusOr<v1::Counts> Registry::GetCounts(const v1::GetCountsRequest& request) const {
  absl::StatusOr<ParsedName> subtree = ParseSubtree(request.unit(), "unit");
  if (!subtree.ok()) return subtree.status();
  if (absl::Status s = ValidateDate(request.as_of(), "as_of", true); !s.ok()) return s;
  if (absl::Status s = ValidateDate(request.period_start(), "period_start", false); !s.ok()) {
    return s;
  }
  const DayKey as_of = ToDayKey(request.as_of());
  const DayKey period_start = IsSet(request.period_start()) ? ToDayKey(request.period_start())
                                                            : request.as_of().year() * 10000 + 101;
  if (period_start > as_of) return InvalidField("period_start", "is after as_of");
  if (absl::Status s = SubtreeExists(request.unit()); !s.ok()) return s;
  CountAccumulator accumulator(as_of, period_start);
  absl::Status visited =
      VisitSubtree(*subtree, "", [&](absl::string_view, const OrganizationRecord& record) {
        accumulator.Add(record);
        return true;
      });
  if (!visited.ok()) return visited;
  v1::Counts counts;
  counts.set_unit(request.unit());
  *counts.mutable_as_of() = request.as_of();
  *counts.mutable_period_start() = FromDayKey(period_start);
  accumulator.Finish(&counts);
  return counts;
}

absl::StatusOr<type::v1::ListChangesResponse> Registry::ListChanges(
    const type::v1::ListChangesRequest& request) const {
  return api::ListChanges(*store_, request);
}

// ---- Writes ----------------------------------------------------------------

void Registry::Submit(absl::string_view method, absl::string_view request_id,
                      const google::protobuf::Message& request, google::protobuf::Message* response,
                      std::function<absl::Status(storage::Txn&)> mutate, Done done) {
  api::SubmitIdempotent(*store_, method, request_id, request, response, std::move(mutate),
                        std::move(done));
}

absl::Status Registry::RequireUnit(storage::Txn& txn, const std::string& name,
                                   absl::string_view field) const {
  absl::StatusOr<std::optional<std::string>> unit = txn.Get(units_, UnitKey(name));
  if (!unit.ok()) return unit.status();
  if (!unit->has_value()) {
    return Error(absl::StatusCode::kNotFound, "RESOURCE_NOT_FOUND",
                 absl::StrCat(field, ": ", name, " not found"),
                 {{"field", field}, {"resource", name}});
  }
  return absl::OkStatus();
}

void Registry::ImportUnits(const v1::ImportUnitsRequest& request, v1::ImportUnitsResponse* response,
                           Done done) {
  if (request.units().empty()) return done(RequiredField("units"));
  if (request.units_size() > 10000) {
    return done(InvalidField("units", "at most 10000 per request"));
  }
  for (int i = 0; i < request.units_size(); ++i) {
    if (absl::Status s = ValidateUnit(request.units(i), absl::StrCat("units[", i, "]")); !s.ok()) {
      return done(s);
    }
  }
  auto mutate = [this, &request, response](storage::Txn& txn) -> absl::Status {
    int created = 0, replaced = 0;
    for (int i = 0; i < request.units_size(); ++i) {
      v1::Unit unit = request.units(i);
      const std::string parent = UnitParent(unit.name());
      if (!parent.empty()) {
        if (absl::Status s = RequireUnit(txn, parent, absl::StrCat("units[", i, "].name"));
            !s.ok()) {
          return s;
        }
      }
      absl::StatusOr<std::optional<std::string>> existing = txn.Get(units_, UnitKey(unit.name()));
      if (!existing.ok()) return existing.status();
      unit.clear_etag();
      unit.set_etag(api::ComputeEtag(unit));
      txn.PutProto(units_, UnitKey(unit.name()), unit);
      txn.RecordChange(
          unit.name(),
          existing->has_value() ? type::v1::CHANGE_KIND_UPDATED : type::v1::CHANGE_KIND_CREATED,
          &unit);
      (existing->has_value() ? replaced : created)++;
    }
    // Successors may be named before they are imported, but not left dangling.
    for (int i = 0; i < request.units_size(); ++i) {
      if (request.units(i).successor().empty()) continue;
      if (absl::Status s = RequireUnit(txn, request.units(i).successor(),
                                       absl::StrCat("units[", i, "].successor"));
          !s.ok()) {
        return s;
      }
    }
    response->set_created(created);
    response->set_replaced(replaced);
    return absl::OkStatus();
  };
  Submit("ImportUnits", request.request_id(), request, response, std::move(mutate),
         std::move(done));
}

absl::StatusOr<OrganizationRecord> Registry::LoadInTxn(storage::Txn& txn,
                                                       const std::string& name) const {
  OrganizationRecord record;
  absl::StatusOr<bool> found = txn.GetProto(organizations_, name, &record);
  if (!found.ok()) return found.status();
  if (!*found) return NotFound(name);
  return record;
}

void Registry::SaveInTxn(storage::Txn& txn, const OrganizationRecord& record,
                         type::v1::ChangeKind kind, v1::Organization* presented) const {
  txn.PutProto(organizations_, record.organization().name(), record);
  *presented = Present(record, Today());
  txn.RecordChange(record.organization().name(), kind, presented);
}

absl::Status Registry::CreateInTxn(storage::Txn& txn, const std::string& province,
                                   const v1::Organization& given, v1::Organization* response) {
  if (absl::Status s = RequireUnit(txn, ProvinceName(province), "parent"); !s.ok()) return s;
  if (absl::Status s = RequireUnit(txn, given.commune(), "organization.commune"); !s.ok()) {
    return s;
  }
  const std::string name = OrganizationName(province, given.registration_code());
  absl::StatusOr<std::optional<std::string>> existing = txn.Get(organizations_, name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return AlreadyExists(name);

  OrganizationRecord record;
  v1::Organization& organization = *record.mutable_organization();
  organization = given;
  organization.set_name(name);
  // Output-only fields are derived, never taken from the caller.
  organization.clear_status();
  organization.clear_classifications();
  organization.clear_union_membership();
  organization.clear_event_count();
  organization.clear_etag();
  *organization.mutable_create_time() = ToTimestamp(txn.now());
  *organization.mutable_update_time() = organization.create_time();
  v1::LifecycleEvent* established = record.add_events();
  established->set_name(EventName(name, 1));
  established->set_type(v1::EVENT_TYPE_ESTABLISHED);
  *established->mutable_effective_date() = organization.founding_date();
  established->set_status_after(v1::ORGANIZATION_STATUS_ACTIVE);
  *established->mutable_create_time() = organization.create_time();
  txn.Put(commune_index_, CommuneIndexKey(organization.commune(), name), "");
  SaveInTxn(txn, record, type::v1::CHANGE_KIND_CREATED, response);
  return absl::OkStatus();
}

void Registry::CreateOrganization(const v1::CreateOrganizationRequest& request,
                                  v1::Organization* response, Done done) {
  absl::StatusOr<ParsedName> parent = ParseUnitName(request.parent(), "parent");
  if (!parent.ok()) return done(parent.status());
  if (!parent->collection.empty()) {
    return done(InvalidField("parent", "must be a province: provinces/{2 digits}"));
  }
  if (absl::Status s = ValidateNewOrganization(request.organization(), parent->province, Today(),
                                               "organization");
      !s.ok()) {
    return done(s);
  }
  Submit(
      "CreateOrganization", request.request_id(), request, response,
      [this, &request, province = parent->province, response](storage::Txn& txn) {
        return CreateInTxn(txn, province, request.organization(), response);
      },
      std::move(done));
}

void Registry::UpdateOrganization(const v1::UpdateOrganizationRequest& request,
                                  v1::Organization* response, Done done) {
  absl::StatusOr<ParsedName> name =
      ParseOrganizationName(request.organization().name(), "organization.name");
  if (!name.ok()) return done(name.status());
  if (!request.has_update_mask()) return done(RequiredField("update_mask"));
  auto mutate = [this, &request, province = name->province,
                 response](storage::Txn& txn) -> absl::Status {
    absl::StatusOr<OrganizationRecord> record = LoadInTxn(txn, request.organization().name());
    if (!record.ok()) return record.status();
    if (absl::Status s = api::CheckEtag(request.organization().etag(), api::ComputeEtag(*record));
        !s.ok()) {
      return s;
    }
    v1::Organization* organization = record->mutable_organization();
    const std::string old_commune = organization->commune();
    if (absl::Status s = api::ApplyFieldMask(request.update_mask(), request.organization(),
                                             UpdatablePaths(), organization);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ValidateAttributes(*organization, province, "organization"); !s.ok()) {
      return s;
    }
    if (organization->commune() != old_commune) {
      if (absl::Status s = RequireUnit(txn, organization->commune(), "organization.commune");
          !s.ok()) {
        return s;
      }
      txn.Delete(commune_index_, CommuneIndexKey(old_commune, organization->name()));
      txn.Put(commune_index_, CommuneIndexKey(organization->commune(), organization->name()), "");
    }
    *organization->mutable_update_time() = ToTimestamp(txn.now());
    SaveInTxn(txn, *record, type::v1::CHANGE_KIND_UPDATED, response);
    return absl::OkStatus();
  };
  Submit("UpdateOrganization", request.request_id(), request, response, std::move(mutate),
         std::move(done));
}

absl::Status Registry::AppendInTxn(storage::Txn& txn, const std::string& organization,
                                   const v1::LifecycleEvent& given, v1::LifecycleEvent* response) {
  absl::StatusOr<OrganizationRecord> record = LoadInTxn(txn, organization);
  if (!record.ok()) return record.status();
  v1::OrganizationKind union_kind = v1::ORGANIZATION_KIND_UNSPECIFIED;
  if (given.type() == v1::EVENT_TYPE_JOINED_UNION) {
    absl::StatusOr<OrganizationRecord> union_record = LoadInTxn(txn, given.union_());
    if (union_record.ok()) {
      const v1::OrganizationStatus union_status =
          StatusOn(*union_record, ToDayKey(given.effective_date()));
      if (union_status == v1::ORGANIZATION_STATUS_UNSPECIFIED) {
        return FailedPrecondition("UNION_NOT_FOUNDED",
                                  absl::StrCat(given.union_(), " is not founded on that date"));
      }
      if (union_status == v1::ORGANIZATION_STATUS_DISSOLVED) {
        return FailedPrecondition("UNION_DISSOLVED",
                                  absl::StrCat(given.union_(), " is dissolved on that date"));
      }
      union_kind = union_record->organization().kind();
    } else if (union_record.status().code() != absl::StatusCode::kNotFound) {
      return union_record.status();
    }
  }
  v1::LifecycleEvent event = given;
  event.clear_name();
  event.clear_status_after();
  *event.mutable_create_time() = ToTimestamp(txn.now());
  if (absl::Status s = registry::AppendEvent(*record, std::move(event), union_kind); !s.ok()) {
    return s;
  }
  *response = *record->events().rbegin();
  *record->mutable_organization()->mutable_update_time() = ToTimestamp(txn.now());
  v1::Organization presented;
  SaveInTxn(txn, *record, type::v1::CHANGE_KIND_UPDATED, &presented);
  return absl::OkStatus();
}

void Registry::AppendEvent(const v1::AppendEventRequest& request, v1::LifecycleEvent* response,
                           Done done) {
  if (absl::Status s = ParseOrganizationName(request.parent(), "parent").status(); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = ValidateEventShape(request.event(), "event"); !s.ok()) return done(s);
  Submit(
      "AppendEvent", request.request_id(), request, response,
      [this, &request, response](storage::Txn& txn) {
        return AppendInTxn(txn, request.parent(), request.event(), response);
      },
      std::move(done));
}

absl::Status Registry::ClassifyInTxn(storage::Txn& txn, const std::string& organization,
                                     const v1::Classification& classification,
                                     absl::string_view etag, v1::Organization* response) {
  absl::StatusOr<OrganizationRecord> record = LoadInTxn(txn, organization);
  if (!record.ok()) return record.status();
  if (absl::Status s = api::CheckEtag(etag, api::ComputeEtag(*record)); !s.ok()) return s;
  if (absl::Status s = registry::SetClassification(*record, classification, Today()); !s.ok()) {
    return s;
  }
  *record->mutable_organization()->mutable_update_time() = ToTimestamp(txn.now());
  SaveInTxn(txn, *record, type::v1::CHANGE_KIND_UPDATED, response);
  return absl::OkStatus();
}

void Registry::SetClassification(const v1::SetClassificationRequest& request,
                                 v1::Organization* response, Done done) {
  if (absl::Status s = ParseOrganizationName(request.name(), "name").status(); !s.ok()) {
    return done(s);
  }
  if (!request.has_classification()) return done(RequiredField("classification"));
  Submit(
      "SetClassification", request.request_id(), request, response,
      [this, &request, response](storage::Txn& txn) {
        return ClassifyInTxn(txn, request.name(), request.classification(), request.etag(),
                             response);
      },
      std::move(done));
}

void Registry::ImportBatch(const v1::ImportRegistryRequest& request,
                           v1::ImportRegistryResponse* response, Done done) {
  if (request.rows_size() > 1000) {
    return done(InvalidField("rows", "at most 1000 rows per message"));
  }
  response->Clear();
  if (request.rows().empty()) return done(absl::OkStatus());
  api::RowBatch<v1::ImportRegistryResponse> batch(request.rows_size(), response, std::move(done));
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ImportRow& row = request.rows(i);
    const std::string field = absl::StrCat("rows[", i, "]");
    type::v1::RowResult* result = batch.result(i);
    absl::Status invalid = api::RequireRowRequestId(row.request_id(), field + ".request_id");
    std::function<absl::Status(storage::Txn&)> mutate;
    if (invalid.ok()) {
      switch (row.row_case()) {
        case v1::ImportRow::kOrganization: {
          const v1::Organization& given = row.organization();
          absl::StatusOr<ParsedName> commune =
              ParseUnitName(given.commune(), field + ".organization.commune");
          if (!commune.ok()) {
            invalid = commune.status();
            break;
          }
          invalid =
              ValidateNewOrganization(given, commune->province, Today(), field + ".organization");
          mutate = [this, &given, province = commune->province, result](storage::Txn& txn) {
            v1::Organization created;
            absl::Status s = CreateInTxn(txn, province, given, &created);
            if (s.ok()) result->set_resource(created.name());
            return s;
          };
          break;
        }
        case v1::ImportRow::kEvent: {
          invalid = ParseOrganizationName(row.parent(), field + ".parent").status();
          if (invalid.ok()) invalid = ValidateEventShape(row.event(), field + ".event");
          mutate = [this, &row, result](storage::Txn& txn) {
            v1::LifecycleEvent appended;
            absl::Status s = AppendInTxn(txn, row.parent(), row.event(), &appended);
            if (s.ok()) result->set_resource(appended.name());
            return s;
          };
          break;
        }
        case v1::ImportRow::kClassification: {
          invalid = ParseOrganizationName(row.parent(), field + ".parent").status();
          mutate = [this, &row, result](storage::Txn& txn) {
            v1::Organization classified;
            absl::Status s =
                ClassifyInTxn(txn, row.parent(), row.classification(), "", &classified);
            if (s.ok()) result->set_resource(row.parent());
            return s;
          };
          break;
        }
        default:
          invalid = RequiredField(field + ".row");
      }
    }
    if (!invalid.ok()) {
      batch.Reject(i, invalid);
      continue;
    }
    batch.Submit(*store_, "ImportRegistry", i, row.request_id(), row, std::move(mutate));
  }
}

}  // namespace htx::registry
