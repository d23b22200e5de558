// The registry's unit names as every service writes them, plan years, and the
// key fragments that keep one level of units under one prefix, so that a
// unit-year is one prefix and so are a province's communes and the nation's
// provinces (what roll-ups scan).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/timestamp.pb.h"

namespace htx::api {

enum class UnitLevel { kProvince, kCommune, kAgency };

struct Unit {
  UnitLevel level = UnitLevel::kProvince;
  std::string province;  // "provinces/01"
};

// provinces/{2 digits}[/communes/{5 digits}|/agencies/{id}]; INVALID_ARGUMENT
// (INVALID_NAME) naming `field` otherwise.
absl::StatusOr<Unit> ParseUnit(absl::string_view name, absl::string_view field);
// The level of a name ParseUnit has accepted.
UnitLevel LevelOf(absl::string_view unit);
// Every name ParseUnit accepts as a province, in order: "provinces/00" …
// "provinces/99" (to read the nation province by province).
std::vector<std::string> ProvinceNames();

// Plan years 2000..2100; RequiredField for 0.
absl::Status CheckYear(int year, absl::string_view field);
// Four digits keep keys ordered.
std::string Year4(int year);
// A year as a name segment ("2026"), INVALID_ARGUMENT naming `field` and
// showing `shape` otherwise.
absl::StatusOr<int> ParseYearSegment(absl::string_view text, absl::string_view field,
                                     absl::string_view shape);

// "{year4}|{P|C|A}|{unit}|": everything a unit stores for a year.
std::string UnitYearPrefix(absl::string_view unit, int year);
// The units a roll-up of `unit` reads: "" (the nation) → its provinces,
// "provinces/01" → its communes.
std::string ChildrenPrefix(absl::string_view unit, int year);
// INVALID_ARGUMENT naming `field` unless `unit` is "" or a province: agencies
// and communes are never rolled up.
absl::Status CheckRollupUnit(absl::string_view unit, absl::string_view field);
// The children a roll-up of `unit` may be restricted to: provinces under the
// nation, the province's own communes, each named once; INVALID_ARGUMENT
// naming `field`[i] otherwise.
absl::Status CheckChildUnits(absl::string_view unit,
                             const google::protobuf::RepeatedPtrField<std::string>& units,
                             absl::string_view field);

// "catalogs/{year}".
std::string CatalogName(int year);
absl::StatusOr<int> ParseCatalogName(absl::string_view name, absl::string_view field);

// A name "{unit}/{collection}/{year}", e.g. "provinces/01/budget-locks/2026".
struct UnitYear {
  std::string unit;
  int year = 0;
};
absl::StatusOr<UnitYear> ParseUnitYearName(absl::string_view name, absl::string_view collection,
                                           absl::string_view field);

// UTF-8 code points: the contracts limit texts in characters, not bytes.
size_t Characters(absl::string_view text);

google::protobuf::Timestamp ToTimestamp(absl::Time time);

}  // namespace htx::api
