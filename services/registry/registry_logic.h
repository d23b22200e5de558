// The registry's domain rules on plain messages: names, validation, the
// lifecycle state machine, status on a date, classification, counts.
// No I/O, no gRPC: testable on its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/dates.h"
#include "htx/registry/v1/registry.pb.h"
#include "services/registry/records.pb.h"

namespace htx::registry {

namespace v1 = ::htx::registry::v1;
using internal::OrganizationRecord;

// ---- Dates -----------------------------------------------------------------

// Dates are common to every service (common/api/dates.h).
using api::DayKey;
using api::FormatDate;
using api::FromDayKey;
using api::IsSet;
using api::ToDayKey;
using api::ValidateDate;

// ---- Names -----------------------------------------------------------------

// Parts of a registry resource name.
struct ParsedName {
  std::string province;    // "01"
  std::string collection;  // "", "communes", "agencies", "organizations"
  std::string id;          // "00004", "0101234567"
};
// Parses "provinces/{p}" and "provinces/{p}/{collection}/{id}" with valid ids;
// INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<ParsedName> ParseUnitName(absl::string_view name, absl::string_view field);
absl::StatusOr<ParsedName> ParseOrganizationName(absl::string_view name, absl::string_view field);
// A subtree for lists and counts: "" (nation), a province or a commune.
absl::StatusOr<ParsedName> ParseSubtree(absl::string_view name, absl::string_view field);
std::string ProvinceName(absl::string_view province);
std::string OrganizationName(absl::string_view province, absl::string_view code);
std::string EventName(absl::string_view organization, int number);
// The parent unit of a unit name: "" for a province.
std::string UnitParent(absl::string_view unit_name);

// ---- Validation ------------------------------------------------------------

// A unit to import, named and kinded consistently (e.g. provinces/{p} is a
// PROVINCE or CITY). Field names are prefixed with `field`.
absl::Status ValidateUnit(const v1::Unit& unit, absl::string_view field);

// An organisation as given to CreateOrganization (without existence checks,
// which need the store). `today` bounds the founding date.
absl::Status ValidateNewOrganization(const v1::Organization& organization,
                                     absl::string_view province, DayKey today,
                                     absl::string_view field);
// The fields UpdateOrganization may change.
const std::vector<std::string>& UpdatablePaths();
// The mutable attributes of an organisation after an update.
absl::Status ValidateAttributes(const v1::Organization& organization, absl::string_view province,
                                absl::string_view field);

// ---- Lifecycle -------------------------------------------------------------

// Status after applying `type` to an organisation in status `from`, or
// FAILED_PRECONDITION (reason INVALID_TRANSITION) naming both.
absl::StatusOr<v1::OrganizationStatus> Transition(v1::OrganizationStatus from, v1::EventType type);

// The shape checks of an event to append (type, date, dissolution kind, union
// presence); transitions are checked by AppendEvent.
absl::Status ValidateEventShape(const v1::LifecycleEvent& event, absl::string_view field);

// Appends `event` to `record` if the transition is possible, the date is not
// before founding nor before the latest event, and union membership rules
// hold (`union_kind` is the kind of event.union(), UNSPECIFIED if it does not
// exist). Fills the event's name, status_after. Changes nothing on error.
absl::Status AppendEvent(OrganizationRecord& record, v1::LifecycleEvent event,
                         v1::OrganizationKind union_kind);

// Status as of the end of `day`; UNSPECIFIED before the founding date.
v1::OrganizationStatus StatusOn(const OrganizationRecord& record, DayKey day);
// The LH HTX an HTX belongs to at the end of `day`, "" if none.
std::string UnionOn(const OrganizationRecord& record, DayKey day);
// The DISSOLVED event's date, 0 if not dissolved.
DayKey DissolvedOn(const OrganizationRecord& record);

// ---- Classification --------------------------------------------------------

// Circular 01/2020/TT-BKHĐT: 80-100 good, 65-<80 fair, 50-<65 average, <50 weak.
v1::Rating RatingForScore(int score);
// Validates and records a classification (replacing that year's, if any).
absl::Status SetClassification(OrganizationRecord& record, const v1::Classification& classification,
                               DayKey today);

// ---- Output ----------------------------------------------------------------

// The organisation as the API returns it: derived status (on `today`), union,
// event count, etag.
v1::Organization Present(const OrganizationRecord& record, DayKey today);

// ---- Counts ----------------------------------------------------------------

// Accumulates organisations into kind × sector rows (see v1::CountRow).
class CountAccumulator {
 public:
  CountAccumulator(DayKey as_of, DayKey period_start);
  void Add(const OrganizationRecord& record);
  // Per kind: sector rows that have anything, then the all-sector row.
  void Finish(v1::Counts* counts) const;

 private:
  DayKey as_of_;
  DayKey period_start_;
  std::map<std::pair<int, int>, v1::CountRow> rows_;
};

}  // namespace htx::registry
