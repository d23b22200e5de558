#include "services/registry/fake_registry.h"

#include <utility>

#include "common/status/status.h"

namespace htx::registry {

void FakeRegistry::SetCounts(const std::string& unit, v1::Counts counts) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_[unit] = std::move(counts);
}

void FakeRegistry::SetAvailable(bool available) {
  std::lock_guard<std::mutex> lock(mu_);
  available_ = available;
}

int FakeRegistry::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeRegistry::SetKnownUnits(std::set<std::string> units) {
  std::lock_guard<std::mutex> lock(mu_);
  known_units_ = std::move(units);
}

void FakeRegistry::SetUnitLookupsFail(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  unit_lookups_fail_ = fail;
}

int FakeRegistry::unit_calls(const std::string& unit) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = unit_calls_.find(unit);
  return it == unit_calls_.end() ? 0 : it->second;
}

void FakeRegistry::GetUnit(const v1::GetUnitRequest& request,
                           std::function<void(absl::StatusOr<v1::Unit>)> done) {
  absl::StatusOr<v1::Unit> answer =
      Error(absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", "the registry is down");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++unit_calls_[request.name()];
    if (!unit_lookups_fail_) {
      if (known_units_ && known_units_->count(request.name()) == 0) {
        answer = NotFound(request.name());
      } else {
        v1::Unit unit;
        unit.set_name(request.name());
        answer = std::move(unit);
      }
    }
  }
  done(std::move(answer));
}

void FakeRegistry::GetCounts(const v1::GetCountsRequest& request,
                             std::function<void(absl::StatusOr<v1::Counts>)> done) {
  absl::StatusOr<v1::Counts> answer =
      Error(absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", "the registry is down");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    auto it = counts_.find(request.unit());
    if (available_ && it != counts_.end()) {
      answer = it->second;
      answer->set_unit(request.unit());
      *answer->mutable_as_of() = request.as_of();
    }
  }
  done(std::move(answer));
}

}  // namespace htx::registry
