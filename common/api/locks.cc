#include "common/api/locks.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/api/api.h"
#include "common/api/units.h"
#include "common/status/status.h"

namespace htx::api {
namespace {

constexpr size_t kMaxHolder = 200;
constexpr size_t kMaxReason = 1000;

}  // namespace

UnitYearLocks::UnitYearLocks(storage::Family family, std::string collection, std::string read_only)
    : family_(family), collection_(std::move(collection)), read_only_(std::move(read_only)) {}

std::string UnitYearLocks::Name(absl::string_view unit, int year) const {
  return absl::StrCat(unit, "/", collection_, "/", year);
}

std::string UnitYearLocks::Key(absl::string_view unit, int year) {
  return absl::StrCat(Year4(year), "|", unit);
}

absl::StatusOr<UnitYear> UnitYearLocks::ParseName(absl::string_view name,
                                                  absl::string_view field) const {
  return ParseUnitYearName(name, collection_, field);
}

absl::StatusOr<type::v1::Lock> UnitYearLocks::Read(const Reader& read, absl::string_view unit,
                                                   int year) const {
  type::v1::Lock lock;
  absl::StatusOr<bool> found = ReadStored(read, family_, Key(unit, year), "lock", &lock);
  if (!found.ok()) return found.status();
  if (*found) return lock;
  // Never set: unlocked, with an etag so that a first SetLock can be
  // conditional too.
  lock.set_name(Name(unit, year));
  lock.set_etag(ComputeEtag(lock));
  return lock;
}

absl::Status UnitYearLocks::CheckUnlocked(const Reader& read, absl::string_view unit,
                                          int year) const {
  absl::StatusOr<type::v1::Lock> lock = Read(read, unit, year);
  if (!lock.ok()) return lock.status();
  if (!lock->locked()) return absl::OkStatus();
  return Error(absl::StatusCode::kFailedPrecondition, "LOCKED",
               absl::StrCat(lock->name(), " is locked",
                            lock->holder().empty() ? "" : absl::StrCat(" by ", lock->holder()),
                            ": ", read_only_, " are read-only until reopened"),
               {{"resource", lock->name()}});
}

absl::StatusOr<std::optional<std::string>> UnitYearLocks::FirstLocked(const Reader& read,
                                                                      int year) const {
  std::optional<std::string> locked;
  absl::Status scanned =
      ScanStored<type::v1::Lock>(read, family_, absl::StrCat(Year4(year), "|"), "lock",
                                 [&](absl::string_view, type::v1::Lock lock) {
                                   if (lock.locked()) locked = lock.name();
                                   return !locked;
                                 });
  if (!scanned.ok()) return scanned;
  return locked;
}

absl::StatusOr<type::v1::Lock> UnitYearLocks::Get(const Reader& read,
                                                  const type::v1::GetLockRequest& request) const {
  absl::StatusOr<UnitYear> name = ParseName(request.name(), "name");
  if (!name.ok()) return name.status();
  return Read(read, name->unit, name->year);
}

absl::StatusOr<std::function<absl::Status(storage::Txn&)>> UnitYearLocks::Set(
    const type::v1::SetLockRequest& request, type::v1::Lock* response) const {
  absl::StatusOr<UnitYear> name = ParseName(request.name(), "name");
  if (!name.ok()) return name.status();
  if (request.locked() && request.holder().empty()) return RequiredField("holder");
  if (Characters(request.holder()) > kMaxHolder) {
    return InvalidField("holder", "at most 200 characters");
  }
  if (Characters(request.reason()) > kMaxReason) {
    return InvalidField("reason", "at most 1000 characters");
  }
  return [this, &request, unit_year = *name, response](storage::Txn& txn) -> absl::Status {
    absl::StatusOr<type::v1::Lock> lock = Read(TxnReader(txn), unit_year.unit, unit_year.year);
    if (!lock.ok()) return lock.status();
    if (absl::Status s = CheckEtag(request.etag(), lock->etag()); !s.ok()) return s;
    // Setting the current state again is a no-op (reporting may retry).
    if (lock->locked() == request.locked()) {
      *response = *std::move(lock);
      return absl::OkStatus();
    }
    const bool created = !lock->has_update_time();
    lock->set_locked(request.locked());
    lock->set_holder(request.holder());
    lock->set_reason(request.reason());
    *lock->mutable_update_time() = ToTimestamp(txn.now());
    lock->clear_etag();
    lock->set_etag(ComputeEtag(*lock));
    txn.PutProto(family_, Key(unit_year.unit, unit_year.year), *lock);
    txn.RecordChange(lock->name(),
                     created ? type::v1::CHANGE_KIND_CREATED : type::v1::CHANGE_KIND_UPDATED,
                     &*lock);
    *response = *std::move(lock);
    return absl::OkStatus();
  };
}

}  // namespace htx::api
