// The lock of a unit-year, the same in every service that keeps plan data
// (reporting sets it on approval): "{unit}/{collection}/{year}", stored under
// "{year4}|{unit}" in the service's locks family. While locked, the service
// refuses the writes it names with FAILED_PRECONDITION (LOCKED).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/stored.h"
#include "common/api/units.h"
#include "common/storage/store.h"
#include "htx/type/v1/lock.pb.h"

namespace htx::api {

class UnitYearLocks {
 public:
  // `collection` is the name segment, e.g. "budget-locks"; `read_only` says
  // what a lock freezes, for the LOCKED message ("its needs and explanations").
  UnitYearLocks(storage::Family family, std::string collection, std::string read_only);

  std::string Name(absl::string_view unit, int year) const;
  static std::string Key(absl::string_view unit, int year);
  absl::StatusOr<UnitYear> ParseName(absl::string_view name, absl::string_view field) const;

  // The lock (an unlocked one, with an etag, if never set).
  absl::StatusOr<type::v1::Lock> Read(const Reader& read, absl::string_view unit, int year) const;
  // FAILED_PRECONDITION (LOCKED) when the unit-year is locked.
  absl::Status CheckUnlocked(const Reader& read, absl::string_view unit, int year) const;
  // The name of a locked unit-year of `year`, if any (a catalog of a year
  // with a locked unit-year must not change under it).
  absl::StatusOr<std::optional<std::string>> FirstLocked(const Reader& read, int year) const;

  absl::StatusOr<type::v1::Lock> Get(const Reader& read,
                                     const type::v1::GetLockRequest& request) const;
  // Checks `request` (INVALID_ARGUMENT naming the field) and returns the
  // mutation that applies it into `response`: etag checked, setting the
  // current state again is a no-op, a change goes to the change feed.
  // `request` and `response` must outlive the mutation.
  absl::StatusOr<std::function<absl::Status(storage::Txn&)>> Set(
      const type::v1::SetLockRequest& request, type::v1::Lock* response) const;

 private:
  storage::Family family_;
  std::string collection_;
  std::string read_only_;
};

}  // namespace htx::api
