#include "common/api/units.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace htx::api {
namespace {

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool AgencyId(absl::string_view s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

char LevelCode(UnitLevel level) {
  switch (level) {
    case UnitLevel::kProvince:
      return 'P';
    case UnitLevel::kCommune:
      return 'C';
    case UnitLevel::kAgency:
      return 'A';
  }
  return '?';
}

}  // namespace

absl::StatusOr<Unit> ParseUnit(absl::string_view name, absl::string_view field) {
  if (name.empty()) return RequiredField(field);
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if ((parts.size() == 2 || parts.size() == 4) && parts[0] == "provinces" && parts[1].size() == 2 &&
      AllDigits(parts[1])) {
    Unit unit;
    unit.province = absl::StrCat("provinces/", parts[1]);
    if (parts.size() == 2) return unit;
    if (parts[2] == "communes" && parts[3].size() == 5 && AllDigits(parts[3])) {
      unit.level = UnitLevel::kCommune;
      return unit;
    }
    if (parts[2] == "agencies" && AgencyId(parts[3])) {
      unit.level = UnitLevel::kAgency;
      return unit;
    }
  }
  return InvalidField(field,
                      absl::StrCat("\"", name,
                                   "\" is not a unit name (provinces/{2 digits}"
                                   "[/communes/{5 digits}|/agencies/{id}])"),
                      "INVALID_NAME");
}

UnitLevel LevelOf(absl::string_view unit) {
  if (absl::StrContains(unit, "/communes/")) return UnitLevel::kCommune;
  if (absl::StrContains(unit, "/agencies/")) return UnitLevel::kAgency;
  return UnitLevel::kProvince;
}

std::vector<std::string> ProvinceNames() {
  std::vector<std::string> names;
  for (int code = 0; code < 100; ++code) names.push_back(absl::StrFormat("provinces/%02d", code));
  return names;
}

absl::Status CheckYear(int year, absl::string_view field) {
  if (year == 0) return RequiredField(field);
  if (year < 2000 || year > 2100) return InvalidField(field, "a plan year 2000..2100");
  return absl::OkStatus();
}

std::string Year4(int year) { return absl::StrFormat("%04d", year); }

absl::StatusOr<int> ParseYearSegment(absl::string_view text, absl::string_view field,
                                     absl::string_view shape) {
  int year = 0;
  if (text.size() != 4 || !AllDigits(text) || !absl::SimpleAtoi(text, &year) || year < 2000 ||
      year > 2100) {
    return InvalidField(field, absl::StrCat("must be ", shape), "INVALID_NAME");
  }
  return year;
}

std::string UnitYearPrefix(absl::string_view unit, int year) {
  return absl::StrCat(Year4(year), "|", std::string(1, LevelCode(LevelOf(unit))), "|", unit, "|");
}

std::string ChildrenPrefix(absl::string_view unit, int year) {
  if (unit.empty()) return absl::StrCat(Year4(year), "|P|");
  return absl::StrCat(Year4(year), "|C|", unit, "/communes/");
}

absl::Status CheckRollupUnit(absl::string_view unit, absl::string_view field) {
  if (unit.empty()) return absl::OkStatus();
  absl::StatusOr<Unit> parsed = ParseUnit(unit, field);
  if (!parsed.ok()) return parsed.status();
  if (parsed->level != UnitLevel::kProvince) {
    return InvalidField(field, "roll-ups are of the nation (\"\") or of a province");
  }
  return absl::OkStatus();
}

absl::Status CheckChildUnits(absl::string_view unit,
                             const google::protobuf::RepeatedPtrField<std::string>& units,
                             absl::string_view field) {
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < units.size(); ++i) {
    const std::string child_field = absl::StrCat(field, "[", i, "]");
    absl::StatusOr<Unit> child = ParseUnit(units[i], child_field);
    if (!child.ok()) return child.status();
    const bool fits = unit.empty() ? child->level == UnitLevel::kProvince
                                   : child->level == UnitLevel::kCommune && child->province == unit;
    if (!fits) {
      return InvalidField(child_field,
                          absl::StrCat(units[i], " is not ",
                                       unit.empty() ? std::string("a province")
                                                    : absl::StrCat("a commune of ", unit)));
    }
    if (!seen.insert(units[i]).second) return InvalidField(child_field, "named twice");
  }
  return absl::OkStatus();
}

std::string CatalogName(int year) { return absl::StrCat("catalogs/", year); }

absl::StatusOr<int> ParseCatalogName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return RequiredField(field);
  int year = 0;
  if (!absl::ConsumePrefix(&name, "catalogs/") || name.size() != 4 || !AllDigits(name) ||
      !absl::SimpleAtoi(name, &year) || year < 2000 || year > 2100) {
    return InvalidField(field, "must be catalogs/{year}, e.g. catalogs/2026", "INVALID_NAME");
  }
  return year;
}

absl::StatusOr<UnitYear> ParseUnitYearName(absl::string_view name, absl::string_view collection,
                                           absl::string_view field) {
  const std::string shape = absl::StrCat("{unit}/", collection, "/{year}");
  if (name.empty()) return RequiredField(field);
  std::vector<absl::string_view> parts = absl::StrSplit(name, absl::StrCat("/", collection, "/"));
  if (parts.size() != 2) {
    return InvalidField(field, absl::StrCat("must be ", shape), "INVALID_NAME");
  }
  if (absl::Status s = ParseUnit(parts[0], field).status(); !s.ok()) return s;
  absl::StatusOr<int> year = ParseYearSegment(parts[1], field, shape);
  if (!year.ok()) return year.status();
  return UnitYear{std::string(parts[0]), *year};
}

size_t Characters(absl::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

}  // namespace htx::api
