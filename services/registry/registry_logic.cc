#include "services/registry/registry_logic.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/api/api.h"
#include "common/status/status.h"

namespace htx::registry {
namespace {

bool AllOf(absl::string_view text, bool (*ok)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), ok);
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsCodeChar(char c) { return IsDigit(c) || (c >= 'A' && c <= 'Z') || c == '-'; }
bool IsAgencyChar(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || c == '-'; }

bool ValidId(absl::string_view collection, absl::string_view id) {
  if (collection == "communes") return id.size() == 5 && AllOf(id, IsDigit);
  if (collection == "agencies") return id.size() <= 40 && AllOf(id, IsAgencyChar);
  if (collection == "organizations") return id.size() <= 20 && AllOf(id, IsCodeChar);
  return false;
}

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

absl::Status NonNegative(int64_t value, absl::string_view field) {
  if (value < 0) return InvalidField(field, "must not be negative");
  return absl::OkStatus();
}

const char* StatusLabel(v1::OrganizationStatus status) {
  return v1::OrganizationStatus_Name(status).c_str() + sizeof("ORGANIZATION_STATUS_") - 1;
}

}  // namespace

// ---- Names -----------------------------------------------------------------

absl::StatusOr<ParsedName> ParseUnitName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  ParsedName parsed;
  if ((parts.size() == 2 || parts.size() == 4) && parts[0] == "provinces" && parts[1].size() == 2 &&
      AllOf(parts[1], IsDigit)) {
    parsed.province = std::string(parts[1]);
    if (parts.size() == 2) return parsed;
    if ((parts[2] == "communes" || parts[2] == "agencies") && ValidId(parts[2], parts[3])) {
      parsed.collection = std::string(parts[2]);
      parsed.id = std::string(parts[3]);
      return parsed;
    }
  }
  if (name.empty()) return RequiredField(field);
  return InvalidField(field,
                      absl::StrCat("\"", name,
                                   "\" is not a unit name (provinces/{2 digits}"
                                   "[/communes/{5 digits}|/agencies/{id}])"),
                      "INVALID_NAME");
}

absl::StatusOr<ParsedName> ParseOrganizationName(absl::string_view name, absl::string_view field) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() == 4 && parts[0] == "provinces" && parts[1].size() == 2 &&
      AllOf(parts[1], IsDigit) && parts[2] == "organizations" &&
      ValidId("organizations", parts[3])) {
    return ParsedName{std::string(parts[1]), "organizations", std::string(parts[3])};
  }
  if (name.empty()) return RequiredField(field);
  return InvalidField(field,
                      absl::StrCat("\"", name,
                                   "\" is not an organisation name "
                                   "(provinces/{2 digits}/organizations/{code})"),
                      "INVALID_NAME");
}

absl::StatusOr<ParsedName> ParseSubtree(absl::string_view name, absl::string_view field) {
  if (name.empty()) return ParsedName{};
  absl::StatusOr<ParsedName> parsed = ParseUnitName(name, field);
  if (parsed.ok() && parsed->collection == "agencies") {
    return InvalidField(field,
                        "an agency has no organisations; name the nation "
                        "(\"\"), a province or a commune");
  }
  return parsed;
}

std::string ProvinceName(absl::string_view province) {
  return absl::StrCat("provinces/", province);
}

std::string OrganizationName(absl::string_view province, absl::string_view code) {
  return absl::StrCat("provinces/", province, "/organizations/", code);
}

std::string EventName(absl::string_view organization, int number) {
  return absl::StrCat(organization, "/events/", number);
}

std::string UnitParent(absl::string_view unit_name) {
  std::vector<absl::string_view> parts = absl::StrSplit(unit_name, '/');
  if (parts.size() <= 2) return "";
  return absl::StrCat(parts[0], "/", parts[1]);
}

// ---- Validation ------------------------------------------------------------

absl::Status ValidateUnit(const v1::Unit& unit, absl::string_view field) {
  absl::StatusOr<ParsedName> parsed = ParseUnitName(unit.name(), Path(field, "name"));
  if (!parsed.ok()) return parsed.status();
  const std::string kind_field = Path(field, "kind");
  if (unit.kind() == v1::UNIT_KIND_UNSPECIFIED) return RequiredField(kind_field);
  if (!v1::UnitKind_IsValid(unit.kind())) {
    return InvalidField(kind_field, absl::StrCat("unknown value ", unit.kind()));
  }
  const bool kind_fits =
      parsed->collection.empty()
          ? unit.kind() == v1::UNIT_KIND_PROVINCE || unit.kind() == v1::UNIT_KIND_CITY
      : parsed->collection == "communes"
          ? unit.kind() == v1::UNIT_KIND_COMMUNE || unit.kind() == v1::UNIT_KIND_WARD ||
                unit.kind() == v1::UNIT_KIND_SPECIAL_ZONE
          : unit.kind() == v1::UNIT_KIND_AGENCY;
  if (!kind_fits) {
    return InvalidField(kind_field, absl::StrCat(v1::UnitKind_Name(unit.kind()),
                                                 " does not fit the name ", unit.name()));
  }
  if (absl::StripAsciiWhitespace(unit.display_name()).empty()) {
    return RequiredField(Path(field, "display_name"));
  }
  if (unit.display_name().size() > 300) {
    return InvalidField(Path(field, "display_name"), "at most 300 bytes");
  }
  if (absl::Status s = ValidateDate(unit.valid_from(), Path(field, "valid_from"), false); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateDate(unit.valid_to(), Path(field, "valid_to"), false); !s.ok()) {
    return s;
  }
  if (IsSet(unit.valid_from()) && IsSet(unit.valid_to()) &&
      ToDayKey(unit.valid_to()) < ToDayKey(unit.valid_from())) {
    return InvalidField(Path(field, "valid_to"), "is before valid_from");
  }
  if (!unit.successor().empty()) {
    if (absl::Status s = ParseUnitName(unit.successor(), Path(field, "successor")).status();
        !s.ok()) {
      return s;
    }
    if (unit.successor() == unit.name()) {
      return InvalidField(Path(field, "successor"), "a unit cannot succeed itself");
    }
    if (!IsSet(unit.valid_to())) {
      return InvalidField(Path(field, "valid_to"), "required when a successor is named");
    }
  }
  return absl::OkStatus();
}

const std::vector<std::string>& UpdatablePaths() {
  static const auto* paths = new std::vector<std::string>{
      "display_name",          "commune",         "sector", "members", "regular_workers",
      "managers_intermediate", "managers_higher", "flags"};
  return *paths;
}

absl::Status ValidateAttributes(const v1::Organization& organization, absl::string_view province,
                                absl::string_view field) {
  if (absl::StripAsciiWhitespace(organization.display_name()).empty()) {
    return RequiredField(Path(field, "display_name"));
  }
  if (organization.display_name().size() > 500) {
    return InvalidField(Path(field, "display_name"), "at most 500 bytes");
  }
  const std::string commune_field = Path(field, "commune");
  if (organization.commune().empty()) return RequiredField(commune_field);
  absl::StatusOr<ParsedName> commune = ParseUnitName(organization.commune(), commune_field);
  if (!commune.ok()) return commune.status();
  if (commune->collection != "communes") {
    return InvalidField(commune_field, "must name a commune or ward");
  }
  if (commune->province != province) {
    return InvalidField(commune_field, absl::StrCat("must be in provinces/", province));
  }
  const std::string sector_field = Path(field, "sector");
  if (organization.sector() == v1::SECTOR_UNSPECIFIED) return RequiredField(sector_field);
  if (!v1::Sector_IsValid(organization.sector())) {
    return InvalidField(sector_field, absl::StrCat("unknown value ", organization.sector()));
  }
  for (auto [value, name] : {std::pair{organization.members(), "members"},
                             {organization.regular_workers(), "regular_workers"},
                             {organization.managers_intermediate(), "managers_intermediate"},
                             {organization.managers_higher(), "managers_higher"}}) {
    if (absl::Status s = NonNegative(value, Path(field, name)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateNewOrganization(const v1::Organization& organization,
                                     absl::string_view province, DayKey today,
                                     absl::string_view field) {
  const std::string code_field = Path(field, "registration_code");
  if (organization.registration_code().empty()) return RequiredField(code_field);
  if (!ValidId("organizations", organization.registration_code())) {
    return InvalidField(code_field, "1 to 20 characters of 0-9, A-Z and '-'");
  }
  const std::string kind_field = Path(field, "kind");
  if (organization.kind() == v1::ORGANIZATION_KIND_UNSPECIFIED) {
    return RequiredField(kind_field);
  }
  if (!v1::OrganizationKind_IsValid(organization.kind())) {
    return InvalidField(kind_field, absl::StrCat("unknown value ", organization.kind()));
  }
  if (absl::Status s = ValidateAttributes(organization, province, field); !s.ok()) {
    return s;
  }
  const std::string founding_field = Path(field, "founding_date");
  if (absl::Status s = ValidateDate(organization.founding_date(), founding_field, true); !s.ok()) {
    return s;
  }
  if (ToDayKey(organization.founding_date()) > today) {
    return InvalidField(founding_field, "is in the future");
  }
  return absl::OkStatus();
}

// ---- Lifecycle -------------------------------------------------------------

absl::StatusOr<v1::OrganizationStatus> Transition(v1::OrganizationStatus from, v1::EventType type) {
  using S = v1::OrganizationStatus;
  const bool operating = from == v1::ORGANIZATION_STATUS_ACTIVE ||
                         from == v1::ORGANIZATION_STATUS_SUSPENDED ||
                         from == v1::ORGANIZATION_STATUS_NOT_OPERATING;
  std::optional<S> to;
  switch (type) {
    case v1::EVENT_TYPE_SUSPENDED:
      if (from == v1::ORGANIZATION_STATUS_ACTIVE) to = v1::ORGANIZATION_STATUS_SUSPENDED;
      break;
    case v1::EVENT_TYPE_RESUMED:
      if (from == v1::ORGANIZATION_STATUS_SUSPENDED ||
          from == v1::ORGANIZATION_STATUS_NOT_OPERATING) {
        to = v1::ORGANIZATION_STATUS_ACTIVE;
      }
      break;
    case v1::EVENT_TYPE_REPORTED_NOT_OPERATING:
      if (from == v1::ORGANIZATION_STATUS_ACTIVE || from == v1::ORGANIZATION_STATUS_SUSPENDED) {
        to = v1::ORGANIZATION_STATUS_NOT_OPERATING;
      }
      break;
    case v1::EVENT_TYPE_REORGANIZED:
    case v1::EVENT_TYPE_JOINED_UNION:
    case v1::EVENT_TYPE_LEFT_UNION:
      if (operating) to = from;
      break;
    case v1::EVENT_TYPE_DISSOLUTION_STARTED:
      if (operating) to = v1::ORGANIZATION_STATUS_DISSOLVING;
      break;
    case v1::EVENT_TYPE_DISSOLVED:
      if (operating || from == v1::ORGANIZATION_STATUS_DISSOLVING) {
        to = v1::ORGANIZATION_STATUS_DISSOLVED;
      }
      break;
    default:
      break;
  }
  if (!to) {
    return Error(absl::StatusCode::kFailedPrecondition, "INVALID_TRANSITION",
                 absl::StrCat("event ", v1::EventType_Name(type),
                              " is not possible for an organisation that is ", StatusLabel(from)),
                 {{"status", StatusLabel(from)}});
  }
  return *to;
}

absl::Status ValidateEventShape(const v1::LifecycleEvent& event, absl::string_view field) {
  const std::string type_field = Path(field, "type");
  if (event.type() == v1::EVENT_TYPE_UNSPECIFIED) return RequiredField(type_field);
  if (!v1::EventType_IsValid(event.type())) {
    return InvalidField(type_field, absl::StrCat("unknown value ", event.type()));
  }
  if (event.type() == v1::EVENT_TYPE_ESTABLISHED) {
    return InvalidField(type_field,
                        "ESTABLISHED is recorded by CreateOrganization at the "
                        "founding date, not appended");
  }
  if (absl::Status s = ValidateDate(event.effective_date(), Path(field, "effective_date"), true);
      !s.ok()) {
    return s;
  }
  const std::string kind_field = Path(field, "dissolution_kind");
  if (event.type() == v1::EVENT_TYPE_DISSOLVED) {
    if (event.dissolution_kind() == v1::DISSOLUTION_KIND_UNSPECIFIED) {
      return RequiredField(kind_field);
    }
    if (!v1::DissolutionKind_IsValid(event.dissolution_kind())) {
      return InvalidField(kind_field, absl::StrCat("unknown value ", event.dissolution_kind()));
    }
  } else if (event.dissolution_kind() != v1::DISSOLUTION_KIND_UNSPECIFIED) {
    return InvalidField(kind_field, "only for DISSOLVED events");
  }
  const std::string union_field = Path(field, "union");
  if (event.type() == v1::EVENT_TYPE_JOINED_UNION) {
    if (absl::Status s = ParseOrganizationName(event.union_(), union_field).status(); !s.ok()) {
      return s;
    }
  } else if (!event.union_().empty()) {
    return InvalidField(union_field, "only for JOINED_UNION events");
  }
  if (event.note().size() > 2000) {
    return InvalidField(Path(field, "note"), "at most 2000 bytes");
  }
  return absl::OkStatus();
}

absl::Status AppendEvent(OrganizationRecord& record, v1::LifecycleEvent event,
                         v1::OrganizationKind union_kind) {
  const v1::Organization& organization = record.organization();
  const DayKey date = ToDayKey(event.effective_date());
  const DayKey founded = ToDayKey(organization.founding_date());
  if (date < founded) {
    return Error(absl::StatusCode::kFailedPrecondition, "EVENT_BEFORE_FOUNDING",
                 absl::StrCat("event.effective_date ", FormatDate(date),
                              " is before the founding date ", FormatDate(founded)),
                 {{"field", "event.effective_date"}});
  }
  if (!record.events().empty()) {
    const DayKey latest = ToDayKey(record.events().rbegin()->effective_date());
    if (date < latest) {
      return Error(
          absl::StatusCode::kFailedPrecondition, "EVENT_OUT_OF_ORDER",
          absl::StrCat("event.effective_date ", FormatDate(date), " is before the latest event (",
                       FormatDate(latest), "); events are appended in date order"),
          {{"field", "event.effective_date"}});
    }
  }
  const v1::OrganizationStatus from = record.events().empty()
                                          ? v1::ORGANIZATION_STATUS_UNSPECIFIED
                                          : record.events().rbegin()->status_after();
  absl::StatusOr<v1::OrganizationStatus> to = Transition(from, event.type());
  if (!to.ok()) return to.status();

  const bool is_union_event =
      event.type() == v1::EVENT_TYPE_JOINED_UNION || event.type() == v1::EVENT_TYPE_LEFT_UNION;
  if (is_union_event && organization.kind() != v1::ORGANIZATION_KIND_HTX) {
    return FailedPrecondition("NOT_AN_HTX", "only an HTX can join or leave an LH HTX");
  }
  const std::string current_union = UnionOn(record, 99991231);
  if (event.type() == v1::EVENT_TYPE_JOINED_UNION) {
    if (union_kind == v1::ORGANIZATION_KIND_UNSPECIFIED) {
      return NotFound(event.union_());
    }
    if (union_kind != v1::ORGANIZATION_KIND_LH_HTX) {
      return FailedPrecondition("NOT_A_UNION", absl::StrCat(event.union_(), " is not an LH HTX"));
    }
    if (!current_union.empty()) {
      return FailedPrecondition(
          "ALREADY_A_MEMBER",
          absl::StrCat("already a member of ", current_union, "; append LEFT_UNION first"));
    }
  }
  if (event.type() == v1::EVENT_TYPE_LEFT_UNION) {
    if (current_union.empty()) {
      return FailedPrecondition("NOT_A_MEMBER", "not a member of any LH HTX");
    }
    event.set_union_(current_union);
  }
  event.set_name(EventName(organization.name(), record.events_size() + 1));
  event.set_status_after(*to);
  *record.add_events() = std::move(event);
  return absl::OkStatus();
}

v1::OrganizationStatus StatusOn(const OrganizationRecord& record, DayKey day) {
  v1::OrganizationStatus status = v1::ORGANIZATION_STATUS_UNSPECIFIED;
  for (const v1::LifecycleEvent& event : record.events()) {
    if (ToDayKey(event.effective_date()) > day) break;
    status = event.status_after();
  }
  return status;
}

std::string UnionOn(const OrganizationRecord& record, DayKey day) {
  std::string current;
  for (const v1::LifecycleEvent& event : record.events()) {
    if (ToDayKey(event.effective_date()) > day) break;
    if (event.type() == v1::EVENT_TYPE_JOINED_UNION) current = event.union_();
    if (event.type() == v1::EVENT_TYPE_LEFT_UNION) current.clear();
  }
  return current;
}

DayKey DissolvedOn(const OrganizationRecord& record) {
  for (const v1::LifecycleEvent& event : record.events()) {
    if (event.type() == v1::EVENT_TYPE_DISSOLVED) return ToDayKey(event.effective_date());
  }
  return 0;
}

// ---- Classification --------------------------------------------------------

v1::Rating RatingForScore(int score) {
  if (score >= 80) return v1::RATING_GOOD;
  if (score >= 65) return v1::RATING_FAIR;
  if (score >= 50) return v1::RATING_AVERAGE;
  return v1::RATING_WEAK;
}

absl::Status SetClassification(OrganizationRecord& record, const v1::Classification& given,
                               DayKey today) {
  v1::Classification classification = given;
  const int year = classification.year();
  const int founding_year = record.organization().founding_date().year();
  if (year == 0) return RequiredField("classification.year");
  if (year < founding_year || year > today / 10000) {
    return InvalidField(
        "classification.year",
        absl::StrCat("must be between the founding year ", founding_year, " and the current year"));
  }
  if (classification.has_score()) {
    if (classification.score() < 0 || classification.score() > 100) {
      return InvalidField("classification.score", "must be 0..100");
    }
    const v1::Rating derived = RatingForScore(classification.score());
    if (classification.rating() != v1::RATING_UNSPECIFIED && classification.rating() != derived) {
      return InvalidField("classification.rating",
                          absl::StrCat("disagrees with score ", classification.score(), " (",
                                       v1::Rating_Name(derived), ")"));
    }
    classification.set_rating(derived);
  }
  if (classification.rating() == v1::RATING_UNSPECIFIED) {
    return InvalidField("classification.rating", "required: give a rating or a score",
                        "FIELD_REQUIRED");
  }
  if (!v1::Rating_IsValid(classification.rating())) {
    return InvalidField("classification.rating",
                        absl::StrCat("unknown value ", classification.rating()));
  }
  // Rated only after 12 months of operation by 31/12 of the year.
  const bool under_twelve_months =
      ToDayKey(record.organization().founding_date()) > (year - 1) * 10000 + 1231;
  if (under_twelve_months && classification.rating() != v1::RATING_NOT_RATED) {
    return FailedPrecondition("NOT_RATABLE", absl::StrCat("operating under 12 months on 31/12/",
                                                          year, ": only RATING_NOT_RATED applies"));
  }
  const DayKey dissolved = DissolvedOn(record);
  if (dissolved != 0 && dissolved < year * 10000 + 101) {
    return FailedPrecondition(
        "DISSOLVED", absl::StrCat("dissolved on ", FormatDate(dissolved), ", before ", year));
  }
  auto* list = record.mutable_organization()->mutable_classifications();
  auto it = std::find_if(list->begin(), list->end(),
                         [&](const v1::Classification& c) { return c.year() >= year; });
  if (it != list->end() && it->year() == year) {
    *it = classification;
  } else {
    *list->Add() = classification;
    std::sort(list->begin(), list->end(),
              [](const v1::Classification& a, const v1::Classification& b) {
                return a.year() < b.year();
              });
  }
  return absl::OkStatus();
}

// ---- Output ----------------------------------------------------------------

v1::Organization Present(const OrganizationRecord& record, DayKey today) {
  v1::Organization organization = record.organization();
  organization.set_status(StatusOn(record, today));
  organization.set_union_membership(UnionOn(record, today));
  organization.set_event_count(record.events_size());
  organization.clear_etag();
  organization.set_etag(api::ComputeEtag(record));
  return organization;
}

// ---- Counts ----------------------------------------------------------------

CountAccumulator::CountAccumulator(DayKey as_of, DayKey period_start)
    : as_of_(as_of), period_start_(period_start) {}

void CountAccumulator::Add(const OrganizationRecord& record) {
  const v1::Organization& organization = record.organization();
  const DayKey founded = ToDayKey(organization.founding_date());
  const DayKey dissolved = DissolvedOn(record);
  const bool established_in_period = founded >= period_start_ && founded <= as_of_;
  const bool dissolved_in_period =
      dissolved != 0 && dissolved >= period_start_ && dissolved <= as_of_;
  const v1::OrganizationStatus status = StatusOn(record, as_of_);
  const bool in_stock =
      status != v1::ORGANIZATION_STATUS_UNSPECIFIED && status != v1::ORGANIZATION_STATUS_DISSOLVED;
  if (!in_stock && !established_in_period && !dissolved_in_period) return;

  v1::Rating rating = v1::RATING_UNSPECIFIED;
  for (const v1::Classification& c : organization.classifications()) {
    if (c.year() == as_of_ / 10000) rating = c.rating();
  }
  const bool member = organization.kind() == v1::ORGANIZATION_KIND_HTX && in_stock &&
                      !UnionOn(record, as_of_).empty();

  for (int sector : {static_cast<int>(organization.sector()), 0}) {
    v1::CountRow& row = rows_[{organization.kind(), sector}];
    row.set_established(row.established() + established_in_period);
    row.set_dissolved(row.dissolved() + dissolved_in_period);
    if (!in_stock) continue;
    row.set_total(row.total() + 1);
    row.set_active(row.active() + (status == v1::ORGANIZATION_STATUS_ACTIVE));
    row.set_suspended(row.suspended() + (status == v1::ORGANIZATION_STATUS_SUSPENDED));
    row.set_not_operating(row.not_operating() + (status == v1::ORGANIZATION_STATUS_NOT_OPERATING));
    row.set_dissolving(row.dissolving() + (status == v1::ORGANIZATION_STATUS_DISSOLVING));
    row.set_rated_good(row.rated_good() + (rating == v1::RATING_GOOD));
    row.set_rated_fair(row.rated_fair() + (rating == v1::RATING_FAIR));
    row.set_rated_average(row.rated_average() + (rating == v1::RATING_AVERAGE));
    row.set_rated_weak(row.rated_weak() + (rating == v1::RATING_WEAK));
    row.set_not_rated(row.not_rated() + (rating == v1::RATING_NOT_RATED));
    const v1::OrganizationFlags& flags = organization.flags();
    row.set_high_tech(row.high_tech() + flags.high_tech());
    row.set_value_chain_link(row.value_chain_link() + flags.value_chain_link());
    row.set_owns_enterprise(row.owns_enterprise() + flags.owns_enterprise());
    row.set_enterprise_members(row.enterprise_members() + flags.enterprise_members());
    row.set_foreign_members(row.foreign_members() + flags.foreign_members());
    row.set_members(row.members() + organization.members());
    row.set_regular_workers(row.regular_workers() + organization.regular_workers());
    row.set_managers_intermediate(row.managers_intermediate() +
                                  organization.managers_intermediate());
    row.set_managers_higher(row.managers_higher() + organization.managers_higher());
  }
  if (member) {
    v1::CountRow& unions = rows_[{v1::ORGANIZATION_KIND_LH_HTX, 0}];
    unions.set_member_htx(unions.member_htx() + 1);
  }
}

void CountAccumulator::Finish(v1::Counts* counts) const {
  for (int kind :
       {v1::ORGANIZATION_KIND_HTX, v1::ORGANIZATION_KIND_LH_HTX, v1::ORGANIZATION_KIND_THT}) {
    for (int sector = 1; sector <= 7; ++sector) {
      auto it = rows_.find({kind, sector});
      if (it == rows_.end()) continue;
      v1::CountRow* row = counts->add_rows();
      *row = it->second;
      row->set_kind(static_cast<v1::OrganizationKind>(kind));
      row->set_sector(static_cast<v1::Sector>(sector));
    }
    v1::CountRow* all = counts->add_rows();
    auto it = rows_.find({kind, 0});
    if (it != rows_.end()) *all = it->second;
    all->set_kind(static_cast<v1::OrganizationKind>(kind));
    all->set_sector(v1::SECTOR_UNSPECIFIED);
  }
}

}  // namespace htx::registry
