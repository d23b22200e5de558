// A registry stand-in for the tests and benchmarks of the services that ask
// the registry.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "services/registry/registry_client.h"

namespace htx::registry {

// A registry that answers from memory: the counts set for a unit (any date),
// or UNAVAILABLE (as a registry that does not answer in time) when none are set
// or SetAvailable(false). GetUnit finds every unit unless SetKnownUnits has
// restricted them, and fails as an unreachable registry after
// SetUnitLookupsFail(true).
class FakeRegistry final : public RegistryClient {
 public:
  void SetCounts(const std::string& unit, v1::Counts counts);
  void SetAvailable(bool available);
  // From now on GetUnit finds only `units`.
  void SetKnownUnits(std::set<std::string> units);
  void SetUnitLookupsFail(bool fail);
  // GetCounts calls so far.
  int calls() const;
  // GetUnit calls so far, by unit.
  int unit_calls(const std::string& unit) const;
  void GetCounts(const v1::GetCountsRequest& request,
                 std::function<void(absl::StatusOr<v1::Counts>)> done) override;
  void GetUnit(const v1::GetUnitRequest& request,
               std::function<void(absl::StatusOr<v1::Unit>)> done) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, v1::Counts> counts_;
  bool available_ = true;
  int calls_ = 0;
  std::optional<std::set<std::string>> known_units_;  // unset: every unit
  bool unit_lookups_fail_ = false;
  std::map<std::string, int> unit_calls_;
};

}  // namespace htx::registry
