#include "common/testing/test_store.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace htx::testing {

absl::Time TestNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 12, 0, 0),
                         absl::FixedTimeZone(7 * 60 * 60));
}

std::unique_ptr<storage::Store> OpenTestStore(const std::string& path,
                                              std::vector<std::string> column_families,
                                              absl::Time now, bool sync) {
  storage::StoreOptions options;
  options.path = path;
  options.column_families = std::move(column_families);
  options.sync = sync;
  options.clock = [now] { return now; };
  absl::StatusOr<std::unique_ptr<storage::Store>> store = storage::Store::Open(std::move(options));
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open test store: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  return *std::move(store);
}

}  // namespace htx::testing
